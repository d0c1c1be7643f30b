package domain_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// FuzzParseAmount: whatever the input, no panic; an accepted amount is
// non-negative, within MaxAmount, within the currency's decimals, and parses
// back to itself.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{`100`, `100.5`, `"100.50"`, `-1`, `1e3`, `1.2345E2`, `1e-3`, `1e400`, `"1e2"`, `"abc"`, `0.001`, `99999999999999`, `"`, `null`, "\"1\u00a0\""} {
		f.Add([]byte(s), "EUR")
	}
	f.Add([]byte(`5`), "JPY")
	f.Fuzz(func(t *testing.T, raw []byte, currency string) {
		d, err := domain.ParseAmount(raw, currency, "amount")
		if err != nil {
			return
		}
		if d.IsNegative() || d.GreaterThan(domain.MaxAmount) {
			t.Fatalf("accepted %s from %q", d, raw)
		}
		if units, ok := domain.MinorUnits(currency); ok && !d.Equal(d.Truncate(units)) {
			t.Fatalf("accepted %s with more decimals than %s allows", d, currency)
		}
		back, err := domain.ParseAmount([]byte(d.String()), currency, "amount")
		if err != nil || !back.Equal(d) {
			t.Fatalf("%s does not parse back: %v", d, err)
		}
		// Against the decimal path: what is accepted is the amount the
		// decimal library reads from the same text.
		text := strings.Trim(strings.TrimSpace(string(raw)), `"`)
		want, err := decimal.NewFromString(text)
		if err != nil || !want.Equal(d) {
			t.Fatalf("accepted %q as %s; the decimal library reads %s (%v)", raw, d, want, err)
		}
	})
}

// FuzzParseAmountAcceptsExactAmounts: any amount within the limits, written
// as the decimal library writes it or with an exponent, is accepted and read
// as that amount.
func FuzzParseAmountAcceptsExactAmounts(f *testing.F) {
	f.Add(int64(10000), int32(-2), int32(2), "EUR")
	f.Add(int64(12345), int32(-2), int32(-2), "EUR")
	f.Add(int64(1), int32(12), int32(0), "JPY")
	f.Add(int64(7), int32(-3), int32(1), "BHD")
	f.Fuzz(func(t *testing.T, mantissa int64, exp, shift int32, currency string) {
		if mantissa <= 0 || exp < -30 || exp > 30 || shift < -30 || shift > 30 {
			return
		}
		d := decimal.New(mantissa, exp)
		units, known := domain.MinorUnits(currency)
		if !known || d.GreaterThan(domain.MaxAmount) || !d.Equal(d.Truncate(units)) {
			return
		}
		// The same amount as the decimal library writes it, and as m×10^e
		// with its point shifted (mantissa and exponent moved together).
		shifted := decimal.New(mantissa, exp-shift).String() + "e" + strconv.Itoa(int(shift))
		for _, text := range []string{d.String(), shifted, `"` + shifted + `"`} {
			if len(text) > domain.MaxAmountChars {
				continue
			}
			got, err := domain.ParseAmount([]byte(text), currency, "amount")
			if err != nil {
				t.Fatalf("refused %s (%s %s): %v", text, d, currency, err)
			}
			if !got.Equal(d) {
				t.Fatalf("read %s as %s, not %s", text, got, d)
			}
		}
	})
}

// FuzzParseDate: an accepted date formats back to the same string.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-05-01", "2024-02-30", "24-5-1", "", "2024-05-01T00:00:00Z", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := domain.ParseDate(s); ok && d.Format("2006-01-02") != s {
			t.Fatalf("%q accepted as %s", s, d)
		}
	})
}

// FuzzDecodeEvent: stored bytes of any registered type never panic the
// decoder, and whatever decodes can be folded.
func FuzzDecodeEvent(f *testing.F) {
	types := domain.EventTypes()
	f.Add(uint8(0), []byte(`{"placementId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","creditorId":"a","claimNumber":"c","customerNumber":"k","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"i","contractNumber":"c","amount":"1","dueDate":"2024-01-01"}],"openedAt":"2024-01-01T00:00:00Z"}`))
	f.Add(uint8(1), []byte(`{"amount":"1","recoveredAmount":"1","feeAmount":"0.2","allocations":[{"invoiceNumber":"i","amount":"1"}]}`))
	f.Add(uint8(2), []byte(`{}`))
	f.Add(uint8(3), []byte(`not json`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		typ := types[int(which)%len(types)]
		e, err := domain.DecodeEvent(typ, data)
		if err != nil {
			return
		}
		p := domain.Evolve(domain.Placement{}, e)
		_ = p.Outstanding().Add(decimal.Zero)
	})
}
