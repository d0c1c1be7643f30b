package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

func mustOpen(tb testing.TB, dir string, opts Options) *Store {
	tb.Helper()
	s, err := Open(dir, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	events := storetest.Events(5)
	storetest.MustAppend(t, s, "a", eventstore.NoStream(), events[:3])
	res := storetest.MustAppend(t, s, "b", eventstore.NoStream(), events[3:])
	require.NoError(t, s.Close())

	s2 := mustOpen(t, dir, Options{})
	head, err := s2.Head(context.Background())
	require.NoError(t, err)
	assert.Equal(t, res.Position, head, "the head is found again without a scan")
	assert.Len(t, storetest.MustReadStream(t, s2, "a"), 3)
	// The stream's revision is found again too: a stale expectation is refused,
	// the right one accepted, and positions continue without a gap.
	_, err = s2.Append(context.Background(), "a", eventstore.Exact(1), storetest.Events(1))
	assert.ErrorIs(t, err, eventstore.ErrConcurrency)
	r := storetest.MustAppend(t, s2, "a", eventstore.Exact(2), storetest.Events(1))
	assert.Equal(t, uint64(3), r.Revision)
	assert.Equal(t, head+1, r.Position)
	// An idempotent retry is still recognised after the restart.
	again := storetest.MustAppend(t, s2, "b", eventstore.NoStream(), events[3:])
	assert.Equal(t, res, again)
}

func TestErrClosed(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	require.NoError(t, s.Close())
	ctx := context.Background()
	_, err := s.Append(ctx, "a", eventstore.Any(), storetest.Events(1))
	assert.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.ReadStream(ctx, "a", 0, 1)
	assert.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.ReadAll(ctx, 0, 1)
	assert.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.SubscribeAll(ctx, 0)
	assert.ErrorIs(t, err, eventstore.ErrClosed)
	assert.NoError(t, s.Close(), "closing twice is fine")
}

func TestErrUnknownFormat(t *testing.T) {
	t.Run("ErrOtherVersion", func(t *testing.T) {
		dir := t.TempDir()
		s := mustOpen(t, dir, Options{})
		storetest.MustAppend(t, s, "a", eventstore.NoStream(), storetest.Events(1))
		require.NoError(t, s.Close())
		db, err := pebble.Open(dir, &pebble.Options{})
		require.NoError(t, err)
		require.NoError(t, db.Set(formatKey, []byte("collections-ledger/embedded/v99"), pebble.Sync))
		require.NoError(t, db.Close())
		_, err = Open(dir, Options{})
		require.ErrorIs(t, err, eventstore.ErrUnknownFormat)
		assert.Contains(t, err.Error(), "v99")
	})
	t.Run("ErrForeignData", func(t *testing.T) {
		dir := t.TempDir()
		db, err := pebble.Open(dir, &pebble.Options{})
		require.NoError(t, err)
		require.NoError(t, db.Set([]byte("someone else's key"), []byte("x"), pebble.Sync))
		require.NoError(t, db.Close())
		_, err = Open(dir, Options{})
		require.ErrorIs(t, err, eventstore.ErrUnknownFormat)
		assert.Contains(t, err.Error(), "not written by this ledger")
	})
}

// TestErrDamagedStore flips bytes in the middle of every sorted file of a
// closed store: opening it or reading it back must fail with ErrCorrupt,
// never return wrong events.
func TestErrDamagedStore(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	for range 50 {
		storetest.MustAppend(t, s, "stream-"+uuid.NewString(), eventstore.NoStream(), storetest.Events(20))
	}
	require.NoError(t, s.Close()) // flushes: the events are in .sst files now
	files, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i := len(b) / 4; i < len(b)/2; i += 97 {
			b[i] ^= 0x5a
		}
		require.NoError(t, os.WriteFile(f, b, 0o644))
	}
	s2, err := Open(dir, Options{})
	if err == nil {
		defer s2.Close()
		var after eventstore.Position
		for {
			var batch []eventstore.RecordedEvent
			batch, err = s2.ReadAll(context.Background(), after, 1000)
			if err != nil || len(batch) == 0 {
				break
			}
			after = batch[len(batch)-1].Position
		}
	}
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	t.Logf("damage reported as: %v", err)
}

