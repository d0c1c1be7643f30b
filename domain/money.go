package domain

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain/iso4217"
)

// MinorUnits returns the number of decimals of a currency and whether the
// ledger knows the currency: every ISO 4217 currency with a minor unit, from
// the standard's own table (package iso4217).
func MinorUnits(currency string) (int32, bool) {
	return iso4217.MinorUnits(currency)
}

// CheckCurrency refuses, naming field, a currency code the ledger does not
// accept (not in ISO 4217 List One, or a fund or metal code).
func CheckCurrency(code, field string) error {
	if _, known := MinorUnits(code); known {
		return nil
	}
	return Invalid(FieldError{Field: field, Message: unknownCurrency(code)})
}

func unknownCurrency(code string) string {
	return fmt.Sprintf("%q is not an ISO 4217 currency the ledger accepts", code)
}

// MaxAmount bounds every amount the ledger accepts (a trillion units).
var MaxAmount = decimal.New(1, 12)

// Limits of an amount as written: at most MaxAmountChars characters (as a
// JSON number or inside its string), and at most MaxAmountDecimals decimals
// whatever the currency (the currency's minor unit is checked as well).
const (
	MaxAmountChars    = 40
	MaxAmountDecimals = 12
)

// maxAmountDigits is how many digits MaxAmount has before its point.
const maxAmountDigits = 13

