package pebbleutil

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
