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

// L0 bounds of the event store and the view store. Each event writes keys
// spread over the key space (the log's two indexes; the views' states,
// feed items and entries), so every flush overlaps what lies below L0, and
// an L0 compaction rewrites it: the deeper L0 may grow before one starts,
// the fewer times each byte is rewritten. Pebble's default is 4; 8 gave
// payments on 5,000 placements 8% (issue 10); 20 takes a payment's CPU a
// further 6-9% down on 5,000 and 100,000 placements and a bulk build's
// 7%, with reads of random placements as fast (docs/PERFORMANCE.md,
// twenty-ninth round; 40 did no better). A point read that misses the
// memtable checks each sublevel's bloom filter. Writes stop at
// L0StopWritesThreshold sublevels until compactions catch up.
const (
	L0CompactionThreshold = 20
	L0StopWritesThreshold = 48
)
