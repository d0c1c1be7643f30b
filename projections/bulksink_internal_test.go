package projections

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/minio/minlz"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sinkModelTest writes random sets and deletes of a few hundred keys of
// sunk tables through a sink in batches, and checks that what the sink
// ingests into the store is what a map applying the same writes in order
// holds: the latest write of each key wins, across batches, runs and
// merges (the final one in ranges cut at the runs' marks, each reading the
// runs from the last mark before its keys; the runs in compressed blocks),
// and a key whose latest write is a delete is absent.
func sinkModelTest(t *testing.T, seed uint64, runBytes, fanIn int, markBytes int64) {
	defer SetSinkForTest(runBytes, fanIn)()
	oldMark, oldBlock := sinkMarkBytes, sinkBlockBytes
	sinkMarkBytes, sinkBlockBytes = markBytes, min(int(markBytes), sinkBlockBytes)
	defer func() { sinkMarkBytes, sinkBlockBytes = oldMark, oldBlock }()
	fs := vfs.NewMem()
	po := pebbleOptions(ViewsOptions{FS: fs, Bulk: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	db, err := pebble.Open("views", po)
	require.NoError(t, err)
	defer db.Close()
	// A key of the store's own, and one of a table the sink does not take,
	// between sunk ones: neither may be touched.
	require.NoError(t, db.Set(metaKey("checkpoint"), []byte("kept"), pebble.NoSync))
	require.NoError(t, db.Set(key(nil, tPlacement).u64(7), []byte("state"), pebble.NoSync))

	rng := rand.New(rand.NewPCG(seed, 1))
	tables := []byte{tFeed, tClaim, tNumber, tPosting, tChange}
	keyOf := func(i int) []byte {
		return key(nil, tables[i%len(tables)]).u64(uint64(i) * 0x9e3779b97f4a7c15)[:5+1+i%8]
	}
	model := map[string][]byte{}
	sink := newBulkSink(fs, "views/bulk-sort", po.MakeWriterOptions(len(po.Levels)-1, db.TableFormat()), po.Experimental.SpanPolicyFunc)
	for batch := range 40 {
		var staged []byte
		for range 1 + rng.IntN(30) {
			k := keyOf(rng.IntN(300))
			if rng.IntN(4) == 0 {
				staged = appendSinkRecord(staged, sinkDel, k, nil)
				delete(model, string(k))
				continue
			}
			v := fmt.Appendf(nil, "batch %d value %d", batch, rng.Uint32())
			staged = appendSinkRecord(staged, sinkSet, k, v)
			model[string(k)] = v
		}
		require.NoError(t, sink.add(staged))
	}
	runs := len(sink.runs)
	require.NoError(t, sink.finish(context.Background(), db))
	t.Logf("seed %d: %d keys, %d runs before the last", seed, len(model), runs)

	got := map[string][]byte{}
	it, err := db.NewIter(nil)
	require.NoError(t, err)
	for it.First(); it.Valid(); it.Next() {
		got[string(it.Key())] = append([]byte(nil), it.Value()...)
	}
	require.NoError(t, it.Close())
	assert.Equal(t, []byte("kept"), got[string(metaKey("checkpoint"))])
	assert.Equal(t, []byte("state"), got[string(key(nil, tPlacement).u64(7))])
	delete(got, string(metaKey("checkpoint")))
	delete(got, string(key(nil, tPlacement).u64(7)))
	require.Equal(t, len(model), len(got))
	for k, v := range model {
		require.Equal(t, v, got[k], "key %x", k)
	}
	_, err = fs.Stat("views/bulk-sort")
	assert.Error(t, err, "the sort directory is removed")
	// What was ingested went to the bottom level, none into L0.
	m := db.Metrics()
	assert.Zero(t, m.Levels[0].TablesCount)
	assert.Positive(t, m.Levels[len(m.Levels)-1].TablesCount)
	// The states' table is written as the views' span policy asks
	// (statesFast): in tables of its own, in the fastest compression.
	levels, err := db.SSTables(pebble.WithProperties())
	require.NoError(t, err)
	bottom := po.Levels[len(po.Levels)-1].Compression().Name
	states := 0
	for _, table := range levels[len(levels)-1] {
		first, last := table.Smallest.UserKey, table.Largest.UserKey
		if first[4] == tPlacement || last[4] == tPlacement {
			assert.Equal(t, first[:5], last[:5], "a table of states holds nothing else")
			assert.Equal(t, sstable.FastestCompression.Name, table.Properties.CompressionName)
			states++
			continue
		}
		assert.Equal(t, bottom, table.Properties.CompressionName, "table %x–%x", first, last)
	}
	assert.Equal(t, 1, states)
}

func TestBulkSinkLatestWriteWins(t *testing.T) {
	for seed := range uint64(6) {
		sinkModelTest(t, seed, 1<<20, 64, 1<<20) // one run
		sinkModelTest(t, seed, 256, 64, 1<<20)   // a run every few batches, the final merge in ranges
		sinkModelTest(t, seed, 256, 64, 40)      // … in blocks of 40 bytes, each range reading the runs from a mark on
		sinkModelTest(t, seed, 256, 2, 40)       // and runs merged two at a time first
	}
}

// The final merge's ranges follow one another without a gap or an overlap,
// from no bound to no bound, cut once at each distinct quantile.
func TestCutRangesCoverTheKeySpaceOnce(t *testing.T) {
	k := func(s string) []byte { return []byte(s) }
	assert.Equal(t, []keyRange{{}}, cutRanges(nil, 16))
	assert.Equal(t, []keyRange{{upper: k("a")}, {lower: k("a")}}, cutRanges([][]byte{k("a")}, 16))
	assert.Equal(t, []keyRange{{upper: k("c")}, {lower: k("c")}}, cutRanges([][]byte{k("a"), k("b"), k("c"), k("d")}, 2))
	// Repeated keys give one cut, not an empty range.
	assert.Equal(t, []keyRange{{upper: k("a")}, {lower: k("a"), upper: k("b")}, {lower: k("b")}},
		cutRanges([][]byte{k("a"), k("a"), k("a"), k("b")}, 4))
	var keys [][]byte
	for i := range 1000 {
		keys = append(keys, fmt.Appendf(nil, "%04d", i/3))
	}
	ranges := cutRanges(keys, 16)
	require.Len(t, ranges, 16)
	assert.Nil(t, ranges[0].lower)
	assert.Nil(t, ranges[len(ranges)-1].upper)
	for i := 1; i < len(ranges); i++ {
		assert.Equal(t, ranges[i-1].upper, ranges[i].lower)
		if i < len(ranges)-1 {
			assert.Negative(t, bytes.Compare(ranges[i].lower, ranges[i].upper), "range %d", i)
		}
	}
}

// A damaged staged write is refused, not taken as keys.
func TestBulkSinkRefusesDamagedRecords(t *testing.T) {
	sink := newBulkSink(vfs.NewMem(), "sort", sstable.WriterOptions{}, nil)
	rec := appendSinkRecord(nil, sinkSet, key(nil, tFeed).u64(1), []byte("v"))
	require.Error(t, sink.add(rec[:len(rec)-3]))
	require.Error(t, sink.add(binary.AppendUvarint(nil, 1<<40)))
}

// Once a run is written, the buffer it was written from gives its memory
// back (it reads as zeros) until the batches fill it again; so does the
// staging arena while it stages nothing. The runs keep every record.
func TestBulkSinkGivesBackWhatItHasWritten(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("this system gives no pages back (madvise MADV_DONTNEED is Linux's)")
	}
	defer SetSinkForTest(64<<10, 64)()
	fs := vfs.NewMem()
	sink := newBulkSink(fs, "sort", sstable.WriterOptions{}, nil)
	defer sink.free()
	zero := func(b []byte) bool {
		for _, c := range b {
			if c != 0 {
				return false
			}
		}
		return true
	}
	for i := range 4_000 {
		require.NoError(t, sink.stageRecord(sinkSet, key(nil, tFeed).u64(uint64(i)), []byte("a value of some length")))
		if i%100 == 99 {
			require.NoError(t, sink.add(sink.stage))
			sink.stage = sink.stage[:0]
		}
	}
	require.NotEmpty(t, sink.runs, "the records filled more than one run's memory")
	require.NoError(t, sink.wait())
	require.NotNil(t, sink.spare)
	assert.True(t, zero(sink.spare.arena), "the buffer of the run written is given back")
	assert.False(t, zero(sink.cur.mem), "the buffer being filled keeps its records")
	assert.False(t, zero(sink.stageArena), "the staging arena holds the last batch's bytes until given back")
	sink.giveBackStage()
	assert.True(t, zero(sink.stageArena), "the staging arena is given back while it stages nothing")

	// A given-back buffer takes records again, and every run holds its own.
	before := sink.keys
	for i := range 4_000 {
		require.NoError(t, sink.stageRecord(sinkSet, key(nil, tFeed).u64(uint64(10_000+i)), []byte("another value")))
		if i%100 == 99 {
			require.NoError(t, sink.add(sink.stage))
			sink.stage = sink.stage[:0]
		}
	}
	require.NoError(t, sink.startRun())
	require.NoError(t, sink.wait())
	assert.Equal(t, before+4_000, sink.keys)
	records := 0
	for _, name := range sink.runs {
		f, err := fs.Open(name)
		require.NoError(t, err)
		b, err := io.ReadAll(f)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		for len(b) > 0 {
			n := binary.LittleEndian.Uint32(b)
			block, err := minlz.Decode(nil, b[4:4+n])
			require.NoError(t, err)
			for len(block) > 0 {
				_, _, _, m, ok := parseSinkRecord(block)
				require.True(t, ok)
				block = block[m:]
				records++
			}
			b = b[4+n:]
		}
	}
	assert.Equal(t, 8_000, records, "every key, each written once, is in a run")
}

// TestSinkSortIsByKeyThenWrite holds the run's sort (by 8 bytes at a time)
// to the order it stands for: the keys' bytes, then the order of the
// writes. The keys share long prefixes, hold zero bytes where a shorter
// key ends, and come again; some buffers hold two generations.
func TestSinkSortIsByKeyThenWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 22))
	for round := range 300 {
		b := &sinkBuf{}
		n := 1 + rng.IntN(400)
		gens := [][]byte{{0, 0, 0, 1}, {0, 0, 0, 2}}
		for i := range n {
			gen := gens[0]
			if round%3 == 0 && rng.IntN(2) == 0 {
				gen = gens[1]
			}
			// A shared head, then a few bytes of a small alphabet with
			// zeros, of any length from none to 30.
			k := append(slices.Clone(gen), "table-creditor"[:rng.IntN(15)]...)
			for range rng.IntN(30) {
				k = append(k, []byte{0, 1, 'a', 0xff}[rng.IntN(4)])
			}
			if i > 0 && rng.IntN(5) == 0 { // a key written again
				r := b.refs[rng.IntN(len(b.refs))]
				k = slices.Clone(b.key(r))
			}
			off := len(b.mem)
			b.mem = append(b.mem, k...)
			b.refs = append(b.refs, sinkRef{pre: keyPrefix(k), off: uint32(off), klen: uint32(len(k))})
			if !bytes.HasPrefix(k, gens[0]) {
				b.mixed = true
			}
		}
		want := slices.Clone(b.refs)
		slices.SortFunc(want, func(x, y sinkRef) int {
			if c := bytes.Compare(b.key(x), b.key(y)); c != 0 {
				return c
			}
			return cmp.Compare(x.off, y.off)
		})
		b.sort()
		for i := range want {
			require.Equal(t, want[i].off, b.refs[i].off, "round %d, place %d: %q, want %q", round, i, b.key(b.refs[i]), b.key(want[i]))
		}
	}
}
