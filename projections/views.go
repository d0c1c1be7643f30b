package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/pebbleutil"
)

// Views is an instance's local store of read models: a Pebble database of
// its own, beside the event store (or, with KurrentDB, on each instance).
// It also holds the command side's indexes (idempotency keys, placement
// states, processed numbers), which the command side reaches only through
// WriteIndex.
// Every batch of applied events is written together with the position it
// reaches, in one atomic batch, so after a crash the views are exactly the
// log up to their checkpoint. The views are derived, so by default they are
// written without a write-ahead log: a batch lands whole in one memtable
// and memtables reach disk in order, so what survives a crash is the views
// as some batch left them, with that batch's checkpoint. The memtables are
// flushed when the last flush is ViewsOptions.SyncEvery old (5 s by
// default) and on Close, so a crash loses at most about that much of the
// views, which the runner applies again from the checkpoint that survived,
// and a clean restart replays nothing. With ViewsOptions.WAL, batches go
// through Pebble's log instead, synced every SyncEvery (a second by
// default).
type Views struct {
	db     *pebble.DB
	logger *slog.Logger
	opts   ViewsOptions

	// gens is the generation of each table the views read and the runner
	// writes; a swap replaces it.
	gens atomic.Pointer[generations]
	mu   sync.RWMutex // guards stored
	// stored is each unit's generation and version as the store holds them.
	stored map[string]unitState
	// applyMu is held by the runner's builder from a batch's first event
	// to its commit: a background build holding it sees the checkpoint
	// still and no batch half applied (see unitBuild.finish).
	applyMu sync.Mutex
	// checkpoint is the position of the last committed batch.
	checkpoint atomic.Uint64
	// synced is when a batch was last made durable (synced, or flushed
	// without a WAL; unix nanoseconds).
	synced atomic.Int64
	// flushing, without a WAL, is closed when the last flush started by a
	// commit is done (applier only).
	flushing <-chan struct{}
	// states keeps recently applied placements' states (applier only).
	states *stateCache
	// trials keeps stored trial-balance aggregates (applier only).
	trials *trialCache
	idem   *idemOverlay
	// written, in a bulk build from nothing, holds the placements whose
	// states the build wrote to the store (applier only; nil elsewhere).
	written *idFilter
	// sink, in a bulk build from nothing until SaveStates, sorts the keys
	// the build does not read back (see bulkSink).
	sink *bulkSink
	// handed are the states Snapshot read, for the applier (see handoff);
	// stateReads counts the applier's reads of states from the store.
	handed     handoff
	stateReads atomic.Uint64
	// statesAhead counts the states the applier took from those a
	// decoder read ahead (readAhead) instead of reading them itself.
	statesAhead atomic.Uint64
	// readsAhead counts the decoders' reads of states (readAhead).
	readsAhead atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// ViewsOptions tune a view store. Zero values take the defaults.
type ViewsOptions struct {
	Logger *slog.Logger
	// FS is the file system (tests use Pebble's crashable one); nil: the OS.
	FS vfs.FS
	// CacheBytes is Pebble's memory for the views: its block cache and its
	// memtables, which Pebble counts against the cache (a quarter of it,
	// pebbleutil.MemTableSize; with Bulk, bulkMemTableSize); 0 means
	// 64 MiB, and with Bulk two memtables and a 32 MiB block cache
	// (bulkMemory).
	CacheBytes int64
	// States bounds the placement states the applier keeps decoded in
	// memory; 0 means 2,000. A bulk build keeps the encoded ones behind
	// them (StateBytes): a rebuild of 1.1M events over 100,000 placements
	// took 31–35 s with 2,000 or 10,000, and 2,000 kept 55 MB less
	// resident. The views a server keeps read a state they do not hold
	// from the block cache: 2,000 instead of 10,000 cost payments nothing
	// measurable on 5,000 or 100,000 placements, and on 100,000 the server
	// peaked 40–45 MiB lower (docs/PERFORMANCE.md, "Memory under load: one
	// C malloc arena, and 2,000 decoded states in the live views").
	States int
	// StateBytes bounds the placement states a build keeps in their binary
	// form behind the decoded ones (see stateCache); 0 means 16 MiB (about
	// 32,000 typical states) for a bulk build, 64 MiB for a unit rebuilt in
	// the background, and none for the views a server keeps up to date. A
	// bulk build reads the states it let go of through its block cache
	// (bulkMemory): with 64 MiB, a rebuild of 1.1M events over 100,000
	// placements took 0.8–0.9× the time but peaked at 330–360 MB, and over
	// 300,000 placements, whose states fill the tier, at 510–565 MB; with
	// 16 MiB at 270–300 MB and 300–315 MB (docs/PERFORMANCE.md). On
	// 100,000 placements the tier gave payments nothing measurable and cost
	// 125 MB resident under load (docs/PERFORMANCE.md; measured when the
	// block cache held nothing, see pebbleutil.MemTableSize). All of these
	// were measured with the tier on Go's heap; it is now mapped outside it
	// (encRing), where 16 MiB costs 16 MiB, not twice that and an entry of
	// Go's for each state: 32 MiB kept a rebuild over 300,000 placements no
	// faster. A bulk build starts with bulkFirstRing times StateBytes, until
	// its states fill two thirds of that (see stateCache.startLarger). A
	// negative value keeps none anywhere.
	StateBytes int
	// SyncEvery is how often what was committed is made durable: with WAL
	// by syncing a commit, without by flushing the memtables; 0 means a
	// second with WAL, 5 seconds without.
	SyncEvery time.Duration
	// WAL writes the views through Pebble's write-ahead log (not needed for
	// crash safety: see Views; kept for measuring against).
	WAL bool
	// Bulk is for building views from nothing in a directory that is thrown
	// away if the build does not finish (ledger rebuild, verify): no
	// write-ahead log, each state kept decoded written back only when
	// the cache lets it go or at the end (SaveStates), a block cache for
	// the states it reads back (bulkMemory), the keys it never reads back
	// sorted outside Pebble and put in place at the end (bulkSink), and
	// everything flushed to disk on Close.
	Bulk bool
	// Throwaway is for views deleted once used (verify's): stored with
	// Pebble's default compression, which costs less time than the zstd
	// the views that are kept are stored with.
	Throwaway bool
}

var metaPrefix = []byte{0xff, 0xff, 0xff, 0xff}

func metaKey(name string) []byte { return append(append([]byte(nil), metaPrefix...), name...) }

// OpenViews opens (or creates) the view store in dir.
func OpenViews(dir string, opts ViewsOptions) (*Views, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = pebbleutil.DefaultMemory
		if opts.Bulk {
			opts.CacheBytes = bulkMemory()
		}
	}
	if opts.States <= 0 {
		opts.States = 2_000
	}
	// opts.StateBytes is then what a build keeps (a bulk build's views, or
	// a background build's own cache); liveStateBytes what the views do.
	liveStateBytes := max(opts.StateBytes, 0)
	if opts.StateBytes == 0 {
		opts.StateBytes = 64 << 20
		if opts.Bulk {
			opts.StateBytes = 16 << 20
			liveStateBytes = opts.StateBytes
		}
	}
	opts.StateBytes = max(opts.StateBytes, 0)
	if opts.SyncEvery <= 0 {
		opts.SyncEvery = 5 * time.Second
		if opts.WAL {
			opts.SyncEvery = time.Second
		}
	}
	// A bulk build from nothing sorts what it does not read back (bulkSink).
	sorts := opts.Bulk && bulkSorts && emptyDir(opts.FS, dir)
	if opts.FS == nil {
		if err := os.MkdirAll(dir, pebbleutil.PrivateDir); err != nil {
			return nil, fmt.Errorf("projections: create the view store's directory: %w", err)
		}
		opts.FS = pebbleutil.PrivateFS() // its files 0600
	}
	if opts.Bulk {
		opts.WAL = false
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref()
	po := pebbleOptions(opts, cache)
	bottom := po.Levels[len(po.Levels)-1]
	if sorts {
		// Everything the build writes to Pebble is merged into new
		// tables at the end (bulkSink): stored as the levels above the
		// bottom are, not decompressed from zstd each time a state is
		// read back (at 300,000 placements, a quarter of the build's
		// time).
		po.Levels[len(po.Levels)-1].Compression = po.Levels[0].Compression
		po.Levels[len(po.Levels)-1].BlockSize = po.Levels[0].BlockSize
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("projections: open the view store %s: %w", dir, err)
	}
	v := &Views{db: db, logger: opts.Logger, opts: opts, states: newStateCache(opts.States, liveStateBytes),
		trials: newTrialCache(), idem: newIdemOverlay()}
	if opts.Bulk {
		v.states.startLarger(bulkFirstRing)
	}
	if err := v.loadLayout(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if sorts {
		// The sink's tables are stored as the views' bottom level is.
		wo := po.MakeWriterOptions(len(po.Levels)-1, db.TableFormat())
		wo.Compression, wo.BlockSize = bottom.Compression(), bottom.BlockSize
		v.sink = newBulkSink(opts.FS, opts.FS.PathJoin(dir, "bulk-sort"), wo, po.Experimental.SpanPolicyFunc)
	}
	return v, nil
}

// emptyDir reports whether dir holds nothing, or is not there (in fs; nil:
// the operating system's).
func emptyDir(fs vfs.FS, dir string) bool {
	if fs == nil {
		fs = vfs.Default
	}
	names, err := fs.List(dir)
	return err != nil || len(names) == 0
}

// pebbleOptions are the view store's Pebble options (opts with its
// defaults set).
func pebbleOptions(opts ViewsOptions, cache *pebble.Cache) *pebble.Options {
	po := &pebble.Options{
		FS:                 opts.FS,
		Cache:              cache,
		Logger:             pebbleutil.Logger{L: opts.Logger},
		FormatMajorVersion: pebble.FormatNewest,
		// Every event writes several keys spread over the key space (its
		// placement's state, feed items, entries), so much of what the
		// views cost is compaction. Letting L0 grow deeper before
		// compacting rewrites each byte fewer times
		// (pebbleutil.L0CompactionThreshold). The base level keeps Pebble's
		// 64 MiB: at 1 GiB everything below L0 sat in L6, and each
		// compaction of L0 rewrote most of it, which grows with the views
		// (write amplification 10 on 100,000 placements, 4.5-5 with the
		// default; a payment there 0.65-0.7x the CPU; docs/PERFORMANCE.md).
		// The memtables are reserved in the cache: at 64 MiB (of 32) they
		// left the block cache nothing, and a state not in the applier's
		// cache was decompressed from its block on every read; see
		// pebbleutil.MemTableSize.
		MemTableSize:          pebbleutil.MemTableSize(opts.CacheBytes),
		L0CompactionThreshold: pebbleutil.L0CompactionThreshold,
		L0StopWritesThreshold: pebbleutil.L0StopWritesThreshold,
	}
	// Bloom filters answer most point reads of a missing key (a new
	// payment number, an idempotency key, a state not yet written) without
	// reading a block of each level: about 1 µs less CPU per such read on
	// the views of 1.1M events, rebuild time unchanged, 2% more on disk.
	// Tables written without them are read as they are.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Stored as the log is: zstd for the tables that reach the bottom
	// levels, nearly all of the views (Pebble's "good" profile: level 3 at
	// the bottom, level 1 above it, the fastest above that), in blocks of
	// 16 KiB, in which zstd finds more to share. On 1.1M events: 190 MB
	// instead of 255 MB after a rebuild, 0.89 of the log instead of 1.20;
	// payments on 100,000 placements 0.91–1.03 of what they were (run by
	// run, in turn), reads of random placements the same
	// (docs/PERFORMANCE.md). Views that are thrown away keep Pebble's
	// default (snappy, 4 KiB). Tables written before keep their form
	// until compacted; both are read.
	if !opts.Throwaway {
		po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionGood })
		for i := range po.Levels {
			po.Levels[i].BlockSize = 16 << 10
		}
		po.Experimental.SpanPolicyFunc = statesFast
	}
	if opts.Bulk {
		bulkPebbleOptions(po)
	}
	po.DisableWAL = !opts.WAL
	// A flush or compaction that keeps failing stops the process
	// (pebbleutil.Failures): Pebble would retry it at once, forever, and a
	// server's shutdown would wait for it.
	po.EventListener = (&pebbleutil.Failures{Logger: pebbleutil.Logger{L: opts.Logger}, What: "view store"}).Listen(&pebble.EventListener{})
	po.EnsureDefaults()
	return po
}

