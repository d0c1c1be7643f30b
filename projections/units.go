package projections

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/collections-ledger/ledger/internal/pebbleutil"
)

// Unit is a read model: the tables it owns and the version of what they
// hold. Every table belongs to exactly one unit. When a unit's version
// changes, its tables alone are rebuilt from position 0, in the background
// while the views keep serving (see Runner), and swapped in at once.
// Adding a read model is adding its tables and a unit here.
type Unit struct {
	Name    string
	Version uint64
	Tables  []byte
	// Readable is the oldest version of the unit's tables this code can
	// read and keep applying to, and so serve while it rebuilds them (0:
	// any; version 0 is tables of unknown version, such as those of
	// layout 1). Raise it with a change of encoding the code cannot read
	// back: older tables are then rebuilt before the views serve.
	Readable uint64
	// FromEvents says the unit's rows come from each event and its
	// metadata alone, not from the placement's state: a build of such
	// units alone folds no states.
	FromEvents bool
}

// units is the list of read models. A unit's version changes whenever what
// its tables hold, or how, changes. The tables are grouped as the code that
// writes them is: a table written by two read models (the trial balance 't',
// by postings and remittances) makes them one unit.
var units = []Unit{
	// 2: the resource ('r') is rendered from the state when read, no longer
	// stored; 'r' stays listed so that version 1's is deleted with the rest.
	// 3: a state carries where its placement is in the change index (state
	// format 3), which changes version 2 no longer stores; version 2's
	// states are read, and the change index's row read for them. Bumped
	// with changes, so that both are rebuilt in one build: changes 2 swapped
	// in beside states of placements 2 would have no row for them.
	{Name: "placements", Version: 3, Readable: 2, Tables: []byte{tPlacement, tResource, tClaim, tList, tListStatus}},
	{Name: "search", Version: 1, Tables: []byte{tSearch}, FromEvents: true},
	// 2: feed items ('f') in binary (feedcodec.go); those of 1 (JSON) are
	// still read, so the feed serves while it rebuilds. 3: a creditor feed
	// row ('g') per command, not per item; the envelope ('e') marked every
	// envelopeNanos, not at every command (creditorfeed.go); a command's
	// several items in one row of the claim's feed ('f', feedRowFormat).
	// Version 2's rows, marks and items are still read.
	{Name: "feed", Version: 3, Tables: []byte{tFeed, tCreditorFeed, tEnvelope, tCreditor}},
	// 2: an entry once, in 'x'; 'y' says where it is (was a second copy).
	// 3: entries in binary (reconcilecodec.go); those of 2 (JSON) are still
	// read. 4: an entry booked on its value date is not in 'y' (found by
	// its booking time); version 3's, all in 'y', are still read.
	{Name: "reconciliation", Version: 4, Readable: 2, Tables: []byte{tReconcile, tReconcileVal}},
	// 2: an event's postings once, in binary ('j'); the trial balance from
	// per-account, per-day aggregates ('t'). 3: a claim account's postings
	// as a row per event in 't', written without reading (see addTrial);
	// version 2's aggregates sum with them, so its tables stay readable.
	// 4: an event booked on its value date writes its claim rows once, for
	// both bases (see rowBothBases); version 3's rows sum with them.
	{Name: "books", Version: 4, Readable: 2, Tables: []byte{tPosting, tTrial, tUnsettled, tRemittance, tRemittanceRev}},
	{Name: "holds", Version: 1, Tables: []byte{tHold}},
	{Name: "plans", Version: 1, Tables: []byte{tPlanBreak}},
	// 2: no per-placement row ('C' 'p'): the placement's state carries it
	// (see placements 3); version 1's rows are read for older states.
	{Name: "changes", Version: 2, Readable: 1, Tables: []byte{tChange}},
	{Name: "retention", Version: 1, Tables: []byte{tClosed, tClosedChange}},
	{Name: "idempotency", Version: 1, Tables: []byte{tIdempotency}, FromEvents: true},
	// 2: in binary (numbercodec.go); those of 1 (JSON) are still read.
	{Name: "numbers", Version: 2, Tables: []byte{tNumber}},
	{Name: "webhooks", Version: 1, Tables: []byte{tWebhook, tOutbox}},
}

// stateTables are the tables the applier reads back while it applies (a
// placement's state, a creditor's figures, its webhook): a background
// build keeps its own copy of those it does not rebuild, as scratch.
var stateTables = []byte{tPlacement, tCreditor, tWebhook}

// Units returns the read models, in the order of the list.
func Units() []Unit { return slices.Clone(units) }

// allTables lists every unit's tables in byte order.
func allTables() []byte {
	var ts []byte
	for _, u := range units {
		ts = append(ts, u.Tables...)
	}
	slices.Sort(ts)
	return ts
}

