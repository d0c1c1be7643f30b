package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/pebbleutil"
)

var _ eventstore.Store = (*Store)(nil)

// Options tune an embedded store. The zero value is ready to use.
type Options struct {
	// FS is the file system Pebble runs on; nil means the operating system's.
	// Tests inject faults through it (pebble's vfs/errorfs).
	FS vfs.FS
	// Logger receives Pebble's messages and the engine's own; nil means
	// slog.Default().
	Logger *slog.Logger
	// CacheBytes is Pebble's memory for the store: its block cache and its
	// memtables, a quarter of it (pebbleutil.MemTableSize), which Pebble
	// counts against the cache; 0 means 64 MiB.
	CacheBytes int64
	// Now is the clock that stamps RecordedAt; nil means time.Now.
	Now func() time.Time
	// ObserveSync, when set, is told how long each group commit's write and
	// fsync took (for the ledger's metrics).
	ObserveSync func(time.Duration)
}

// maxGroupRequests bounds how many queued appends one commit takes, so that a
// commit's latency stays bounded under any load.
const maxGroupRequests = 512

// yieldsBeforeGroup is how many times the writer yields its processor,
// after a group of more than one append, before it takes the next group.
// A group's write and sync cost the process about 40 µs of CPU whatever it
// holds, and the writer used to take each group as soon as the last was
// synced: at 64 connections a group held 3.6 payments, and the syncs were
// a tenth of the server's CPU. Yielding lets the work that is ready run
// first, which under load is mostly commands about to append: at 64
// connections a group then holds 8 to 9, the rate is 8% higher and the p99
// an eighth lower (docs/PERFORMANCE.md, thirty-third round). With little
// else to run each yield returns at once, and a lone append (a group of
// one) is never held; at four connections, where groups are of two, the
// rate is about 6% lower. A pause by the clock instead (1 ms) did as well
// at 64 connections but halved the rate at four, where the appends it
// waited for were not coming.
const yieldsBeforeGroup = 16

// maxYield bounds how long the writer yields after a group. Where the
// ready goroutines run long (on 100,000 placements: commands reading
// states from disk, the views' applier, compactions), 16 yields could
// hold the next group for as long, and every append waiting in it: there
// the p99 of payments was 32-90 ms unbounded in nine runs, 31-41 without
// yielding and 29-42 with this bound. 250 µs is about a sync's time here,
// and groups are nearly as large under it (7.7 payments against 8.3).
const maxYield = 250 * time.Microsecond

// Store is the embedded engine. Open one with Open; it is safe for concurrent
// use.
type Store struct {
	db      *pebble.DB
	dir     string
	logger  *slog.Logger
	now     func() time.Time
	observe func(time.Duration)

	reqs    chan *appendRequest
	stop    chan struct{} // closed by Close: the writer drains and exits
	stopped chan struct{} // closed by the writer when it has exited
	done    chan struct{} // closed once the store is closed: wakes subscribers

	// life guards db against use after Close: every read holds it shared.
	life   sync.RWMutex
	closed bool

	// failed holds the error that stopped the engine (a failed commit or
	// sync). Once set it is never cleared: see "fsyncgate". broken is closed
	// at the same moment, so that waiting subscribers learn of it too.
	failed atomic.Pointer[error]
	broken chan struct{}

	// head is the position of the last committed event.
	head atomic.Uint64
	// notifyMu guards notify, which is closed and replaced on every commit so
	// that waiting subscribers wake up.
	notifyMu sync.Mutex
	notify   chan struct{}

	// revisions caches each touched stream's last revision. Only the writer
	// goroutine uses it.
	revisions revisionCache
}

type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	result   eventstore.AppendResult
	err      error
	done     chan struct{}
}

