package domain

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameDecimal asserts that got is want, coefficient and exponent: what
// String, StringFixed and the JSON of each show, and what a state's
// encoder keeps.
func sameDecimal(t *testing.T, want decimal.Decimal, got Amount, msg string) {
	t.Helper()
	d := got.Decimal()
	require.Equal(t, want.Exponent(), d.Exponent(), msg)
	require.Equal(t, want.Coefficient().String(), d.Coefficient().String(), msg)
	require.Equal(t, want.Exponent(), got.Exponent(), msg)
}

// randomDecimal is an amount as the ledger meets them (a few digits at
// the scales it writes), now and then one at the edge of 18 digits, with
// 19 or more, or at a far exponent.
func randomDecimal(r *rand.Rand) decimal.Decimal {
	exp := int32(-r.IntN(5))
	var coef int64
	switch r.IntN(8) {
	case 0:
		coef = 0
	case 1:
		coef = maxCoef - r.Int64N(3)
	case 2:
		d := decimal.New(r.Int64N(1e18), exp).Mul(decimal.New(1+r.Int64N(1e6), 0)) // 19 to 24 digits
		if r.IntN(2) == 0 {
			d = d.Neg()
		}
		return d
	case 3:
		exp = int32(r.IntN(40) - 20)
		coef = r.Int64N(1e6)
	default:
		coef = r.Int64N(pow10[1+r.IntN(12)])
	}
	if r.IntN(3) == 0 {
		coef = -coef
	}
	return decimal.New(coef, exp)
}

// TestAmountIsDecimal holds every operation of Amount to the same one on
// decimal.Decimal: value and exponent of every result, and the strings.
// It fails if an Amount rounds, overflows or rescales where a Decimal
// does not.
func TestAmountIsDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 22))
	for i := range 40_000 {
		x, y := randomDecimal(r), randomDecimal(r)
		a, b := AmountOf(x), AmountOf(y)
		sameDecimal(t, x, a, "AmountOf")
		sameDecimal(t, x.Add(y), a.Add(b), x.String()+" + "+y.String())
		sameDecimal(t, x.Sub(y), a.Sub(b), x.String()+" - "+y.String())
		sameDecimal(t, x.Add(y), a.AddDecimal(y), "AddDecimal")
		sameDecimal(t, x.Sub(y), a.SubDecimal(y), "SubDecimal")
		sameDecimal(t, x.Neg(), a.Neg(), "Neg")
		require.Equal(t, x.Cmp(y), a.Cmp(b), "%s cmp %s", x, y)
		require.Equal(t, x.Equal(y), a.Equal(b))
		require.Equal(t, x.Sign(), a.Sign())
		require.Equal(t, x.IsZero(), a.IsZero())
		require.Equal(t, x.IsNegative(), a.IsNegative())
		require.Equal(t, x.IsPositive(), a.IsPositive())
		require.Equal(t, x.String(), a.String())
		if i%16 == 0 {
			places := int32(r.IntN(5))
			require.Equal(t, x.StringFixed(places), a.StringFixed(places))
		}
		units := int32(r.IntN(5))
		sameDecimal(t, atScale(x, units), a.atScale(units), "atScale")
		wantMinor, wantExact := minor(x, units)
		gotMinor, gotExact := a.Minor(units)
		require.Equal(t, wantMinor, gotMinor, "%s at %d decimals", x, units)
		require.Equal(t, wantExact, gotExact, "%s at %d decimals", x, units)
		if c, ok := currencyOf[units]; ok {
			require.Equal(t, MinorAmount(x, c), gotMinor, "%s against MinorAmount", x)
		}
	}
}

// currencyOf is a currency of each number of decimals ISO 4217 has.
var currencyOf = map[int32]string{0: "JPY", 2: "EUR", 3: "KWD", 4: "CLF"}

// Amounts of a currency's minor units are the decimal amounts of the same
// minor units, and a sum of amounts at the currency's scale stays there.
func TestAmountAt(t *testing.T) {
	for units := range int32(5) {
		for _, m := range []int64{0, 1, -1, 12345, -999, maxCoef, -maxCoef, maxCoef + 1, -maxCoef - 1, 1<<63 - 1, -1 << 63} {
			sameDecimal(t, decimal.New(m, -units), AmountAt(m, units), "AmountAt")
			got, exact := AmountAt(m, units).Minor(units)
			assert.Equal(t, m, got)
			// Beyond 18 digits minor does not say exact (MinorAmount's slow way).
			assert.Equal(t, -maxCoef <= m && m <= maxCoef, exact, m)
		}
	}
	sum := AmountOf(ZeroOf("EUR"))
	for range 100 {
		sum = sum.Add(AmountAt(1, 2))
	}
	sameDecimal(t, decimal.New(100, -2), sum, "a hundred cents")
}

// An Amount's JSON is a Decimal's, both ways, and a field tagged omitzero
// is left out when the amount is zero as it is for a Decimal.
func TestAmountJSON(t *testing.T) {
	type withAmount struct {
		A Amount
		Z Amount `json:",omitzero"`
	}
	type withDecimal struct {
		A decimal.Decimal
		Z decimal.Decimal `json:",omitzero"`
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		x, z := randomDecimal(r), randomDecimal(r)
		if r.IntN(2) == 0 {
			z = ZeroOf("EUR")
		}
		want, err := json.Marshal(withDecimal{x, z})
		require.NoError(t, err)
		got, err := json.Marshal(withAmount{AmountOf(x), AmountOf(z)})
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
		var back withAmount
		require.NoError(t, json.Unmarshal(want, &back))
		var backD withDecimal
		require.NoError(t, json.Unmarshal(want, &backD))
		sameDecimal(t, backD.A, back.A, "A read back")
		sameDecimal(t, backD.Z, back.Z, "Z read back")
	}
	var a Amount
	assert.Error(t, json.Unmarshal([]byte(`"ten"`), &a))
}

// The arithmetic of Amounts of at most 18 digits allocates nothing, nor
// does reading one from a Decimal.
func TestAmountAllocatesNothing(t *testing.T) {
	a, d := AmountAt(12345, 2), decimal.New(5, -1)
	var sink Amount
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		b := AmountOf(d)
		sink = a.Add(b).Sub(a).Neg().AddDecimal(d).SubDecimal(d)
		_ = sink.Cmp(a)
		_, _ = sink.Minor(2)
	}))
	_ = sink
}
