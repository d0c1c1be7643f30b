package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// testScratch opens a scratch store for the test, closed when it ends.
func testScratch(t *testing.T) *scratch {
	t.Helper()
	s, err := openScratch(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.close()) })
	return s
}

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
	roundTrip(t, newStreams(s, 1), streamKeyOf("placement-a"), streamKeyOf("claim-acme-CL-1"), streamState{next: 7, hash: h}, streamState{next: 1})
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

// TestSpillMapEachVisitsEveryEntryOnce drives a map of folded states that
// keeps four entries in memory through random puts, changes and reads,
// against a plain map: each visits every key once, in the order of its
// bytes, with its latest value, whether it is in memory, in the scratch
// store, or in both (read back and changed since).
func TestSpillMapEachVisitsEveryEntryOnce(t *testing.T) {
	s, err := openScratch(t.TempDir())
	require.NoError(t, err)
	defer s.close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, max := range []int{1, 4, 0} {
		// A map of its own in the scratch store for each max: so that
		// each must not visit another's entries (as a part's maps, see
		// part).
		m := newFolds(s, max).under([]byte{tPart, byte(max)})
		want := map[uuid.UUID][]byte{}
		var ids []uuid.UUID
		for i := range 300 {
			var id uuid.UUID
			if len(ids) == 0 || rng.IntN(3) == 0 {
				id = uuid.New()
				ids = append(ids, id)
			} else {
				id = ids[rng.IntN(len(ids))]
			}
			f, _ := m.get(id, true)
			f.rev, f.p = uint64(i), testState(fmt.Sprintf("state %d", i))
			f.books = claimBooks{balance: [nBalances]int64{bCollected: int64(-i)}, principal: []int64{int64(i)}, broken: i%5 == 0}
			want[id] = foldedBytes(t, f)
		}
		var visited []uuid.UUID
		err := m.each(func(b []byte) (uuid.UUID, error) { return uuid.FromBytes(b) }, func(id uuid.UUID, f *folded) error {
			visited = append(visited, id)
			assert.Equal(t, want[id], foldedBytes(t, f), "max %d: %s", max, id)
			return nil
		})
		require.NoError(t, err)
		require.Len(t, visited, len(want), "max %d: every key once", max)
		assert.True(t, slices.IsSortedFunc(visited, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }), "max %d: in order", max)
		assert.Equal(t, max > 0, m.spilled, "max %d", max)
	}
	require.NoError(t, s.err)
}

// testState is a placement's state whose claim number is claim.
func testState(claim string) domain.Placement {
	return domain.Placement{CreditorID: "creditor-1", ClaimNumber: claim, Currency: "EUR",
		Invoices: []domain.InvoiceState{{Invoice: domain.Invoice{InvoiceNumber: "INV-1", Amount: domain.AmountOf(decimal.RequireFromString("100.50"))},
			Open: domain.AmountOf(decimal.RequireFromString("100.50"))}}}
}

// foldedBytes is f as the folds keep it in memory and in the scratch store.
func foldedBytes(t *testing.T, f *folded) []byte {
	b, err := projections.AppendPlacement(appendClaimBooks(binary.AppendUvarint(nil, f.rev), &f.books), f.p)
	require.NoError(t, err)
	return b
}

// TestSpillMapCompactsItsArena grows 3,000 entries a hundred bytes at a
// time, so that each outgrows its room and moves to the arena's end again
// and again (about 45 MB written in all): the arena is compacted on the
// way (it ends far smaller than what was written), and every entry is
// still what was put last, through get and through each.
func TestSpillMapCompactsItsArena(t *testing.T) {
	s := testScratch(t)
	for _, max := range []int{0, 512} {
		m := newFolds(s, max)
		m.table += byte(max % 7) // a table of its own in the scratch store
		want := map[uuid.UUID][]byte{}
		ids := make([]uuid.UUID, 3000)
		for i := range ids {
			ids[i] = uuid.New()
		}
		for round := range 15 {
			for i, id := range ids {
				f, _ := m.get(id, true)
				f.rev = uint64(round)
				f.p = testState(strings.Repeat(string(rune('a'+i%26)), 100*(round+1)))
				f.books.principal = append(f.books.principal, int64(round))
				want[id] = foldedBytes(t, f)
			}
		}
		assert.Less(t, m.arena.used, 15<<20, "max %d: the arena was compacted", max)
		for _, id := range ids {
			f, found := m.get(id, false)
			require.True(t, found)
			require.Equal(t, want[id], foldedBytes(t, f), "max %d", max)
		}
		visited := 0
		require.NoError(t, m.each(func(b []byte) (uuid.UUID, error) { return uuid.FromBytes(b) }, func(id uuid.UUID, f *folded) error {
			visited++
			require.Equal(t, want[id], foldedBytes(t, f), "max %d", max)
			return nil
		}))
		assert.Equal(t, len(ids), visited)
	}
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
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.RequireFromString("100.50")), DueDate: "2026-11-01"}}}
	a := domain.Evolve(domain.Placement{}, opened)
	b := domain.Evolve(a, domain.PaymentReceived{Amount: domain.AmountOf(decimal.RequireFromString("10.25")), Currency: "EUR", ReceivedAt: at,
		Allocations:     []domain.Allocation{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.RequireFromString("10.25"))}},
		RecoveredAmount: domain.AmountOf(decimal.RequireFromString("10.25")), FeeAmount: domain.AmountOf(decimal.RequireFromString("2.05"))})
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
	a := streamKeyOf("a")
	p, _ := m.get(a, true)
	p.next = 3
	m.get(streamKeyOf("b"), true)
	require.NoError(t, s.db.Set(append([]byte{tStreams}, a[:]...), []byte{1, 2, 3}, pebble.NoSync))
	m.get(a, false)
	assert.ErrorContains(t, s.err, "a stream's entry of 3 bytes")
}

// TestPassesFollowTheEventsWherePositionsCountThem: a store whose
// positions count its events (the embedded engine) is read in one pass for
// each passEvents events; one whose positions do not (KurrentDB's offsets,
// here a store that does not say) in one pass, whatever its head.
func TestPassesFollowTheEventsWherePositionsCountThem(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	for head, want := range map[eventstore.Position]int{0: 1, 1: 1, 1_500_000: 1, 1_500_001: 2, 3_300_125: 3, 11_000_129: 8} {
		assert.Equal(t, want, passesFor(s, head), "dense, head %d", head)
		assert.Equal(t, 1, passesFor(struct{ eventstore.Store }{s}, head), "offsets, head %d", head)
	}
}

// A stream's key is made for every event verify reads: without an
// allocation, and the same as the SHA-256 of the name however long it is.
func TestStreamKeyOfAllocatesNothing(t *testing.T) {
	name := "placement-" + uuid.NewString()
	require.Zero(t, testing.AllocsPerRun(100, func() { streamKeyOf(name) }))
	for _, n := range []string{"", name, strings.Repeat("x", 96), strings.Repeat("y", 97), strings.Repeat("z", 1000)} {
		sum := sha256.Sum256([]byte(n))
		k := streamKeyOf(n)
		require.Equal(t, sum[:len(k)], k[:], "%d bytes", len(n))
	}
}