// Open opens the store in directory dir, creating it if needed. A store whose
// format version is not this engine's is refused with ErrUnknownFormat; a
// damaged one with ErrCorrupt.
func Open(dir string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cacheBytes := opts.CacheBytes
	if cacheBytes == 0 {
		cacheBytes = pebbleutil.DefaultMemory
	}
	fs := opts.FS
	if fs == nil {
		fs = pebbleutil.PrivateFS() // the store's directory 0700, its files 0600
	}
	cache := pebble.NewCache(cacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(dir, pebbleOptions(dir, fs, cache, cacheBytes, logger))
	if err != nil {
		if pebble.IsCorruptionError(err) {
			return nil, fmt.Errorf("%w: %s: %v", eventstore.ErrCorrupt, dir, err)
		}
		return nil, fmt.Errorf("eventstore/embedded: open %s: %w", dir, err)
	}
	s := &Store{
		db:        db,
		dir:       dir,
		logger:    logger,
		now:       opts.Now,
		observe:   opts.ObserveSync,
		reqs:      make(chan *appendRequest, maxGroupRequests),
		stop:      make(chan struct{}),
		stopped:   make(chan struct{}),
		done:      make(chan struct{}),
		broken:    make(chan struct{}),
		notify:    make(chan struct{}),
		revisions: newRevisionCache(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.checkFormat(); err != nil {
		_ = db.Close()
		return nil, err
	}
	head, err := s.lastPosition()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.head.Store(uint64(head))
	go s.writer()
	return s, nil
}

// pebbleOptions are the Pebble settings of the store in dir, on file system
// fs with cache (of cacheBytes, memtables included): tuned for a log that is
// appended to in position order and read by long scans, with Pebble's
// corruption, background errors and slow disks reported to logger.
func pebbleOptions(dir string, fs vfs.FS, cache *pebble.Cache, cacheBytes int64, logger *slog.Logger) *pebble.Options {
	po := &pebble.Options{
		FS:     fs,
		Cache:  cache,
		Logger: pebbleutil.Logger{L: logger},
		// Memtables live outside the Go heap and are reserved in the cache;
		// several can exist at once (one written, one flushed, one kept for
		// reuse, and any an open iterator still reads). Each event writes
		// its record (in position order) and two index keys spread over the
		// key space, so compactions rewrite the indexes again and again:
		// compactions from a deeper L0 rewrite each byte fewer times
		// (pebbleutil.L0CompactionThreshold).
		// The base level keeps Pebble's 64 MiB: at 1 GiB everything below
		// L0 sat in L6 and each compaction of L0 rewrote most of it, a cost
		// that grows with the log (a payment on 100,000 placements 0.8-0.9x
		// the CPU with the default, one on 5,000 about the same). The
		// memtables were 64 MiB, which left the block cache nothing: at
		// 16 MiB (of 64) a payment on 100,000 placements costs a sixth less
		// CPU, one on 5,000 about the same.
		MemTableSize:          pebbleutil.MemTableSize(cacheBytes),
		L0CompactionThreshold: pebbleutil.L0CompactionThreshold,
		L0StopWritesThreshold: pebbleutil.L0StopWritesThreshold,
		FormatMajorVersion:    pebble.FormatNewest,
		// A flush or compaction that keeps failing stops the process
		// (pebbleutil.Failures): Pebble would retry it at once, forever.
		EventListener: (&pebbleutil.Failures{Logger: pebbleutil.Logger{L: logger}, What: "embedded event store " + dir}).Listen(&pebble.EventListener{
			// Pebble's default for corruption is Fatalf. The read that met it
			// returns the error too, and the engine reports it as ErrCorrupt
			// with the path, so the process can say what is damaged.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				logger.Error("embedded event store: on-disk corruption", "file", info.Path, "err", info.Details.Error())
			},
			DiskSlow: func(info pebble.DiskSlowInfo) {
				logger.Warn("embedded event store: slow disk", "dir", dir, "detail", info.String())
			},
		}),
	}
	// Pebble's balanced profile: fast compression for the upper levels,
	// zstd for the bottom ones, where nearly all of a log lives: a quarter
	// less on disk than snappy everywhere, for about a tenth more time in
	// full scans (docs/PERFORMANCE.md). Tables already written keep their
	// compression until compacted; both are read.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionBalanced })
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		// $all is read by long scans (projection rebuilds, verify, export):
		// larger blocks mean fewer block loads per event. Point reads of one
		// stream pay a little more per block, which the cache absorbs.
		po.Levels[i].BlockSize = 32 << 10
	}
	// The stream index is read by point on every append to a stream the
	// writer has not cached (the check of the revision the append
	// expects), a block of 32 KiB each time on a large log. Its tables
	// keep the fastest compression at every level, which Pebble
	// decompresses in a fraction of zstd's time: on 1,000,000 placements
	// that check cost a payment 34 µs of CPU instead of 46, for 2.5% more
	// log on disk (docs/PERFORMANCE.md).
	po.Experimental.SpanPolicyFunc = pebble.MakeStaticSpanPolicyFunc(pebble.DefaultComparer.Compare,
		pebble.KeyRange{Start: []byte{prefixStream}, End: []byte{prefixStream + 1}},
		pebble.SpanPolicy{PreferFastCompression: true})
	return po
}

// checkFormat writes the format version into a new store and refuses a store
// written in any other format.
func (s *Store) checkFormat() error {
	v, closer, err := s.db.Get(formatKey)
	switch {
	case err == nil:
		defer closer.Close()
		if string(v) != formatVersion {
			return fmt.Errorf("%w: %s holds format %q; this ledger reads %q", eventstore.ErrUnknownFormat, s.dir, v, formatVersion)
		}
		return nil
	case errors.Is(err, pebble.ErrNotFound):
	default:
		return s.readErr(err)
	}
	// No format key: only an empty directory may become a store.
	it, err := s.db.NewIter(nil)
	if err != nil {
		return s.readErr(err)
	}
	nonEmpty := it.First()
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return s.readErr(err)
	}
	if nonEmpty {
		return fmt.Errorf("%w: %s holds data but no format version: it was not written by this ledger", eventstore.ErrUnknownFormat, s.dir)
	}
	if err := s.db.Set(formatKey, []byte(formatVersion), pebble.Sync); err != nil {
		return fmt.Errorf("eventstore/embedded: initialise %s: %w", s.dir, err)
	}
	return nil
}

