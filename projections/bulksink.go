package projections

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/minio/minlz"
)

// A bulk build from nothing writes most of its keys once and never reads
// them back while it runs: feed items, indexes, postings, processed
// numbers. Written through Pebble, each was flushed to L0 and compacted
// down level by level, rewritten five to eight times (a third of a
// rebuild's CPU, growing with the log; docs/PERFORMANCE.md, "A bulk
// build's write-only keys sorted outside Pebble"). The sink sorts them
// itself instead, as an external sort: it keeps them in memory up to
// sinkRunBytes, writes them sorted to a run file, and when the build is
// done (SaveStates) merges the runs into tables of the bottom level, which
// Pebble ingests. Each key is then written twice: once in a run, once in
// its table.
//
// Only the tables below go to the sink (and the postings' trial-balance
// rows, see addTrial): the build reads none of them back. A read of one of
// them while the sink holds keys is refused (errSinkPending). Placement
// states, creditor figures, webhooks, trial-balance aggregates and the
// outbox (whose notifications are deleted by range) go to Pebble as
// before. The runs live in the views' directory, which a bulk build
// throws away unless it completes, so they need no checkpoint: a build
// that stops halfway is started again from nothing.
var sunkTables = func() (t [256]bool) {
	for _, c := range []byte{tClaim, tList, tListStatus, tFeed, tCreditorFeed, tEnvelope, tReconcile, tReconcileVal,
		tIdempotency, tHold, tNumber, tSearch, tClosed, tClosedChange, tPosting, tUnsettled, tRemittance,
		tRemittanceRev, tPlanBreak, tChange} {
		t[c] = true
	}
	return t
}()

// errSinkPending refuses a read of a table whose keys the sink still holds.
var errSinkPending = errors.New("projections: the bulk build's sorted keys are not in the store until SaveStates")

// sinkRunBytes is how much the sink keeps in memory before it writes a
// run, and sinkFanIn how many runs one merge reads at once: with more, the
// oldest are first merged into one run (variables for tests).
var (
	sinkRunBytes = 16 << 20
	sinkFanIn    = 512
)

// sinkBlockBytes is how much of a run is compressed at once (MinLZ, the
// fastest level): the runs take about a third of the disk, and a reader
// holds one block (a variable for tests).
var sinkBlockBytes = 16 << 10

// sinkTableBytes is the size at which the final merge starts a new table.
// A table's writer holds a hash of each of its keys for the table's bloom
// filter until the table is done (Pebble's bloom package), and the sunk
// keys are small: at 128 MiB the two writers held 51 MB of them at the end
// of a rebuild over 1,000,000 placements, a third of its heap.
const sinkTableBytes = 32 << 20

const (
	sinkSet byte = 0
	sinkDel byte = 1
)

// appendSinkRecord appends one write in the form of the runs and of a
// batch's staged writes: the key's length and the key, the kind, the
// value's length and the value.
func appendSinkRecord(b []byte, kind byte, k, val []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(val)))
	return append(b, val...)
}

// parseSinkRecord reads the record b starts with (see appendSinkRecord):
// its kind, key and value (in b), and its length; ok false when b does
// not start with a whole one.
func parseSinkRecord(b []byte) (kind byte, k, val []byte, n int, ok bool) {
	klen, w := binary.Uvarint(b)
	if w <= 0 || klen >= uint64(len(b)-w) {
		return 0, nil, nil, 0, false
	}
	at := w + int(klen)
	k, kind = b[w:at], b[at]
	vlen, w := binary.Uvarint(b[at+1:])
	if w <= 0 || vlen > uint64(len(b)-at-1-w) {
		return 0, nil, nil, 0, false
	}
	at += 1 + w
	return kind, k, b[at : at+int(vlen)], at + int(vlen), true
}

// sinkRef is a record in the sink's memory: where its key starts, and its
// length. Records are appended, so a later write of a key starts later.
// pre is the key's first 8 bytes after its generation, big-endian (zeros
// past its end), which order most pairs of keys without reading them.
type sinkRef struct {
	pre       uint64
	off, klen uint32
}

