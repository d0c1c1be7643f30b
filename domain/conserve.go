package domain

import (
	"strings"

	"github.com/shopspring/decimal"
)

// figures are what conserved compares a claim's postings with, in integer
// minor units: the claim's figures that each account's postings move.
type figures struct {
	placed, collected, agencyPaid, writtenOff, waived, costs, interests, overpaid, fee int64
	// exact is false when a figure had digits below the minor unit (or did
	// not fit an int64): then only conserved may judge.
	exact bool
}

// figuresOf are a claim's figures (see conserved) in minor units of a
// currency with units decimals, computed without allocating.
func figuresOf(p *Placement, units int32) figures {
	f := figures{exact: true}
	m := func(d decimal.Decimal) int64 {
		v, exact := minor(d, units)
		f.exact = f.exact && exact
		return v
	}
	ma := func(a Amount) int64 {
		v, exact := a.Minor(units)
		f.exact = f.exact && exact
		return v
	}
	f.placed, f.agencyPaid, f.writtenOff, f.waived, f.fee = ma(p.Original), ma(p.AgencyPaid), ma(p.WrittenOff), ma(p.Waived), ma(p.Fee)
	f.collected = ma(p.Recovered) - f.agencyPaid
	if b := p.Charges; b != nil {
		f.costs, f.interests = b.chargedMinor(m)
		f.placed += f.costs + f.interests
		paidCosts, paidInterests, overpaid := m(b.Paid.Costs), m(b.Paid.Interests), m(b.Paid.Overpaid)
		offCosts, offInterests := m(b.WrittenOff.Costs), m(b.WrittenOff.Interests)
		f.collected += paidCosts + paidInterests + overpaid
		f.writtenOff += offCosts + offInterests + m(b.WrittenOff.Overpaid)
		f.overpaid = overpaid
		// What is open of them before a recall cancels it (see conserved).
		f.costs -= paidCosts + offCosts
		f.interests -= paidInterests + offInterests
	}
	return f
}

// The accounts conservedMinor tells apart, by their index in its sums; an
// invoice's principal is at acctSlots plus the invoice's position.
const (
	slotPlaced = iota
	slotCollected
	slotAgencyPayable
	slotWrittenOff
	slotWaived
	slotRecalled
	slotCosts
	slotInterests
	slotOverpayment
	slotFees
	slotAgencyFees
	acctSlots
)

// conservedMinor is conserved for events that neither recall nor take
// anything back to a recall, in integer minor units, naming no account:
// true when the postings (ps, all the events') move each account exactly as
// the events moved the claim's figures from before to after. False means
// only that conserved must judge (it names the account at fault): a
// posting on an account this claim does not have, a figure below the minor
// unit, or a mismatch.
func conservedMinor(before, after Placement, ps []Posting) bool {
	units, _ := MinorUnits(after.Currency)
	b, a := figuresOf(&before, units), figuresOf(&after, units)
	if !a.exact || !b.exact || len(before.Invoices) > len(after.Invoices) {
		return false
	}
	var fixed [acctSlots + fewInvoices]int64 // most claims have a few invoices: on the stack
	var got []int64
	if n := acctSlots + len(after.Invoices); n <= len(fixed) {
		got = fixed[:n]
	} else {
		got = make([]int64, n)
	}
	claim := escapeAccountPart(after.ClaimNumber)
	for _, q := range ps {
		slot, known := accountSlot(q.Account, claim, after.Invoices)
		if !known {
			return false
		}
		got[slot] += q.Signed()
	}
	want := [acctSlots]int64{
		slotPlaced: b.placed - a.placed, slotCollected: a.collected - b.collected, slotAgencyPayable: a.agencyPaid - b.agencyPaid,
		slotWrittenOff: a.writtenOff - b.writtenOff, slotWaived: a.waived - b.waived, slotCosts: a.costs - b.costs,
		slotInterests: a.interests - b.interests, slotOverpayment: b.overpaid - a.overpaid, slotFees: a.fee - b.fee, slotAgencyFees: b.fee - a.fee,
	}
	if [acctSlots]int64(got[:acctSlots]) != want {
		return false
	}
	for i, inv := range after.Invoices {
		open, exact := inv.Open.Minor(units)
		if i < len(before.Invoices) {
			was, wasExact := before.Invoices[i].Open.Minor(units)
			open, exact = open-was, exact && wasExact
		}
		if !exact || got[acctSlots+i] != open {
			return false
		}
	}
	return true
}

// fewInvoices is how many invoices conservedMinor sums on the stack.
const fewInvoices = 8

// accountSlot is the slot of an account in conservedMinor's sums; claim is
// the claim's number as its accounts name it (escapeAccountPart), whose
// accounts begin "claim/{claim}/". An invoice's principal is
// the last invoice of that name (conserved keeps the last too). known is
// false for an account the claim does not have.
func accountSlot(name, claim string, invoices []InvoiceState) (slot int, known bool) {
	switch name {
	case AccountPlaced:
		return slotPlaced, true
	case AccountCollected:
		return slotCollected, true
	case AccountAgencyPayable:
		return slotAgencyPayable, true
	case AccountWrittenOff:
		return slotWrittenOff, true
	case AccountWaived:
		return slotWaived, true
	case AccountRecalled:
		return slotRecalled, true
	case AccountFees:
		return slotFees, true
	case AccountAgencyFees:
		return slotAgencyFees, true
	}
	rest, mine := strings.CutPrefix(name, "claim/")
	if mine {
		rest, mine = strings.CutPrefix(rest, claim)
	}
	if mine {
		rest, mine = strings.CutPrefix(rest, "/")
	}
	if !mine {
		return 0, false
	}
	switch rest {
	case "costs":
		return slotCosts, true
	case "interests":
		return slotInterests, true
	case "overpayment":
		return slotOverpayment, true
	}
	invoice, principal := strings.CutPrefix(rest, "principal/")
	if !principal {
		return 0, false
	}
	for i := len(invoices) - 1; i >= 0; i-- {
		if escapeAccountPart(invoices[i].InvoiceNumber) == invoice {
			return acctSlots + i, true
		}
	}
	return 0, false
}
