// Package reconcile builds the finance team's reconciliation: per currency,
// what was paid, recovered, charged as fees, owed to the creditor, waived and
// recalled within a time window, with a line per placement; and it matches a
// creditor's own statement of direct payments against the ledger.
//
// The report is built from the creditor's entries in the window, which the
// read side (package projections) indexes by creditor and time as it applies
// the log, so its cost is that of the window, not of the log. Every figure
// is a movement of accounts (package domain's postings): an entry's figures
// are what its event's postings move the creditor's counter-accounts by
// (Moves), so a total over a window is each account's movement over it. The
// fee is the movement of creditor/fees, which a payment or a reversal moves
// by the change of the claim's fee (each claim's fee is rounded once, from
// its recovered total), so the fees of a window add up exactly.
package reconcile

import (
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Amounts are the figures of a line or a total, each the movement of an
// account over the entries counted (debits minus credits, in units):
// Recovered is creditor/collected plus agency/payable, AgencyCollected
// agency/payable alone (what the debtor paid the agency, which it owes the
// creditor), Fees creditor/fees (the fee the creditor owes the agency),
// NetToCreditor Recovered − Fees (what the creditor keeps of what was
// recovered once the fee is paid), Waived creditor/waived, Recalled
// creditor/recalled and WrittenOff creditor/written-off (costs and
// interests included), Overpaid the claims' overpayment accounts (their
// credits minus debits: the part of Recovered beyond everything open).
// Recovered, Fees and NetToCreditor are net of reversals: a payment
// reversed in the same window adds nothing to them, and Payments and
// Reversals count both sides; Reversed is what reversals took off
// Recovered. Money taken back on a closed claim (a reversal, a waiver's
// cancellation) goes back to the bucket that closed it (Recalled,
// WrittenOff), as its postings do.
type Amounts struct {
	Payments      int             `json:"payments"`
	Recovered     decimal.Decimal `json:"recovered"`
	Fees          decimal.Decimal `json:"fees"`
	NetToCreditor decimal.Decimal `json:"netToCreditor"`
	Waived        decimal.Decimal `json:"waived"`
	Recalled      decimal.Decimal `json:"recalled"`
	Reversals     int             `json:"reversals"`
	Reversed      decimal.Decimal `json:"reversed"`
	// Added with agency payments and write-offs: figures of zero leave them
	// out of JSON written before them.
	AgencyCollected decimal.Decimal `json:"agencyCollected"`
	WrittenOff      decimal.Decimal `json:"writtenOff"`
	// Overpaid is kept beside the served figures (AmountsView, the CSV),
	// which leave it out so that their fields and columns stay as they were.
	Overpaid decimal.Decimal `json:"overpaid"`
}

func zero() Amounts {
	return Amounts{Recovered: decimal.Zero, Fees: decimal.Zero, NetToCreditor: decimal.Zero, Waived: decimal.Zero, Recalled: decimal.Zero, Reversed: decimal.Zero,
		AgencyCollected: decimal.Zero, WrittenOff: decimal.Zero, Overpaid: decimal.Zero}
}

// Zero is amounts of zero (Payments and Reversals 0, every money figure 0).
func Zero() Amounts { return zero() }

func (a *Amounts) add(b Amounts) {
	a.Payments += b.Payments
	a.Recovered = a.Recovered.Add(b.Recovered)
	a.Fees = a.Fees.Add(b.Fees)
	a.NetToCreditor = a.NetToCreditor.Add(b.NetToCreditor)
	a.Waived = a.Waived.Add(b.Waived)
	a.Recalled = a.Recalled.Add(b.Recalled)
	a.Reversals += b.Reversals
	a.Reversed = a.Reversed.Add(b.Reversed)
	a.AgencyCollected = a.AgencyCollected.Add(b.AgencyCollected)
	a.WrittenOff = a.WrittenOff.Add(b.WrittenOff)
	a.Overpaid = a.Overpaid.Add(b.Overpaid)
}

// Line is one placement's figures, with the positions of the events they
// add up (each is one of the report's entries).
type Line struct {
	PlacementID string   `json:"placementId"`
	ClaimNumber string   `json:"claimNumber"`
	Currency    string   `json:"currency"`
	Positions   []uint64 `json:"positions"`
	Amounts
}

// Payment is one direct payment, or the reversal of one (a negative
// amount), the ledger recorded in the window.
type Payment struct {
	Date          string          `json:"date"`
	ClaimNumber   string          `json:"claimNumber"`
	PaymentNumber string          `json:"paymentNumber"`
	Amount        decimal.Decimal `json:"amount"`
	Currency      string          `json:"currency"`
	Position      uint64          `json:"position"`
	Hash          string          `json:"hash"`
}

// Bases of a report's window: which date of an entry it selects by.
const (
	// BasisValue selects entries by value date: the day the money moved, as
	// the client stated it (domain.ValueDate), at midnight UTC. The default.
	BasisValue = "value"
	// BasisBooking selects entries by when the ledger booked them.
	BasisBooking = "booking"
)

// ValidBasis reports whether b names a basis.
func ValidBasis(b string) bool { return b == BasisValue || b == BasisBooking }

// Report is the reconciliation of one creditor over [From, To) on a Basis:
// totals per currency, a line per placement, and the entries (one per event
// counted, in log order) the lines add up, each citing its event's position
// and hash.
type Report struct {
	Creditor string             `json:"creditor"`
	Basis    string             `json:"basis"`
	From     time.Time          `json:"from"`
	To       time.Time          `json:"to"`
	Totals   map[string]Amounts `json:"totals"`
	Lines    []Line             `json:"lines"`
	Entries  []Entry            `json:"entries"`
	Payments []Payment          `json:"-"`
}

// Kinds of entry.
const (
	KindPayment = "payment"
	KindWaiver  = "waiver"
	KindRecall  = "recall"
	// KindReversal takes a payment back: its amount (positive) comes off
	// recovered, and its fee change (zero or negative) off the fees.
	KindReversal = "reversal"
	// KindWriteOff writes off what was open on a claim.
	KindWriteOff = "write_off"
	// KindWaiverCancellation takes a credit waiver back: its amount comes
	// off waived.
	KindWaiverCancellation = "waiver_cancellation"
)

// Entry is one event finance counts, as the read side indexes it per
// creditor by the time it happened: a payment, a reversal, a credit waiver,
// its cancellation, a recall or a write-off, with what its postings move
// the creditor's accounts by (Moves; a recall's are its CANCELLATION
// document's).
type Entry struct {
	Kind          string    `json:"kind"`
	Placement     uuid.UUID `json:"placementId"`
	ClaimNumber   string    `json:"claimNumber"`
	Currency      string    `json:"currency"`
	Moves         Moves     `json:"moves"`
	PaymentNumber string    `json:"paymentNumber,omitempty"`
	// Reason is a reversal's or a write-off's.
	Reason string `json:"reason,omitempty"`
	// Agency marks a payment to the agency, or its reversal.
	Agency bool `json:"agency,omitempty"`
	// ReturnedTo is where a reversal or waiver cancellation on a closed
	// claim puts the money (domain.ReturnedToRecalled, ReturnedToWrittenOff).
	ReturnedTo string    `json:"returnedTo,omitempty"`
	Position   uint64    `json:"position"`
	OccurredAt time.Time `json:"occurredAt"`
	// ValueDate is the event's value date (YYYY-MM-DD, domain.ValueDate);
	// OccurredAt is when it was booked.
	ValueDate string `json:"valueDate"`
	// Hash is the event's hash in the chain (hexadecimal): with Position,
	// what an auditor checks the figure against (ledger verify, export).
	Hash string `json:"hash"`
}

// Total is the report's total in a currency: zero amounts when it has
// nothing in that currency.
func (r Report) Total(currency string) Amounts {
	if t, ok := r.Totals[currency]; ok {
		return t
	}
	return zero()
}

// InCurrency is the report of the entries in one currency only: its lines,
// entries and payments, and its totals (zero amounts when it has none).
func (r Report) InCurrency(currency string) Report {
	var entries []Entry
	for _, e := range r.Entries {
		if e.Currency == currency {
			entries = append(entries, e)
		}
	}
	out := FromEntries(r.Creditor, r.Basis, r.From, r.To, entries)
	out.Totals[currency] = out.Total(currency)
	return out
}

// Figures are what one entry adds to its line and to the totals: its
// account movements (see Amounts), and the count of its kind.
func (e Entry) Figures() Amounts {
	m := e.Moves
	a := zero()
	a.Recovered = m.Collected.Add(m.AgencyPayable)
	a.AgencyCollected, a.Fees = m.AgencyPayable, m.Fees
	a.NetToCreditor = a.Recovered.Sub(a.Fees)
	a.Waived, a.Recalled, a.WrittenOff, a.Overpaid = m.Waived, m.Recalled, m.WrittenOff, m.Overpaid
	switch e.Kind {
	case KindPayment:
		a.Payments = 1
	case KindReversal:
		a.Reversals, a.Reversed = 1, a.Recovered.Neg()
	}
	return a
}

// Amount is the entry's headline amount, signed as it counts: a payment's
// recovered amount, a reversal's (negative), a waiver's, a waiver
// cancellation's (what it took off waived, positive), what a recall
// recalled and what a write-off wrote off.
func (e Entry) Amount() decimal.Decimal {
	f := e.Figures()
	switch e.Kind {
	case KindPayment, KindReversal:
		return f.Recovered
	case KindWaiver:
		return f.Waived
	case KindWaiverCancellation:
		return f.Waived.Neg()
	case KindRecall:
		return f.Recalled
	case KindWriteOff:
		return f.WrittenOff
	}
	return decimal.Zero
}

// FromEntries reconciles a creditor over [from, to) on a basis from its
// entries in that window: a line per placement with entries in it (by claim
// number), totals per currency, and the payments and reversals in log order
// for statement matching, each dated with its value date.
func FromEntries(creditor, basis string, from, to time.Time, entries []Entry) Report {
	r := Report{Creditor: creditor, Basis: basis, From: from, To: to, Totals: map[string]Amounts{}, Entries: []Entry{}}
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
		l.Amounts.add(e.Figures())
		l.Positions = append(l.Positions, e.Position)
		r.Entries = append(r.Entries, e)
		switch {
		case e.Agency: // not on the creditor's statement: the agency holds it
		case e.Kind == KindPayment, e.Kind == KindReversal:
			r.Payments = append(r.Payments, Payment{Date: e.valueDate(), ClaimNumber: e.ClaimNumber,
				PaymentNumber: e.PaymentNumber, Amount: e.Amount(), Currency: e.Currency, Position: e.Position, Hash: e.Hash})
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

// valueDate is the entry's value date; the day it was booked for an entry
// recorded without one.
func (e Entry) valueDate() string {
	if e.ValueDate != "" {
		return e.ValueDate
	}
	return e.OccurredAt.UTC().Format(time.DateOnly)
}

// Dated is when the entry happened on a basis: its value date at midnight
// UTC, or when it was booked.
func (e Entry) Dated(basis string) time.Time {
	if basis == BasisBooking {
		return e.OccurredAt.UTC()
	}
	t, _ := time.Parse(time.DateOnly, e.valueDate())
	return t
}