type bulkSink struct {
	fs  vfs.FS
	dir string
	wo  sstable.WriterOptions // the tables'
	// spans, when not nil, is the views' span policy, which the tables
	// follow as Pebble's own compactions do: a table ends where a span
	// does, and a span that prefers it has the fastest compression.
	spans pebble.SpanPolicyFunc
	cur   *sinkBuf // what the batches give it
	spare *sinkBuf // the other buffer, written as a run meanwhile
	// writing, when not nil, is the result of the run being written from
	// spare (one at a time, beside the build).
	writing chan runWritten
	// marks are each run's marks (see runMark), in the order of runs.
	marks [][]runMark
	mu    sync.Mutex // create's, for the final merge's writers
	// stager holds the records of the batch being applied, given to cur
	// when it is committed; books, those its books worker writes (see
	// booksWorker), given after them.
	stager
	books stager
	runs  []string // oldest first
	files int      // files named so far
	keys  int64    // records taken, for tests
}

// sinkBuf holds records, and refs to them in the order they came, both in
// arena (see allocArena) unless a batch outgrew it.
type sinkBuf struct {
	arena []byte
	mem   []byte
	refs  []sinkRef
	// gen is the generation of the keys held; mixed, when they are of
	// several, orders them by their whole keys.
	gen   [4]byte
	mixed bool
}

func newBulkSink(fs vfs.FS, dir string, wo sstable.WriterOptions, spans pebble.SpanPolicyFunc) *bulkSink {
	return &bulkSink{fs: fs, dir: dir, wo: wo, spans: spans}
}

// newSinkBuf maps a run's memory at once (grown by append it would double
// past sinkRunBytes): the records, and a ref for each 48 bytes of them
// (the views' records are 50 on average).
func newSinkBuf() (*sinkBuf, error) {
	memCap := (sinkRunBytes + 7) &^ 7
	refCap := max(sinkRunBytes/48, 16)
	arena, err := allocArena(memCap + refCap*int(unsafe.Sizeof(sinkRef{})))
	if err != nil {
		return nil, fmt.Errorf("projections: memory for a bulk build's sort: %w", err)
	}
	return &sinkBuf{arena: arena, mem: arena[:0:memCap],
		refs: unsafe.Slice((*sinkRef)(unsafe.Pointer(&arena[memCap])), refCap)[:0]}, nil
}

// free returns the buffers' memory; the sink takes no more records.
func (s *bulkSink) free() {
	for _, b := range []*sinkBuf{s.cur, s.spare} {
		if b != nil {
			_ = freeArena(b.arena)
		}
	}
	s.stager.free()
	s.books.free()
	s.cur, s.spare = nil, nil
}

// stager holds the records a batch being applied stages for the sink (in
// stageArena, see allocArena).
type stager struct {
	stage      []byte
	stageArena []byte
}

func (s *stager) free() {
	if s.stageArena != nil {
		_ = freeArena(s.stageArena)
	}
	s.stage, s.stageArena = nil, nil
}

// stageRecord stages a write of the batch being applied, in memory mapped
// as the runs' is (a batch of 20,000 events stages about 12 MB).
func (s *stager) stageRecord(kind byte, k, val []byte) error {
	if need := len(s.stage) + 2*binary.MaxVarintLen64 + 1 + len(k) + len(val); need > cap(s.stage) {
		arena, err := allocArena(max(2*cap(s.stage), need, 1<<20))
		if err != nil {
			return fmt.Errorf("projections: memory for a bulk build's batch: %w", err)
		}
		staged := append(arena[:0], s.stage...)
		if s.stageArena != nil {
			_ = freeArena(s.stageArena)
		}
		s.stage, s.stageArena = staged, arena
	}
	s.stage = appendSinkRecord(s.stage, kind, k, val)
	return nil
}

// sunk reports whether k is of a table the sink takes (outside the
// store's own keys, which share no generation).
func sunk(k []byte) bool { return len(k) > 4 && sunkTables[k[4]] && !bytes.HasPrefix(k, metaPrefix) }

