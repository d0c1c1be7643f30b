package projections

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// postingRow is a posting as the views keep it: the posting, where it comes
// from and whose it is.
type postingRow struct {
	domain.Posting
	Position       uint64    `json:"position"`
	DocumentNumber string    `json:"documentNumber"`
	BookedAt       time.Time `json:"bookedAt"`
	ClaimNumber    string    `json:"claimNumber"`
	Creditor       string    `json:"creditorId"`
}

// Bases of a trial balance: by value date or by booking date.
const (
	BasisValue   = "value"
	BasisBooking = "booking"
)

var basisByte = map[string]byte{BasisValue: 'v', BasisBooking: 'b'}

// post records an event's postings: under its placement in log order ('j'),
// under its creditor by value date and by booking date ('t'), for the
// trial balance, and, when they move agency/payable, as an unsettled item
// ('u') until a remittance settles it.
func (t *tx) post(id uuid.UUID, before, after domain.Placement, rec journal.Record) error {
	ps := domain.Postings(before, rec.Event, rec.Meta.OccurredAt)
	if len(ps) == 0 {
		return nil
	}
	doc := domain.PostingDocument(before, rec.Event)
	booked := rec.Meta.OccurredAt.UTC()
	if err := t.unsettle(after.CreditorID, ps, rec, after.ClaimNumber, doc); err != nil {
		return err
	}
	for i, p := range ps {
		row := postingRow{Posting: p, Position: uint64(rec.Position), DocumentNumber: doc, BookedAt: booked,
			ClaimNumber: after.ClaimNumber, Creditor: after.CreditorID}
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		if err := t.set(key(t.gen, tPosting).id(id).pos(rec.Position).u64(uint64(i)), b); err != nil {
			return err
		}
		for basis, date := range map[byte]string{'v': p.ValueDate, 'b': booked.Format(time.DateOnly)} {
			if err := t.set(key(t.gen, tTrial).str(after.CreditorID).b(basis).str(date).pos(rec.Position).u64(uint64(i)), b); err != nil {
				return err
			}
		}
	}
	return nil
}

// PostingItem is a posting as GET /v1/claims/{claimNumber}/postings
// serves it; the amount is in the currency's units, written exactly.
type PostingItem struct {
	Position       uint64 `json:"position"`
	DocumentNumber string `json:"documentNumber"`
	ValueDate      string `json:"valueDate"`
	BookedAt       string `json:"bookedAt"`
	Account        string `json:"account"`
	Side           string `json:"side"`
	Amount         Exact  `json:"amount"`
	Currency       string `json:"currency"`
}

// ClaimPostings returns a creditor's claim's postings in log order; found is
// false when the creditor has no such claim.
func (v *Views) ClaimPostings(creditor, claim string) (items []PostingItem, found bool, err error) {
	id, found, err := v.ClaimPlacement(creditor, claim)
	if err != nil || !found {
		return nil, found, err
	}
	prefix := key(v.generation(), tPosting).id(id)
	items = []PostingItem{}
	err = v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		var r postingRow
		if err := json.Unmarshal(val, &r); err != nil {
			return false, err
		}
		items = append(items, PostingItem{Position: r.Position, DocumentNumber: r.DocumentNumber, ValueDate: r.ValueDate,
			BookedAt: r.BookedAt.Format(time.RFC3339Nano), Account: r.Account, Side: r.Side,
			Amount: Exact(domain.MajorAmount(r.Amount, r.Currency)), Currency: r.Currency})
		return true, nil
	})
	return items, true, err
}

// TrialBalanceLine is one account's debits, credits and balance (debits −
// credits) in one currency, for one creditor.
type TrialBalanceLine struct {
	CreditorID string `json:"creditorId"`
	Account    string `json:"account"`
	Currency   string `json:"currency"`
	Debit      Exact  `json:"debit"`
	Credit     Exact  `json:"credit"`
	Balance    Exact  `json:"balance"`
}

// TrialBalance is every account's totals as of a date; its total debit
// equals its total credit in every currency.
type TrialBalance struct {
	AsOf     string             `json:"asOf"`
	Basis    string             `json:"basis"`
	Currency string             `json:"currency,omitempty"`
	Lines    []TrialBalanceLine `json:"accounts"`
	Totals   []TrialBalanceSum  `json:"totals"`
}

