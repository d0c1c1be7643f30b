package projections

import (
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Pebble reserves each memtable's size in the block cache. Once the live
// views' memtables have grown to their full size, the cache must still
// hold blocks, so that a state read twice is decompressed once. With
// memtables as large as the cache (64 MiB and 32 MiB until 2026-12) it held
// nothing.
func TestViewsBlockCacheOutlivesFullMemtables(t *testing.T) {
	blockCacheOutlivesFullMemtables(t, ViewsOptions{CacheBytes: 16 << 20}, 100_000, 3) // about 40 MiB: the memtables double up to their size
}

// A bulk build's memtables are 16 MiB; its states that leave the state
// cache are read back through the block cache (a cache of 32 MiB, the
// default until 2026-12, held nothing).
func TestBulkBlockCacheOutlivesFullMemtables(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test writes 100 MiB")
	}
	blockCacheOutlivesFullMemtables(t, ViewsOptions{Bulk: true}, 250_000, 1) // about 100 MiB: six memtables
}

func blockCacheOutlivesFullMemtables(t *testing.T, opts ViewsOptions, keys int, flushes int64) {
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	v, err := OpenViews(t.TempDir(), opts)
	require.NoError(t, err)
	defer v.Close()
	value := make([]byte, 400)
	k := func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("test-"), uint64(i)) }
	for i := 0; i < keys; i += 1000 {
		b := v.db.NewBatch()
		for j := i; j < i+1000; j++ {
			for n := range value {
				value[n] = byte('a' + rand.IntN(16))
			}
			require.NoError(t, b.Set(k(j), value, nil))
		}
		require.NoError(t, b.Commit(pebble.NoSync))
	}
	require.Greater(t, v.db.Metrics().Flush.Count, flushes, "the writes filled several memtables")
	before := v.db.Metrics().BlockCache
	for range 3 {
		for i := range 50 {
			_, closer, err := v.db.Get(k(i * 10))
			require.NoError(t, err)
			require.NoError(t, closer.Close())
		}
	}
	after := v.db.Metrics().BlockCache
	assert.Positive(t, after.Size, "the block cache holds blocks")
	assert.Greater(t, after.Hits-before.Hits, int64(50), "keys read again are read from the cache (hits %d, misses %d)", after.Hits-before.Hits, after.Misses-before.Misses)
}
