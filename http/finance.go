package http

import (
	"encoding/csv"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/reconcile"
)

// The dashboard's finance page: for a period and a currency, what was
// recovered, the fees, the net to the creditor, what was waived, recalled
// and reversed, with a chart of recovered amounts and fees per day or month
// drawn on the server as SVG (no chart script), the figures as a table
// beside it, and the same as CSV. Everything comes from the reconciliation
// (the same entries, the same rules), so the page, the report and the
// CSV always agree. What the agency owes and has remitted (whatever the
// period) come from the remittance views.

// Bounds on the chart: a bar per day for a year, or per month for ten.
const (
	maxFinanceDays   = 366
	maxFinanceMonths = 120
)

// financeQuery is what the finance page was asked for.
type financeQuery struct {
	From, To   time.Time // [From, To)
	FromDate   string    // the form's dates (To's is the last day included)
	ToDate     string
	Currency   string
	ByMonth    bool
	Basis      string // reconcile.BasisValue or BasisBooking: which date of an entry the period selects by
	Currencies []string
}

// parseFinanceQuery reads from, to (dates, to included), currency, by (day
// or month) and basis (value or booking date); the default is the last 30
// days by day, by value date.
func parseFinanceQuery(v url.Values, now time.Time) (financeQuery, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	q := financeQuery{To: today.AddDate(0, 0, 1), From: today.AddDate(0, 0, -29), Currency: strings.ToUpper(v.Get("currency")), Basis: reconcile.BasisValue}
	q.FromDate, q.ToDate = q.From.Format(time.DateOnly), today.Format(time.DateOnly)
	if raw := v.Get("from"); raw != "" {
		t, ok := domain.ParseDate(raw)
		if !ok {
			return q, fmt.Errorf("the start date %q is not a date", raw)
		}
		q.From = t
	}
	if raw := v.Get("to"); raw != "" {
		t, ok := domain.ParseDate(raw)
		if !ok {
			return q, fmt.Errorf("the end date %q is not a date", raw)
		}
		q.To = t.AddDate(0, 0, 1)
	}
	switch v.Get("by") {
	case "", "day":
	case "month":
		q.ByMonth = true
	default:
		return q, fmt.Errorf("show by day or by month")
	}
	if b := v.Get("basis"); b != "" {
		if !reconcile.ValidBasis(b) {
			return q, fmt.Errorf("select by value date or by booking date")
		}
		q.Basis = b
	}
	if !q.From.Before(q.To) {
		return q, fmt.Errorf("the end date must not be before the start date")
	}
	if q.ByMonth && reconcile.Periods(q.From, q.To.AddDate(0, 0, -1), true) > maxFinanceMonths {
		return q, fmt.Errorf("a chart by month covers at most %d months", maxFinanceMonths)
	}
	if !q.ByMonth && reconcile.Periods(q.From, q.To.AddDate(0, 0, -1), false) > maxFinanceDays {
		return q, fmt.Errorf("a chart by day covers at most %d days; choose by month", maxFinanceDays)
	}
	if q.Currency != "" {
		if _, ok := domain.MinorUnits(q.Currency); !ok {
			return q, fmt.Errorf("%q is not a currency the ledger knows", q.Currency)
		}
	}
	q.FromDate, q.ToDate = q.From.Format(time.DateOnly), q.To.AddDate(0, 0, -1).Format(time.DateOnly)
	return q, nil
}

// financeReport reconciles the session's creditor over the query's period
// and settles the currency: the one asked for, else the first with figures.
func (s *Server) financeReport(creditor string, q *financeQuery) (reconcile.Report, []reconcile.Bucket, error) {
	r, err := s.runner.Views.Reconciliation(creditor, q.Basis, q.From, q.To)
	if err != nil {
		return r, nil, err
	}
	for cur := range r.Totals {
		q.Currencies = append(q.Currencies, cur)
	}
	sort.Strings(q.Currencies)
	if q.Currency == "" {
		q.Currency = "EUR"
		if len(q.Currencies) > 0 {
			q.Currency = q.Currencies[0]
		}
	}
	return r, reconcile.Series(r, q.Currency, q.ByMonth), nil
}

// financeRow is a period's figures as the page shows them.
type financeRow struct {
	Label                                            string
	Recovered, Fees, Net, Waived, Recalled, Reversed string
	AgencyCollected, WrittenOff                      string
	Payments, Reversals                              int
	RecoveredNegative                                bool
	recoveredValue, feesValue                        decimal.Decimal
}