// add takes a committed batch's staged records.
func (s *bulkSink) add(staged []byte) error {
	if len(staged) == 0 {
		return nil
	}
	if s.cur == nil {
		var err error
		if s.cur, err = newSinkBuf(); err != nil {
			return err
		}
	}
	if len(s.cur.mem) > 0 && len(s.cur.mem)+len(staged) > cap(s.cur.mem) {
		if err := s.startRun(); err != nil {
			return err
		}
	}
	b := s.cur
	base, refs, keys := len(b.mem), len(b.refs), s.keys
	b.mem = append(b.mem, staged...)
	for i := base; i < len(b.mem); {
		_, k, _, n, ok := parseSinkRecord(b.mem[i:])
		if !ok {
			b.mem, b.refs, s.keys = b.mem[:base], b.refs[:refs], keys
			return fmt.Errorf("projections: a damaged staged write at %d", i-base)
		}
		off := i + uvarintLen(uint64(len(k)))
		b.refs = append(b.refs, sinkRef{pre: keyPrefix(k), off: uint32(off), klen: uint32(len(k))})
		if len(b.refs) == 1 {
			copy(b.gen[:], k)
		} else if !bytes.HasPrefix(k, b.gen[:]) {
			b.mixed = true
		}
		i += n
		s.keys++
	}
	return nil
}

// keyPrefix is the pre of a key (see sinkRef).
func keyPrefix(k []byte) uint64 { return keyPrefixAt(k, 4) }

// keyPrefixAt is k's 8 bytes from at, big-endian, zeros past its end.
func keyPrefixAt(k []byte, at int) uint64 {
	if len(k) >= at+8 {
		return binary.BigEndian.Uint64(k[at:])
	}
	var b [8]byte
	if len(k) > at {
		copy(b[:], k[at:])
	}
	return binary.BigEndian.Uint64(b[:])
}

// sort orders b's refs by their keys' bytes, then by the order of the
// writes (see sortRefs).
func (b *sinkBuf) sort() {
	if !b.mixed {
		b.sortRefs(b.refs, 4) // pre is from the generation's end on
		return
	}
	for i := range b.refs { // from the start: the generations differ
		b.refs[i].pre = keyPrefixAt(b.key(b.refs[i]), 0)
	}
	b.sortRefs(b.refs, 0)
}

// sortRefs orders refs as their keys' bytes order them, and the writes of
// one key in the order they were made (by off); each ref's pre holds its
// key's 8 bytes from at, which all refs' keys share the bytes before. The
// views' keys share much more than their generation (a table, then a
// creditor's id, then often a day), so a sort that compared whole keys
// compared most pairs byte by byte in memory far apart (7% of a rebuild's
// CPU). This one sorts by pre, then each run of keys whose pre is the same
// by their next 8 bytes, and so on: integers compared, each key's bytes
// read once for each 8 of them.
func (b *sinkBuf) sortRefs(refs []sinkRef, at int) {
	slices.SortFunc(refs, func(x, y sinkRef) int { return cmp.Compare(x.pre, y.pre) })
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && refs[j].pre == refs[i].pre {
			j++
		}
		if j-i > 1 {
			b.sortTies(refs[i:j], at+8)
		}
		i = j
	}
}

// sortTies orders refs whose keys have the same bytes before next (their
// pre padded with zeros where a key ends): the keys that end there first,
// a prefix of all the others (and of each other, the shorter first), then
// the others by their bytes from next on.
func (b *sinkBuf) sortTies(refs []sinkRef, next int) {
	ended := 0
	for i, r := range refs {
		if int(r.klen) <= next {
			refs[i], refs[ended] = refs[ended], refs[i]
			ended++
		}
	}
	slices.SortFunc(refs[:ended], func(x, y sinkRef) int {
		if c := cmp.Compare(x.klen, y.klen); c != 0 {
			return c
		}
		return cmp.Compare(x.off, y.off)
	})
	if rest := refs[ended:]; len(rest) > 1 {
		for i := range rest {
			rest[i].pre = keyPrefixAt(b.key(rest[i]), next)
		}
		b.sortRefs(rest, next)
	}
}

func (b *sinkBuf) key(r sinkRef) []byte { return b.mem[r.off : r.off+r.klen] }

