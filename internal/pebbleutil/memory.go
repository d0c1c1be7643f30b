package pebbleutil

// DefaultMemory is a Pebble database's memory when its owner does not say:
// its block cache and its memtables together (see MemTableSize).
const DefaultMemory = 64 << 20

// MemTableSize is the memtable of a database given memory bytes for its
// block cache and memtables together: a quarter of it, from 4 to 64 MiB.
//
// Pebble reserves each memtable's full size in the block cache, from the
// moment it is allocated until it is flushed and released, and a block cache
// smaller than those reservations holds nothing. A quarter leaves the block
// cache at least half of the memory while one memtable is written and
// another flushed. (The ledger gave each database 64 MiB memtables and a
// 32 MiB cache until 2026-12: both caches held nothing, and on 100,000
// placements a fifth of a payment's CPU went to point reads, half of that to
// decompressing blocks read a moment before; docs/PERFORMANCE.md.)
func MemTableSize(memory int64) uint64 {
	return uint64(min(max(memory/4, 4<<20), 64<<20))
}