func TestDecodeRecordRefusesDamage(t *testing.T) {
	e := storetest.Events(1)[0]
	rec := encodeRecord(nil, 7, e.ID, "s", 3, nowUTC(), e)
	got, err := decodeRecord(7, rec)
	require.NoError(t, err)
	assert.Equal(t, e.Data, got.Data)
	_, err = decodeRecord(8, rec)
	assert.ErrorIs(t, err, eventstore.ErrCorrupt, "a record under another key")
	for i := range rec {
		bad := append([]byte(nil), rec...)
		bad[i] ^= 1
		_, err := decodeRecord(7, bad)
		assert.ErrorIs(t, err, eventstore.ErrCorrupt, "bit flipped at byte %d", i)
	}
	_, err = decodeRecord(7, rec[:len(rec)-1])
	assert.ErrorIs(t, err, eventstore.ErrCorrupt, "truncated")
}

// FuzzDecodeRecord: whatever bytes the disk returns, decoding never panics
// and anything it accepts re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	e := storetest.Events(1)[0]
	f.Add(uint64(7), encodeRecord(nil, 7, e.ID, "stream", 3, nowUTC(), e))
	f.Add(uint64(1), []byte{})
	f.Add(uint64(1), []byte{0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, pos uint64, value []byte) {
		rec, err := decodeRecord(eventstore.Position(pos), value)
		if err != nil {
			require.ErrorIs(t, err, eventstore.ErrCorrupt)
			return
		}
		again := encodeRecord(nil, rec.Position, rec.ID, rec.Stream, rec.Revision, rec.RecordedAt,
			eventstore.EventData{ID: rec.ID, Type: rec.Type, Data: rec.Data, Metadata: rec.Metadata})
		require.Equal(t, value, again)
	})
}

// TestErrFailedSyncStopsEngine injects a failing sync of Pebble's write-ahead
// log: the append in flight fails with ErrUnavailable, every later call fails
// too (nothing is retried after a failed fsync), and a reopened store has every
// event that was acknowledged before the fault.
func TestErrFailedSyncStopsEngine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kinds []errorfs.OpKind
		err   error
	}{
		{"ErrSync", []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData}, errorfs.ErrInjected},
		{"ErrWrite", []errorfs.OpKind{errorfs.OpFileWrite}, errorfs.ErrInjected},
		{"ErrDiskFull", []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileSync, errorfs.OpFileSyncData}, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var on atomic.Bool
			inj := errorfs.InjectorFunc(func(op errorfs.Op) error {
				if on.Load() && strings.HasSuffix(op.Path, ".log") && slices.Contains(tc.kinds, op.Kind) {
					return tc.err
				}
				return nil
			})
			s, err := Open(dir, Options{FS: errorfs.Wrap(vfs.Default, inj)})
			require.NoError(t, err)
			ctx := context.Background()
			acked := storetest.MustAppend(t, s, "a", eventstore.NoStream(), storetest.Events(3))
			// A subscriber that has caught up and waits for new events…
			sub, err := s.SubscribeAll(context.Background(), acked.Position)
			require.NoError(t, err)
			subErr := make(chan error, 1)
			go func() { _, err := sub.Recv(); subErr <- err }()

			on.Store(true)
			_, err = s.Append(ctx, "a", eventstore.Exact(2), storetest.Events(1))
			require.ErrorIs(t, err, eventstore.ErrUnavailable)
			on.Store(false) // even with the disk healthy again, the engine stays stopped
			_, err = s.Append(ctx, "b", eventstore.NoStream(), storetest.Events(1))
			assert.ErrorIs(t, err, eventstore.ErrUnavailable)
			assert.Contains(t, err.Error(), "must be restarted")
			_, err = s.ReadAll(ctx, 0, 10)
			assert.ErrorIs(t, err, eventstore.ErrUnavailable)
			// …learns that the engine stopped, instead of waiting forever.
			select {
			case err := <-subErr:
				assert.ErrorIs(t, err, eventstore.ErrUnavailable)
			case <-time.After(30 * time.Second):
				t.Fatal("a waiting subscriber was not told that the engine stopped")
			}
			assert.ErrorIs(t, s.Close(), eventstore.ErrUnavailable)

			// The process is meant to exit now; its Pebble instance still holds
			// the directory's lock. Recover from a copy of the files as they are
			// on disk, which is what a restarted process finds.
			s2 := mustOpen(t, storetest.CopyStoreFiles(t, dir), Options{})
			got := storetest.MustReadStream(t, s2, "a")
			require.GreaterOrEqual(t, len(got), 3, "every acknowledged event survives")
			assert.Equal(t, acked.Position, got[2].Position)
			_, err = s2.ReadStream(ctx, "b", 0, 1)
			assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "nothing is written after the fault")
		})
	}
}