// record returns r's whole record.
func (b *sinkBuf) record(r sinkRef) []byte {
	start := int(r.off) - uvarintLen(uint64(r.klen))
	_, _, _, n, _ := parseSinkRecord(b.mem[start:]) // whole: add parsed it
	return b.mem[start : start+n]
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

func (s *bulkSink) create(suffix string) (vfs.File, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == 0 {
		if err := s.fs.MkdirAll(s.dir, 0o700); err != nil {
			return nil, "", fmt.Errorf("projections: the bulk build's sort directory: %w", err)
		}
	}
	s.files++
	name := s.fs.PathJoin(s.dir, fmt.Sprintf("%06d%s", s.files, suffix))
	f, err := s.fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, "", fmt.Errorf("projections: the bulk build's sort file: %w", err)
	}
	return f, name, nil
}

// startRun writes what the sink holds as a run, beside the build, once
// the run before it is written; the batches fill the other buffer
// meanwhile.
func (s *bulkSink) startRun() error {
	if err := s.wait(); err != nil {
		return err
	}
	if s.cur == nil || len(s.cur.refs) == 0 {
		return nil
	}
	f, name, err := s.create(".run")
	if err != nil {
		return err
	}
	s.runs, s.marks = append(s.runs, name), append(s.marks, nil)
	b := s.cur
	if s.spare == nil {
		if s.spare, err = newSinkBuf(); err != nil {
			return err
		}
	}
	s.cur, s.spare = s.spare, s.cur
	s.writing = make(chan runWritten, 1)
	go func() {
		marks, err := b.writeRun(f)
		b.giveBack()
		s.writing <- runWritten{marks, err}
	}()
	return nil
}

// giveBack gives back the pages of b's arena, once what it held is written
// as a run: it waits, idle, until the batches have filled the other buffer,
// and a run is written in a fraction of the time they take. Kept, it held
// a second run's memory (21 MB) all through a build, the handover to
// SaveStates, its peak, included; given back, its pages are mapped again
// as the batches write to them. Where pages cannot be given back
// (discardArena), it keeps them.
func (b *sinkBuf) giveBack() {
	if len(b.mem) == 0 && len(b.refs) == 0 {
		_ = discardArena(b.arena)
	}
}

// giveBackStage gives back the pages of the staging arena while it stages
// nothing: the last batch of a build is committed before SaveStates, which
// would otherwise hold a batch's worth of staged records (about 12 MB for
// 20,000 events) beside everything it writes.
func (s *bulkSink) giveBackStage() {
	for _, st := range []*stager{&s.stager, &s.books} {
		if len(st.stage) == 0 && st.stageArena != nil {
			_ = discardArena(st.stageArena)
		}
	}
}

type runWritten struct {
	marks []runMark
	err   error
}

// runMark is where in a run a record starts, and its key: one every
// sinkMarkBytes, so that a merge of the keys from one on reads the runs
// from about there.
type runMark struct {
	key []byte
	off int64
}

var sinkMarkBytes int64 = 1 << 20 // a variable for tests

// runWriter writes a run: its records in blocks, each compressed and
// prefixed by its length (4 bytes, little-endian), and a mark at the
// first block at least sinkMarkBytes after the last mark.
type runWriter struct {
	w     *bufio.Writer
	n     int64  // bytes written
	block []byte // records of the block being filled
	first []byte // its first key
	enc   []byte
	marks []runMark
}

func newRunWriter(f vfs.File) *runWriter {
	return &runWriter{w: bufio.NewWriterSize(f, 256<<10), block: make([]byte, 0, sinkBlockBytes+512)}
}

func (m *runWriter) write(rec, key []byte) error {
	if len(m.block) == 0 {
		m.first = append(m.first[:0], key...)
	}
	m.block = append(m.block, rec...)
	if len(m.block) >= sinkBlockBytes {
		return m.flush()
	}
	return nil
}