// Layout is the layout of the view store's own keys (below). 1 was one
// generation for every table, under "generation", with its checkpoint and
// version inside it; views of layout 1 open as if every unit had changed.
const Layout = 2

// lastSingleVersion is the last version the views of layout 1 had: views of
// layout 1 at that version hold what the units of this code's first
// versions hold, and keep serving while they are rebuilt; older ones are
// rebuilt before serving.
const lastSingleVersion = 11

// The view store's own keys (outside any generation, under metaPrefix):
//
//	"layout"        → Layout (8 bytes)
//	"checkpoint"    → the position every unit's tables reach (8 bytes)
//	"checkpoint-event" → the event at that position: its ID (16 bytes), revision (8 bytes) and stream (see CheckLog)
//	"unit/" name    → the unit's generation (4 bytes) and version (8 bytes)
//	"generations"   → the last generation handed out (8 bytes)
//	"pending"       → the generation a background build writes (4 bytes), until it is swapped in
//	"retired"       → generation (4 bytes) and table of each table swapped out and not yet deleted
//	"generation"    → (layout 1) the one generation
var (
	keyLayout          = metaKey("layout")
	keyCheckpoint      = metaKey("checkpoint")
	keyCheckpointEvent = metaKey("checkpoint-event")
	keyGenerations     = metaKey("generations")
	keyPending         = metaKey("pending")
	keyRetired         = metaKey("retired")
	keyGeneration      = metaKey("generation")
)

func unitKey(name string) []byte { return metaKey("unit/" + name) }

// generations gives each table the generation its keys are in.
type generations [256]uint32

// with returns a copy of g with tables in generation gen.
func (g *generations) with(tables []byte, gen uint32) *generations {
	n := *g
	for _, t := range tables {
		n[t] = gen
	}
	return &n
}

// unitState is a unit's generation and version as the store holds them.
type unitState struct {
	gen     uint32
	version uint64
}

func encodeUnit(s unitState) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, s.gen), s.version)
}

// loadLayout reads the store's units, generations and checkpoint, setting
// a fresh store up and converting one of layout 1; and it deletes what an
// interrupted background build or swap left behind.
func (v *Views) loadLayout() error {
	layout, err := v.getUint(keyLayout)
	if err != nil {
		return err
	}
	if layout == 0 {
		fresh, err := v.initLayout()
		if err != nil {
			return err
		}
		if fresh && v.opts.Bulk {
			// Built from nothing here: no placement has a state
			// stored but those this build writes.
			v.written = &idFilter{}
		}
	} else if layout != Layout {
		return fmt.Errorf("projections: the view store has layout %d, this code knows %d", layout, Layout)
	}
	if err := v.dropLeftovers(); err != nil {
		return err
	}
	g := &generations{}
	v.stored = map[string]unitState{}
	for _, u := range units {
		b, err := v.get(unitKey(u.Name))
		if err != nil {
			return err
		}
		var s unitState
		if len(b) == 12 {
			s = unitState{gen: binary.BigEndian.Uint32(b), version: binary.BigEndian.Uint64(b[4:])}
		} else if s.gen, err = v.newGeneration(); err != nil { // a unit new to this store: changed
			return err
		} else if err := v.db.Set(unitKey(u.Name), encodeUnit(s), v.syncOpts()); err != nil {
			return err
		}
		v.stored[u.Name] = s
		g = g.with(u.Tables, s.gen)
	}
	v.gens.Store(g)
	cp, err := v.getUint(keyCheckpoint)
	v.checkpoint.Store(cp)
	return err
}

// initLayout sets up the keys of this layout: for a fresh store, every unit
// at this code's version in generation 1; for one of layout 1, every unit
// in its generation at version 0 (changed), or, from before
// lastSingleVersion, in a fresh generation as if the store were new. fresh
// says the store held nothing.
func (v *Views) initLayout() (fresh bool, err error) {
	old, err := v.getUint(keyGeneration)
	if err != nil {
		return false, err
	}
	b := v.db.NewBatch()
	defer b.Close()
	gen, keepOld, cp := uint32(1), false, uint64(0)
	if old != 0 {
		oldGen := uint32(old)
		ver, err := v.getUint(key(nil, 'V').withGen(oldGen))
		if err != nil {
			return false, err
		}
		oldCp, err := v.getUint(key(nil, '!').withGen(oldGen))
		if err != nil {
			return false, err
		}
		if ver == lastSingleVersion && oldCp > 0 {
			gen, keepOld, cp = oldGen, true, oldCp // served while every unit is rebuilt
		} else if err := b.DeleteRange(key(nil, 0).withGen(oldGen), key(nil, 0).withGen(oldGen+1), nil); err != nil {
			return false, err
		} else {
			gen = oldGen + 1
		}
		for _, k := range [][]byte{keyGeneration, key(nil, 'V').withGen(oldGen), key(nil, '!').withGen(oldGen)} {
			if err := b.Delete(k, nil); err != nil {
				return false, err
			}
		}
	}
	for _, u := range units {
		s := unitState{gen: gen, version: u.Version}
		if keepOld {
			s.version = 0
		}
		if err := b.Set(unitKey(u.Name), encodeUnit(s), nil); err != nil {
			return false, err
		}
	}
	for _, kv := range [][2][]byte{{keyLayout, u64bytes(Layout)}, {keyCheckpoint, u64bytes(cp)}, {keyGenerations, u64bytes(uint64(gen))}} {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return false, err
		}
	}
	return old == 0, pebbleutil.Commit(b, v.syncOpts())
}

