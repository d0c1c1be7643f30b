package domain

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAtScaleChangesTheExponentOnly(t *testing.T) {
	for _, c := range []struct {
		in    string
		units int32
		exp   int32 // the exponent it comes back with
	}{
		{"100", 2, -2},
		{"100.5", 2, -2},
		{"-7.1", 2, -2},
		{"0", 2, -2},
		{"-0", 3, -3},
		{"12.345", 2, -3},               // more decimals than the currency: left as it is
		{"5", 0, 0},                     // JPY
		{"1.5", 3, -3},                  // KWD
		{"999999999999999999", 2, 0},    // 18 digits: two more do not fit an int64 coefficient
		{"9999999999999999", 2, -2},     // 16 + 2 digits fit
		{"-9999999999999999", 2, -2},    // and negative
		{"99999999999999999", 2, 0},     // 17 + 2 do not
		{"1e-1", 2, -2},                 // 1·10^-1
		{"123456789012345678901", 2, 0}, // a coefficient of 21 digits
	} {
		d := decimal.RequireFromString(c.in)
		got := atScale(d, c.units)
		assert.True(t, got.Equal(d), "%s at %d units is %s", c.in, c.units, got)
		assert.Equal(t, d.String(), got.String(), "%s at %d units", c.in, c.units)
		assert.Equal(t, c.exp, got.Exponent(), "%s at %d units", c.in, c.units)
	}
}

// TestDecodedAmountsAreAtTheCurrencyScale: DecodeEvent gives the amounts
// of every event that carries a currency at that currency's scale (so the
// folds meet equal exponents), by the fast decoders and by encoding/json
// alike, and the event encodes as it was stored.
func TestDecodedAmountsAreAtTheCurrencyScale(t *testing.T) {
	split := `"split":{"costs":"1.5","interests":"2","overpaid":"0"}`
	for typ, data := range map[string]string{
		"PaymentReceived":          `{"amount":"10.5","currency":"EUR","allocations":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"7"}],"recoveredAmount":"7","feeAmount":"1.4","receivedAt":"2026-12-03T07:40:03Z",` + split + `}`,
		"PaymentReversed":          `{"paymentNumber":"P","reason":"RETURNED","amount":"10.5","currency":"EUR","allocations":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"7"}],"originalDocument":"D","paymentRevision":3,"recoveredAmount":"0","feeAmount":"0","reversedAt":"2026-12-03T07:40:03Z",` + split + `}`,
		"CreditWaiverIssued":       `{"invoiceNumber":"I1","contractNumber":"C1","date":"2026-12-03","description":"d","amount":"5","currency":"KWD"}`,
		"CreditWaiverCancelled":    `{"creditWaiverNumber":"W","invoiceNumber":"I1","contractNumber":"C1","amount":"5","currency":"EUR","date":"2026-12-03","originalDocument":"D","waiverRevision":2,"waiverContent":"c","cancelledAt":"2026-12-03T07:40:03Z"}`,
		"AccountingDocumentIssued": `{"documentNumber":"D","type":"DIRECT_PAYMENT","date":"2026-12-03","amount":"-1","currency":"EUR","lineItems":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"-1"}]}`,
		"PlacementOpened":          `{"placementId":"d5336f5c-1cfa-4bcf-9302-a8e164586cb8","creditorId":"c","claimNumber":"L","customerNumber":"K","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"100","dueDate":"2024-05-01","invoicedAmount":"120"}],"openedAt":"2026-12-03T07:39:54Z","charges":[{"type":"COLLECTION_COSTS","number":"K1","amount":"3","date":"2024-05-01"}]}`,
	} {
		for _, spaced := range []bool{false, true} {
			stored := data
			if spaced { // not in the fast path's form: encoding/json decodes it
				stored = " " + data
			}
			e, err := DecodeEvent(typ, []byte(stored))
			require.NoError(t, err, typ)
			var amounts []decimal.Decimal
			units := int32(2)
			switch e := e.(type) {
			case PaymentReceived:
				amounts = append(amounts, e.Amount.Decimal(), e.RecoveredAmount.Decimal(), e.FeeAmount.Decimal(), e.Allocations[0].Amount.Decimal(), e.Split.Costs, e.Split.Interests, e.Split.Overpaid)
			case PaymentReversed:
				amounts = append(amounts, e.Amount.Decimal(), e.RecoveredAmount.Decimal(), e.FeeAmount.Decimal(), e.Allocations[0].Amount.Decimal(), e.Split.Costs, e.Split.Interests, e.Split.Overpaid)
			case CreditWaiverIssued:
				amounts, units = append(amounts, e.Amount.Decimal()), 3
			case CreditWaiverCancelled:
				amounts = append(amounts, e.Amount.Decimal())
			case AccountingDocumentIssued:
				amounts = append(amounts, e.Amount.Decimal(), e.LineItems[0].Amount.Decimal())
			case PlacementOpened:
				amounts = append(amounts, e.Invoices[0].Amount.Decimal(), e.Invoices[0].InvoicedAmount.Decimal(), e.Charges[0].Amount)
				assert.Equal(t, int32(-1), e.FeeRate.Exponent(), "a rate is not money: left as written")
			}
			for i, a := range amounts {
				assert.Equal(t, -units, a.Exponent(), "%s (spaced %v): amount %d is %s", typ, spaced, i, a)
			}
			_, again, err := EncodeEvent(e)
			require.NoError(t, err)
			assert.JSONEq(t, data, string(again), typ)
		}
	}
	// An unknown currency leaves the amounts as they were written.
	e, err := DecodeEvent("CreditWaiverIssued", []byte(`{"invoiceNumber":"I1","contractNumber":"C1","date":"2026-12-03","description":"d","amount":"5","currency":"XXX"}`))
	require.NoError(t, err)
	assert.Equal(t, int32(0), e.(CreditWaiverIssued).Amount.Exponent())
}

// FuzzPlainDecimal: what plainDecimal parses, NewFromString parses to the
// same Decimal (coefficient and exponent), as Decimal.UnmarshalJSON would.
func FuzzPlainDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "-1", "10.5", "-10.50", "00.50", "123456789012345678", "1234567890123456789",
		"1.", ".5", "-", "", "1.2.3", "+5", "1e3", "9223372036854775807", "-99999999999999999.9", "0.000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return // fastDecimal refuses "" before it parses
		}
		got, ok := plainDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := decimal.NewFromString(s)
		require.NoError(t, err, "%q", s)
		require.Equal(t, want.Exponent(), got.Exponent(), "%q", s)
		require.Equal(t, want.Coefficient().String(), got.Coefficient().String(), "%q", s)
	})
}

func TestPlainDecimalTakesWhatEventsAreWrittenWith(t *testing.T) {
	for s, ok := range map[string]bool{"0": true, "-10.5": true, "123456789012345678": true, "1234567890123456789": false,
		"1.": false, ".5": false, "-": false, "+5": false, "1e3": false, "1.2.3": false, " 1": false} {
		_, got := plainDecimal([]byte(s))
		assert.Equal(t, ok, got, "%q", s)
	}
}