func financeRows(buckets []reconcile.Bucket, currency string) []financeRow {
	m := func(d decimal.Decimal) string { return domain.FormatMoney(d, currency) }
	rows := make([]financeRow, len(buckets))
	for i, b := range buckets {
		rows[i] = financeRow{Label: b.Label, Recovered: m(b.Recovered), Fees: m(b.Fees), Net: m(b.NetToCreditor), Waived: m(b.Waived),
			Recalled: m(b.Recalled), Reversed: m(b.Reversed), AgencyCollected: m(b.AgencyCollected), WrittenOff: m(b.WrittenOff),
			Payments: b.Payments, Reversals: b.Reversals,
			RecoveredNegative: b.Recovered.IsNegative(), recoveredValue: b.Recovered, feesValue: b.Fees}
	}
	return rows
}

// financeChart draws recovered amounts and fees per period as an SVG bar
// chart. Bars are told apart by pattern and position, not colour (recovered
// solid, fees hatched, always in that order), each bar has a tooltip with
// its figure, and the scale is labelled; amounts set the geometry through
// decimal arithmetic, rounded to whole pixels only at the end.
func financeChart(rows []financeRow, currency, title string) template.HTML {
	const width, height, left, right, top, bottom = 760, 300, 88, 16, 28, 44
	plotW, plotH := width-left-right, height-top-bottom
	hi, lo := decimal.Zero, decimal.Zero
	for _, r := range rows {
		for _, v := range []decimal.Decimal{r.recoveredValue, r.feesValue} {
			hi, lo = decimal.Max(hi, v), decimal.Min(lo, v)
		}
	}
	if hi.Equal(lo) {
		hi = decimal.NewFromInt(1)
	}
	span := hi.Sub(lo)
	// y maps an amount to a pixel row: hi at the top, lo at the bottom.
	y := func(v decimal.Decimal) int64 {
		return int64(top) + hi.Sub(v).Mul(decimal.NewFromInt(int64(plotH))).Div(span).Round(0).IntPart()
	}
	zero := y(decimal.Zero)
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="finance-chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="chart-title chart-desc">`, width, height)
	fmt.Fprintf(&b, `<title id="chart-title">%s</title>`, e(title))
	fmt.Fprintf(&b, `<desc id="chart-desc">Bars per period: recovered (solid) then fees (hatched), in %s. The table beside the chart gives every figure.</desc>`, e(currency))
	b.WriteString(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#24292f" stroke-width="3"/></pattern></defs>`)
	// Scale: the top, half of it, zero and (when below zero) the bottom.
	marks := []decimal.Decimal{hi, roundHalf(hi, currency), decimal.Zero}
	if lo.IsNegative() {
		marks = append(marks, lo)
	}
	for _, v := range marks {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8c959f" stroke-dasharray="%s"/>`, left, y(v), width-right, y(v),
			map[bool]string{true: "", false: "3 3"}[v.IsZero()])
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="#24292f">%s</text>`, left-6, y(v)+4, e(domain.FormatMoney(v, currency)))
	}
	n := max(1, len(rows))
	slot := float64(plotW) / float64(n) // pixel geometry, not money
	barW := max(1, int(slot*0.36))
	every := max(1, (n+7)/8) // at most about 8 period labels
	for i, r := range rows {
		x0 := left + int(slot*float64(i)+slot*0.12)
		for k, bar := range []struct {
			v    decimal.Decimal
			fill string
			name string
			show string
		}{{r.recoveredValue, "#24292f", "recovered", r.Recovered}, {r.feesValue, "url(#hatch)", "fees", r.Fees}} {
			yv := y(bar.v)
			top, h := min(yv, zero), max(yv, zero)-min(yv, zero)
			if h == 0 && !bar.v.IsZero() {
				h = 1
			}
			fmt.Fprintf(&b, `<rect class="bar-%s" x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#24292f" stroke-width="1"><title>%s: %s %s %s</title></rect>`,
				bar.name, x0+k*barW, top, barW, h, bar.fill, e(r.Label), bar.name, e(bar.show), e(currency))
		}
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="13" fill="#24292f">%s</text>`, x0+barW, height-bottom+18, e(r.Label))
		}
	}
	// Legend, by pattern and word.
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="14" height="14" fill="#24292f" stroke="#24292f"/><text x="%d" y="18" font-size="13" fill="#24292f">Recovered</text>`, left, left+20)
	fmt.Fprintf(&b, `<rect x="%d" y="6" width="14" height="14" fill="url(#hatch)" stroke="#24292f"/><text x="%d" y="18" font-size="13" fill="#24292f">Fees</text>`, left+120, left+140)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every piece of text in it went through html.EscapeString
}