// withGen returns k (a key of generation 0) in generation gen.
func (k keyBuf) withGen(gen uint32) keyBuf {
	n := k.grow(0)
	binary.BigEndian.PutUint32(n, gen)
	return n
}

// newGeneration hands out a generation no table has used.
func (v *Views) newGeneration() (uint32, error) {
	last, err := v.getUint(keyGenerations)
	if err != nil {
		return 0, err
	}
	if last+1 >= 0xffffffff { // the last is metaPrefix
		return 0, fmt.Errorf("projections: the view store has used up its generations")
	}
	if err := v.db.Set(keyGenerations, u64bytes(last+1), v.syncOpts()); err != nil {
		return 0, err
	}
	return uint32(last + 1), nil
}

// dropLeftovers deletes the generation of a background build that did not
// finish (it starts over) and the tables a swap retired.
func (v *Views) dropLeftovers() error {
	b := v.db.NewBatch()
	defer b.Close()
	if p, err := v.get(keyPending); err != nil {
		return err
	} else if len(p) == 4 {
		gen := binary.BigEndian.Uint32(p)
		if err := b.DeleteRange(key(nil, 0).withGen(gen), key(nil, 0).withGen(gen+1), nil); err != nil {
			return err
		}
	}
	if err := v.deleteRetired(b); err != nil {
		return err
	}
	if err := b.Delete(keyPending, nil); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	return pebbleutil.Commit(b, v.syncOpts())
}

// deleteRetired adds to b the deletion of the retired tables.
func (v *Views) deleteRetired(b *pebble.Batch) error {
	r, err := v.get(keyRetired)
	if err != nil {
		return err
	}
	for ; len(r) >= 5; r = r[5:] {
		k := key(nil, r[4]).withGen(binary.BigEndian.Uint32(r))
		if err := b.DeleteRange(k, k.upper(), nil); err != nil {
			return err
		}
	}
	return b.Delete(keyRetired, nil)
}

// unreadable reports whether some of changed's tables are of a version
// older than the code can read (see Unit.Readable).
func (v *Views) unreadable(changed []Unit) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, u := range changed {
		if v.stored[u.Name].version < u.Readable {
			return true
		}
	}
	return false
}

// changedUnits lists the units whose tables another version built.
func (v *Views) changedUnits() []Unit {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Unit
	for _, u := range units {
		if v.stored[u.Name].version != u.Version {
			out = append(out, u)
		}
	}
	return out
}

// adopt marks changed units as built by this code, for views at checkpoint
// 0: they hold nothing, so nothing is to be rebuilt.
func (v *Views) adopt(changed []Unit) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	b := v.db.NewBatch()
	defer b.Close()
	for _, u := range changed {
		s := unitState{gen: v.stored[u.Name].gen, version: u.Version}
		if err := b.Set(unitKey(u.Name), encodeUnit(s), nil); err != nil {
			return err
		}
		v.stored[u.Name] = s
	}
	return pebbleutil.Commit(b, v.syncOpts())
}

// UnitGenerations returns the generation each unit's tables are in (for
// tests and tools: a rebuilt unit is in a new one).
func (v *Views) UnitGenerations() map[string]uint32 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]uint32{}
	for n, s := range v.stored {
		out[n] = s.gen
	}
	return out
}

// ChangedUnits names the units whose tables another version of the code
// built: the runner rebuilds them.
func (v *Views) ChangedUnits() []string {
	var out []string
	for _, u := range v.changedUnits() {
		out = append(out, u.Name)
	}
	return out
}

// Invalidate marks the units named as built by no version, so that the
// runner rebuilds them (ledger rebuild -units).
func (v *Views) Invalidate(names ...string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	b := v.db.NewBatch()
	defer b.Close()
	for _, name := range names {
		s, ok := v.stored[name]
		if !ok {
			return fmt.Errorf("projections: no unit %q (the units: %s)", name, unitNames())
		}
		s.version = 0
		if err := b.Set(unitKey(name), encodeUnit(s), nil); err != nil {
			return err
		}
		v.stored[name] = s
	}
	return pebbleutil.Commit(b, v.syncOpts())
}

func unitNames() string {
	var names []string
	for _, u := range units {
		names = append(names, u.Name)
	}
	return strings.Join(names, ", ")
}
