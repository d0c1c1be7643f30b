// Package embedded is the ledger's default event-store engine: one directory
// on disk, nothing to install, built on github.com/cockroachdb/pebble/v2.
//
// # Writing
//
// One writer goroutine owns every write. It takes all queued appends (up to
// 512), checks each one's expected revision against what is committed plus
// what is earlier in the same group, assigns stream revisions and $all
// positions, writes the group as one Pebble batch, commits it with one sync
// of the write-ahead log, and only then answers the callers. Positions are
// assigned inside the commit, so $all is dense (1, 2, 3, …) and can never
// show a gap or a reordering; a refused append does not fail its neighbours;
// and 64 concurrent writers share one fsync (group commit).
//
// A failed write or sync stops the engine for good: every later call fails
// with ErrUnavailable, and nothing is retried, because after a failed fsync
// the state of the file is unknown ("fsyncgate"). Pebble reports that failure
// through Logger.Fatalf and would report the commit as successful if Fatalf
// returned; this engine's logger therefore panics and the writer recovers the
// panic into the engine's failure. The process is expected to exit; on the next
// open Pebble replays its write-ahead log, and everything acknowledged is there.
//
// # Layout
//
// Keys are laid out so that every read is an ordered scan (see codec.go):
// $all is the range of event keys by position; a stream is the range of its
// index keys by revision; event IDs map to positions for recognising retried
// appends. The last position and a stream's last revision are each found with
// one seek, so opening a store of any size reads no events. Each record
// carries a CRC-32C over its position and contents, on top of Pebble's block
// checksums; a mismatch is ErrCorrupt, naming the position. A store written
// in another format version, or not by this ledger at all, refuses to open
// with ErrUnknownFormat.
//
// # Reading
//
// Subscriptions pull committed events from Pebble in batches and wait on a
// broadcast channel that each commit closes, so a slow subscriber never holds
// up a writer and holds one batch in memory. The events of one ReadAll batch
// share one backing array: keeping one event's Data keeps that batch's array.
package embedded
