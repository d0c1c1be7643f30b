package domain

import (
	"github.com/shopspring/decimal"
)

// Amount is an exact decimal amount, coefficient·10^exponent, as a
// decimal.Decimal is, but held in an int64 when its coefficient has at most
// 18 digits (every amount the ledger accepts, at any scale it writes) and as
// a decimal.Decimal only beyond that: the figures of a claim's state
// (Placement, InvoiceState), which every event folds, every decision checks
// and verify encodes and decodes once an event. A Decimal's arithmetic
// allocates a big.Int for each result, and its Cmp compares two; an Amount's
// is an integer's, with no allocation. Nothing is ever rounded: an amount
// keeps its exponent as a Decimal does (a sum has the smaller of the two),
// so Decimal returns, value and exponent, what the same arithmetic on
// Decimals gives, and String, StringFixed and the JSON are a Decimal's
// (TestAmountIsDecimal). Digits below the currency's minor unit, which a
// decoded event may carry, stay where they are.
//
// The zero Amount is 0·10^0, as the zero Decimal is.
type Amount struct {
	coef int64
	exp  int32
	// big is the amount when its coefficient has more than 18 digits;
	// coef and exp are then 0. Amounts are immutable, so it is shared.
	big *decimal.Decimal
}

// maxCoef bounds an Amount's coefficient held in coef: 18 digits, so that
// the sum or the difference of two never overflows an int64.
const maxCoef = 999_999_999_999_999_999

// AmountOf is d as an Amount, exponent included.
func AmountOf(d decimal.Decimal) Amount {
	if c, ok := Coefficient18(d); ok {
		return Amount{coef: c, exp: d.Exponent()}
	}
	return Amount{big: new(d)} // not &d: that would move d to the heap on every call
}

// NewAmount is coef·10^exp, as decimal.New.
func NewAmount(coef int64, exp int32) Amount { return of(coef, exp) }

// AmountAt is minor minor units of a currency with units decimals
// (minor·10^-units).
func AmountAt(minor int64, units int32) Amount { return of(minor, -units) }

// Decimal is a as a decimal.Decimal, exponent included.
func (a Amount) Decimal() decimal.Decimal {
	if a.big != nil {
		return *a.big
	}
	return decimal.New(a.coef, a.exp)
}

// Exponent is a's exponent, as a Decimal's.
func (a Amount) Exponent() int32 {
	if a.big != nil {
		return a.big.Exponent()
	}
	return a.exp
}

// aligned returns a's and b's coefficients at the smaller of their
// exponents, and that exponent; false when either is held as a Decimal or
// a coefficient would leave 18 digits.
func aligned(a, b Amount) (x, y int64, exp int32, ok bool) {
	if a.big != nil || b.big != nil {
		return 0, 0, 0, false
	}
	switch {
	case a.exp == b.exp:
		return a.coef, b.coef, a.exp, true
	case a.exp > b.exp:
		x, ok = rescaled(a.coef, a.exp-b.exp)
		return x, b.coef, b.exp, ok
	default:
		y, ok = rescaled(b.coef, b.exp-a.exp)
		return a.coef, y, a.exp, ok
	}
}

// rescaled is c·10^shift (shift > 0), when it keeps to 18 digits.
func rescaled(c int64, shift int32) (int64, bool) {
	if shift > 18 || c <= -pow10[18-shift] || c >= pow10[18-shift] {
		return 0, false
	}
	return c * pow10[shift], true
}

// of returns coef·10^exp, as a Decimal when coef has left 18 digits.
func of(coef int64, exp int32) Amount {
	if coef < -maxCoef || coef > maxCoef {
		d := decimal.New(coef, exp)
		return Amount{big: &d}
	}
	return Amount{coef: coef, exp: exp}
}

// Add returns a + b.
func (a Amount) Add(b Amount) Amount {
	if x, y, exp, ok := aligned(a, b); ok {
		return of(x+y, exp)
	}
	return AmountOf(a.Decimal().Add(b.Decimal()))
}

// Sub returns a − b.
func (a Amount) Sub(b Amount) Amount {
	if x, y, exp, ok := aligned(a, b); ok {
		return of(x-y, exp)
	}
	return AmountOf(a.Decimal().Sub(b.Decimal()))
}

// AddDecimal returns a + d.
func (a Amount) AddDecimal(d decimal.Decimal) Amount { return a.Add(AmountOf(d)) }

// SubDecimal returns a − d.
func (a Amount) SubDecimal(d decimal.Decimal) Amount { return a.Sub(AmountOf(d)) }

// Neg returns −a.
func (a Amount) Neg() Amount {
	if a.big != nil {
		return AmountOf(a.big.Neg())
	}
	return Amount{coef: -a.coef, exp: a.exp}
}

// Cmp returns −1, 0 or +1 as a is less than, equal to or greater than b.
func (a Amount) Cmp(b Amount) int {
	if x, y, _, ok := aligned(a, b); ok {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return a.Decimal().Cmp(b.Decimal())
}

// Equal reports whether a and b are the same amount, whatever their
// exponents.
func (a Amount) Equal(b Amount) bool { return a.Cmp(b) == 0 }

// Sign returns −1, 0 or +1 as a is negative, zero or positive.
func (a Amount) Sign() int {
	switch {
	case a.big != nil:
		return a.big.Sign()
	case a.coef < 0:
		return -1
	case a.coef > 0:
		return 1
	}
	return 0
}

// IsZero reports whether a is zero (and so whether a field tagged omitzero
// is left out, as a Decimal is).
func (a Amount) IsZero() bool { return a.Sign() == 0 }

// IsNegative reports whether a < 0.
func (a Amount) IsNegative() bool { return a.Sign() < 0 }

// IsPositive reports whether a > 0.
func (a Amount) IsPositive() bool { return a.Sign() > 0 }

// String is a Decimal's String: no trailing zeros ("100.5").
func (a Amount) String() string { return a.Decimal().String() }

// StringFixed is a Decimal's StringFixed: exactly places decimals,
// rounded half away from zero.
func (a Amount) StringFixed(places int32) string { return a.Decimal().StringFixed(places) }

// Minor is a in integer minor units of a currency with units decimals,
// truncated toward zero as MinorAmount is; exact is false when a has digits
// below the minor unit or does not fit an int64.
func (a Amount) Minor(units int32) (amount int64, exact bool) {
	if a.big != nil {
		return minor(*a.big, units)
	}
	return minorOf(a.coef, a.exp, units)
}

// MarshalJSON writes a as a Decimal does.
func (a Amount) MarshalJSON() ([]byte, error) { return a.Decimal().MarshalJSON() }

// UnmarshalJSON reads what a Decimal reads, exponent included.
func (a *Amount) UnmarshalJSON(b []byte) error {
	var d decimal.Decimal
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	*a = AmountOf(d)
	return nil
}