// TrialBalanceSum is the total debit and credit of one currency.
type TrialBalanceSum struct {
	Currency    string `json:"currency"`
	TotalDebit  Exact  `json:"totalDebit"`
	TotalCredit Exact  `json:"totalCredit"`
}

// TrialBalance sums the postings of creditor ("" for every creditor) in
// currency ("" for every currency) dated on or before asOf (a YYYY-MM-DD
// date) by basis (BasisValue: the value date; BasisBooking: the booking
// day), per creditor, account and currency, in that order.
func (v *Views) TrialBalance(creditor, currency, asOf, basis string) (TrialBalance, error) {
	bb, known := basisByte[basis]
	if !known {
		return TrialBalance{}, fmt.Errorf("projections: unknown basis %q", basis)
	}
	type acct struct{ creditor, account, currency string }
	type sums struct{ debit, credit int64 }
	totals := map[acct]*sums{}
	prefix := key(v.generation(), tTrial)
	if creditor != "" {
		prefix = prefix.str(creditor)
	}
	err := v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		var r postingRow
		if err := json.Unmarshal(val, &r); err != nil {
			return false, err
		}
		date := r.ValueDate
		if bb == 'b' {
			date = r.BookedAt.Format(time.DateOnly)
		}
		if !trialKeyBasis(k, r.Creditor, bb) || date > asOf || (currency != "" && r.Currency != currency) {
			return true, nil
		}
		a := acct{r.Creditor, r.Account, r.Currency}
		if totals[a] == nil {
			totals[a] = &sums{}
		}
		if r.Side == domain.Debit {
			totals[a].debit += r.Amount
		} else {
			totals[a].credit += r.Amount
		}
		return true, nil
	})
	tb := TrialBalance{AsOf: asOf, Basis: basis, Currency: currency, Lines: []TrialBalanceLine{}, Totals: []TrialBalanceSum{}}
	keys := make([]acct, 0, len(totals))
	for a := range totals {
		keys = append(keys, a)
	}
	slices.SortFunc(keys, func(x, y acct) int {
		return strings.Compare(x.creditor+"\x00"+x.account+"\x00"+x.currency, y.creditor+"\x00"+y.account+"\x00"+y.currency)
	})
	byCurrency := map[string]*sums{}
	var currencies []string
	for _, a := range keys {
		s := totals[a]
		major := func(n int64) Exact { return Exact(domain.MajorAmount(n, a.currency)) }
		tb.Lines = append(tb.Lines, TrialBalanceLine{CreditorID: a.creditor, Account: a.account, Currency: a.currency,
			Debit: major(s.debit), Credit: major(s.credit), Balance: major(s.debit - s.credit)})
		if byCurrency[a.currency] == nil {
			byCurrency[a.currency] = &sums{}
			currencies = append(currencies, a.currency)
		}
		byCurrency[a.currency].debit += s.debit
		byCurrency[a.currency].credit += s.credit
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		tb.Totals = append(tb.Totals, TrialBalanceSum{Currency: c, TotalDebit: Exact(domain.MajorAmount(byCurrency[c].debit, c)),
			TotalCredit: Exact(domain.MajorAmount(byCurrency[c].credit, c))})
	}
	return tb, err
}

// trialKeyBasis reports whether a 't' key (generation, table, creditor,
// basis, …) is of basis b.
func trialKeyBasis(k []byte, creditor string, b byte) bool {
	head := key(nil, tTrial).str(creditor)
	return len(k) > len(head) && k[len(head)] == b
}

// WriteCSV writes the trial balance as CSV: a row per creditor, account and
// currency, then a TOTAL row per currency.
func (tb TrialBalance) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	str := func(e Exact) string { return decimal.Decimal(e).String() }
	_ = cw.Write([]string{"creditorId", "account", "currency", "debit", "credit", "balance"})
	for _, l := range tb.Lines {
		_ = cw.Write([]string{l.CreditorID, l.Account, l.Currency, str(l.Debit), str(l.Credit), str(l.Balance)})
	}
	for _, t := range tb.Totals {
		_ = cw.Write([]string{"", "TOTAL", t.Currency, str(t.TotalDebit), str(t.TotalCredit), "0"})
	}
	cw.Flush()
	return cw.Error()
}
