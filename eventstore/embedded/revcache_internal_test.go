package embedded

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every name has its own entry, and a UUID's key is its canonical form's only.
func TestRevisionCacheKeysAreOneToOne(t *testing.T) {
	id := uuid.MustParse("0b6c3f0e-6d1a-4f8e-9a55-2f7e1c3d4b5a")
	names := []string{
		"placement-" + id.String(),
		"placement-" + strings.ToUpper(id.String()), // not canonical: held by name
		"claim-" + id.String(),                      // another kind, the same id
		"placement-" + uuid.Nil.String(),
		"placement-",                                            // a kind's name alone
		"placement",                                             // no '-'
		"-" + id.String(),                                       // no kind: held by name
		"x" + id.String(),                                       // no '-' before the id
		"placement-" + id.String()[1:],                          // 35 characters
		"placement-{" + id.String() + "}",                       // braces
		"placement-" + strings.ReplaceAll(id.String(), "-", ""), // 32 hex digits
		"placement-" + id.String()[:8] + "_" + id.String()[9:],  // '_' for a hyphen
		"placement-" + id.String()[:35] + "g",                   // not a hex digit
		"claim-creditor:42",
		"",
	}
	c := newRevisionCache()
	for i, n := range names {
		c.put(n, uint64(i))
	}
	require.Equal(t, len(names), c.ids.n+len(c.names), "each name its own entry")
	for i, n := range names {
		rev, ok := c.get(n)
		require.True(t, ok, n)
		assert.Equal(t, uint64(i), rev, n)
	}
	assert.Equal(t, 3, c.ids.n, "placement-<id>, claim-<id>, placement-<nil>")
	assert.Len(t, c.kinds, 2)

	k, ok := c.idOf("placement-" + id.String())
	require.True(t, ok)
	assert.Equal(t, [16]byte(id), k.id)
	for _, n := range []string{"placement-" + strings.ToUpper(id.String()), "-" + id.String(), "placement-{" + id.String() + "}"} {
		_, ok := c.idOf(n)
		assert.False(t, ok, n)
	}
}

// Past maxKinds, streams of new kinds are held by name, and still one to one.
func TestRevisionCacheKindsAreBounded(t *testing.T) {
	c := newRevisionCache()
	id := uuid.NewString()
	for i := range maxKinds + 10 {
		c.put(fmt.Sprintf("kind%d-%s", i, id), uint64(i))
	}
	assert.Len(t, c.kinds, maxKinds)
	assert.Equal(t, maxKinds, c.ids.n)
	assert.Len(t, c.names, 10)
	for i := range maxKinds + 10 {
		rev, ok := c.get(fmt.Sprintf("kind%d-%s", i, id))
		require.True(t, ok)
		assert.Equal(t, uint64(i), rev)
	}
}

// The cache may forget a stream, but never answers a revision other than the
// last one put: against a map of every stream's last revision, over puts
// that fill the table, grow it, evict from it at its largest, move back the
// entries after a removed one (clusters form at three quarters full), and
// revisions past the 48 bits a slot holds.
func TestSlotTableForgetsButNeverLies(t *testing.T) {
	defer func(n int) { maxRevisionSlots = n }(maxRevisionSlots)
	maxRevisionSlots = 4 * minRevisionSlots
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]streamID, 6*minRevisionSlots)
	for i := range ids {
		binary.BigEndian.PutUint64(ids[i].id[8:], rng.Uint64())
		ids[i].kind = uint16(i % 3)
	}
	tab := newSlotTable()
	want := map[streamID]uint64{}
	check := func() {
		held := 0
		for _, k := range ids {
			rev, ok := tab.get(k)
			if ok {
				held++
				require.Equal(t, want[k], rev, "a revision put before, or never")
			}
		}
		require.Equal(t, tab.n, held, "every slot in use is found")
		require.LessOrEqual(t, tab.n*4, len(tab.slots)*3)
		require.LessOrEqual(t, len(tab.slots), maxRevisionSlots)
	}
	for round := range 40_000 {
		k := ids[rng.IntN(len(ids))]
		rev := want[k] + 1 + uint64(rng.IntN(3))
		if rng.IntN(500) == 0 {
			rev = maxSlotRevision + 1 + uint64(rng.IntN(2)) // not held
		}
		want[k] = rev
		tab.put(k, rev)
		if _, ok := tab.get(k); ok != (rev <= maxSlotRevision) {
			t.Fatalf("round %d: revision %d held %v", round, rev, ok)
		}
		if round%5_000 == 0 {
			check()
		}
	}
	check()
	assert.Equal(t, maxRevisionSlots, len(tab.slots), "grown to its bound")
	assert.Greater(t, tab.n, maxRevisionSlots/2, "full, not emptied, at its bound")
}

// A slot's home is the only thing probing starts from: streams that share
// one are each found after any of them is removed.
func TestSlotTableRemoveKeepsEveryOtherReachable(t *testing.T) {
	tab := newSlotTable()
	tab.put(streamID{}, 0) // allocates
	mask := len(tab.slots) - 1
	var same []streamID // streams whose home is the table's last slot, so that probing wraps
	for i := uint64(0); len(same) < 8; i++ {
		var k streamID
		binary.BigEndian.PutUint64(k.id[:8], i)
		if tab.home(k) == mask {
			same = append(same, k)
		}
	}
	for i, k := range same {
		tab.put(k, uint64(i))
	}
	for drop := range same {
		i, ok := tab.find(same[drop])
		require.True(t, ok)
		tab.remove(i)
		_, ok = tab.get(same[drop])
		assert.False(t, ok)
		for j := drop + 1; j < len(same); j++ {
			rev, ok := tab.get(same[j])
			require.True(t, ok, "stream %d after %d removed", j, drop)
			assert.Equal(t, uint64(j), rev)
		}
	}
	rev, ok := tab.get(streamID{})
	require.True(t, ok)
	assert.Zero(t, rev)
}

// The writer looks a stream up and puts its new revision for every append:
// the table against the Go map it replaced, on streams that all fit (5,000)
// and on more than the table holds at its bound (2,000,000; the map is
// emptied past its old bound of 131,072, as the cache was).
func BenchmarkRevisionCache(b *testing.B) {
	for _, streams := range []int{5_000, 2_000_000} {
		ids := make([]streamID, streams)
		for i := range ids {
			binary.BigEndian.PutUint64(ids[i].id[:8], rand.Uint64())
			binary.BigEndian.PutUint64(ids[i].id[8:], rand.Uint64())
		}
		b.Run(fmt.Sprintf("table/%d", streams), func(b *testing.B) {
			tab := newSlotTable()
			rng := rand.New(rand.NewPCG(5, 6))
			for b.Loop() {
				k := ids[rng.IntN(len(ids))]
				rev, _ := tab.get(k)
				tab.put(k, rev+1)
			}
		})
		b.Run(fmt.Sprintf("map/%d", streams), func(b *testing.B) {
			m := map[streamID]uint64{}
			rng := rand.New(rand.NewPCG(5, 6))
			for b.Loop() {
				k := ids[rng.IntN(len(ids))]
				rev := m[k]
				if len(m) >= 1<<17 {
					clear(m)
				}
				m[k] = rev + 1
			}
		})
	}
}