// lastPosition finds the last event with one seek and checks that it decodes,
// so a store whose tail is damaged refuses to open.
func (s *Store) lastPosition() (eventstore.Position, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixEvent}, UpperBound: []byte{prefixEvent + 1}})
	if err != nil {
		return 0, s.readErr(err)
	}
	defer it.Close()
	if !it.Last() {
		return eventstore.Start, s.readErr(it.Error())
	}
	pos, err := positionFromKey(it.Key())
	if err != nil {
		return 0, err
	}
	if _, err := decodeRecord(pos, it.Value()); err != nil {
		return 0, err
	}
	return pos, nil
}

func positionFromKey(k []byte) (eventstore.Position, error) {
	if len(k) != 9 || k[0] != prefixEvent {
		return 0, fmt.Errorf("%w: malformed event key %x", eventstore.ErrCorrupt, k)
	}
	return eventstore.Position(binary.BigEndian.Uint64(k[1:])), nil
}

// readErr classifies an error from Pebble on a read path.
func (s *Store) readErr(err error) error {
	if err == nil {
		return nil
	}
	// Pebble marks corruption with cockroachdb/errors marks, which the
	// standard errors.Is does not see.
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%w: %s: %v", eventstore.ErrCorrupt, s.dir, err)
	}
	return fmt.Errorf("%w: %s: %v", eventstore.ErrUnavailable, s.dir, err)
}

// usable reports why the store cannot serve a call, if it cannot.
func (s *Store) usable() error {
	if s.closed {
		return eventstore.ErrClosed
	}
	if err := s.failed.Load(); err != nil {
		return fmt.Errorf("%w: the embedded store stopped after a failed write and must be restarted: %v", eventstore.ErrUnavailable, *err)
	}
	return nil
}

