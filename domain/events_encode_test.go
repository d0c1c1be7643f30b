package domain

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// requireEncodesAsJSON checks that encodeFast writes e as json.Marshal does,
// or leaves it to json.Marshal.
func requireEncodesAsJSON(t *testing.T, e Event, mustTake bool) {
	t.Helper()
	want, wantErr := json.Marshal(e)
	got, ok := encodeFast(e)
	if !ok {
		require.False(t, mustTake, "encodeFast left %#v to json.Marshal", e)
		return
	}
	require.NoError(t, wantErr, "encodeFast wrote what json.Marshal refuses: %#v", e)
	require.Equal(t, string(want), string(got))
}

var awkwardStrings = []string{"", "A-1", "inv 7", `quo"te`, `back\slash`, "<b>&amp;</b>", "tab\there", "nl\n", "\x00\x1f\x7f",
	"ünïcödé", "€100", "\u2028\u2029", "bad \xff utf-8", "\xed\xa0\x80", "emoji 🙂", "\b\f\r"}

var awkwardAmounts = []decimal.Decimal{decimal.Zero, decimal.New(0, -2), decimal.New(1250, -2), decimal.New(1200, -2), decimal.New(-5, -2),
	decimal.New(5, -3), decimal.New(7, 0), decimal.New(7, 3), decimal.New(-120, 1), decimal.New(999999999999999999, -4),
	decimal.New(-999999999999999999, -18), decimal.New(1, -38), decimal.New(1, -39), decimal.New(10, -40),
	decimal.RequireFromString("123456789012345678901234567890.125"), decimal.New(-9223372036854775808, -2)}

func TestEncodeFastIsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 450000000, time.UTC)
	split := &Split{Costs: decimal.New(150, -2), Interests: decimal.Zero, Overpaid: decimal.New(1, -2)}
	for _, s := range awkwardStrings {
		for _, a := range awkwardAmounts {
			requireEncodesAsJSON(t, PaymentReceived{PaymentNumber: s, Amount: AmountOf(a), Currency: "EUR", ReceivedAt: at}, true)
			requireEncodesAsJSON(t, PaymentReceived{InvoiceNumber: s, Date: "2026-12-01", Description: s, AllocateTo: s, Amount: AmountOf(a), Currency: s,
				Allocations: []Allocation{{InvoiceNumber: s, ContractNumber: "C", Amount: AmountOf(a)}, {Amount: AmountOf(a)}}, RecoveredAmount: AmountOf(a), FeeAmount: AmountOf(a),
				ReceivedAt: at, Split: split, ReceivedBy: s}, true)
			requireEncodesAsJSON(t, AccountingDocumentIssued{DocumentNumber: s, Type: s, Date: s, Amount: AmountOf(a), Currency: s,
				LineItems:    []LineItem{{InvoiceNumber: s, ContractNumber: s, Amount: AmountOf(a), AllocateTo: s, CreditWaiverNumber: s}},
				OriginalType: s, OriginalNumber: s, PaymentNumber: s}, true)
			requireEncodesAsJSON(t, AccountingDocumentIssued{Amount: AmountOf(a), LineItems: []LineItem{}, PaymentNumber: s}, true)
		}
	}
	requireEncodesAsJSON(t, PaymentReceived{Allocations: []Allocation{}}, true)
	requireEncodesAsJSON(t, AccountingDocumentIssued{}, true)
	for _, z := range []*time.Location{time.FixedZone("plus", 5*3600+30*60), time.FixedZone("minus", -9*3600), time.FixedZone("secs", 3600+7),
		time.FixedZone("too far", 24*3600), time.Local} {
		requireEncodesAsJSON(t, PaymentReceived{ReceivedAt: at.In(z)}, false)
	}
	for _, y := range []int{-1, 0, 1, 9999, 10000} {
		requireEncodesAsJSON(t, PaymentReceived{ReceivedAt: time.Date(y, 1, 2, 3, 4, 5, 6, time.UTC)}, false)
	}
	requireEncodesAsJSON(t, PaymentReceived{}, true) // the zero time
	_, ok := encodeFast(CreditWaiverIssued{})
	require.False(t, ok, "only the events of a payment are written by hand")
}

func TestEncodeFastOfRandomPayments(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 22))
	str := func() string {
		if r.IntN(3) == 0 {
			return awkwardStrings[r.IntN(len(awkwardStrings))]
		}
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	amount := func() decimal.Decimal {
		return decimal.New(r.Int64N(2_000_000_000_000)-1_000_000_000_000, -int32(r.IntN(6)))
	}
	for i := 0; i < 20000; i++ {
		at := time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).UTC()
		var allocs []Allocation
		for range r.IntN(4) {
			allocs = append(allocs, Allocation{InvoiceNumber: str(), ContractNumber: str(), Amount: AmountOf(amount())})
		}
		requireEncodesAsJSON(t, PaymentReceived{PaymentNumber: str(), InvoiceNumber: str(), Amount: AmountOf(amount()), Currency: str(),
			Allocations: allocs, RecoveredAmount: AmountOf(amount()), FeeAmount: AmountOf(amount()), ReceivedAt: at}, true)
		var lines []LineItem
		for range r.IntN(4) {
			lines = append(lines, LineItem{InvoiceNumber: str(), ContractNumber: str(), Amount: AmountOf(amount()), AllocateTo: str()})
		}
		requireEncodesAsJSON(t, AccountingDocumentIssued{DocumentNumber: str(), Type: str(), Date: str(), Amount: AmountOf(amount()), Currency: str(),
			LineItems: lines, PaymentNumber: str()}, true)
	}
}

func FuzzEncodeFast(f *testing.F) {
	f.Add("P-1", "INV-1", "C-1", int64(12345), int32(-2), int64(1764900000), int64(5), true)
	f.Add("<&>", "\xff", "\u2028", int64(-1), int32(3), int64(-62135596800), int64(0), false)
	f.Fuzz(func(t *testing.T, number, invoice, contract string, coef int64, exp int32, sec, nsec int64, split bool) {
		a := decimal.New(coef, exp)
		e := PaymentReceived{PaymentNumber: number, InvoiceNumber: invoice, Amount: AmountOf(a), Currency: contract,
			Allocations: []Allocation{{InvoiceNumber: invoice, ContractNumber: contract, Amount: AmountOf(a)}}, RecoveredAmount: AmountOf(a),
			FeeAmount: AmountOf(a), ReceivedAt: time.Unix(sec, nsec).UTC(), ReceivedBy: number}
		if split {
			e.Split = &Split{Costs: a, Interests: a, Overpaid: a}
		}
		requireEncodesAsJSON(t, e, false)
		requireEncodesAsJSON(t, AccountingDocumentIssued{DocumentNumber: number, Type: invoice, Date: contract, Amount: AmountOf(a),
			LineItems:      []LineItem{{InvoiceNumber: invoice, ContractNumber: contract, Amount: AmountOf(a), CreditWaiverNumber: number}},
			OriginalNumber: invoice}, false)
	})
}
