// Package reconcile builds the finance team's reconciliation: per currency,
// what was paid, recovered, charged as fees, owed to the creditor, waived and
// recalled within a time window, with a line per placement; and it matches a
// creditor's own statement of direct payments against the ledger.
//
// It reads the log once, in order. Fees are attributed to the payment that
// changed them: a payment's fee is the placement's fee total after it minus
// the total before it, so the fees of a window add up exactly even though
// each placement's total is rounded once, from the total.
package reconcile

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
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

type placementState struct {
	line    Line
	fee     decimal.Decimal
	touched bool
}

// Build reads the log and reconciles creditor's placements over [from, to)
// by the time each command happened.
func Build(ctx context.Context, store eventstore.Store, creditor string, from, to time.Time) (Report, error) {
	r := Report{Creditor: creditor, From: from, To: to, Totals: map[string]Amounts{}}
	states := map[string]*placementState{}
	var order []string
	err := eventstore.ScanAll(ctx, store, eventstore.Start, 5000, func(batch []eventstore.RecordedEvent, _ eventstore.Position) error {
		for _, rec := range batch {
			if !strings.HasPrefix(rec.Stream, journal.PlacementPrefix) {
				continue
			}
			st := states[rec.Stream]
			if st == nil {
				if rec.Type != domain.TypePlacementOpened {
					continue
				}
				e, err := domain.DecodeEvent(rec.Type, rec.Data)
				if err != nil {
					return err
				}
				o := e.(domain.PlacementOpened)
				if o.CreditorID != creditor {
					states[rec.Stream] = &placementState{} // another creditor's: skipped from now on
					continue
				}
				st = &placementState{line: Line{PlacementID: o.PlacementID.String(), ClaimNumber: o.ClaimNumber, Currency: o.Currency, Amounts: zero()}, fee: decimal.Zero}
				states[rec.Stream] = st
				order = append(order, rec.Stream)
				continue
			}
			if st.line.PlacementID == "" {
				continue
			}
			if err := st.apply(rec, from, to, &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	for _, stream := range order {
		st := states[stream]
		if !st.touched {
			continue
		}
		r.Lines = append(r.Lines, st.line)
		t, ok := r.Totals[st.line.Currency]
		if !ok {
			t = zero()
		}
		t.add(st.line.Amounts)
		r.Totals[st.line.Currency] = t
	}
	sort.SliceStable(r.Lines, func(i, j int) bool { return r.Lines[i].ClaimNumber < r.Lines[j].ClaimNumber })
	return r, nil
}

func (st *placementState) apply(rec eventstore.RecordedEvent, from, to time.Time, r *Report) error {
	switch rec.Type {
	case domain.TypePaymentReceived, domain.TypeCreditWaiverIssued, domain.TypePlacementRecalled:
	default:
		return nil
	}
	e, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return err
	}
	var meta struct {
		OccurredAt time.Time `json:"occurredAt"`
	}
	if _, _, core, err := journal.Unseal(rec.Metadata); err == nil {
		_ = json.Unmarshal(core, &meta)
	} else {
		_ = json.Unmarshal(rec.Metadata, &meta)
	}
	in := !meta.OccurredAt.Before(from) && meta.OccurredAt.Before(to)
	l := &st.line.Amounts
	switch e := e.(type) {
	case domain.PaymentReceived:
		fee := e.FeeAmount.Sub(st.fee)
		st.fee = e.FeeAmount
		if in {
			l.Payments++
			l.Recovered = l.Recovered.Add(e.Amount)
			l.Fees = l.Fees.Add(fee)
			l.NetToCreditor = l.NetToCreditor.Add(e.Amount.Sub(fee))
			r.Payments = append(r.Payments, Payment{Date: meta.OccurredAt.UTC().Format(time.DateOnly), ClaimNumber: st.line.ClaimNumber,
				PaymentNumber: e.PaymentNumber, Amount: e.Amount, Currency: e.Currency})
		}
	case domain.CreditWaiverIssued:
		if in {
			l.Waived = l.Waived.Add(e.Amount)
		}
	case domain.PlacementRecalled:
		if in {
			l.Recalled = l.Recalled.Add(e.OutstandingAmount)
		}
	}
	st.touched = st.touched || in
	return nil
}
