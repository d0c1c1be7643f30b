package domain

import "github.com/shopspring/decimal"

// Events are stored as encoding/json writes a Decimal: its String, with no
// trailing zeros, so 100.50 is stored "100.5" and decoded as 1005·10^-1,
// and 100.00 as 100·10^0. The states the events are folded onto keep their
// figures at the currency's scale (ZeroAt, and the views' state codec), and
// a Decimal's Add, Sub and Cmp of two exponents rescale one side first
// (three allocations and a big.Int Exp and Mul) every time. DecodeEvent
// therefore writes a decoded event's amounts at its currency's scale once
// (atCurrencyScale), so that what folds, posts and checks them meets equal
// exponents: over 1.1M events that rescaling was 4% of verify's time
// (docs/PERFORMANCE.md). Only the exponent changes, never the value, and a
// Decimal's String (what every rendering, content and JSON of the ledger
// writes) does not show it.

// atScale is d with units decimals when it has fewer and its coefficient
// at that scale keeps to 18 digits; otherwise d itself (arithmetic then
// rescales it as before).
func atScale(d decimal.Decimal, units int32) decimal.Decimal {
	shift := d.Exponent() + units
	if shift <= 0 {
		return d
	}
	if d.Sign() == 0 {
		return ZeroAt(units)
	}
	coef, fits := Coefficient18(d)
	if !fits || shift > 18 || coef <= -pow10[18-shift] || coef >= pow10[18-shift] {
		return d
	}
	return decimal.New(coef*pow10[shift], -units)
}

func scaleAll[T any](items []T, amount func(*T) *decimal.Decimal, units int32) {
	for i := range items {
		a := amount(&items[i])
		*a = atScale(*a, units)
	}
}

func scaleSplit(s *Split, units int32) {
	if s != nil {
		s.Costs, s.Interests, s.Overpaid = atScale(s.Costs, units), atScale(s.Interests, units), atScale(s.Overpaid, units)
	}
}

func allocationAmount(a *Allocation) *decimal.Decimal { return &a.Amount }

// atCurrencyScale writes the amounts of a freshly decoded event (it owns
// its slices and pointers) at its currency's scale; an event of no known
// currency, or of a type that carries no amount the folds use, is
// returned as it is. The fast decoders scale theirs before they box them
// (scaleAmounts), which this leaves as they are.
func atCurrencyScale(e Event) Event {
	switch e := e.(type) {
	case PaymentReversed:
		if u, ok := MinorUnits(e.Currency); ok {
			e.Amount, e.RecoveredAmount, e.FeeAmount = atScale(e.Amount, u), atScale(e.RecoveredAmount, u), atScale(e.FeeAmount, u)
			scaleAll(e.Allocations, allocationAmount, u)
			scaleSplit(e.Split, u)
			return e
		}
	case CreditWaiverCancelled:
		if u, ok := MinorUnits(e.Currency); ok {
			e.Amount = atScale(e.Amount, u)
			return e
		}
	case PaymentReceived:
		e.scaleAmounts()
		return e
	case CreditWaiverIssued:
		e.scaleAmounts()
		return e
	case AccountingDocumentIssued:
		e.scaleAmounts()
		return e
	case PlacementOpened:
		e.scaleAmounts()
		return e
	}
	return e
}

func (e *PaymentReceived) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount, e.RecoveredAmount, e.FeeAmount = atScale(e.Amount, u), atScale(e.RecoveredAmount, u), atScale(e.FeeAmount, u)
		scaleAll(e.Allocations, allocationAmount, u)
		scaleSplit(e.Split, u)
	}
}

func (e *CreditWaiverIssued) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount = atScale(e.Amount, u)
	}
}

func (e *AccountingDocumentIssued) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount = atScale(e.Amount, u)
		scaleAll(e.LineItems, func(l *LineItem) *decimal.Decimal { return &l.Amount }, u)
	}
}

func (e *PlacementOpened) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		for i := range e.Invoices {
			inv := &e.Invoices[i]
			inv.Amount = atScale(inv.Amount, u)
			if inv.InvoicedAmount != nil {
				*inv.InvoicedAmount = atScale(*inv.InvoicedAmount, u)
			}
		}
		scaleAll(e.Charges, func(c *Charge) *decimal.Decimal { return &c.Amount }, u)
	}
}
