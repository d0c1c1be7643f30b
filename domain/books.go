package domain

import "slices"

// Books is a claim's share of the ledger: the balance of every account its
// postings move, in integer minor units of its currency, debit positive.
// Evolve keeps it by the posting rule itself (movementOf, feeChange: what
// Postings names), so each figure the API shows of a claim is a sum of the
// claim's postings; see docs/API.md for which figure is which account.
//
// The claim's receivables (each invoice's principal, the costs, the
// interests) are kept analysed by counter-account, as sub-ledgers: since an
// event moves a claim's receivables against exactly one counter-account,
// what a receivable was debited against creditor/placed, and credited
// against collected and agency/payable (paid), waived, recalled and
// written off, add up to its balance (Open). Money a reversal or a waiver's
// cancellation takes back on a closed claim is posted from the closing
// bucket to the counter-account without touching the receivable, which the
// recall or write-off emptied; its sub-ledger counts it as returned to it
// and taken again by that bucket (paid or waived less, recalled or written
// off more; its balance unchanged).
type Books struct {
	// Invoices are the principal of each invoice, by its position in the
	// claim's invoices.
	Invoices  []Receivable `json:"invoices,omitempty"`
	Costs     Receivable   `json:"costs,omitzero"`
	Interests Receivable   `json:"interests,omitzero"`
	// Overpayment is claim/{n}/overpayment's balance (a credit: ≤ 0).
	Overpayment int64 `json:"overpayment,omitempty"`
	// The claim's share of the counter-accounts, each the sum of the
	// claim's postings on it.
	Placed        int64 `json:"placed,omitempty"`
	Collected     int64 `json:"collected,omitempty"`
	AgencyPayable int64 `json:"agencyPayable,omitempty"`
	Waived        int64 `json:"waived,omitempty"`
	Recalled      int64 `json:"recalled,omitempty"`
	WrittenOff    int64 `json:"writtenOff,omitempty"`
	Fees          int64 `json:"fees,omitempty"`
	AgencyFees    int64 `json:"agencyFees,omitempty"`
}

// Receivable is a receivable's balance analysed by counter-account: what was
// placed on it (debited against creditor/placed), and what was paid (to the
// creditor or the agency, net of reversals), waived, recalled and written
// off of it (credited against those accounts, net of what was taken back).
type Receivable struct {
	Placed     int64 `json:"placed,omitempty"`
	Paid       int64 `json:"paid,omitempty"`
	Waived     int64 `json:"waived,omitempty"`
	Recalled   int64 `json:"recalled,omitempty"`
	WrittenOff int64 `json:"writtenOff,omitempty"`
}

// Open is the receivable's balance: what is still owed on it.
func (r Receivable) Open() int64 { return r.Placed - r.Paid - r.Waived - r.Recalled - r.WrittenOff }

// move records a change s (debit positive) of the receivable against
// counter.
func (r *Receivable) move(counter account, s int64) {
	switch counter {
	case acctPlaced:
		r.Placed += s
	case acctCollected, acctAgencyPayable:
		r.Paid -= s
	case acctWaived:
		r.Waived -= s
	case acctRecalled:
		r.Recalled -= s
	case acctWrittenOff:
		r.WrittenOff -= s
	}
}

// Principal is the sum of the invoices' principals: what was placed, paid,
// waived, recalled and written off of the principal, and its balance
// (Open: what the API calls outstanding).
func (b Books) Principal() Receivable {
	var t Receivable
	for _, r := range b.Invoices {
		t.Placed, t.Paid, t.Waived, t.Recalled, t.WrittenOff = t.Placed+r.Placed, t.Paid+r.Paid, t.Waived+r.Waived, t.Recalled+r.Recalled, t.WrittenOff+r.WrittenOff
	}
	return t
}

// Overpaid is what payments brought beyond everything open
// (claim/{n}/overpayment's credit balance).
func (b Books) Overpaid() int64 { return -b.Overpayment }

// counterBalance is the claim's balance of a counter-account.
func (b *Books) counterBalance(a account) *int64 {
	switch a {
	case acctPlaced:
		return &b.Placed
	case acctCollected:
		return &b.Collected
	case acctAgencyPayable:
		return &b.AgencyPayable
	case acctWaived:
		return &b.Waived
	case acctRecalled:
		return &b.Recalled
	case acctWrittenOff:
		return &b.WrittenOff
	case acctFees:
		return &b.Fees
	case acctAgencyFees:
		return &b.AgencyFees
	}
	return &b.Overpayment
}

// receivable is the receivable a leg concerns; nil for the overpayment (and
// for an invoice the claim does not have, which Decide never allocates to).
func (b *Books) receivable(l leg, invoices []InvoiceState) *Receivable {
	switch l.of {
	case acctCosts:
		return &b.Costs
	case acctInterests:
		return &b.Interests
	case acctPrincipal:
		for i := range invoices {
			if invoices[i].InvoiceNumber == l.invoice && i < len(b.Invoices) {
				return &b.Invoices[i]
			}
		}
	}
	return nil
}

// with is the books after a movement on a claim with invoices (the books'
// Invoices share nothing with b's).
func (b Books) with(m movement, invoices []InvoiceState) Books {
	if len(m.legs) == 0 {
		return b
	}
	if slices.ContainsFunc(m.legs, func(l leg) bool { return l.of == acctPrincipal }) {
		if len(b.Invoices) < len(invoices) {
			b.Invoices = append(slices.Clip(b.Invoices), make([]Receivable, len(invoices)-len(b.Invoices))...)
		} else {
			b.Invoices = slices.Clone(b.Invoices)
		}
	}
	units, _ := MinorUnits(m.currency)
	sign := int64(1)
	if m.side == Credit {
		sign = -1
	}
	total := int64(0)
	for _, l := range m.legs {
		amount, _ := l.amount.Minor(units)
		s := sign * amount
		total += s
		if l.of == acctOverpayment {
			b.Overpayment += s
			continue
		}
		r := b.receivable(l, invoices)
		if r == nil {
			continue
		}
		r.move(m.counter, s)
		if l.account != l.of { // taken back to the bucket that closed the claim
			r.move(l.account, -s)
			*b.counterBalance(l.account) += s
		}
	}
	*b.counterBalance(m.counter) -= total
	return b
}

// withFee is the books after an event changed the claim's fee by change
// (minor units): creditor/fees debited, agency/fees credited by it.
func (b Books) withFee(change int64) Books {
	b.Fees += change
	b.AgencyFees -= change
	return b
}