// bulkPebbleOptions tunes po for a bulk build (ViewsOptions.Bulk).
func bulkPebbleOptions(po *pebble.Options) {
	// A quarter of the memtable: it takes only the states and the
	// few keys the build reads back, the sink (bulkSink) the rest.
	// With everything through Pebble, a rebuild of 1.1M events kept
	// 440 MB resident with 64 MiB and 385 MB with 32 MiB, in the same
	// time. The block cache beside it (bulkMemory) is for the states
	// the build let go of and reads back.
	po.MemTableSize = bulkMemTableSize
	// Pebble compacts a bulk build as it compacts the views a server
	// keeps, level by level. From 2026-11 to 2026-12 bulk builds ran
	// without Pebble's compactions and compacted the whole store
	// whenever L0 was 64 sublevels deep: once, at the end, for 1.1M
	// events, but a compaction of everything written so far every
	// 64 flushes beyond, so that the build's cost per event grew
	// with the log (3.3M events over 300,000 placements, with the
	// block cache of bulkMemory: 224 s; with Pebble's compactions
	// 142–195 s; docs/PERFORMANCE.md). Should Pebble's compactions fall behind,
	// the build waits for them when L0 is bulkMaxSublevels deep.
	po.L0StopWritesThreshold = int(bulkMaxSublevels)
	po.L0CompactionThreshold = min(po.L0CompactionThreshold, po.L0StopWritesThreshold)
	// Above the bottom level the build's tables are read back soon
	// (the states it let go of) and compacted again: the fastest
	// compression, 4 KiB blocks. The bottom level, where a rebuild
	// leaves everything (Compact), keeps the views' own.
	for i := range po.Levels[:len(po.Levels)-1] {
		po.Levels[i].BlockSize = 4 << 10
		po.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.FastestCompression }
	}
}

