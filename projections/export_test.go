package projections

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// MutateEntryPostings replaces the postings rule reconciliation entries
// read (not the one the trial balance reads) with mutate applied to what
// domain.Postings gives, for a test, and returns a function that restores
// it.
func MutateEntryPostings(mutate func(e domain.Event, ps []domain.Posting) []domain.Posting) func() {
	old := entryPostings
	entryPostings = func(e domain.Event, ps []domain.Posting) []domain.Posting {
		return mutate(e, slices.Clone(ps)) // not the trial balance's
	}
	return func() { entryPostings = old }
}

// SetVersionForTest marks every unit of the views in dir as built by
// version, as a store left by an older ledger would be.
func SetVersionForTest(dir string, version uint64) error {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return err
	}
	defer v.Close()
	for _, u := range units {
		if err := v.db.Set(unitKey(u.Name), encodeUnit(unitState{gen: v.stored[u.Name].gen, version: version}), v.syncOpts()); err != nil {
			return err
		}
	}
	return nil
}

// SetChangesVersion1ForTest turns the views in dir into what placements
// version 2 and changes version 1 left: every state in format 2 (not
// knowing where its placement is in the change index) and the change
// index's row of each placement ('C' 'p'), marked as built by those
// versions; and returns how many states it rewrote.
func SetChangesVersion1ForTest(dir string) (int, error) {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return 0, err
	}
	defer v.Close()
	gens := v.generation()
	b := v.db.NewBatch()
	defer b.Close()
	prefix := key(gens, tPlacement)
	n := 0
	err = v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		var st placementState
		if err := decodeState(val, &st); err != nil || !st.ChangeKnown {
			return false, fmt.Errorf("a state of format %d: %w", val[0], err)
		}
		id := uuid.UUID(k[len(prefix):])
		if st.Change != (changeAt{}) {
			if err := b.Set(key(gens, tChange).b(changeOfPlacement).id(id), st.Change[:], nil); err != nil {
				return false, err
			}
		}
		st.ChangeKnown, st.Change = false, changeAt{}
		enc, err := encodeState(nil, &st)
		if err != nil || enc[0] != stateFormat2 {
			return false, fmt.Errorf("re-encoded as format %d: %w", enc[0], err)
		}
		n++
		return true, b.Set(k, enc, nil)
	})
	if err != nil {
		return 0, err
	}
	for name, version := range map[string]uint64{"placements": 2, "changes": 1} {
		if err := b.Set(unitKey(name), encodeUnit(unitState{gen: v.stored[name].gen, version: version}), nil); err != nil {
			return 0, err
		}
	}
	return n, b.Commit(v.syncOpts())
}

// StateFormats counts the views' placement states by their format byte.
func StateFormats(v *Views) (map[byte]int, error) {
	out := map[byte]int{}
	prefix := key(v.generation(), tPlacement)
	err := v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		out[val[0]]++
		return true, nil
	})
	return out, err
}

// SetUnitVersionForTest makes this code's version of the unit name
// version, and returns a function that restores it. Call both while no
// runner runs.
func SetUnitVersionForTest(name string, version uint64) func() {
	return SetUnitForTest(name, version, 0)
}

// SetBooksVersion2ForTest makes the books write every trial-balance account
// as an aggregate, as their version 2 did, and their version 2.
func SetBooksVersion2ForTest() func() {
	restore := SetUnitForTest("books", 2, 2)
	claimRows = false
	return func() { restore(); claimRows = true }
}

// SetUnitForTest is SetUnitVersionForTest that also sets the oldest
// version of the unit's tables the code reads.
func SetUnitForTest(name string, version, readable uint64) func() {
	for i := range units {
		if units[i].Name == name {
			old := units[i]
			units[i].Version, units[i].Readable = version, readable
			return func() { units[i] = old }
		}
	}
	panic("projections: no unit " + name)
}

