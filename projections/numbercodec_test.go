package projections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// requireProcessedRoundTrip encodes p, decodes it and requires the same
// record back: the content byte for byte, every other field (amounts by
// value) as its JSON shows it.
func requireProcessedRoundTrip(t *testing.T, p domain.Processed, currency string) []byte {
	t.Helper()
	b := encodeProcessed(nil, &p, currency)
	got, err := decodeProcessed(b)
	require.NoError(t, err)
	require.Equal(t, p.Content, got.Content)
	want, err := json.Marshal(p)
	require.NoError(t, err)
	gotJSON, err := json.Marshal(got)
	require.NoError(t, err)
	require.Equal(t, string(want), string(gotJSON))
	require.Equal(t, b, encodeProcessed(nil, &got, currency), "the encoding is canonical")
	return b
}

// TestNumberCodecRoundTripsProcessedNumbers: what random claims in EUR,
// JPY and BHD processed their payments (to the creditor and the agency,
// allocated, split, reversed) and waivers (cancelled or not) as decodes to
// what was encoded, after every step.
func TestNumberCodecRoundTripsProcessedNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 22)) // fixed: a failure replays
	jsonBytes, binBytes, payments, waivers := 0, 0, 0, 0
	for run := range 100 {
		w := &codecWorld{rng: rng, cur: []string{"EUR", "JPY", "BHD"}[run%3], at: codecT0, seen: map[string]int{}}
		w.step(w.handover(run))
		for range 10 + rng.IntN(30) {
			w.step(w.command())
			for _, n := range w.payments {
				p, ok := w.p.PaymentNumbers.Get(n)
				require.True(t, ok)
				b := requireProcessedRoundTrip(t, p, w.cur)
				j, _ := json.Marshal(p)
				jsonBytes, binBytes, payments = jsonBytes+len(j), binBytes+len(b), payments+1
			}
			for _, n := range w.waivers {
				if p, ok := w.p.WaiverNumbers.Get(n); ok {
					b := requireProcessedRoundTrip(t, p, w.cur)
					j, _ := json.Marshal(p)
					jsonBytes, binBytes, waivers = jsonBytes+len(j), binBytes+len(b), waivers+1
				}
			}
		}
	}
	assert.Positive(t, payments)
	assert.Positive(t, waivers)
	t.Logf("%d payments, %d waivers; JSON %d bytes, binary %d bytes (%.1f×)", payments, waivers, jsonBytes, binBytes, float64(jsonBytes)/float64(binBytes))
}

func edgeProcessed() []domain.Processed {
	huge := decimal.RequireFromString("123456789012345678901234567890.5")
	return []domain.Processed{
		{},
		{Content: "\x00\x00", Revision: 1 << 63},
		{Content: "100.5\x00I-1\x00\x00paid\x00", Revision: 3, Payment: &domain.PaymentRecord{Amount: decimal.New(10050, -2), Document: "D",
			Allocations: []domain.Allocation{}, InvoiceNumber: "I-1", Description: "paid", Split: &domain.Split{Overpaid: huge},
			ReceivedBy: domain.ReceivedByAgency, Reversal: "RETURNED", ReversalRevision: 9}},
		{Content: "x", Payment: &domain.PaymentRecord{Allocations: []domain.Allocation{{InvoiceNumber: "I", ContractNumber: "I", Amount: domain.AmountOf(decimal.New(1, -7))}}},
			Waiver: &domain.WaiverRecord{InvoiceNumber: "I", Amount: decimal.New(-3, 0), Currency: "XXX", Document: "W", CancelRevision: 4}},
	}
}

func TestNumberCodecEdgeCases(t *testing.T) {
	for i, p := range edgeProcessed() {
		for _, cur := range []string{"EUR", "", "XXX", "BHD"} {
			t.Run(fmt.Sprint(i, cur), func(t *testing.T) { requireProcessedRoundTrip(t, p, cur) })
		}
	}
}

// TestNumberCodecReadsJSONRecords: records an older numbers unit stored as
// JSON read as they were.
func TestNumberCodecReadsJSONRecords(t *testing.T) {
	p := edgeProcessed()[2]
	j, err := json.Marshal(p)
	require.NoError(t, err)
	got, err := decodeProcessed(j)
	require.NoError(t, err)
	gotJSON, _ := json.Marshal(got)
	assert.Equal(t, string(j), string(gotJSON))
}

func TestNumberCodecRefuses(t *testing.T) {
	good := encodeProcessed(nil, &edgeProcessed()[3], "EUR")
	for name, b := range map[string][]byte{
		"empty":           {},
		"unknown format":  {0x7f},
		"cut short":       good[:len(good)-1],
		"trailing bytes":  append(append([]byte(nil), good...), 0),
		"unknown records": {numberFormat1, 1, 0, 4, 1, 1},
		"no content":      {numberFormat1, 1, 0, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeProcessed(b)
			require.Error(t, err)
		})
	}
}

// FuzzDecodeProcessed: decoding arbitrary bytes never panics, and what
// decodes encodes again to bytes that decode to the same record.
func FuzzDecodeProcessed(f *testing.F) {
	for _, p := range edgeProcessed() {
		f.Add(encodeProcessed(nil, &p, "EUR"))
	}
	f.Add([]byte{})
	f.Add([]byte(`{"Content":"1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeProcessed(b)
		if err != nil || b[0] != numberFormat1 {
			return
		}
		again, err := decodeProcessed(encodeProcessed(nil, &p, "EUR"))
		require.NoError(t, err)
		want, _ := json.Marshal(p)
		got, _ := json.Marshal(again)
		require.Equal(t, string(want), string(got))
	})
}