// Append implements eventstore.Store. Once the request is queued, Append waits
// for the writer's answer even if ctx ends (the writer skips requests whose
// context has ended before it writes them), so the caller always learns
// whether the events were written.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	s.life.RLock()
	if err := s.usable(); err != nil {
		s.life.RUnlock()
		return eventstore.AppendResult{}, err
	}
	select {
	case s.reqs <- req:
		s.life.RUnlock()
	case <-ctx.Done():
		s.life.RUnlock()
		return eventstore.AppendResult{}, ctx.Err()
	}
	<-req.done
	return req.result, req.err
}

// writer is the one goroutine that writes. It takes every queued append (up
// to maxGroupRequests), commits them in one batch with one sync, and only then
// answers them, so positions are assigned inside the commit and $all never
// shows a gap or a reordering.
func (s *Store) writer() {
	defer close(s.stopped)
	group := make([]*appendRequest, 0, maxGroupRequests)
	for {
		select {
		case req := <-s.reqs:
			group = append(group[:0], req)
		case <-s.stop:
			// Close holds life exclusively, so nothing new can be queued:
			// answer what is left and exit.
			for {
				select {
				case req := <-s.reqs:
					s.commit([]*appendRequest{req})
				default:
					return
				}
			}
		}
	drain:
		for len(group) < maxGroupRequests {
			select {
			case req := <-s.reqs:
				group = append(group, req)
			default:
				break drain
			}
		}
		s.commit(group)
		if len(group) > 1 {
			// Under load, the goroutines ready to run (handlers deciding
			// their commands) run first, so that their appends share the
			// next group's write and sync; with nothing else ready, each
			// yield returns at once. See yieldsBeforeGroup.
			synced := time.Now()
			for range yieldsBeforeGroup {
				runtime.Gosched()
				if time.Since(synced) >= maxYield {
					break
				}
			}
		}
	}
}

type streamState struct {
	rev    uint64
	exists bool
}

