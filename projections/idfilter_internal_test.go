package projections

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIDFilterNeverForgets: every ID added is held, through the layers the
// filter grows (65,536, then 131,072, then 262,144 IDs), whether IDs are
// random or sequential; IDs never added are mostly not (a false yes costs
// one read of the store, so only its rate is bounded).
func TestIDFilterNeverForgets(t *testing.T) {
	for name, next := range map[string]func(*rand.Rand, int) uuid.UUID{
		"Random": func(rng *rand.Rand, _ int) uuid.UUID {
			var id uuid.UUID
			binary.LittleEndian.PutUint64(id[:8], rng.Uint64())
			binary.LittleEndian.PutUint64(id[8:], rng.Uint64())
			return id
		},
		"Sequential": func(_ *rand.Rand, i int) uuid.UUID {
			var id uuid.UUID
			binary.BigEndian.PutUint64(id[8:], uint64(i))
			return id
		},
	} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			var f idFilter
			assert.False(t, f.mayHold(next(rng, 0)), "an empty filter holds nothing")
			const added = 300_000
			ids := make([]uuid.UUID, added)
			for i := range ids {
				ids[i] = next(rng, i)
				f.add(ids[i])
			}
			require.Len(t, f.layers, 3)
			for _, id := range ids {
				if !f.mayHold(id) {
					t.Fatalf("%s was added and is not held", id)
				}
			}
			yes := 0
			for i := range 100_000 {
				if f.mayHold(next(rng, added+i)) {
					yes++
				}
			}
			// About 0.07% per layer: three layers, well under 5%.
			assert.Less(t, yes, 5_000, "IDs never added that the filter says it may hold")
		})
	}
}
