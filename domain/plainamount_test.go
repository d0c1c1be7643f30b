package domain_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// sameAmount fails unless the fast path's amount is parseAmount's, to the
// coefficient and the exponent (not only equal in value).
func sameAmount(t *testing.T, raw []byte, currency string, got decimal.Decimal) {
	t.Helper()
	want, err := domain.ParseAmountSlow(raw, currency, "amount")
	require.NoError(t, err, "the fast path took %q (%s), which parseAmount refuses", raw, currency)
	assert.Equal(t, want.Coefficient().String(), got.Coefficient().String(), "%q (%s): coefficient", raw, currency)
	assert.Equal(t, want.Exponent(), got.Exponent(), "%q (%s): exponent", raw, currency)
}

// TestPlainAmountIsParseAmount holds ParseAmount's fast path to its
// general one: an amount the fast path takes is the one parseAmount reads,
// to the exponent; what it does not take (spaces, signs, exponents, more
// than 18 digits, amounts beyond the limits) is left to parseAmount, whose
// messages the refusals keep. The forms clients send are taken.
func TestPlainAmountIsParseAmount(t *testing.T) {
	taken := []string{`100`, `100.50`, `"100.50"`, `0.01`, `"1"`, `0`, `"0.00"`, `007.10`, `999999999999.99`,
		`1000000000000`, `"1000000000000.00"`, `123456789012.345678`, `0.000000000001`}
	for _, raw := range taken {
		d, ok := domain.PlainAmount([]byte(raw), "")
		require.True(t, ok, "%q is taken", raw)
		sameAmount(t, []byte(raw), "", d)
	}
	left := []string{``, `""`, `"`, ` 1`, `1 `, `+1`, `-1`, `1e2`, `1E2`, `.5`, `5.`, `1.2.3`, `"1`, `1"`, `null`,
		`"abc"`, `1,5`, `１`, `1000000000000.01`, `1000000000001`, `9999999999999`, `0.0000000000001`,
		`1234567890123456789`, `"12345678901234567890"`, `00000000000000000001`}
	for _, raw := range left {
		_, ok := domain.PlainAmount([]byte(raw), "")
		assert.False(t, ok, "%q is left to parseAmount", raw)
	}
	// The currency's decimals: a JPY amount with decimals, a KWD one
	// with four, are left (and refused); with as many as allowed, taken.
	for _, c := range []struct {
		raw, currency string
		taken         bool
	}{{`100`, "JPY", true}, {`100.00`, "JPY", true}, {`100.5`, "JPY", false}, {`1.234`, "KWD", true}, {`1.2345`, "KWD", false},
		{`1.23`, "EUR", true}, {`1.234`, "EUR", false}, {`1.23456`, "XTS", true}, {`1.234`, "ABC", true}} {
		d, ok := domain.PlainAmount([]byte(c.raw), c.currency)
		require.Equal(t, c.taken, ok, "%q in %s", c.raw, c.currency)
		if ok {
			sameAmount(t, []byte(c.raw), c.currency, d)
		} else {
			_, err := domain.ParseAmount([]byte(c.raw), c.currency, "amount")
			assert.Error(t, err, "%q in %s", c.raw, c.currency)
		}
	}
}

// TestParseAmountTakesFewAllocations: what the fast path is for.
func TestParseAmountTakesFewAllocations(t *testing.T) {
	raw := []byte(`"1234.56"`)
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { _, _ = domain.ParseAmount(raw, "EUR", "amount") }), 2.0)
}

// FuzzPlainAmount: whatever the input and the currency, an amount the fast
// path takes is parseAmount's, to the exponent.
func FuzzPlainAmount(f *testing.F) {
	for _, s := range []string{`100`, `100.50`, `"100.50"`, `0.000`, `999999999999.999`, `1000000000000`, `1e3`, `.5`, `1.`, `12345678901234567.8`} {
		f.Add([]byte(s), "EUR")
	}
	f.Add([]byte(`5.1`), "JPY")
	f.Add([]byte(`5.1234`), "")
	f.Fuzz(func(t *testing.T, raw []byte, currency string) {
		if d, ok := domain.PlainAmount(raw, currency); ok {
			sameAmount(t, raw, currency, d)
		}
	})
}
