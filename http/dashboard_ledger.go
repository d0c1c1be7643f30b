package http

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// The dashboard's view of the ledger's postings: a claim's postings and
// charges on its page, and the creditor's trial balance on a page of its
// own. Both read the views the API serves (Views.ClaimPostings,
// Views.TrialBalance, the placement resource): no figure is computed here.

// claimFigure is a figure of the placement page's summary shown only when
// the claim has it (costs, interests, an overpayment, what was paid to the
// agency, written off or recalled), so claims without them read as before.
type claimFigure struct {
	ID, Name, Value string
}

// claimFigures are pl's figures beyond the principal, from its resource.
func claimFigures(pl projections.PlacementResource) []claimFigure {
	var out []claimFigure
	add := func(id, name, amount string) {
		out = append(out, claimFigure{ID: id, Name: name, Value: amount + " " + pl.Currency})
	}
	nonZero := func(s string) bool { d, err := decimal.NewFromString(s); return err == nil && !d.IsZero() }
	if c := pl.ChargesView; c != nil {
		if nonZero(c.CostsAmount) {
			add("costs", "Costs charged", c.CostsAmount)
			add("costs-open", "Costs open", c.CostsOpenAmount)
		}
		if nonZero(c.InterestsAmount) {
			add("interests", "Interests charged", c.InterestsAmount)
			add("interests-open", "Interests open", c.InterestsOpenAmount)
		}
		if nonZero(c.OverpaidAmount) {
			add("overpaid", "Overpaid", c.OverpaidAmount)
		}
	}
	if pl.AgencyPaidAmount != nil {
		add("agency-paid", "Paid to the agency", *pl.AgencyPaidAmount)
	}
	if pl.WrittenOffAmount != nil {
		add("written-off", "Written off", *pl.WrittenOffAmount)
	}
	if pl.RecalledAmount != nil {
		add("recalled", "Recalled", *pl.RecalledAmount)
	}
	return out
}

// postingRow is a posting on the placement page: its amount in the debit
// or the credit column.
type postingRow struct {
	Position                     uint64
	Document, ValueDate, Account string
	Debit, Credit                string
}

// postingRows are up to dashPageSize of a claim's postings from the from-th
// (counting from 0), as Views.ClaimPostings lists them; next is where the
// next page starts, 0 when there is none.
func (s *Server) postingRows(creditor, claim string, from uint64) (rows []postingRow, next uint64, err error) {
	items, _, err := s.runner.Views.ClaimPostings(creditor, claim)
	if err != nil {
		return nil, 0, err
	}
	if from >= uint64(len(items)) {
		return nil, 0, nil
	}
	items = items[from:]
	if len(items) > dashPageSize {
		items, next = items[:dashPageSize], from+dashPageSize
	}
	for _, it := range items {
		amount := domain.FormatMoney(decimal.Decimal(it.Amount), it.Currency) + " " + it.Currency
		row := postingRow{Position: it.Position, Document: it.DocumentNumber, ValueDate: it.ValueDate, Account: it.Account}
		if it.Side == domain.Debit {
			row.Debit = amount
		} else {
			row.Credit = amount
		}
		rows = append(rows, row)
	}
	return rows, next, nil
}

// trialPage is what the trial-balance template gets besides the page.
type trialPage struct {
	Query      trialQuery
	Currencies []string // the currencies the creditor has postings in, for the choice
	Lines      []trialLine
	Totals     []trialTotal
	CSV        string
}

type trialLine struct {
	Account, Currency, Debit, Credit, Balance string
}

type trialTotal struct {
	Currency, Debit, Credit string
	Balanced                bool
}

// dashTrialBalance is the signed-in creditor's trial balance: every account
// with its debit, credit and balance per currency as of a date, by value or
// booking date, and the totals per currency.
func (s *Server) dashTrialBalance(c echo.Context) error {
	sessID, sess, ok := s.current(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	p := s.pageFor(sessID, sess, "Trial balance")
	q, ferr := parseTrialQuery(c.QueryParams(), time.Now())
	if ferr != nil {
		p.Error = fmt.Sprintf("Please check %s: it %s.", ferr.Field, ferr.Message)
		q, _ = parseTrialQuery(nil, time.Now()) // today's, shown beside the message
	}
	if err := s.waitFresh(c); err != nil {
		p.Error = humanize(err)
	}
	tb, err := s.runner.Views.TrialBalance(sess.creditor, q.Currency, q.AsOf, q.Basis)
	if err != nil {
		return err
	}
	all := tb
	if q.Currency != "" {
		if all, err = s.runner.Views.TrialBalance(sess.creditor, "", q.AsOf, q.Basis); err != nil {
			return err
		}
	}
	tp := &trialPage{Query: q, CSV: "/dashboard/trial-balance.csv?" + trialParams(q)}
	for _, t := range all.Totals {
		tp.Currencies = append(tp.Currencies, t.Currency)
	}
	str := func(e projections.Exact, currency string) string {
		return domain.FormatMoney(decimal.Decimal(e), currency)
	}
	for _, l := range tb.Lines {
		tp.Lines = append(tp.Lines, trialLine{Account: l.Account, Currency: l.Currency, Debit: str(l.Debit, l.Currency),
			Credit: str(l.Credit, l.Currency), Balance: str(l.Balance, l.Currency)})
	}
	for _, t := range tb.Totals {
		tp.Totals = append(tp.Totals, trialTotal{Currency: t.Currency, Debit: str(t.TotalDebit, t.Currency), Credit: str(t.TotalCredit, t.Currency),
			Balanced: decimal.Decimal(t.TotalDebit).Equal(decimal.Decimal(t.TotalCredit))})
	}
	p.Trial = tp
	return s.render(c, http.StatusOK, "trialbalance", p)
}

func trialParams(q trialQuery) string {
	v := url.Values{"asOf": {q.AsOf}, "basis": {q.Basis}}
	if q.Currency != "" {
		v.Set("currency", q.Currency)
	}
	return v.Encode()
}

// dashTrialBalanceCSV is the trial-balance page as CSV, written as
// GET /v1/reports/trial-balance writes it.
func (s *Server) dashTrialBalanceCSV(c echo.Context) error {
	_, sess, ok := s.current(c)
	if !ok {
		return newError(http.StatusUnauthorized, "signed_out", "sign in to the dashboard first")
	}
	q, ferr := parseTrialQuery(c.QueryParams(), time.Now())
	if ferr != nil {
		return domain.Invalid(*ferr)
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	tb, err := s.runner.Views.TrialBalance(sess.creditor, q.Currency, q.AsOf, q.Basis)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="trial-balance-%s-%s.csv"`, q.AsOf, q.Basis))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return tb.WriteCSV(c.Response())
}
