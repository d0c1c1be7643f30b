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
// at that scale keeps to 18 digits (minor's exact figure); otherwise d
// itself (arithmetic then rescales it as before).
func atScale(d decimal.Decimal, units int32) decimal.Decimal {
	if d.Exponent()+units <= 0 {
		return d
	}
	if d.Sign() == 0 {
		return ZeroAt(units)
	}
	if m, exact := minor(d, units); exact {
		return decimal.New(m, -units)
	}
	return d
}

// atScale is a with units decimals when it has fewer and its coefficient
// at that scale keeps to 18 digits; otherwise a itself (atScale of a
// Decimal, without building one).
func (a Amount) atScale(units int32) Amount {
	switch {
	case a.big != nil || a.exp+units <= 0:
		return a
	case a.coef == 0:
		return Amount{exp: -units}
	}
	if c, ok := rescaled(a.coef, a.exp+units); ok {
		return Amount{coef: c, exp: -units}
	}
	return a
}

// scalePayment writes a payment's or a reversal's amounts at units.
func scalePayment(units int32, amount, recovered, fee *Amount, allocations []Allocation, split *Split) {
	*amount, *recovered, *fee = amount.atScale(units), recovered.atScale(units), fee.atScale(units)
	for i := range allocations {
		allocations[i].Amount = allocations[i].Amount.atScale(units)
	}
	if split != nil {
		split.Costs, split.Interests, split.Overpaid = atScale(split.Costs, units), atScale(split.Interests, units), atScale(split.Overpaid, units)
	}
}

// atCurrencyScale writes the amounts of a freshly decoded event (it owns
// its slices and pointers) at its currency's scale; an event of no known
// currency, or of a type that carries no amount the folds use, is
// returned as it is. DecodeEvent calls it on what encoding/json decodes;
// the fast decoders call scaleAmounts on their event before they box it.
func atCurrencyScale(e Event) Event {
	switch e := e.(type) {
	case PaymentReceived:
		e.scaleAmounts()
		return e
	case PaymentReversed:
		e.scaleAmounts()
		return e
	case CreditWaiverIssued:
		e.scaleAmounts()
		return e
	case CreditWaiverCancelled:
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
		scalePayment(u, &e.Amount, &e.RecoveredAmount, &e.FeeAmount, e.Allocations, e.Split)
	}
}

func (e *PaymentReversed) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		scalePayment(u, &e.Amount, &e.RecoveredAmount, &e.FeeAmount, e.Allocations, e.Split)
	}
}

func (e *CreditWaiverIssued) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount = e.Amount.atScale(u)
	}
}

func (e *CreditWaiverCancelled) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount = e.Amount.atScale(u)
	}
}

func (e *AccountingDocumentIssued) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		e.Amount = e.Amount.atScale(u)
		for i := range e.LineItems {
			e.LineItems[i].Amount = e.LineItems[i].Amount.atScale(u)
		}
	}
}

func (e *PlacementOpened) scaleAmounts() {
	if u, ok := MinorUnits(e.Currency); ok {
		for i := range e.Invoices {
			inv := &e.Invoices[i]
			inv.Amount = inv.Amount.atScale(u)
			if inv.InvoicedAmount != nil {
				*inv.InvoicedAmount = inv.InvoicedAmount.atScale(u)
			}
		}
		for i := range e.Charges {
			e.Charges[i].Amount = atScale(e.Charges[i].Amount, u)
		}
	}
}
