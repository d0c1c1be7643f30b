package projections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/reconcile"
)

// entryKey is an entry's key in 'x' (generation 0).
func entryKey(e *reconcile.Entry) keyBuf {
	return key(nil, tReconcile).str("acme").time(e.OccurredAt).u64(e.Position)
}

// requireEntryRoundTrip encodes e, decodes it with its key and requires
// the same entry back: its JSON (every field, amounts by value, the
// booking time with its offset) and its report line alike.
func requireEntryRoundTrip(t *testing.T, e reconcile.Entry) []byte {
	t.Helper()
	k := entryKey(&e)
	b := encodeEntry(nil, &e)
	got, err := decodeEntry(k, b)
	require.NoError(t, err)
	want, err := json.Marshal(e)
	require.NoError(t, err)
	gotJSON, err := json.Marshal(got)
	require.NoError(t, err)
	require.Equal(t, string(want), string(gotJSON))
	require.True(t, e.OccurredAt.Equal(got.OccurredAt))
	from, to := e.OccurredAt.Add(-time.Hour), e.OccurredAt.Add(time.Hour)
	wantView, _ := json.Marshal(reconcile.FromEntries("acme", reconcile.BasisBooking, from, to, []reconcile.Entry{e}).View())
	gotView, _ := json.Marshal(reconcile.FromEntries("acme", reconcile.BasisBooking, from, to, []reconcile.Entry{got}).View())
	require.Equal(t, string(wantView), string(gotView))
	require.Equal(t, b, encodeEntry(nil, &got), "the encoding is canonical")
	return b
}

// TestEntryCodecRoundTripsEntries: the reconciliation entries of random
// claims in EUR, JPY and BHD (payments, reversals, waivers and their
// cancellations, recalls, write-offs, booked in and out of UTC) decode to
// what was encoded.
func TestEntryCodecRoundTripsEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 22)) // fixed: a failure replays
	kinds := map[string]int{}
	jsonBytes, binBytes := 0, 0
	for run := range 150 {
		at := codecT0
		if run%4 == 1 {
			at = at.In(time.FixedZone("CET", 3600))
		}
		w := &codecWorld{rng: rng, cur: []string{"EUR", "JPY", "BHD"}[run%3], at: at, seen: map[string]int{}}
		s := &codecStream{w: w}
		s.do(w.handover(run), domain.SchemaVersion)
		for range 10 + rng.IntN(30) {
			s.do(w.command(), domain.SchemaVersion)
		}
		var before domain.Placement
		for _, rec := range s.records {
			after := domain.Evolve(before, rec.Event)
			if e, counted := reconcileEntry(after.ID, before, after, rec, journal.Hash(hashOf(rec.Revision)), domain.Postings(before, rec.Event, rec.Meta.OccurredAt)); counted {
				kinds[e.Kind]++
				b := requireEntryRoundTrip(t, e)
				j, _ := json.Marshal(e)
				jsonBytes, binBytes = jsonBytes+len(j), binBytes+len(b)
			}
			before = after
		}
	}
	for _, k := range []string{reconcile.KindPayment, reconcile.KindReversal, reconcile.KindWaiver, reconcile.KindWaiverCancellation,
		reconcile.KindRecall, reconcile.KindWriteOff} {
		assert.Positive(t, kinds[k], "no entry of kind %s", k)
	}
	t.Logf("entries %v; JSON %d bytes, binary %d bytes (%.1f×)", kinds, jsonBytes, binBytes, float64(jsonBytes)/float64(binBytes))
}

func edgeEntries() []reconcile.Entry {
	huge := decimal.RequireFromString("123456789012345678901234567890.5")
	return []reconcile.Entry{
		{OccurredAt: time.Unix(0, 0).UTC()},
		{Kind: "new", Placement: uuid.New(), ClaimNumber: "C", Currency: "XXX", Position: 1<<64 - 1, ValueDate: "2024-02-30", Hash: "not hex",
			OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 5*3600+45*60)),
			Moves:      reconcile.Moves{Collected: decimal.New(-5, -3), Fees: huge, Overpaid: decimal.New(7, 2)}},
		{Kind: reconcile.KindPayment, Currency: "EUR", Agency: true, ReturnedTo: domain.ReturnedToRecalled, PaymentNumber: "P", Reason: "P",
			OccurredAt: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), ValueDate: "1500-01-01", Hash: fmt.Sprintf("%064x", 1),
			Moves: reconcile.Moves{AgencyPayable: decimal.New(12345, -2), Waived: decimal.New(1, -9)}},
		{Kind: reconcile.KindRecall, Currency: "JPY", OccurredAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.FixedZone("", -3600)), Position: 3,
			Moves: reconcile.Moves{Recalled: decimal.New(-9223372036854775807, 0), WrittenOff: decimal.New(1, 20)}},
	}
}

func TestEntryCodecEdgeCases(t *testing.T) {
	for i, e := range edgeEntries() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { requireEntryRoundTrip(t, e) })
	}
}

// TestEntryCodecReadsJSONEntries: entries an older reconciliation unit
// stored as JSON read as they were.
func TestEntryCodecReadsJSONEntries(t *testing.T) {
	e := edgeEntries()[2]
	j, err := json.Marshal(e)
	require.NoError(t, err)
	got, err := decodeEntry(nil, j)
	require.NoError(t, err)
	want, _ := json.Marshal(e)
	gotJSON, _ := json.Marshal(got)
	assert.Equal(t, string(want), string(gotJSON))
}

func TestEntryCodecRefuses(t *testing.T) {
	e := edgeEntries()[1]
	k, good := entryKey(&e), encodeEntry(nil, &e)
	for name, c := range map[string]struct{ k, b []byte }{
		"empty":          {k, nil},
		"unknown format": {k, []byte{0x7f}},
		"short key":      {k[:15], good},
		"cut short":      {k, good[:len(good)-1]},
		"trailing bytes": {k, append(append([]byte(nil), good...), 0)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(c.k, c.b)
			require.Error(t, err)
		})
	}
}

// FuzzDecodeEntry: decoding arbitrary bytes never panics, and what decodes
// encodes again to bytes that decode to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	k := entryKey(&reconcile.Entry{OccurredAt: codecT0, Position: 5})
	for _, e := range edgeEntries() {
		e.OccurredAt, e.Position = codecT0, 5
		f.Add(encodeEntry(nil, &e))
	}
	f.Add([]byte{})
	f.Add([]byte(`{"kind":"payment"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(k, b)
		if err != nil || b[0] != entryFormat1 {
			return
		}
		again, err := decodeEntry(entryKey(&e), encodeEntry(nil, &e))
		require.NoError(t, err)
		want, errWant := json.Marshal(e)
		got, errGot := json.Marshal(again)
		require.Equal(t, errWant == nil, errGot == nil)
		require.Equal(t, string(want), string(got))
	})
}