// flush writes the block being filled.
func (m *runWriter) flush() error {
	if len(m.block) == 0 {
		return nil
	}
	if len(m.marks) == 0 || m.n-m.marks[len(m.marks)-1].off >= sinkMarkBytes {
		m.marks = append(m.marks, runMark{key: bytes.Clone(m.first), off: m.n})
	}
	enc, err := minlz.Encode(m.enc[:cap(m.enc)], m.block, minlz.LevelFastest)
	if err != nil {
		return err
	}
	m.enc, m.block = enc, m.block[:0]
	var size [4]byte
	binary.LittleEndian.PutUint32(size[:], uint32(len(enc)))
	if _, err := m.w.Write(size[:]); err != nil {
		return err
	}
	_, err = m.w.Write(enc)
	m.n += int64(len(size) + len(enc))
	return err
}

// close writes the last block and closes f.
func (m *runWriter) close(f vfs.File) error {
	err := m.flush()
	if cerr := closeRun(f, m.w); err == nil {
		err = cerr
	}
	return err
}

// wait waits for the run being written, if any.
func (s *bulkSink) wait() error {
	if s.writing == nil {
		return nil
	}
	r := <-s.writing
	s.writing = nil
	s.marks[len(s.marks)-1] = r.marks
	return r.err
}

// writeRun sorts what b holds and writes it to f, the latest write of
// each key only, and empties b.
func (b *sinkBuf) writeRun(f vfs.File) ([]runMark, error) {
	b.sort()
	w := newRunWriter(f)
	for i, r := range b.refs {
		if i+1 < len(b.refs) && bytes.Equal(b.key(r), b.key(b.refs[i+1])) {
			continue // written again later
		}
		if err := w.write(b.record(r), b.key(r)); err != nil {
			break
		}
	}
	b.mem, b.refs, b.mixed = b.mem[:0], b.refs[:0], false
	if err := w.close(f); err != nil {
		return nil, fmt.Errorf("projections: write a bulk build's sorted run: %w", err)
	}
	return w.marks, nil
}

func closeRun(f vfs.File, w *bufio.Writer) error {
	err := w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// finish merges the runs and what db holds (the keys the build read,
// which no run has) into tables of the bottom level, and puts them in
// place of everything db holds: Pebble ingests them and excises the whole
// key space. The views are then as a compaction of everything into the
// bottom level would leave them, and no table of the build's own (which
// spanned the runs' keys) holds the tables ingested above it. The sort
// directory is then removed.
func (s *bulkSink) finish(ctx context.Context, db *pebble.DB) error {
	err := s.startRun()
	if werr := s.wait(); err == nil {
		err = werr
	}
	s.free()
	if err != nil {
		return err
	}
	// Merge the oldest runs into one while there are more than a merge reads.
	for len(s.runs) > sinkFanIn {
		f, name, err := s.create(".run")
		if err != nil {
			return err
		}
		w := newRunWriter(f)
		var rec []byte
		err = s.merge(s.runs[:sinkFanIn], s.marks[:sinkFanIn], keyRange{}, nil, func(kind byte, k, val []byte) error {
			rec = appendSinkRecord(rec[:0], kind, k, val)
			return w.write(rec, k)
		})
		if cerr := w.close(f); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("projections: merge a bulk build's sorted runs: %w", err)
		}
		for _, r := range s.runs[:sinkFanIn] {
			_ = s.fs.Remove(r)
		}
		s.runs = append([]string{name}, s.runs[sinkFanIn:]...)
		s.marks = append([][]runMark{w.marks}, s.marks[sinkFanIn:]...)
	}
	if err := db.Flush(); err != nil { // what the memtables hold is merged too
		return fmt.Errorf("projections: flush the views: %w", err)
	}
	tables, err := s.writeTables(db)
	if err == nil && len(tables) > 0 {
		everything := pebble.KeyRange{Start: []byte{0}, End: bytes.Repeat([]byte{0xff}, len(metaPrefix)+1)}
		if _, err = db.IngestAndExcise(ctx, tables, nil, nil, everything); err != nil {
			err = fmt.Errorf("projections: ingest a bulk build's tables: %w", err)
		}
	}
	if rerr := s.fs.RemoveAll(s.dir); err == nil && rerr != nil {
		err = fmt.Errorf("projections: remove the bulk build's sort directory: %w", rerr)
	}
	return err
}

