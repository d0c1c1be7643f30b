package projections

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statesFast is walked as Pebble walks it while writing a table: asked at
// a key, then again at the first key at or past the end it gave. Every
// key of a placements' table (tPlacement, any generation) must get the
// fast policy and every other key the default, whatever key the walk
// starts at.
func TestStatesFastCoversThePlacementTablesAlone(t *testing.T) {
	var keys [][]byte
	for _, gen := range []uint32{0, 1, 2, 7, 1 << 24} {
		gens := &generations{}
		for i := range gens {
			gens[i] = gen
		}
		for _, table := range []byte{tHold, tNumber, tPlacement, tPlacement + 1, tChange, tClaim, 'z' + 1} {
			for _, rest := range []string{"", "\x00", "a", "\xff\xff"} {
				keys = append(keys, append(key(gens, table), rest...))
			}
		}
		keys = append(keys, key(gens, tPlacement).id([16]byte{0xff}), key(gens, tPlacement)[:4])
	}
	keys = append(keys, []byte{}, []byte{0}, []byte{0, 0, 0, 1}, metaKey("layout"), metaKey("p-something"), metaKey("zzz"), metaPrefix[:2])
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	want := func(k []byte) bool {
		return len(k) >= 5 && k[4] == tPlacement && !bytes.HasPrefix(k, metaPrefix)
	}
	for start := range keys {
		var end []byte
		fast, asked := false, false
		for _, k := range keys[start:] {
			if !asked || (end != nil && bytes.Compare(k, end) >= 0) {
				policy, e, err := statesFast(k)
				require.NoError(t, err)
				if e != nil {
					require.Positive(t, bytes.Compare(e, k), "the end %x is past the key %x", e, k)
				}
				fast, end, asked = policy.PreferFastCompression, e, true
			}
			assert.Equal(t, want(k), fast, "key %x (walk from %x)", k, keys[start])
		}
	}
	assert.Greater(t, len(keys), 100, fmt.Sprint(len(keys)))
}
