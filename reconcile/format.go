package reconcile

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// AmountsView is Amounts with money written with the currency's decimals.
type AmountsView struct {
	Payments        int    `json:"payments"`
	Recovered       string `json:"recovered"`
	Fees            string `json:"fees"`
	NetToCreditor   string `json:"netToCreditor"`
	Waived          string `json:"waived"`
	Recalled        string `json:"recalled"`
	Reversals       int    `json:"reversals"`
	Reversed        string `json:"reversed"`
	AgencyCollected string `json:"agencyCollected"`
	WrittenOff      string `json:"writtenOff"`
}

// View formats amounts for their currency.
func (a Amounts) View(currency string) AmountsView {
	m := func(d decimal.Decimal) string { return domain.FormatMoney(d, currency) }
	return AmountsView{Payments: a.Payments, Recovered: m(a.Recovered), Fees: m(a.Fees), NetToCreditor: m(a.NetToCreditor), Waived: m(a.Waived), Recalled: m(a.Recalled),
		Reversals: a.Reversals, Reversed: m(a.Reversed), AgencyCollected: m(a.AgencyCollected), WrittenOff: m(a.WrittenOff)}
}

// LineView is a Line as served.
type LineView struct {
	PlacementID string   `json:"placementId"`
	ClaimNumber string   `json:"claimNumber"`
	Currency    string   `json:"currency"`
	Positions   []uint64 `json:"positions"`
	AmountsView
}

// EntryView is an Entry as served: one event counted, with what it adds to
// its line (amount and fee signed as they count: a reversal's are negative
// or zero) and the position and hash that cite it.
type EntryView struct {
	Kind          string `json:"kind"`
	Date          string `json:"date"`
	PlacementID   string `json:"placementId"`
	ClaimNumber   string `json:"claimNumber"`
	PaymentNumber string `json:"paymentNumber,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Agency        bool   `json:"agency,omitempty"`
	ReturnedTo    string `json:"returnedTo,omitempty"`
	Currency      string `json:"currency"`
	Amount        string `json:"amount"`
	Fee           string `json:"fee"`
	Position      uint64 `json:"position"`
	Hash          string `json:"hash"`
	// ValueDate is the event's value date, BookedAt when the ledger booked
	// it (Date is the day it was booked).
	ValueDate string `json:"valueDate"`
	BookedAt  string `json:"bookedAt"`
}

// ReportView is a Report as served.
type ReportView struct {
	Creditor string                 `json:"creditor"`
	Basis    string                 `json:"basis"`
	From     string                 `json:"from"`
	To       string                 `json:"to"`
	Totals   map[string]AmountsView `json:"totals"`
	Lines    []LineView             `json:"lines"`
	Entries  []EntryView            `json:"entries"`
}

func (e Entry) view() EntryView {
	m := func(d decimal.Decimal) string { return domain.FormatMoney(d, e.Currency) }
	amount, fee := e.Amount(), e.Figures().Fees
	return EntryView{Kind: e.Kind, Date: e.OccurredAt.UTC().Format(time.DateOnly), PlacementID: e.Placement.String(), ClaimNumber: e.ClaimNumber,
		PaymentNumber: e.PaymentNumber, Reason: e.Reason, Agency: e.Agency, ReturnedTo: e.ReturnedTo, Currency: e.Currency, Amount: m(amount), Fee: m(fee),
		Position: e.Position, Hash: e.Hash, ValueDate: e.valueDate(), BookedAt: e.OccurredAt.UTC().Format(time.RFC3339Nano)}
}

// View formats a report.
func (r Report) View() ReportView {
	v := ReportView{Creditor: r.Creditor, Basis: r.Basis, From: r.From.UTC().Format("2006-01-02T15:04:05Z07:00"), To: r.To.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Totals: map[string]AmountsView{}, Lines: []LineView{}, Entries: []EntryView{}}
	for cur, a := range r.Totals {
		v.Totals[cur] = a.View(cur)
	}
	for _, l := range r.Lines {
		positions := l.Positions
		if positions == nil {
			positions = []uint64{}
		}
		v.Lines = append(v.Lines, LineView{PlacementID: l.PlacementID, ClaimNumber: l.ClaimNumber, Currency: l.Currency, Positions: positions, AmountsView: l.Amounts.View(l.Currency)})
	}
	for _, e := range r.Entries {
		v.Entries = append(v.Entries, e.view())
	}
	return v
}

// CSVHeader is the reconciliation CSV's first row.
var CSVHeader = []string{"kind", "placementId", "claimNumber", "currency", "payments", "recovered", "fees", "netToCreditor", "waived", "recalled",
	"reversals", "reversed", "date", "paymentNumber", "reason", "position", "hash", "valueDate", "bookedAt", "agencyCollected", "writtenOff"}

// WriteCSV writes a row per entry (kind payment, reversal, waiver,
// waiver_cancellation, recall or write_off: the event's figures, booking
// day, position, hash, value date and booking time), a line per
// placement, then a TOTAL line per currency. The entry rows of a currency
// add up to its TOTAL row.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	row := func(kind, id, claim, cur string, a AmountsView, cite ...string) {
		rec := []string{kind, id, claim, cur, strconv.Itoa(a.Payments), a.Recovered, a.Fees, a.NetToCreditor, a.Waived, a.Recalled,
			strconv.Itoa(a.Reversals), a.Reversed}
		rec = append(rec, cite...)
		for len(rec) < len(CSVHeader)-2 {
			rec = append(rec, "")
		}
		rec = append(rec, a.AgencyCollected, a.WrittenOff) // added last, so the columns before keep their places
		_ = cw.Write(rec)
	}
	for _, e := range r.Entries {
		ev := e.view()
		row(e.Kind, ev.PlacementID, e.ClaimNumber, e.Currency, e.Figures().View(e.Currency), ev.Date, e.PaymentNumber, e.Reason, strconv.FormatUint(e.Position, 10), e.Hash,
			ev.ValueDate, ev.BookedAt)
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
