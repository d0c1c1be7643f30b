package projections

import (
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Builder applies events to views in log order and commits them, with the
// position reached, in batches that end between commands. The runner
// follows the log with one; verify rebuilds views from position 0 with one.
type Builder struct {
	v *Views
	t *tx
	// MaxBatch bounds the events of one batch.
	MaxBatch int
	// Committed, when set, is called after each commit with its position.
	Committed func(pos eventstore.Position)
	// Folded, when set, is called with each placement event Apply folds:
	// the placement's id, the event, its state just before it and just after it (after =
	// domain.Evolve(before, event), its processed numbers not yet dropped),
	// before the event is applied to the views: verify checks the event's
	// postings on them instead of folding every placement again. A caller
	// must not change what the states share (their slices, maps and
	// pointers). An event that Apply refuses before folding it (a stream
	// that does not start with its handover, a state it cannot read) is
	// not passed.
	Folded func(id uuid.UUID, rec journal.Record, before, after domain.Placement)
	// build, when set, is the background build the builder applies for;
	// otherwise the builder holds the views' applyMu from a batch's first
	// event to its commit.
	build *unitBuild
	// ahead is the state the runner's decoder read ahead for the next
	// event Apply applies (see readAhead).
	ahead stateAhead
}

// Builder returns a builder over the views.
func (v *Views) Builder() *Builder { return &Builder{v: v, MaxBatch: 2000} }

// Apply applies one event. A placement's event is decoded already (rec,
// with placement its id); any other event passes with placement uuid.Nil.
// A full batch is committed once its command has ended.
func (b *Builder) Apply(raw eventstore.RecordedEvent, placement uuid.UUID, rec journal.Record) error {
	if b.t == nil {
		if b.build != nil {
			b.t = b.v.beginAt(b.build.gens, b.build.states, b.build)
		} else {
			b.v.applyMu.Lock()
			b.t = b.v.begin()
		}
		b.t.folded = b.Folded
	}
	b.t.ahead, b.ahead = b.ahead, stateAhead{}
	err := b.t.apply(raw, placement, rec)
	b.t.ahead = stateAhead{}
	if err != nil {
		b.Abort()
		return err
	}
	if b.t.events >= b.MaxBatch && !b.t.midCommand {
		return b.commit()
	}
	return nil
}

// Flush commits what was applied, if the last command has ended; it
// reports whether nothing is left uncommitted.
func (b *Builder) Flush() (bool, error) {
	if b.t == nil || b.t.events == 0 {
		return true, nil
	}
	if b.t.midCommand {
		return false, nil
	}
	return true, b.commit()
}

func (b *Builder) commit() error {
	t := b.t
	b.t = nil
	if b.build == nil {
		defer b.v.applyMu.Unlock()
	}
	if err := t.commit(); err != nil {
		t.abort()
		return err
	}
	if b.build != nil {
		return nil
	}
	b.v.idem.prune(t.last)
	if b.Committed != nil {
		b.Committed(t.last)
	}
	return nil
}

// Abort drops what was applied and not committed.
func (b *Builder) Abort() {
	if b.t != nil {
		b.t.abort()
		b.t = nil
		if b.build == nil {
			b.v.applyMu.Unlock()
		}
	}
}

// Decode prepares a recorded event for Apply: a placement's event is
// decoded (event and metadata); others pass as they are. The metadata's
// hashes are left out: Apply reads the event's hash from the stored
// metadata as it is (journal.LastHash), in binary, where turning both
// into hexadecimal took two allocations an event.
func Decode(raw eventstore.RecordedEvent) (placement uuid.UUID, rec journal.Record, err error) {
	id, isPlacement := journal.PlacementID(raw.Stream)
	if !isPlacement {
		return uuid.Nil, journal.Record{}, nil
	}
	rec, err = journal.DecodeWithoutHashes(raw)
	return id, rec, err
}