// TestPowerLossKeepsAcknowledged runs appends on Pebble's crashable in-memory
// file system and takes "power-loss" clones of it while writers run: a clone
// keeps only what was synced, plus a random part of what was not. Every append
// acknowledged before the clone must be in it, and no append may be torn.
// SIGKILL (TestCrashRecovery) cannot show a missing fsync, because the
// operating system keeps the page cache; this test can.
func TestPowerLossKeepsAcknowledged(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open("/ledger", Options{FS: fs})
	require.NoError(t, err)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	var acked []eventstore.AppendResult
	var ackedStreams []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("power-%d", w)
			exp := eventstore.NoStream()
			for i := 0; i < 400 && ctx.Err() == nil; i++ { // bounded in count
				res, err := s.Append(ctx, stream, exp, storetest.Events(2))
				if err != nil {
					return
				}
				exp = eventstore.Exact(res.Revision)
				mu.Lock()
				acked = append(acked, res)
				ackedStreams = append(ackedStreams, stream)
				mu.Unlock()
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for clone := range 5 {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		known := append([]eventstore.AppendResult(nil), acked...)
		knownStreams := append([]string(nil), ackedStreams...)
		mu.Unlock()
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rand.New(rand.NewPCG(rng.Uint64(), uint64(clone)))})
		s2, err := Open("/ledger", Options{FS: crashed})
		require.NoError(t, err, "clone %d opens", clone)
		for i, res := range known {
			got, err := s2.ReadStream(ctx, knownStreams[i], res.Revision, 1)
			require.NoError(t, err)
			require.Len(t, got, 1, "clone %d lost acknowledged revision %d of %s", clone, res.Revision, knownStreams[i])
			assert.Equal(t, res.Position, got[0].Position)
		}
		head, err := s2.Head(ctx)
		require.NoError(t, err)
		lens := map[string]int{}
		for after := eventstore.Start; after < head; {
			batch, err := s2.ReadAll(ctx, after, eventstore.MaxReadBatch)
			require.NoError(t, err, "$all of clone %d reads back without a gap", clone)
			require.NotEmpty(t, batch)
			for _, e := range batch {
				lens[e.Stream]++
			}
			after = batch[len(batch)-1].Position
		}
		for st, n := range lens {
			assert.Zero(t, n%2, "clone %d: stream %s has %d events: an append was torn", clone, st, n)
		}
		t.Logf("clone %d: %d acknowledged appends all present, head %d", clone, len(known), head)
		require.NoError(t, s2.Close())
	}
	cancel()
	wg.Wait()
}

// After a restart the writer knows no stream's revision: each expectation is
// checked against the store with point reads, and a wrong one is refused
// naming the stream's actual revision.
func TestExpectationsCheckedWithoutTheCache(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{})
	storetest.MustAppend(t, s, "a", eventstore.NoStream(), storetest.Events(3))
	require.NoError(t, s.Close())
	for _, expected := range []eventstore.ExpectedRevision{eventstore.NoStream(), eventstore.Exact(1), eventstore.Exact(3), eventstore.Exact(9)} {
		s := mustOpen(t, dir, Options{})
		_, err := s.Append(context.Background(), "a", expected, storetest.Events(1))
		var conflict *eventstore.ConcurrencyError
		require.ErrorAs(t, err, &conflict, "%+v", expected)
		assert.Equal(t, uint64(2), conflict.Actual)
		assert.True(t, conflict.Exists)
		require.NoError(t, s.Close())
	}
	s = mustOpen(t, dir, Options{})
	_, err := s.Append(context.Background(), "b", eventstore.Exact(0), storetest.Events(1))
	var conflict *eventstore.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
	assert.False(t, conflict.Exists)
	assert.Equal(t, uint64(3), storetest.MustAppend(t, s, "a", eventstore.Exact(2), storetest.Events(1)).Revision)
	assert.Equal(t, uint64(0), storetest.MustAppend(t, s, "b", eventstore.NoStream(), storetest.Events(1)).Revision)
}