var amountPattern = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$`)

// ParseAmount parses an amount written as a JSON number or a JSON string
// ("100", "100.5", 100.50, 1e2, "1.2345E2") without ever going through
// float64. An exponent is accepted when the amount it gives is exact within
// the limits: no more decimals than the currency allows (when currency is
// known) or than MaxAmountDecimals, nothing above MaxAmount. Signs, and
// anything longer than MaxAmountChars, are refused. field names the field in
// the error.
//
// The limits are checked on the digits and the exponent as written, before
// any decimal is built, so that 1e999999999 costs nothing.
func ParseAmount(raw []byte, currency, field string) (decimal.Decimal, error) {
	if d, ok := plainAmount(raw, currency); ok {
		return d, nil
	}
	return parseAmount(raw, currency, field)
}

// plainAmount is ParseAmount's result for what clients nearly always send,
// an amount it accepts written d+(.d+)? with at most 18 digits, quoted or
// not and with no space around it, read without the regular expression,
// strings and big.Int parse of parseAmount (about a dozen allocations);
// false for anything else, which parseAmount reads (and refuses, with its
// message). TestPlainAmountIsParseAmount and FuzzPlainAmount hold it to
// parseAmount's result, coefficient and exponent included.
func plainAmount(raw []byte, currency string) (decimal.Decimal, bool) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		raw = raw[1 : n-1]
	}
	if len(raw) > 0 && raw[0] == '-' {
		return decimal.Decimal{}, false // refused by parseAmount, with its message
	}
	coef, exp, ok := plainDigits(raw)
	if !ok {
		return decimal.Decimal{}, false
	}
	if coef == 0 {
		return decimal.Zero, true // as parseAmount: the command says it must be positive
	}
	for coef%10 == 0 {
		coef /= 10
		exp++
	}
	significant := 0
	for c := coef; c > 0; c /= 10 {
		significant++
	}
	units, known := MinorUnits(currency)
	switch {
	case significant+exp > maxAmountDigits, -exp > MaxAmountDecimals, currency != "" && known && -exp > int(units):
		return decimal.Decimal{}, false
	case significant+exp == maxAmountDigits && (coef != 1 || exp != maxAmountDigits-1):
		return decimal.Decimal{}, false // at least MaxAmount (10^12), and not it
	}
	return decimal.New(coef, int32(exp)), true
}

// parseAmount is ParseAmount for any input.
func parseAmount(raw []byte, currency, field string) (decimal.Decimal, error) {
	s := strings.TrimSpace(string(raw))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	refuse := func(msg string) (decimal.Decimal, error) {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: msg})
	}
	switch {
	case s == "" || s == "null":
		return refuse("is required")
	case len(s) > MaxAmountChars:
		return refuse(fmt.Sprintf("is %d characters long; an amount has at most %d", len(s), MaxAmountChars))
	case strings.HasPrefix(s, "-"):
		return refuse("must be positive")
	}
	m := amountPattern.FindStringSubmatch(s)
	if m == nil {
		return refuse(fmt.Sprintf("%q is not an amount: use digits with an optional decimal point and exponent, as a JSON number or string", s))
	}
	// digits × 10^exp, with no leading or trailing zeros in digits.
	digits := strings.TrimLeft(m[1]+m[2], "0")
	exp := -len(m[2])
	if trimmed := strings.TrimRight(digits, "0"); trimmed != digits {
		exp += len(digits) - len(trimmed)
		digits = trimmed
	}
	if digits == "" {
		return decimal.Zero, nil // zero, however written: the command says it must be positive
	}
	if m[3] != "" {
		e, err := strconv.Atoi(m[3])
		if err != nil { // too large for an int: far beyond either limit
			e = 1000
			if strings.HasPrefix(m[3], "-") {
				e = -1000
			}
		}
		// Beyond ±1000 no amount of at most MaxAmountChars digits is within
		// the limits; clamping keeps exp from overflowing.
		exp += max(min(e, 1000), -1000)
	}
	units, known := MinorUnits(currency)
	switch {
	case len(digits)+exp > maxAmountDigits:
		return refuse(fmt.Sprintf("is above the largest amount the ledger accepts (%s)", MaxAmount))
	case -exp > MaxAmountDecimals:
		return refuse(fmt.Sprintf("has more decimals than the ledger accepts (%d)", MaxAmountDecimals))
	case currency != "" && known && -exp > int(units):
		return refuse(fmt.Sprintf("has more decimals than %s allows (%d)", currency, units))
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return refuse("is not an amount")
	}
	d := decimal.NewFromBigInt(n, int32(exp))
	if d.GreaterThan(MaxAmount) {
		return refuse(fmt.Sprintf("is above the largest amount the ledger accepts (%s)", MaxAmount))
	}
	return d, nil
}

// ParseRate parses a rate, such as a placement's fee rate, written as a JSON
// number or string: digits with an optional decimal point, at most 13 before
// it and 12 after (MaxAmount's digits and MaxAmountDecimals), with neither
// sign nor exponent. It reads the same digits ParseAmount does and keeps the
// decimals as written ("0.2000" stays 4 decimals); whether the rate is one
// the command accepts is the command's to say. field names the field in the
// error.
func ParseRate(raw []byte, field string) (decimal.Decimal, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if len(raw) == 0 || s == "null" || s == "" {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: "is required"})
	}
	if m := amountPattern.FindStringSubmatch(s); m == nil || m[3] != "" || len(m[1]) > maxAmountDigits || len(m[2]) > MaxAmountDecimals {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: fmt.Sprintf("%q is not a decimal number", s)})
	}
	return decimal.RequireFromString(s), nil
}

// RoundMoney rounds an amount half-up to the currency's minor unit. It is the
// one rounding rule of the ledger.
func RoundMoney(d decimal.Decimal, currency string) decimal.Decimal {
	units, _ := MinorUnits(currency)
	return d.Round(units)
}

// FormatMoney writes an amount with exactly the currency's decimals ("400.00").
func FormatMoney(d decimal.Decimal, currency string) string {
	units, _ := MinorUnits(currency)
	return d.StringFixed(units)
}

// FormatMinor writes an amount held in the currency's minor units as
// FormatMoney writes it (FormatMoney(MajorAmount(minor, currency), currency)),
// with integers alone: one allocation, the string, where the decimal path
// takes several big.Int ones. Every money figure of a rendered placement
// goes through it. TestFormatMinorIsFormatMoney checks the two agree.
func FormatMinor(minor int64, currency string) string {
	units, _ := MinorUnits(currency)
	mag := uint64(minor)
	if minor < 0 {
		mag = -mag // two's complement: right for math.MinInt64 too
	}
	// Digits from the right, the point after units of them, and at least
	// one digit before it (5 cents is 0.05).
	var buf [48]byte
	i := len(buf)
	for n := int32(0); ; n++ {
		if units > 0 && n == units {
			i--
			buf[i] = '.'
		}
		i--
		buf[i] = byte('0' + mag%10)
		mag /= 10
		if mag == 0 && n >= units {
			break
		}
	}
	if minor < 0 {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// Fee is recovered × rate, rounded once, from the total.
func Fee(recovered, rate decimal.Decimal, currency string) decimal.Decimal {
	return RoundMoney(recovered.Mul(rate), currency)
}

// OutcomeScore is recovered / original to 4 decimals (0 when nothing was owed).
func OutcomeScore(recovered, original decimal.Decimal) decimal.Decimal {
	if original.IsZero() {
		return decimal.Zero
	}
	return recovered.DivRound(original, 4)
}

// Coefficient18 returns d's coefficient (d = coefficient·10^exponent)
// when it has at most 18 digits, without allocating. It is what
// Decimal.NumDigits() <= 18 tells, which computes a logarithm in float64 to
// count the digits of any coefficient a float64 holds exactly: this
// compares d with the bounds ±(10^18−1) at d's own exponent instead, which
// Decimal.Cmp does without rescaling either side.
func Coefficient18(d decimal.Decimal) (int64, bool) {
	if d.Sign() == 0 {
		return 0, true
	}
	i := int(d.Exponent()) - coefBoundsFrom
	if i < 0 || i >= len(coefBounds) {
		if d.NumDigits() > 18 {
			return 0, false
		}
		return d.CoefficientInt64(), true
	}
	b := &coefBounds[i]
	if d.Cmp(b[0]) < 0 || d.Cmp(b[1]) > 0 {
		return 0, false
	}
	return d.CoefficientInt64(), true
}

// coefBounds[i] are −(10^18−1) and 10^18−1 at exponent coefBoundsFrom+i:
// every exponent an amount or a rate of the ledger is written with.
const coefBoundsFrom = -32

var coefBounds = func() (b [64][2]decimal.Decimal) {
	for i := range b {
		exp := int32(coefBoundsFrom + i)
		b[i] = [2]decimal.Decimal{decimal.New(-(pow10[18] - 1), exp), decimal.New(pow10[18]-1, exp)}
	}
	return b
}()

// ZeroAt is zero written with units decimals: the zero to start a sum of
// amounts of a currency with units decimals from, so that adding amounts
// written at that scale never rescales it (decimal.Zero is 0·10^1, and the
// zero Decimal 0·10^0). Decimals are immutable, so the zeros are shared.
func ZeroAt(units int32) decimal.Decimal {
	if units >= 0 && int(units) < len(zeros) {
		return zeros[units]
	}
	return decimal.New(0, -units)
}

// ZeroOf is zero at currency's scale (ZeroAt); with no decimals for a
// currency the ledger does not know.
func ZeroOf(currency string) decimal.Decimal {
	units, _ := MinorUnits(currency)
	return ZeroAt(units)
}

var zeros = func() (z [5]decimal.Decimal) {
	for i := range z {
		z[i] = decimal.New(0, -int32(i))
	}
	return z
}()

// pow10 are the powers of ten an int64 holds.
var pow10 = [19]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// minor is d in integer minor units of a currency with units decimals,
// truncated toward zero as MinorAmount is, without allocating; exact is
// false when d has digits below the minor unit or does not fit an int64
// (then the figure is MinorAmount's, computed the slow way).
func minor(d decimal.Decimal, units int32) (amount int64, exact bool) {
	if d.Sign() == 0 {
		return 0, true
	}
	coef, fits := Coefficient18(d)
	if !fits {
		return d.Shift(units).IntPart(), false
	}
	return minorOf(coef, d.Exponent(), units)
}

// minorOf is minor for coef·10^exp, a coefficient of at most 18 digits.
func minorOf(coef int64, exp, units int32) (amount int64, exact bool) {
	if coef == 0 {
		return 0, true
	}
	shift := exp + units
	switch {
	case shift >= 0 && shift <= 18 && -pow10[18-shift] < coef && coef < pow10[18-shift]: // at most 18 digits
		return coef * pow10[shift], true
	case shift < 0 && shift >= -18:
		q := pow10[-shift]
		return coef / q, coef%q == 0
	}
	return decimal.New(coef, exp).Shift(units).IntPart(), false
}
