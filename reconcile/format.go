package reconcile

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// AmountsView is Amounts with money written with the currency's decimals.
type AmountsView struct {
	Payments      int    `json:"payments"`
	Recovered     string `json:"recovered"`
	Fees          string `json:"fees"`
	NetToCreditor string `json:"netToCreditor"`
	Waived        string `json:"waived"`
	Recalled      string `json:"recalled"`
}

// View formats amounts for their currency.
func (a Amounts) View(currency string) AmountsView {
	m := func(d decimal.Decimal) string { return domain.FormatMoney(d, currency) }
	return AmountsView{Payments: a.Payments, Recovered: m(a.Recovered), Fees: m(a.Fees), NetToCreditor: m(a.NetToCreditor), Waived: m(a.Waived), Recalled: m(a.Recalled)}
}

// LineView is a Line as served.
type LineView struct {
	PlacementID string `json:"placementId"`
	ClaimNumber string `json:"claimNumber"`
	Currency    string `json:"currency"`
	AmountsView
}

// ReportView is a Report as served.
type ReportView struct {
	Creditor string                 `json:"creditor"`
	From     string                 `json:"from"`
	To       string                 `json:"to"`
	Totals   map[string]AmountsView `json:"totals"`
	Lines    []LineView             `json:"lines"`
}

// View formats a report.
func (r Report) View() ReportView {
	v := ReportView{Creditor: r.Creditor, From: r.From.UTC().Format("2006-01-02T15:04:05Z07:00"), To: r.To.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Totals: map[string]AmountsView{}, Lines: []LineView{}}
	for cur, a := range r.Totals {
		v.Totals[cur] = a.View(cur)
	}
	for _, l := range r.Lines {
		v.Lines = append(v.Lines, LineView{PlacementID: l.PlacementID, ClaimNumber: l.ClaimNumber, Currency: l.Currency, AmountsView: l.Amounts.View(l.Currency)})
	}
	return v
}

// WriteCSV writes a line per placement, then a TOTAL line per currency.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "placementId", "claimNumber", "currency", "payments", "recovered", "fees", "netToCreditor", "waived", "recalled"})
	row := func(kind, id, claim, cur string, a AmountsView) {
		_ = cw.Write([]string{kind, id, claim, cur, strconv.Itoa(a.Payments), a.Recovered, a.Fees, a.NetToCreditor, a.Waived, a.Recalled})
	}
	v := r.View()
	for _, l := range v.Lines {
		row("line", l.PlacementID, l.ClaimNumber, l.Currency, l.AmountsView)
	}
	currencies := make([]string, 0, len(v.Totals))
	for cur := range v.Totals {
		currencies = append(currencies, cur)
	}
	sort.Strings(currencies)
	for _, cur := range currencies {
		row("TOTAL", "", "", cur, v.Totals[cur])
	}
	cw.Flush()
	return cw.Error()
}