// statesFast is the views' span policy: the placements' states (table
// tPlacement of every generation) keep the fastest compression at every
// level, in tables of their own. A command reads its placement's state by
// point when it is not cached: on 1,000,000 placements that read cost a
// payment 36 µs of CPU instead of 41, for 1.4% more views on disk
// (docs/PERFORMANCE.md).
func statesFast(start []byte) (pebble.SpanPolicy, []byte, error) {
	var g [4]byte
	copy(g[:], start) // a shorter key sorts before its generation's tables
	gen := binary.BigEndian.Uint32(g[:])
	at := func(gen uint32, table byte) []byte { return append(binary.BigEndian.AppendUint32(nil, gen), table) }
	switch {
	case len(start) < 5 || start[4] < tPlacement:
		return pebble.SpanPolicy{}, at(gen, tPlacement), nil
	case start[4] == tPlacement && gen != math.MaxUint32:
		return pebble.SpanPolicy{PreferFastCompression: true}, at(gen, tPlacement+1), nil
	case gen == math.MaxUint32: // the store's own keys (metaPrefix)
		return pebble.SpanPolicy{}, nil, nil
	}
	return pebble.SpanPolicy{}, at(gen+1, tPlacement), nil
}

// Close closes the store; closing it again does nothing.
func (v *Views) Close() error {
	v.closeOnce.Do(func() {
		defer func() { v.closeErr = errors.Join(v.closeErr, v.states.release()) }()
		if err := v.SaveStates(); err != nil {
			_ = v.db.Close()
			v.closeErr = err
			return
		}
		if !v.opts.WAL {
			// Without a write-ahead log, only flushed tables persist.
			if err := v.db.Flush(); err != nil {
				_ = v.db.Close()
				v.closeErr = fmt.Errorf("projections: flush the views: %w", err)
				return
			}
		}

		v.closeErr = v.db.Close()
	})
	return v.closeErr
}