// commit decides, writes and answers one group of appends. No append is
// answered as written before the batch holding its events is committed and
// synced; when that fails, every one of them is refused and the engine stops
// for good (see syncBatch).
func (s *Store) commit(group []*appendRequest) {
	if err := s.failed.Load(); err != nil {
		for _, req := range group {
			req.err = fmt.Errorf("%w: the embedded store stopped after a failed write and must be restarted: %v", eventstore.ErrUnavailable, *err)
			close(req.done)
		}
		return
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	g := s.stage(batch, group)
	if len(g.written) == 0 {
		return
	}
	if !batch.Empty() {
		if err := s.syncBatch(batch); err != nil {
			for _, req := range g.written {
				req.result = eventstore.AppendResult{}
				req.err = fmt.Errorf("%w: commit failed: %v", eventstore.ErrUnavailable, err)
				close(req.done)
			}
			return
		}
		s.publish(g.pending, g.next-1)
	}
	for _, req := range g.written {
		close(req.done)
	}
}

// stagedGroup is a group of appends decided and put into a batch, not yet
// committed.
type stagedGroup struct {
	// written are the requests to answer once the batch is committed: those
	// whose events it holds and retries of appends written before (their
	// answer is set already).
	written []*appendRequest
	// pending is each stream's state once the batch is committed.
	pending map[string]streamState
	// next is the position after the batch's last event.
	next eventstore.Position
}

// stage decides each append of group, in order, against its stream's
// revision (as earlier appends of the group leave it) and puts the events of
// those that may be written into batch, at consecutive positions after the
// head, stamped with one time. An append whose context has ended, whose
// stream cannot be read or whose expected revision does not match is
// answered at once and left out; a retry of an append written already is
// answered with its first result after the commit, like a write.
func (s *Store) stage(batch *pebble.Batch, group []*appendRequest) stagedGroup {
	g := stagedGroup{pending: make(map[string]streamState), next: eventstore.Position(s.head.Load()) + 1}
	pendingIDs := make(map[uuid.UUID]eventstore.RecordedEvent)
	now := s.now().UTC()
	var buf []byte
	g.written = group[:0:0]
	for _, req := range group {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			close(req.done)
			continue
		}
		state, err := s.streamState(req.stream, req.expected, g.pending)
		if err != nil {
			req.err = err
			close(req.done)
			continue
		}
		// A retry of an append that was written already either conflicts with
		// the stream's revision (Exact, NoStream) or carries Any, so only then
		// is its first event ID looked up: the common path reads nothing.
		matches := req.expected.Matches(state.rev, state.exists)
		if !matches || req.expected.IsAny() {
			if res, done, err := s.idempotent(req, state, pendingIDs); done {
				req.result, req.err = res, err
				g.written = append(g.written, req) // answered after the commit, like a write
				continue
			}
		}
		if !matches {
			req.err = &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: state.rev, Exists: state.exists}
			close(req.done)
			continue
		}
		rev := state.rev + 1
		if !state.exists {
			rev = 0
		}
		for _, e := range req.events {
			buf = encodeRecord(buf[:0], g.next, e.ID, req.stream, rev, now, e)
			_ = batch.Set(eventKey(g.next), buf, nil)
			_ = batch.Set(streamKey(req.stream, rev), be64(uint64(g.next)), nil)
			_ = batch.Set(idKey(e.ID), be64(uint64(g.next)), nil)
			pendingIDs[e.ID] = eventstore.RecordedEvent{Stream: req.stream, Revision: rev, Position: g.next}
			req.result = eventstore.AppendResult{Revision: rev, Position: g.next}
			rev++
			g.next++
		}
		g.pending[req.stream] = streamState{rev: req.result.Revision, exists: true}
		g.written = append(g.written, req)
	}
	return g
}

// syncBatch commits batch and syncs it to disk, telling observe how long that
// took. An error is fatal (fsyncgate: after a failed sync the state of the
// file is unknown, so nothing is retried): the engine records it in failed,
// closes broken and refuses all further calls.
func (s *Store) syncBatch(batch *pebble.Batch) error {
	began := time.Now()
	err := commitSync(batch)
	if s.observe != nil {
		s.observe(time.Since(began))
	}
	if err != nil {
		s.failed.Store(&err)
		close(s.broken)
		s.logger.Error("embedded event store: commit failed; refusing all further calls", "dir", s.dir, "err", err)
	}
	return err
}

// publish makes a committed group visible: the writer's revision cache takes
// the streams' new revisions (pending), the head moves to head, and waiting
// subscribers wake.
func (s *Store) publish(pending map[string]streamState, head eventstore.Position) {
	for stream, st := range pending {
		s.revisions.put(stream, st.rev)
	}
	s.head.Store(uint64(head))
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

// streamState returns the last revision of stream as seen by the group being
// built: earlier appends of the group first, then the cache, then disk.
func (s *Store) streamState(stream string, expected eventstore.ExpectedRevision, pending map[string]streamState) (streamState, error) {
	if st, ok := pending[stream]; ok {
		return st, nil
	}
	if rev, ok := s.revisions.get(stream); ok {
		return streamState{rev: rev, exists: true}, nil
	}
	// Confirming what the append expects takes point reads, which the
	// tables' bloom filters answer mostly without reading a block; finding
	// a stream's last revision seeks in every level of the tree, reading and
	// decompressing a block in each, which grows with the store.
	if expected.IsNoStream() {
		if found, err := s.has(streamKey(stream, 0)); err != nil || !found {
			return streamState{}, err
		}
	} else if r, exact := expected.Exact(); exact {
		at, err := s.has(streamKey(stream, r))
		if err != nil {
			return streamState{}, err
		}
		if at {
			after, err := s.has(streamKey(stream, r+1))
			if err != nil {
				return streamState{}, err
			}
			if !after {
				s.revisions.put(stream, r)
				return streamState{rev: r, exists: true}, nil
			}
		}
	}
	prefix := streamPrefix(stream)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return streamState{}, s.readErr(err)
	}
	defer it.Close()
	if !it.Last() {
		return streamState{}, s.readErr(it.Error())
	}
	k := it.Key()
	rev := binary.BigEndian.Uint64(k[len(k)-8:])
	s.revisions.put(stream, rev)
	return streamState{rev: rev, exists: true}, nil
}