// writeTables merges the runs and db's keys into tables. The key space is
// cut at quantiles of the runs' marks into sinkRanges ranges, written by a
// goroutine a core (at most sinkWriters), each taking the next range when
// it is done. Halves of the keys cost unevenly: on 1.1M events the half
// with the zstd tables took 1.32 s and the half with the states 0.70 s, so
// that one core waited for the other (docs/PERFORMANCE.md).
func (s *bulkSink) writeTables(db *pebble.DB) ([]string, error) {
	var keys [][]byte
	for _, marks := range s.marks {
		for _, m := range marks {
			keys = append(keys, m.key)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	ranges := cutRanges(keys, sinkRanges)
	tables := make([][]string, len(ranges))
	errs := make([]error, len(ranges))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), sinkWriters, len(ranges)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ranges); i = int(next.Add(1)) - 1 {
				tables[i], errs[i] = s.writeRange(db, ranges[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("projections: write a bulk build's tables: %w", err)
	}
	return slices.Concat(tables...), nil
}

// sinkRanges is how many ranges a bulk build's final merge is cut into, and
// sinkWriters the most written at once however many cores there are: each
// writer holds a block of every run.
const (
	sinkRanges  = 16
	sinkWriters = 4
)

// cutRanges cuts the key space at up to n-1 quantiles of sorted keys, each
// cut once: consecutive ranges in key order, the first unbounded below and
// the last above; one range when there are no keys.
func cutRanges(keys [][]byte, n int) []keyRange {
	ranges := []keyRange{{}}
	for j := 1; j < n && len(keys) > 0; j++ {
		cut, last := keys[len(keys)*j/n], &ranges[len(ranges)-1]
		if last.lower != nil && bytes.Compare(cut, last.lower) <= 0 {
			continue
		}
		last.upper = cut
		ranges = append(ranges, keyRange{lower: cut})
	}
	return ranges
}

// keyRange is [lower, upper); nil: no bound.
type keyRange struct{ lower, upper []byte }

func (r keyRange) below(k []byte) bool { return r.lower != nil && bytes.Compare(k, r.lower) < 0 }
func (r keyRange) past(k []byte) bool  { return r.upper != nil && bytes.Compare(k, r.upper) >= 0 }

// writeRange writes the tables of the keys in r.
func (s *bulkSink) writeRange(db *pebble.DB, r keyRange) ([]string, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: r.lower, UpperBound: r.upper})
	if err != nil {
		return nil, err
	}
	var (
		tables []string
		w      *sstable.Writer
		end    []byte // where the span of w's policy ends (nil: nowhere)
	)
	closeTable := func() error {
		if w == nil {
			return nil
		}
		err := w.Close()
		w = nil
		return err
	}
	err = s.merge(s.runs, s.marks, r, it, func(kind byte, k, val []byte) error {
		if kind == sinkDel {
			return nil // deleted: no older write of it is anywhere
		}
		if w != nil && (w.Raw().EstimatedSize() >= sinkTableBytes || end != nil && bytes.Compare(k, end) >= 0) {
			if err := closeTable(); err != nil {
				return err
			}
		}
		if w == nil {
			wo := s.wo
			if s.spans != nil {
				policy, until, err := s.spans(k)
				if err != nil {
					return err
				}
				end = until
				if policy.PreferFastCompression {
					wo.Compression = sstable.FastestCompression
				}
			}
			f, name, err := s.create(".sst")
			if err != nil {
				return err
			}
			tables = append(tables, name)
			w = sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
		}
		return w.Set(k, val)
	})
	if cerr := closeTable(); err == nil {
		err = cerr
	}
	return tables, err
}

// mergeSource is one sorted input of a merge: a run, or the store.
type mergeSource struct {
	next  func() (bool, error) // to the next record; false past the last
	close func() error
	rank  int // a later source's write of a key wins
	kind  byte
	key   []byte
	val   []byte
}

