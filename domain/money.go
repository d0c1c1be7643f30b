package domain

import (
	"fmt"
	"regexp"
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

// MaxAmount bounds every amount the ledger accepts (a trillion units).
var MaxAmount = decimal.New(1, 12)

var amountPattern = regexp.MustCompile(`^[0-9]{1,13}(\.[0-9]{1,12})?$`)

// ParseAmount parses an amount written as a JSON number or a JSON string
// ("100", "100.5", 100.50) without ever going through float64. It refuses
// exponents, signs, more decimals than the currency allows (when currency is
// known) and amounts above MaxAmount. field names the field in the error.
func ParseAmount(raw []byte, currency, field string) (decimal.Decimal, error) {
	s := strings.TrimSpace(string(raw))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" || s == "null" {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: "is required"})
	}
	if strings.HasPrefix(s, "-") {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: "must be positive"})
	}
	if !amountPattern.MatchString(s) {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: fmt.Sprintf("%q is not an amount: use digits with an optional decimal point, as a JSON number or string", s)})
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: "is not an amount"})
	}
	if d.GreaterThan(MaxAmount) {
		return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: "is above the largest amount the ledger accepts (1000000000000)"})
	}
	if currency != "" {
		if units, ok := MinorUnits(currency); ok && -d.Exponent() > units && !d.Equal(d.Truncate(units)) {
			return decimal.Decimal{}, Invalid(FieldError{Field: field, Message: fmt.Sprintf("has more decimals than %s allows (%d)", currency, units)})
		}
	}
	return d, nil
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