// SetLayoutOneForTest rewrites the meta keys of the views in dir as layout
// 1 had them: one generation, its checkpoint and version inside it.
func SetLayoutOneForTest(dir string, version uint64) error {
	v, err := OpenViews(dir, ViewsOptions{})
	if err != nil {
		return err
	}
	defer v.Close()
	gen := v.stored[units[0].Name].gen
	for _, u := range units {
		if v.stored[u.Name].gen != gen {
			return fmt.Errorf("unit %s is in generation %d, not %d", u.Name, v.stored[u.Name].gen, gen)
		}
		if err := v.db.Delete(unitKey(u.Name), v.syncOpts()); err != nil {
			return err
		}
	}
	for _, kv := range [][2][]byte{
		{keyGeneration, u64bytes(uint64(gen))},
		{key(nil, 'V').withGen(gen), u64bytes(version)},
		{key(nil, '!').withGen(gen), u64bytes(v.checkpoint.Load())},
	} {
		if err := v.db.Set(kv[0], kv[1], v.syncOpts()); err != nil {
			return err
		}
	}
	for _, k := range [][]byte{keyLayout, keyCheckpoint, keyGenerations} {
		if err := v.db.Delete(k, v.syncOpts()); err != nil {
			return err
		}
	}
	return nil
}

// TableBytesForTest lists the table bytes the keys of the views in dir use.
func TableBytesForTest(v *Views) ([]byte, error) {
	seen := map[byte]bool{}
	it, err := v.db.NewIter(&pebble.IterOptions{UpperBound: metaPrefix})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		seen[it.Key()[4]] = true
	}
	var out []byte
	for b := range seen {
		out = append(out, b)
	}
	slices.Sort(out)
	return out, it.Error()
}

// SetSaveBatchBytes sets the size at which SaveStates commits a batch, for a
// test, and returns a function that restores it.
func SetSaveBatchBytes(n int) func() {
	old := saveBatchBytes
	saveBatchBytes = n
	return func() { saveBatchBytes = old }
}

// SetBuildPaceForTest makes background builds read events at a time and
// pause after each read, and stop the runner to finish when gap events
// behind it; it returns a function that restores the defaults.
func SetBuildPaceForTest(events int, pause time.Duration, gap int) func() {
	oldRead, oldPause, oldGap := readBatch, buildPause, closeGap
	readBatch, buildPause, closeGap = events, pause, eventstore.Position(gap)
	return func() { readBatch, buildPause, closeGap = oldRead, oldPause, oldGap }
}

// GenerationsForTest lists the generations the keys of v's tables are in.
func GenerationsForTest(v *Views) (map[uint32]bool, error) {
	out := map[uint32]bool{}
	it, err := v.db.NewIter(&pebble.IterOptions{UpperBound: metaPrefix})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.SeekGE(key(nil, 0).withGen(binary.BigEndian.Uint32(it.Key()) + 1)) {
		out[binary.BigEndian.Uint32(it.Key())] = true
	}
	return out, it.Error()
}

// PlanBreakKeysVisited reads the plan-breaking index as PlansDue does at
// now and returns the keys the store's iterator yielded and the internal
// keys (deleted ones too) it stepped over to find them, for a test of what
// a run costs.
func PlanBreakKeysVisited(v *Views, now time.Time) (yielded int, internal uint64, err error) {
	lower, upper := plansDueBounds(v.generation(), now)
	it, err := v.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, 0, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		yielded++
	}
	st := it.Stats()
	return yielded, st.InternalStats.PointCount, it.Close()
}

// TablesForTest tells how many tables of the views are in L0 and, for each
// compression setting ("Snappy", "ZSTD3", …, from the tables' compression
// statistics), how many tables hold blocks stored with it.
func TablesForTest(v *Views) (l0 int, settings map[string]int, err error) {
	levels, err := v.db.SSTables(pebble.WithProperties())
	if err != nil {
		return 0, nil, err
	}
	settings = map[string]int{}
	for level, tables := range levels {
		for _, tb := range tables {
			if level == 0 {
				l0++
			}
			// "<setting>:<compressed>/<uncompressed>,…"
			for _, part := range strings.Split(tb.Properties.CompressionStats, ",") {
				if name, _, ok := strings.Cut(part, ":"); ok {
					settings[name]++
				}
			}
		}
	}
	return l0, settings, nil
}

