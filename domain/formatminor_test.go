package domain_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestFormatMinorIsFormatMoney: the integer formatter writes every amount in
// minor units exactly as the decimal path does, in currencies of 0, 2, 3 and
// 4 decimals and in a code ISO 4217 does not list (no decimals, as
// MinorUnits reports it), at the edges of int64 and at random.
func TestFormatMinorIsFormatMoney(t *testing.T) {
	for _, cur := range []string{"JPY", "EUR", "BHD", "CLF", "XXX"} {
		edges := []int64{0, 1, -1, 5, -5, 9, 10, 99, 100, 101, -100, 999, 1000, 1001, 12345, -12345, 40000,
			math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1e12, -1e12}
		rng := rand.New(rand.NewPCG(1, uint64(len(cur))))
		for range 20000 {
			n := rng.Int64() >> rng.IntN(64)
			if rng.IntN(2) == 0 {
				n = -n
			}
			edges = append(edges, n)
		}
		for _, n := range edges {
			want := domain.FormatMoney(domain.MajorAmount(n, cur), cur)
			require.Equal(t, want, domain.FormatMinor(n, cur), "%d %s", n, cur)
		}
	}
}

func TestFormatMinorAllocatesOnlyItsString(t *testing.T) {
	var s string
	allocs := testing.AllocsPerRun(100, func() { s = domain.FormatMinor(-123456789, "EUR") })
	require.Equal(t, "-1234567.89", s)
	require.LessOrEqual(t, allocs, 1.0)
}

// MajorAmount's zero is the shared zero of the currency's scale: the same
// value and exponent decimal.New(0, -units) gives, without an allocation.
func TestMajorAmountOfZeroIsTheScalesZero(t *testing.T) {
	for _, cur := range []string{"EUR", "JPY", "KWD", "CLF", "ZZZ"} {
		units, _ := domain.MinorUnits(cur)
		z := domain.MajorAmount(0, cur)
		require.True(t, z.Equal(decimal.New(0, -units)), cur)
		require.Equal(t, -units, z.Exponent(), cur)
		require.Equal(t, decimal.New(0, -units).String(), z.String(), cur)
		require.Zero(t, testing.AllocsPerRun(10, func() { _ = domain.MajorAmount(0, cur) }), cur)
		require.Equal(t, decimal.New(-5, -units).String(), domain.MajorAmount(-5, cur).String(), cur)
	}
}
