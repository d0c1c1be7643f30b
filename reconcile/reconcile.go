// Package reconcile builds the finance team's reconciliation: per currency,
// what was paid, recovered, charged as fees, owed to the creditor, waived and
// recalled within a time window, with a line per placement; and it matches a
// creditor's own statement of direct payments against the ledger.
//
// The report is built from the creditor's entries in the window, which the
// read side (package projections) indexes by creditor and time as it applies
// the log, so its cost is that of the window, not of the log. Fees are
// attributed to the payment that changed them: a payment's fee is the
// placement's fee total after it minus the total before it, so the fees of a
// window add up exactly even though each placement's total is rounded once,
// from the total.
package reconcile

import (
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Amounts are the figures of a line or a total.
type Amounts struct {
	Payments      int             `json:"payments"`
	Recovered     decimal.Decimal `json:"recovered"`
	Fees          decimal.Decimal `json:"fees"`
	NetToCreditor decimal.Decimal `json:"netToCreditor"`
	Waived        decimal.Decimal `json:"waived"`
	Recalled      decimal.Decimal `json:"recalled"`
}

func zero() Amounts {
	return Amounts{Recovered: decimal.Zero, Fees: decimal.Zero, NetToCreditor: decimal.Zero, Waived: decimal.Zero, Recalled: decimal.Zero}
}

func (a *Amounts) add(b Amounts) {
	a.Payments += b.Payments
	a.Recovered = a.Recovered.Add(b.Recovered)
	a.Fees = a.Fees.Add(b.Fees)
	a.NetToCreditor = a.NetToCreditor.Add(b.NetToCreditor)
	a.Waived = a.Waived.Add(b.Waived)
	a.Recalled = a.Recalled.Add(b.Recalled)
}

// Line is one placement's figures.
type Line struct {
	PlacementID string `json:"placementId"`
	ClaimNumber string `json:"claimNumber"`
	Currency    string `json:"currency"`
	Amounts
}

// Payment is one direct payment the ledger recorded in the window.
type Payment struct {
	Date          string          `json:"date"`
	ClaimNumber   string          `json:"claimNumber"`
	PaymentNumber string          `json:"paymentNumber"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
}

// Report is the reconciliation of one creditor over [From, To).
type Report struct {
	Creditor string             `json:"creditor"`
	From     time.Time          `json:"from"`
	To       time.Time          `json:"to"`
	Totals   map[string]Amounts `json:"totals"`
	Lines    []Line             `json:"lines"`
	Payments []Payment          `json:"-"`
}

// Kinds of entry.
const (
	KindPayment = "payment"
	KindWaiver  = "waiver"
	KindRecall  = "recall"
)

// Entry is one event finance counts, as the read side indexes it per
// creditor by the time it happened: a payment (with the fee it added), a
// credit waiver or a recall (with what was outstanding).
type Entry struct {
	Kind          string          `json:"kind"`
	Placement     uuid.UUID       `json:"placementId"`
	ClaimNumber   string          `json:"claimNumber"`
	Currency      string          `json:"currency"`
	Amount        decimal.Decimal `json:"amount"`
	Fee           decimal.Decimal `json:"fee"`
	PaymentNumber string          `json:"paymentNumber,omitempty"`
	Position      uint64          `json:"position"`
	OccurredAt    time.Time       `json:"occurredAt"`
}

// FromEntries reconciles a creditor over [from, to) from its entries in
// that window: a line per placement with entries in it (by claim number),
// totals per currency, and the payments in log order for statement matching.
func FromEntries(creditor string, from, to time.Time, entries []Entry) Report {
	r := Report{Creditor: creditor, From: from, To: to, Totals: map[string]Amounts{}}
	lines := map[uuid.UUID]*Line{}
	var order []uuid.UUID
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Position < entries[j].Position })
	for _, e := range entries {
		l := lines[e.Placement]
		if l == nil {
			l = &Line{PlacementID: e.Placement.String(), ClaimNumber: e.ClaimNumber, Currency: e.Currency, Amounts: zero()}
			lines[e.Placement] = l
			order = append(order, e.Placement)
		}
		a := &l.Amounts
		switch e.Kind {
		case KindPayment:
			a.Payments++
			a.Recovered = a.Recovered.Add(e.Amount)
			a.Fees = a.Fees.Add(e.Fee)
			a.NetToCreditor = a.NetToCreditor.Add(e.Amount.Sub(e.Fee))
			r.Payments = append(r.Payments, Payment{Date: e.OccurredAt.UTC().Format(time.DateOnly), ClaimNumber: e.ClaimNumber,
				PaymentNumber: e.PaymentNumber, Amount: e.Amount, Currency: e.Currency})
		case KindWaiver:
			a.Waived = a.Waived.Add(e.Amount)
		case KindRecall:
			a.Recalled = a.Recalled.Add(e.Amount)
		}
	}
	for _, id := range order {
		l := lines[id]
		r.Lines = append(r.Lines, *l)
		t, ok := r.Totals[l.Currency]
		if !ok {
			t = zero()
		}
		t.add(l.Amounts)
		r.Totals[l.Currency] = t
	}
	sort.SliceStable(r.Lines, func(i, j int) bool { return r.Lines[i].ClaimNumber < r.Lines[j].ClaimNumber })
	return r
}