// CompressionProfilesForTest names the compression profile of each level of
// views opened with opts.
func CompressionProfilesForTest(opts ViewsOptions) []string {
	po := pebbleOptions(opts, nil)
	var out []string
	for _, l := range po.Levels {
		name := "Pebble's default"
		if l.Compression != nil {
			name = l.Compression().Name
		}
		out = append(out, name)
	}
	return out
}

// SetBulkForTest sets a bulk build's memtable size and L0 bound, for a
// test, and returns a function that restores them.
func SetBulkForTest(memTable uint64, sublevels int32) func() {
	oldMem, oldSub := bulkMemTableSize, bulkMaxSublevels
	bulkMemTableSize, bulkMaxSublevels = memTable, sublevels
	return func() { bulkMemTableSize, bulkMaxSublevels = oldMem, oldSub }
}

// LevelsForTest tells how deep L0 of the views is and how many tables the
// bottom level holds.
func LevelsForTest(v *Views) (l0Sublevels int32, bottomTables int64) {
	m := v.db.Metrics()
	return m.Levels[0].Sublevels, m.Levels[len(m.Levels)-1].TablesCount
}

// SetSinkForTest sets how much a bulk build's sink keeps in memory before
// it writes a run, and how many runs a merge reads.
func SetSinkForTest(runBytes, fanIn int) func() {
	oldRun, oldFan := sinkRunBytes, sinkFanIn
	sinkRunBytes, sinkFanIn = runBytes, fanIn
	return func() { sinkRunBytes, sinkFanIn = oldRun, oldFan }
}

// SinkForTest tells whether a bulk build's sink holds keys not yet in the
// store, how many it took, and how many runs it wrote.
func SinkForTest(v *Views) (pending bool, keys int64, runs int) {
	if v.sink == nil {
		return false, 0, 0
	}
	return true, v.sink.keys, len(v.sink.runs)
}

// WrittenFilterForTest tells whether a bulk build keeps the filter of the
// states it wrote (idFilter), and how many states its cache's maps hold.
func WrittenFilterForTest(v *Views) (kept bool, cached int) {
	cached = len(v.states.byID)
	if v.states.enc != nil {
		cached += len(v.states.enc.byID)
	}
	return v.written != nil, cached
}

// WithoutSinkForTest makes bulk builds write every key through Pebble.
func WithoutSinkForTest() func() {
	bulkSorts = false
	return func() { bulkSorts = true }
}

// StateReads counts the applier's reads of placement states from the store.
func (v *Views) StateReads() uint64 { return v.stateReads.Load() }

// StatesReadAhead counts the states the applier took from those a decoder
// read ahead.
func (v *Views) StatesReadAhead() uint64 { return v.statesAhead.Load() }

// ReadsAhead counts the decoders' reads of states from the store.
func (v *Views) ReadsAhead() uint64 { return v.readsAhead.Load() }

// SetFeedVersion2ForTest makes the feed write its creditor feed and its
// envelope as its version 2 did, and its version 2.
func SetFeedVersion2ForTest() func() {
	restore := SetUnitForTest("feed", 2, 0)
	feedVersion2 = true
	return func() { restore(); feedVersion2 = false }
}

// SetReconcileVersion3ForTest makes the reconciliation index every entry by
// its value date, as its version 3 did, and its version 3.
func SetReconcileVersion3ForTest() func() {
	restore := SetUnitForTest("reconciliation", 3, 2)
	reconcileVersion3 = true
	return func() { restore(); reconcileVersion3 = false }
}

// SetBooksVersion3ForTest makes the books write an event's claim rows on
// each basis, as their version 3 did, and their version 3.
func SetBooksVersion3ForTest() func() {
	restore := SetUnitForTest("books", 3, 2)
	rowsOncePerBasis = false
	return func() { restore(); rowsOncePerBasis = true }
}

// SetBooksAfterForTest makes a batch hand its books to a worker once it has
// applied n events (see booksWorker), until the returned function restores
// the threshold.
func SetBooksAfterForTest(n int) func() {
	old := booksAfter
	booksAfter = n
	return func() { booksAfter = old }
}
