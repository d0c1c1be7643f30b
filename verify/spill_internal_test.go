package verify

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// roundTrip puts a and b under two keys of a map that keeps one entry in
// memory, so a is written to the scratch store when b comes in, and
// requires both back as they were put.
func roundTrip[K comparable, V any](t *testing.T, m *spillMap[K, V], ka, kb K, a, b V) {
	t.Helper()
	for _, kv := range []struct {
		k K
		v V
	}{{ka, a}, {kb, b}} {
		p, found := m.get(kv.k, true)
		require.False(t, found)
		*p = kv.v
	}
	assert.Len(t, m.mem, 1, "one entry in memory")
	for _, kv := range []struct {
		k K
		v V
	}{{ka, a}, {kb, b}, {ka, a}} {
		p, found := m.get(kv.k, false)
		require.True(t, found)
		assert.Equal(t, kv.v, *p)
	}
	p, found := m.get(kb, false)
	require.True(t, found)
	assert.Equal(t, b, *p)
	missing, found := m.get(*new(K), false)
	assert.Nil(t, missing, "a key never put")
	assert.False(t, found)
	assert.Equal(t, 2, m.n, "distinct keys")
}

func TestSpillMapsRoundTrip(t *testing.T) {
	s, err := openScratch(t.TempDir())
	require.NoError(t, err)
	defer s.close()
	var h journal.Hash
	for i := range h {
		h[i] = byte(i)
	}
	roundTrip(t, newStreams(s, 1), "placement-a", "claim-acme-CL-1", streamState{next: 7, hash: h}, streamState{next: 1})
	roundTrip(t, newOwners(s, 1), uuid.New(), uuid.New(), [2]string{"acme", "K1"}, [2]string{"other", ""})
	roundTrip(t, newClaims(s, 1), uuid.New(), uuid.New(),
		claimBooks{balance: [nBalances]int64{-15000, 3, 0, -1, 5, 6, 7, 8, -9}, principal: []int64{100, -2, 0}},
		claimBooks{broken: true})
	b := newBooks(s, 1)
	roundTrip(t, b.items, 12, 1<<40,
		settleable{creditor: "acme", currency: "EUR", settledBy: "RM-1", item: journal.SettlementItem{Position: 12, ClaimNumber: "CL-1",
			DocumentNumber: "P-1", ValueDate: "2024-02-01", Collected: 1000, Fee: -200}},
		settleable{creditor: "acme", currency: "SEK", item: journal.SettlementItem{Position: 1 << 40}})
	require.NoError(t, s.err)
}

// TestStatesSpillRoundTrip: a claim's state the books fold, written to the
// scratch store and read back, is the state it was (compared in the views'
// binary form, which is what is stored).
func TestStatesSpillRoundTrip(t *testing.T) {
	s, err := openScratch(t.TempDir())
	require.NoError(t, err)
	defer s.close()
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	opened := domain.PlacementOpened{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-1", CustomerNumber: "K1", Currency: "EUR",
		FeeRate: decimal.RequireFromString("0.2"), OpenedAt: at,
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: decimal.RequireFromString("100.50"), DueDate: "2026-11-01"}}}
	a := domain.Evolve(domain.Placement{}, opened)
	b := domain.Evolve(a, domain.PaymentReceived{Amount: decimal.RequireFromString("10.25"), Currency: "EUR", ReceivedAt: at,
		Allocations:     []domain.Allocation{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: decimal.RequireFromString("10.25")}},
		RecoveredAmount: decimal.RequireFromString("10.25"), FeeAmount: decimal.RequireFromString("2.05")})
	m := newStates(s, 1)
	ids := []uuid.UUID{uuid.New(), uuid.New()}
	for i, p := range []domain.Placement{a, b} {
		st, found := m.get(ids[i], true)
		require.False(t, found)
		*st = p
	}
	require.Len(t, m.mem, 1, "one state in memory, the other written out")
	for i, want := range []domain.Placement{a, b, a} {
		got, found := m.get(ids[i%2], false)
		require.True(t, found)
		wantEnc, err := projections.AppendPlacement(nil, want)
		require.NoError(t, err)
		gotEnc, err := projections.AppendPlacement(nil, *got)
		require.NoError(t, err)
		require.Equal(t, wantEnc, gotEnc)
		require.True(t, want.Outstanding().Equal(got.Outstanding()))
	}
	require.NoError(t, s.err)
}

func TestSpillMapRefusesADamagedEntry(t *testing.T) {
	s, err := openScratch(t.TempDir())
	require.NoError(t, err)
	defer s.close()
	m := newStreams(s, 1)
	p, _ := m.get("a", true)
	p.next = 3
	m.get("b", true)
	require.NoError(t, s.db.Set([]byte{tStreams, 'a'}, []byte{1, 2, 3}, pebble.NoSync))
	m.get("a", false)
	assert.ErrorContains(t, s.err, "a stream's entry of 3 bytes")
}