// runSource reads a run's records in kr in order, from the last of its
// marks at or before kr's start. A block is read compressed into *scratch,
// which the sources of one merge share (they load one at a time), and
// decoded into the source's own buffer, which its key and value point into:
// at 11M events a merge reads about 300 runs at once, and a compressed
// block kept per source was 9 MB of the build's heap at its peak.
func runSource(f vfs.File, rank int, marks []runMark, kr keyRange, scratch *[]byte) *mergeSource {
	var from int64
	if kr.lower != nil {
		for _, m := range marks {
			if bytes.Compare(m.key, kr.lower) > 0 {
				break
			}
			from = m.off
		}
	}
	r := io.NewSectionReader(f, from, 1<<62)
	src := &mergeSource{close: f.Close, rank: rank}
	var block []byte
	at := 0 // in block
	// load reads the next block; false at the run's end.
	load := func() (bool, error) {
		var size [4]byte
		if _, err := io.ReadFull(r, size[:]); err != nil {
			if err == io.EOF {
				return false, nil
			}
			return false, err
		}
		n := int(binary.LittleEndian.Uint32(size[:]))
		enc := slices.Grow((*scratch)[:0], n)[:n]
		*scratch = enc
		if _, err := io.ReadFull(r, enc); err != nil {
			return false, err
		}
		var err error
		block, err = minlz.Decode(block[:cap(block)], enc)
		at = 0
		return err == nil, err
	}
	read := func() (bool, error) {
		if at == len(block) {
			if ok, err := load(); !ok || len(block) == 0 {
				return false, err
			}
		}
		kind, k, val, n, ok := parseSinkRecord(block[at:])
		if !ok {
			return false, errors.New("a damaged record")
		}
		src.kind, src.key, src.val = kind, k, val
		at += n
		return true, nil
	}
	src.next = func() (bool, error) {
		for {
			ok, err := read()
			if !ok || kr.past(src.key) {
				return false, err
			}
			if !kr.below(src.key) {
				return true, nil
			}
		}
	}
	return src
}

// storeSource reads the store's keys in order, each a write.
func storeSource(it *pebble.Iterator, rank int) *mergeSource {
	src := &mergeSource{close: it.Close, rank: rank, kind: sinkSet}
	first := true
	src.next = func() (bool, error) {
		var ok bool
		if first {
			ok, first = it.First(), false
		} else {
			ok = it.Next()
		}
		if !ok {
			return false, it.Error()
		}
		src.key = it.Key()
		val, err := it.ValueAndErr()
		src.val = val
		return err == nil, err
	}
	return src
}

type mergeHeap []*mergeSource

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].rank > h[j].rank
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeSource)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// merge calls emit with each key in kr of the runs (oldest first, with
// their marks) and of the store's iterator it (when not nil; it is
// closed) in order, once, with its latest write.
func (s *bulkSink) merge(runs []string, marks [][]runMark, kr keyRange, it *pebble.Iterator, emit func(kind byte, k, val []byte) error) (err error) {
	h := make(mergeHeap, 0, len(runs)+1)
	defer func() {
		for _, src := range h {
			if cerr := src.close(); err == nil {
				err = cerr
			}
		}
	}()
	add := func(src *mergeSource, what string) error {
		ok, err := src.next()
		if !ok {
			cerr := src.close()
			if err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return nil
		}
		h = append(h, src)
		return nil
	}
	if it != nil {
		if err := add(storeSource(it, len(runs)), "the store"); err != nil {
			return err
		}
	}
	var scratch []byte // the runs' compressed blocks, one at a time
	for i, name := range runs {
		f, err := s.fs.Open(name)
		if err != nil {
			return err
		}
		if err := add(runSource(f, i, marks[i], kr, &scratch), filepath.Base(name)); err != nil {
			return err
		}
	}
	heap.Init(&h)
	var last []byte
	advance := func() error {
		src := h[0]
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
			return nil
		}
		heap.Pop(&h)
		return src.close()
	}
	for len(h) > 0 {
		if err := emit(h[0].kind, h[0].key, h[0].val); err != nil {
			return err
		}
		last = append(last[:0], h[0].key...)
		if err := advance(); err != nil {
			return err
		}
		for len(h) > 0 && bytes.Equal(h[0].key, last) {
			if err := advance(); err != nil {
				return err
			}
		}
	}
	return nil
}
