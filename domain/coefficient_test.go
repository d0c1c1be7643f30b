package domain_test

import (
	"math/big"
	randv1 "math/rand"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestCoefficient18CountsDigitsExactly compares Coefficient18 with the
// digits of the coefficient written out in base ten, at the bounds of 18
// digits and of an int64, at every exponent of its table and beyond it.
func TestCoefficient18CountsDigitsExactly(t *testing.T) {
	e18 := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	one := big.NewInt(1)
	coefs := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(9), big.NewInt(10),
		big.NewInt(1<<53 - 1), big.NewInt(1 << 53), big.NewInt(1<<53 + 1),
		big.NewInt(999_999_999_999_999), big.NewInt(1_000_000_000_000_000), // where a float64 logarithm rounds
		new(big.Int).Sub(e18, one), e18, new(big.Int).Add(e18, one),
		big.NewInt(1<<63 - 1), new(big.Int).Lsh(one, 63), new(big.Int).Lsh(one, 64), new(big.Int).Lsh(one, 100),
	}
	rng := randv1.New(randv1.NewSource(1864)) // big.Int.Rand takes math/rand's
	for range 200 {
		coefs = append(coefs, new(big.Int).Rand(rng, new(big.Int).Lsh(one, uint(1+rng.Intn(70)))))
	}
	checked := 0
	for _, c := range coefs {
		for _, sign := range []int64{1, -1} {
			coef := new(big.Int).Mul(c, big.NewInt(sign))
			for exp := int32(-40); exp <= 40; exp++ {
				d := decimal.NewFromBigInt(coef, exp)
				got, fits := domain.Coefficient18(d)
				digits := len(new(big.Int).Abs(coef).String())
				require.Equal(t, digits <= 18, fits, "%s·10^%d (%d digits)", coef, exp, digits)
				if fits {
					require.Equal(t, coef.Int64(), got, "%s·10^%d", coef, exp)
				}
				checked++
			}
		}
	}
	t.Logf("%d decimals", checked)
}

// TestMinorAmountAgreesWithTheDecimalPath compares the minor units
// MinorAmount computes without allocating with the decimal arithmetic it
// stands for, for amounts written with every exponent, at every scale of
// ISO 4217.
func TestMinorAmountAgreesWithTheDecimalPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(4217, 2))
	for _, cur := range []string{"JPY", "EUR", "BHD", "CLF"} {
		units, known := domain.MinorUnits(cur)
		require.True(t, known, cur)
		for range 20_000 {
			coef := rng.Int64N(1 << uint(1+rng.IntN(62)))
			if rng.IntN(2) == 0 {
				coef = -coef
			}
			d := decimal.New(coef, int32(rng.IntN(25)-16))
			want := d.Shift(units).IntPart() // truncated toward zero
			require.Equal(t, want, domain.MinorAmount(d, cur), "%s %s", d, cur)
		}
	}
}

// TestZeroAtIsZeroAtTheScale requires ZeroAt to be zero written with the
// scale's decimals, so that a sum of amounts at that scale started from it
// keeps the scale, and to be unchanged by the sums started from it.
func TestZeroAtIsZeroAtTheScale(t *testing.T) {
	for units := int32(0); units <= 6; units++ {
		z := domain.ZeroAt(units)
		assert.True(t, z.IsZero())
		assert.Equal(t, -units, z.Exponent(), "units %d", units)
		sum := z.Add(decimal.New(12345, -units)).Sub(decimal.New(45, -units))
		assert.Equal(t, -units, sum.Exponent())
		assert.True(t, sum.Equal(decimal.New(12300, -units)))
		assert.True(t, domain.ZeroAt(units).IsZero(), "a sum from the shared zero changed it")
		assert.Equal(t, "0", z.String())
	}
}