// has reports whether key is stored.
func (s *Store) has(key []byte) (bool, error) {
	_, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, s.readErr(err)
	}
	return true, closer.Close()
}

// idempotent recognises a retried append: if its first event ID is stored
// already, the append is a repeat. It is answered with the first result when
// all of its IDs are that stream's consecutive events and the expected
// revision matches where they were written; otherwise it is refused. done is
// false when the first ID is not stored. (Like KurrentDB, the engine does not
// promise that event IDs are unique across appends that do not conflict: an
// append whose expected revision matches is written without looking its IDs
// up, unless it expects Any.)
func (s *Store) idempotent(req *appendRequest, state streamState, pendingIDs map[uuid.UUID]eventstore.RecordedEvent) (res eventstore.AppendResult, done bool, err error) {
	lookup := func(id uuid.UUID) (eventstore.RecordedEvent, bool, error) {
		if rec, ok := pendingIDs[id]; ok {
			// Written earlier in this very group, so not yet in Pebble.
			return rec, true, nil
		}
		v, closer, err := s.db.Get(idKey(id))
		if errors.Is(err, pebble.ErrNotFound) {
			return eventstore.RecordedEvent{}, false, nil
		}
		if err != nil {
			return eventstore.RecordedEvent{}, false, s.readErr(err)
		}
		pos := eventstore.Position(binary.BigEndian.Uint64(v))
		closer.Close()
		rec, err := s.readEvent(pos)
		return rec, err == nil, err
	}
	for i, e := range req.events {
		rec, found, err := lookup(e.ID)
		if err != nil {
			return res, true, err
		}
		if !found {
			if i == 0 {
				return res, false, nil
			}
			return res, true, fmt.Errorf("%w: events 0..%d of this append are stored already but event %d is not: a retry must repeat the first append exactly", eventstore.ErrInvalidArgument, i-1, i)
		}
		if rec.Stream != req.stream {
			return res, true, fmt.Errorf("%w: event %d's ID %s is already stored in stream %q", eventstore.ErrInvalidArgument, i, e.ID, rec.Stream)
		}
		if i == 0 {
			exists, before := rec.Revision > 0, rec.Revision-1
			if !req.expected.Matches(before, exists) {
				return res, true, &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: state.rev, Exists: state.exists}
			}
			res.Revision = rec.Revision
		} else if rec.Revision != res.Revision+1 {
			return res, true, fmt.Errorf("%w: event %d's ID %s is stored, but not right after event %d's", eventstore.ErrInvalidArgument, i, e.ID, i-1)
		}
		res.Revision, res.Position = rec.Revision, rec.Position
	}
	return res, true, nil
}

