package projections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// typicalState is a EUR claim of 5 invoices with 20 payments folded, kept
// as the views keep it.
func typicalState(tb testing.TB) *placementState {
	w := &codecWorld{rng: rand.New(rand.NewPCG(1, 2)), cur: "EUR", at: codecT0, seen: map[string]int{}}
	place := domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "BENCH-1", CustomerNumber: "K1", Currency: "EUR",
		FeeRate: decimal.RequireFromString("0.20"), At: w.at,
		PersonalData: &domain.SealedData{KeyID: "k1", Nonce: make([]byte, 12), Ciphertext: make([]byte, 120), Context: "PlacementOpened"}}
	for i := range 5 {
		place.Invoices = append(place.Invoices, domain.Invoice{InvoiceNumber: fmt.Sprintf("INV/%d", i), ContractNumber: "C1",
			Amount: domain.NewAmount(100000+int64(i)*1234, -2), DueDate: "2024-01-01"})
	}
	w.step(place)
	for i := range 20 {
		w.at = w.at.Add(time.Hour)
		w.step(domain.ReceivePayment{PaymentNumber: fmt.Sprintf("P-%d", i), Amount: decimal.New(1000+int64(i)*17, -2), At: w.at})
	}
	require.Equal(tb, 20, w.p.PaymentNumbers.Len())
	return stored(w.p, w.p.Version-1)
}

// BenchmarkStateCodec encodes and decodes a typical state as JSON (the
// views' form before) and in the binary form.
func BenchmarkStateCodec(b *testing.B) {
	st := typicalState(b)
	j, err := json.Marshal(st)
	require.NoError(b, err)
	bin, err := encodeState(nil, st)
	require.NoError(b, err)
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(st)
		}
		b.ReportMetric(float64(len(j)), "bytes")
	})
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = encodeState(make([]byte, 0, 256+160*len(st.P.Invoices)), st)
		}
		b.ReportMetric(float64(len(bin)), "bytes")
	})
	b.Run("decode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got placementState
			_ = json.Unmarshal(j, &got)
		}
		b.ReportMetric(float64(len(j)), "bytes")
	})
	b.Run("decode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got placementState
			_ = decodeState(bin, &got)
		}
		b.ReportMetric(float64(len(bin)), "bytes")
	})
}