// roundHalf is half of v, rounded to the currency's minor unit: a scale mark.
func roundHalf(v decimal.Decimal, currency string) decimal.Decimal {
	return domain.RoundMoney(v.Div(decimal.NewFromInt(2)), currency)
}

// financePage is what the finance template gets besides the page.
type financePage struct {
	Query  financeQuery
	Totals financeRow
	Rows   []financeRow
	Chart  template.HTML
	CSV    string
	// Owed is what the agency owes the creditor in the currency: the net
	// (collected less the fees on it) of the payments to the agency and
	// their reversals up to today that no remittance settled; Remitted is
	// what its remittances paid. Neither depends on the period.
	Owed, Remitted string
}

func (s *Server) dashFinance(c echo.Context) error {
	sessID, sess, ok := s.current(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	p := s.pageFor(sessID, sess, "Finance")
	q, err := parseFinanceQuery(c.QueryParams(), time.Now())
	if err != nil {
		p.Error = "Please check the period: " + err.Error() + "."
		q, _ = parseFinanceQuery(url.Values{}, time.Now()) // the default period, shown beside the message
	}
	if err := s.waitFresh(c); err != nil {
		p.Error = humanize(err)
	}
	r, buckets, err := s.financeReport(sess.creditor, &q)
	if err != nil {
		return err
	}
	total := r.Total(q.Currency)
	rows := financeRows(buckets, q.Currency)
	by := "day"
	if q.ByMonth {
		by = "month"
	}
	p.Finance = &financePage{Query: q, Totals: financeRows([]reconcile.Bucket{{Label: "Total", Amounts: total}}, q.Currency)[0], Rows: rows,
		Chart: financeChart(rows, q.Currency, fmt.Sprintf("Recovered and fees per %s, %s to %s, %s", by, q.FromDate, q.ToDate, q.Currency)),
		CSV:   "/dashboard/finance.csv?" + financeParams(q)}
	rf, err := s.runner.Views.RemittanceFiguresOf(sess.creditor, q.Currency, time.Now().UTC().Format(time.DateOnly))
	if err != nil {
		return err
	}
	p.Finance.Owed, p.Finance.Remitted = domain.FormatMoney(rf.Owed, q.Currency), domain.FormatMoney(rf.Remitted, q.Currency)
	return s.render(c, http.StatusOK, "finance", p)
}

func financeParams(q financeQuery) string {
	by := "day"
	if q.ByMonth {
		by = "month"
	}
	return url.Values{"from": {q.FromDate}, "to": {q.ToDate}, "currency": {q.Currency}, "by": {by}, "basis": {q.Basis}}.Encode()
}

// dashFinanceCSV is the finance page's table as CSV: a row per period and
// a total.
func (s *Server) dashFinanceCSV(c echo.Context) error {
	_, sess, ok := s.current(c)
	if !ok {
		return newError(http.StatusUnauthorized, "signed_out", "sign in to the dashboard first")
	}
	q, err := parseFinanceQuery(c.QueryParams(), time.Now())
	if err != nil {
		return domain.Invalid(domain.FieldError{Field: "period", Message: err.Error()})
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	r, buckets, err := s.financeReport(sess.creditor, &q)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="finance-%s-%s-%s.csv"`, q.Currency, q.FromDate, q.ToDate))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"period", "currency", "payments", "recovered", "fees", "netToCreditor", "waived", "recalled", "reversals", "reversed",
		"agencyCollected", "writtenOff"}) // added last, so the columns before keep their places
	row := func(label string, a reconcile.Amounts) {
		v := a.View(q.Currency)
		_ = w.Write([]string{label, q.Currency, strconv.Itoa(v.Payments), v.Recovered, v.Fees, v.NetToCreditor, v.Waived, v.Recalled,
			strconv.Itoa(v.Reversals), v.Reversed, v.AgencyCollected, v.WrittenOff})
	}
	for _, b := range buckets {
		row(b.Label, b.Amounts)
	}
	row("TOTAL", r.Total(q.Currency))
	w.Flush()
	return w.Error()
}
