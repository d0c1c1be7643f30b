package pebbleutil_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/collections-ledger/ledger/internal/pebbleutil"
)

func TestMemTablesLeaveTheBlockCacheHalf(t *testing.T) {
	for _, memory := range []int64{16 << 20, 32 << 20, pebbleutil.DefaultMemory, 256 << 20, 1 << 30, 64 << 30} {
		mt := int64(pebbleutil.MemTableSize(memory))
		assert.LessOrEqual(t, 2*mt, memory/2, "memory %d MiB: two memtables of %d MiB reserve more than half the cache", memory>>20, mt>>20)
		assert.GreaterOrEqual(t, mt, int64(4<<20), "memory %d MiB", memory>>20)
	}
	assert.Equal(t, uint64(16<<20), pebbleutil.MemTableSize(pebbleutil.DefaultMemory))
	assert.Equal(t, uint64(64<<20), pebbleutil.MemTableSize(1<<30), "memtables stop at 64 MiB; the rest is block cache")
	assert.Equal(t, uint64(4<<20), pebbleutil.MemTableSize(8<<20), "below 16 MiB the memtable stays 4 MiB")
}