func (s *Store) readEvent(pos eventstore.Position) (eventstore.RecordedEvent, error) {
	v, closer, err := s.db.Get(eventKey(pos))
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return eventstore.RecordedEvent{}, fmt.Errorf("%w: an index points at position %d, which holds no event", eventstore.ErrCorrupt, pos)
		}
		return eventstore.RecordedEvent{}, s.readErr(err)
	}
	defer closer.Close()
	return decodeRecord(pos, v)
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	// A stream's revisions run from 0 without a gap, so when from is not
	// there nothing after it is either. Point reads, which the tables'
	// bloom filters answer mostly without reading a block, tell that
	// (the command handler's read of what followed a placement's snapshot,
	// nearly always nothing) from a missing stream; an iterator would seek
	// in every level of the tree, twice.
	if found, err := s.has(streamKey(stream, from)); err != nil {
		return nil, err
	} else if !found {
		exists := false
		if from > 0 {
			if exists, err = s.has(streamKey(stream, from-1)); err != nil {
				return nil, err
			}
		}
		if !exists && from > 1 {
			if exists, err = s.has(streamKey(stream, 0)); err != nil {
				return nil, err
			}
		}
		if !exists {
			return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
		}
		return nil, nil
	}
	prefix := streamPrefix(stream)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, s.readErr(err)
	}
	defer it.Close()
	var out []eventstore.RecordedEvent
	for ok := it.SeekGE(streamKey(stream, from)); ok && len(out) < limit; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := s.readEvent(eventstore.Position(binary.BigEndian.Uint64(it.Value())))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	if err := it.Error(); err != nil {
		return nil, s.readErr(err)
	}
	if len(out) == 0 && !it.First() {
		if err := it.Error(); err != nil {
			return nil, s.readErr(err)
		}
		return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	return out, nil
}

// ReadAll implements eventstore.Store. It reads only what is committed: the
// writer publishes a batch's positions after Pebble has applied it.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	head := eventstore.Position(s.head.Load())
	if after >= head {
		return nil, nil
	}
	if n := uint64(head - after); n < uint64(limit) {
		limit = int(n)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: eventKey(after + 1), UpperBound: eventKey(head + 1)})
	if err != nil {
		return nil, s.readErr(err)
	}
	defer it.Close()
	out := make([]eventstore.RecordedEvent, 0, limit)
	want := after + 1
	var dec decoder
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		pos, err := positionFromKey(it.Key())
		if err != nil {
			return nil, err
		}
		if pos != want {
			return nil, fmt.Errorf("%w: $all jumps from position %d to %d", eventstore.ErrCorrupt, want-1, pos)
		}
		rec, err := dec.decode(pos, it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
		want++
	}
	if err := it.Error(); err != nil {
		return nil, s.readErr(err)
	}
	if len(out) < limit {
		return nil, fmt.Errorf("%w: $all ends at position %d, before the committed head %d", eventstore.ErrCorrupt, want-1, head)
	}
	return out, nil
}

// Head implements eventstore.Store.
// DensePositions: positions are 1, 2, 3, … (see eventstore.Dense).
func (s *Store) DensePositions() bool { return true }

func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	return eventstore.Position(s.head.Load()), nil
}

// Flush writes Pebble's memtables to sorted files, so that the next open has
// no log to replay. Close does it too.
func (s *Store) Flush() error {
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return err
	}
	return s.db.Flush()
}

// Compact compacts the whole store, so that later reads touch as few files as
// possible. It is maintenance (after a bulk import, before measuring); the
// store compacts in the background by itself.
func (s *Store) Compact(ctx context.Context) error {
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.db.Flush(); err != nil {
		return err
	}
	return s.db.Compact(ctx, []byte{0}, []byte{0xff}, true)
}

// Close stops the writer after it has answered every queued append, flushes
// and closes Pebble. Later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	<-s.stopped
	close(s.done)
	defer s.life.Unlock()
	if f := s.failed.Load(); f != nil {
		// After a failed commit Pebble's commit pipeline is broken and
		// closing it may block; the process is expected to exit, which
		// releases the files. Recovery happens on the next open.
		return fmt.Errorf("%w: closed without flushing after a failed write: %v", eventstore.ErrUnavailable, *f)
	}
	return errors.Join(s.db.Flush(), s.db.Close())
}

// waitChan returns a channel that is closed at the next commit.
func (s *Store) waitChan() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// commitSync commits a batch durably; a failed WAL write or sync is the
// engine's permanent failure (see pebbleutil.Commit).
func commitSync(b *pebble.Batch) error { return pebbleutil.Commit(b, pebble.Sync) }