// Discard closes a bulk build's views that are to be thrown away (an
// interrupted or failed build, verify's), without writing what the build
// holds in memory or merging what its sink sorted; the caller removes
// the directory. Elsewhere, and once they are closed, it is Close.
func (v *Views) Discard() error {
	if !v.opts.Bulk {
		return v.Close()
	}
	v.closeOnce.Do(func() {
		if v.sink != nil {
			_ = v.sink.wait()
			v.sink.free()
			v.sink = nil
		}
		v.closeErr = errors.Join(v.db.Close(), v.states.release())
	})
	return v.closeErr
}

// saveBatchBytes is the size at which SaveStates commits a batch and starts
// the next (a variable for the test of that boundary). Each batch is
// garbage once committed, and a build writes most of its states here: at
// 16 MiB they were a fifth of a rebuild's heap at its end over 1,000,000
// placements.
var saveBatchBytes = 4 << 20

// SaveStates writes the placement states a bulk build keeps only in memory
// (it writes a state back when its cache lets it go, not with every batch,
// so until then the store holds an older one), and then what its sink
// sorted, merged with everything else into the bottom level (bulkSink).
// Read the views of a bulk build only after it; Close calls it too.
// Elsewhere it does nothing.
func (v *Views) SaveStates() error {
	if !v.opts.Bulk {
		return nil
	}
	t := v.begin()
	commit := func() error {
		err := pebbleutil.Commit(t.b, pebble.NoSync)
		_ = t.b.Close()
		if err != nil {
			return fmt.Errorf("projections: write the views: %w", err)
		}
		return nil
	}
	// In batches of about saveBatchBytes: all of them at once would be a
	// batch the size of every cached state. With a sink, the cache is
	// given back as its states are written (stateCache.drain): every
	// state is then in the store, and the merge is the build's last and
	// largest step.
	each := v.states.unsavedStates
	if v.sink != nil {
		each = v.states.drain
		v.sink.giveBackStage()
	}
	unflushed := 0
	err := each(func(id uuid.UUID, st *placementState, enc []byte) error {
		if err := t.writeCached(id, st, enc); err != nil {
			return err
		}
		if t.b.Len() < saveBatchBytes {
			return nil
		}
		unflushed += t.b.Len()
		if err := commit(); err != nil {
			return err
		}
		t.b = v.db.NewBatch()
		// The states come faster than a memtable is flushed: two full
		// ones and the ring were resident at once, the build's peak.
		// Flushing each half memtable keeps one at a time.
		if v.sink != nil && unflushed >= int(bulkMemTableSize)/2 {
			unflushed = 0
			if err := v.db.Flush(); err != nil {
				return fmt.Errorf("projections: flush the views: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		_ = t.b.Close()
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	if v.sink != nil {
		// Every state is written (and the cache given back): the filter
		// of the states written is better given back too before the
		// merge; from now on a state is looked for in the store. At
		// 1,000,000 placements the filter and the cache's maps are about
		// 24 MB of Go's heap, which the collector lets grow to twice that.
		v.written = nil
		sink := v.sink
		v.sink = nil // from now on everything is written to the store
		return sink.finish(context.Background(), v.db)
	}
	return nil
}

// Compact flushes the views and compacts them whole into the bottom level,
// so that a finished bulk build is left as the server would leave it after
// compacting (every table in the bottom level, zstd-compressed, none in L0
// for reads to look through) instead of having its first minutes of
// serving spent on it (ledger rebuild).
func (v *Views) Compact(ctx context.Context) error {
	if err := v.db.Flush(); err != nil {
		return fmt.Errorf("projections: flush the views: %w", err)
	}
	return v.compactAll(ctx)
}

// compactAll compacts every key of the store into the bottom level.
func (v *Views) compactAll(ctx context.Context) error {
	first, after, err := v.bounds()
	if err != nil || first == nil {
		return err
	}
	if err := v.db.Compact(ctx, first, after, true); err != nil {
		return fmt.Errorf("projections: compact the views: %w", err)
	}
	return nil
}

// bulkSorts: a bulk build from nothing writes the keys it does not read
// back through its sink (a variable for tests).
var bulkSorts = true

// bulkFirstRing is how many times StateBytes a bulk build keeps encoded
// while all its states fit: with 48 MiB, the states of the 1.1M-event
// store's 100,000 placements (about 30 MB) fit in the two thirds of it in
// which a ring moves the states it holds rather than let them go
// (encRing.moveUnder); with 32 MiB they would not.
const bulkFirstRing = 3

// bulkMemTableSize is a bulk build's memtable (a variable for tests); 32 MiB
// until its sink took most of its keys.
var bulkMemTableSize uint64 = 16 << 20

// bulkBlockCache is what a bulk build's block cache keeps beside the two
// memtables Pebble reserves in it (one written, one flushed).
const bulkBlockCache = 32 << 20

// bulkMemory is a bulk build's Pebble memory: its two memtables and its
// block cache. Until 2026-12 it was 32 MiB, as much as one memtable, so the
// cache held no block: a build whose placements' states do not all fit in
// its state cache (StateBytes; more than about 130,000 placements) read each
// state it had let go of through every table's index and filter, decoded
// again from the page cache: a rebuild of 11M events over 1,000,000
// placements had read 1.4 TB in 114 million system calls when it was
// stopped after 20 minutes (docs/PERFORMANCE.md).
func bulkMemory() int64 { return 2*int64(bulkMemTableSize) + bulkBlockCache }

// bulkMaxSublevels bounds L0's depth in a bulk build: each read that
// misses the memtable looks through every sublevel (a bloom filter each),
// so the build waits for Pebble's compactions when L0 is this deep (its
// L0StopWritesThreshold). A variable for tests.
var bulkMaxSublevels int32 = 64

// bounds are the store's first key and a key after its last; nil when it
// holds none.
func (v *Views) bounds() (first, after []byte, err error) {
	it, err := v.db.NewIter(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("projections: read the views: %w", err)
	}
	defer it.Close()
	if !it.First() {
		return nil, nil, it.Error()
	}
	first = append([]byte(nil), it.Key()...)
	if !it.Last() {
		return nil, nil, it.Error()
	}
	return first, append(append([]byte(nil), it.Key()...), 0), nil
}

// syncOpts are the write options of a commit that must be durable: synced,
// unless there is no log to sync (flushes make it durable).
func (v *Views) syncOpts() *pebble.WriteOptions {
	if !v.opts.WAL {
		return pebble.NoSync
	}
	return pebble.Sync
}

// flushDue, without a WAL and outside a bulk build, starts flushing the
// memtables to disk unless the last flush it started is still running
// (applier only). started is false when it did not start one and should
// be asked again at the next commit.
func (v *Views) flushDue() (started bool, err error) {
	if v.opts.WAL || v.opts.Bulk {
		return true, nil
	}
	if v.flushing != nil {
		select {
		case <-v.flushing:
		default:
			return false, nil
		}
	}
	done, err := v.db.AsyncFlush()
	if err != nil {
		return false, fmt.Errorf("projections: flush the views: %w", err)
	}
	v.flushing = done
	return true, nil
}

// Checkpoint is the position the views have applied (committed).
func (v *Views) Checkpoint() eventstore.Position { return eventstore.Position(v.checkpoint.Load()) }

// Current reports whether every unit's tables were built by this code's
// version of the unit.
func (v *Views) Current() (bool, error) { return len(v.changedUnits()) == 0, nil }

// generation returns the generation of each table, as of now.
func (v *Views) generation() *generations { return v.gens.Load() }

func u64bytes(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func (v *Views) getUint(k []byte) (uint64, error) {
	b, closer, err := v.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(b) != 8 {
		return 0, fmt.Errorf("projections: the view store's %q is damaged", k)
	}
	return binary.BigEndian.Uint64(b), nil
}

// get returns a copy of the value under k, or nil.
func (v *Views) get(k []byte) ([]byte, error) {
	if v.sink != nil && sunk(k) {
		return nil, errSinkPending
	}
	return getFrom(v.db, k)
}

// getFrom returns a copy of k's value in r (the store or a snapshot of it),
// or nil when k is not there.
func getFrom(r pebble.Reader, k []byte) ([]byte, error) {
	b, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), b...), nil
}

// scan calls fn for each key in [lower, upper), in order, until fn returns
// false or an error.
func (v *Views) scan(lower, upper []byte, fn func(k, val []byte) (bool, error)) error {
	if v.sink != nil && sunk(lower) {
		return errSinkPending
	}
	it, err := v.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		more, err := fn(it.Key(), val)
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}

// lastKey returns a copy of the last key in [lower, upper), or nil when
// there is none.
func (v *Views) lastKey(lower, upper []byte) ([]byte, error) {
	if v.sink != nil && sunk(lower) {
		return nil, errSinkPending
	}
	it, err := v.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.Last() {
		return nil, it.Error()
	}
	return append([]byte(nil), it.Key()...), it.Error()
}

// Diff compares the current generations of two view stores key by key,
// table by table, and calls fn for each key that only one holds or that
// they hold with different values (a nil value: not held), until fn
// returns false.
func Diff(a, b *Views, fn func(table byte, k, va, vb []byte) bool) error {
	ga, gb := a.generation(), b.generation()
	for _, table := range allTables() {
		if more, err := diffTable(a, b, key(ga, table), key(gb, table), fn); err != nil || !more {
			return err
		}
	}
	return nil
}

// diffTable is Diff for one table (pa and pb: its prefix in a and b).
func diffTable(a, b *Views, pa, pb keyBuf, fn func(table byte, k, va, vb []byte) bool) (bool, error) {
	ia, err := a.db.NewIter(&pebble.IterOptions{LowerBound: pa, UpperBound: pa.upper()})
	if err != nil {
		return false, err
	}
	defer ia.Close()
	ib, err := b.db.NewIter(&pebble.IterOptions{LowerBound: pb, UpperBound: pb.upper()})
	if err != nil {
		return false, err
	}
	defer ib.Close()
	okA, okB := ia.First(), ib.First()
	for okA || okB {
		var ka, kb []byte
		if okA {
			ka = ia.Key()[4:]
		}
		if okB {
			kb = ib.Key()[4:]
		}
		switch c := compareKeys(ka, kb, okA, okB); {
		case c < 0:
			if !fn(ka[0], ka[1:], ia.Value(), nil) {
				return false, nil
			}
			okA = ia.Next()
		case c > 0:
			if !fn(kb[0], kb[1:], nil, ib.Value()) {
				return false, nil
			}
			okB = ib.Next()
		default:
			if !bytes.Equal(ia.Value(), ib.Value()) && !fn(ka[0], ka[1:], ia.Value(), ib.Value()) {
				return false, nil
			}
			okA, okB = ia.Next(), ib.Next()
		}
	}
	if err := ia.Error(); err != nil {
		return false, err
	}
	return true, ib.Error()
}

// compareKeys orders two iterators' keys, an exhausted one last.
func compareKeys(a, b []byte, okA, okB bool) int {
	switch {
	case !okB:
		return -1
	case !okA:
		return 1
	}
	return bytes.Compare(a, b)
}