// With more placements appended to than the writer's cache holds, it
// forgets some of them: an expectation on any placement is still checked
// against its last revision, whether the cache still holds it (no read) or
// not (point reads), and a refused one changes nothing.
func TestExpectationsCheckedPastTheCachesBound(t *testing.T) {
	defer func(n int) { maxRevisionSlots = n }(maxRevisionSlots)
	maxRevisionSlots = minRevisionSlots
	s := mustOpen(t, t.TempDir(), Options{})
	ctx := context.Background()
	streams := make([]string, 3*minRevisionSlots)
	revs := make([]uint64, len(streams))
	for i := range streams {
		streams[i] = "placement-" + uuid.NewString()
		storetest.MustAppend(t, s, streams[i], eventstore.NoStream(), storetest.Events(1))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 4 * len(streams) {
		i := rng.IntN(len(streams))
		if rng.IntN(4) == 0 { // a stale or a future revision
			wrong := revs[i] + 1
			if revs[i] > 0 && rng.IntN(2) == 0 {
				wrong = revs[i] - 1
			}
			_, err := s.Append(ctx, streams[i], eventstore.Exact(wrong), storetest.Events(1))
			var conflict *eventstore.ConcurrencyError
			require.ErrorAs(t, err, &conflict, "stream %d expecting %d at %d", i, wrong, revs[i])
			require.Equal(t, revs[i], conflict.Actual)
			continue
		}
		res := storetest.MustAppend(t, s, streams[i], eventstore.Exact(revs[i]), storetest.Events(1))
		revs[i]++
		require.Equal(t, revs[i], res.Revision)
	}
	require.Equal(t, minRevisionSlots, len(s.revisions.ids.slots), "the cache stayed at its bound")
	for i, stream := range streams {
		evs, err := s.ReadStream(ctx, stream, 0, 1000)
		require.NoError(t, err)
		require.Len(t, evs, int(revs[i])+1, stream)
	}
}

// Pebble reserves each memtable's size in the block cache. Once the
// memtables have grown to their full size (after tens of MiB of appends),
// the cache must still hold blocks: a stream read twice is read the second
// time from the cache. With memtables as large as the cache (as until
// 2026-12: 64 MiB memtables, a 32 MiB cache) it held nothing and every read
// decompressed its blocks again.
func TestBlockCacheOutlivesFullMemtables(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{CacheBytes: 16 << 20})
	pad := make([]byte, 48<<10)
	for i := range 400 { // about 40 MiB of records: the memtables double up to their size
		data := fmt.Appendf(nil, `{"pad":"%x"}`, rand.N(uint64(1)<<62))
		for j := range pad {
			pad[j] = byte('a' + rand.IntN(16))
		}
		data = fmt.Appendf(data[:len(data)-1], `,"more":"%s"}`, pad)
		storetest.MustAppend(t, s, fmt.Sprintf("bulk-%d", i), eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: "Bulk", Data: data}})
	}
	require.Greater(t, s.db.Metrics().Flush.Count, int64(3), "the appends filled several memtables")
	before := s.db.Metrics().BlockCache
	for range 3 {
		for i := range 20 {
			require.Len(t, storetest.MustReadStream(t, s, fmt.Sprintf("bulk-%d", i)), 1)
		}
	}
	after := s.db.Metrics().BlockCache
	assert.Positive(t, after.Size, "the block cache holds blocks")
	assert.Greater(t, after.Hits-before.Hits, int64(20), "streams read again are read from the cache (hits %d, misses %d)", after.Hits-before.Hits, after.Misses-before.Misses)
	t.Logf("memtables %d MiB; block cache %d KiB, %d hits and %d misses over the reads", s.db.Metrics().MemTable.Size>>20, after.Size>>10, after.Hits-before.Hits, after.Misses-before.Misses)
}

// The stream index is kept in the fastest compression at every level; the
// rest of the log keeps the bottom level's zstd. A table flushed into an
// empty tree is moved down as it is, so the test writes the same streams
// twice: the second compaction rewrites what overlaps (the stream and id
// indexes), and each table that holds stream keys holds nothing else and
// says which compression it has.
func TestStreamIndexKeepsFastCompression(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	for round := range 2 {
		for i := range 200 {
			storetest.MustAppend(t, s, fmt.Sprintf("placement-%d", i), eventstore.Any(), storetest.Events(5))
		}
		require.NoError(t, s.Compact(context.Background()), "round %d", round)
	}
	levels, err := s.db.SSTables(pebble.WithProperties())
	require.NoError(t, err)
	var index, others []string
	for level, tables := range levels {
		for _, table := range tables {
			first, last := table.Smallest.UserKey[0], table.Largest.UserKey[0]
			compression := table.Properties.CompressionName
			t.Logf("level %d: prefixes %x to %x, %s", level, first, last, compression)
			if first <= prefixStream && last >= prefixStream {
				assert.Equal(t, first, last, "stream keys share a table with others (level %d)", level)
				index = append(index, compression)
			}
			if first > prefixStream && level == len(levels)-1 {
				others = append(others, compression)
			}
		}
	}
	require.NotEmpty(t, index)
	for _, c := range index {
		assert.Equal(t, sstable.FastestCompression.Name, c, "the stream index")
	}
	assert.Contains(t, others, pebble.DBCompressionBalanced.Levels[len(levels)-1].Name, "the id index, rewritten into the bottom level")
}
