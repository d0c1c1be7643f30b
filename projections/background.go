package projections

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/pebbleutil"
)

// unitBuild builds the tables of changed units from position 0 into a new
// generation while the runner keeps the current ones up to date and the
// reads use them. It applies events with the runner's code, keeping only
// the changed units' tables and, as scratch, the state tables it reads
// back (its own placement states, creditor figures and webhooks). Once it
// reaches the runner's checkpoint it swaps its tables in (see finish). Its
// generation is "pending" until then: a store reopened before the swap
// drops it, and the build starts over.
type unitBuild struct {
	v      *Views
	store  eventstore.Store
	logger *slog.Logger
	units  []Unit
	gen    uint32
	gens   *generations // every table in gen
	keep   [256]bool    // the tables written: the units' and the state tables
	own    [256]bool    // the units' tables (see tx.builds)
	// stateless: every unit's rows come from the events alone
	// (Unit.FromEvents), so the build folds no states.
	stateless bool
	states    *stateCache
	trials    *trialCache
	// maxBatch bounds the events of one commit.
	maxBatch int
	// position is where the build stands (applied, not always committed);
	// target the runner's checkpoint it is heading for.
	position, target atomic.Uint64
}

// readBatch is how many events a build reads from the log at a time, and
// commits at most; closeGap how far behind the runner it may be when it
// stops the runner to finish; buildPause a pause after each read
// (variables for tests that slow a build down, to run commands while it
// runs).
var (
	readBatch  = 2000
	closeGap   = eventstore.Position(2000)
	buildPause time.Duration
	maxPasses  = 8
)

// newBuild starts a build of units in a new generation, marked pending.
func (v *Views) newBuild(store eventstore.Store, logger *slog.Logger, changed []Unit) (*unitBuild, error) {
	gen, err := v.newGeneration()
	if err != nil {
		return nil, err
	}
	if err := v.db.Set(keyPending, binary.BigEndian.AppendUint32(nil, gen), v.syncOpts()); err != nil {
		return nil, err
	}
	b := &unitBuild{v: v, store: store, logger: logger, units: changed, gen: gen, gens: (&generations{}).with(allTables(), gen),
		states: newStateCache(v.opts.States, v.opts.StateBytes), trials: newTrialCache(), maxBatch: readBatch}
	for _, t := range stateTables {
		b.keep[t] = true
	}
	b.stateless = true
	for _, u := range changed {
		for _, t := range u.Tables {
			b.keep[t], b.own[t] = true, true
		}
		b.stateless = b.stateless && u.FromEvents
	}
	return b, nil
}

func (b *unitBuild) names() []string {
	var out []string
	for _, u := range b.units {
		out = append(out, u.Name)
	}
	return out
}

// run builds the units up to the runner's checkpoint and swaps them in.
// The runner must be applying (or have applied) the log meanwhile.
func (b *unitBuild) run(ctx context.Context) error {
	start, lastLog := time.Now(), time.Now()
	var pos eventstore.Position
	// Each pass catches up with where the runner was when it began; a
	// runner the build does not gain on is held for the rest after a few.
	for pass := 0; ; pass++ {
		live := b.v.Checkpoint()
		b.target.Store(uint64(live))
		if live-pos <= closeGap || pass == maxPasses {
			break
		}
		next, err := b.applyTo(ctx, pos, live, &lastLog)
		if err != nil {
			return err
		}
		pos = next
	}
	// Most states now, so that few are left to write while the runner waits.
	if err := b.saveStates(); err != nil {
		return err
	}
	if err := b.finish(ctx, pos, &lastLog); err != nil {
		return err
	}
	b.logger.Info("views rebuilt in the background and swapped in", "units", b.names(), "position", b.position.Load(),
		"seconds", time.Since(start).Seconds())
	return nil
}

// finish holds the runner between two batches, applies what is left up to
// its checkpoint, and swaps the units' tables in.
func (b *unitBuild) finish(ctx context.Context, pos eventstore.Position, lastLog *time.Time) error {
	b.v.applyMu.Lock()
	defer b.v.applyMu.Unlock()
	live := b.v.Checkpoint()
	b.target.Store(uint64(live))
	if _, err := b.applyTo(ctx, pos, live, lastLog); err != nil {
		return err
	}
	if err := b.saveStates(); err != nil {
		return err
	}
	return b.swap()
}

// saveStates writes the placement states the build keeps only in memory
// (like a bulk build, it writes a state back when its cache lets it go, not
// with every batch), when the build is of the placements' tables.
func (b *unitBuild) saveStates() error {
	if !b.rebuilds(tPlacement) {
		return nil
	}
	t := b.v.beginAt(b.gens, b.states, b)
	err := b.states.unsavedStates(func(id uuid.UUID, st *placementState, enc []byte) error {
		if err := t.writeCached(id, st, enc); err != nil {
			return err
		}
		if t.b.Len() < saveBatchBytes {
			return nil
		}
		if err := b.commit(t); err != nil {
			return err
		}
		t.b = b.v.db.NewBatch()
		return nil
	})
	if err == nil {
		err = b.commit(t)
	}
	if err != nil {
		_ = t.b.Close()
	}
	return err
}

// rebuilds reports whether the build is of table's unit.
func (b *unitBuild) rebuilds(table byte) bool {
	for _, u := range b.units {
		if slices.Contains(u.Tables, table) {
			return true
		}
	}
	return false
}

// applyTo applies the log's events after from up to to (a checkpoint of the
// runner's, so between commands), and commits them.
func (b *unitBuild) applyTo(ctx context.Context, from, to eventstore.Position, lastLog *time.Time) (eventstore.Position, error) {
	builder := &Builder{v: b.v, MaxBatch: b.maxBatch, build: b}
	defer builder.Abort()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pos := from
	for batch := range b.read(ctx, from, to) {
		if batch.err != nil {
			return pos, batch.err
		}
		for _, d := range batch.events {
			if d.err != nil {
				return pos, d.err
			}
			builder.ahead = d.ahead
			if err := builder.Apply(d.raw, d.placement, d.rec); err != nil {
				return pos, err
			}
			pos = d.raw.Position
		}
		b.position.Store(uint64(pos))
		if time.Since(*lastLog) >= 5*time.Second {
			*lastLog = time.Now()
			b.logger.Info("rebuilding views in the background", "units", b.names(), "position", pos, "target", to)
		}
	}
	if err := ctx.Err(); err != nil {
		return pos, err
	}
	if done, err := builder.Flush(); err != nil {
		return pos, err
	} else if !done {
		return pos, fmt.Errorf("projections: rebuild %v: position %d is in the middle of a command", b.names(), pos)
	}
	return pos, nil
}

// decodedBatch is a batch of the log a build reads, decoded; or the error
// that ended the reading.
type decodedBatch struct {
	events []decodedEvent
	err    error
}

// read reads the log after from up to to and decodes it, a batch ahead of
// the build: the next batch is decoded while the build applies this one
// (a unit rebuilt alone applies little more than the placements' states,
// and then waited for the decoding as long as it applied). The channel
// closes once to is reached, on an error (the last batch sent) or when ctx
// ends.
func (b *unitBuild) read(ctx context.Context, from, to eventstore.Position) <-chan decodedBatch {
	out := make(chan decodedBatch, 1)
	go func() {
		defer close(out)
		send := func(d decodedBatch) bool {
			select {
			case out <- d:
				return true
			case <-ctx.Done():
				return false
			}
		}
		var recent *recentEvents
		for pos := from; pos < to; {
			evs, err := b.store.ReadAll(ctx, pos, readBatch)
			if err != nil {
				send(decodedBatch{err: fmt.Errorf("projections: rebuild %v: read the log: %w", b.names(), err)})
				return
			}
			if buildPause > 0 {
				time.Sleep(buildPause)
			}
			if len(evs) == 0 {
				send(decodedBatch{err: fmt.Errorf("projections: rebuild %v: the log ends at %d, before the views' checkpoint %d", b.names(), pos, to)})
				return
			}
			var ahead func(*decodedEvent)
			if !b.stateless {
				ahead = func(d *decodedEvent) { b.v.readAhead(b.states, b.gens, d) }
				if recent == nil {
					recent = newRecentEvents(b.states)
				}
			}
			events := decodeAll(evs, to, b.stateless, ahead, recent)
			if len(events) == 0 || !send(decodedBatch{events: events}) {
				return
			}
			pos = events[len(events)-1].raw.Position
		}
	}()
	return out
}

// decodeAll decodes the events up to position to, on as many goroutines as
// there are processors (decoding is much of what applying costs), and
// with ahead, when not nil, reads their placements' states ahead (see
// readAhead). For a stateless build (see unitBuild), whose units take from
// a placement's events only its opening and their metadata, it decodes no
// other event's data.
func decodeAll(evs []eventstore.RecordedEvent, to eventstore.Position, stateless bool, ahead func(*decodedEvent), recent *recentEvents) []decodedEvent {
	decode := decode
	if stateless {
		decode = decodeForEventsAlone
	}
	n := 0
	for n < len(evs) && evs[n].Position <= to {
		n++
	}
	var held []bool
	if ahead != nil && recent != nil {
		held = make([]bool, n)
		for i := range held {
			held[i] = recent.held(evs[i])
		}
	}
	out := make([]decodedEvent, n)
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				out[i] = decode(evs[i])
				if ahead != nil && (held == nil || !held[i]) {
					ahead(&out[i])
				}
			}
		})
	}
	wg.Wait()
	return out
}

// commit writes what a batch of the build keeps: its tables, not the
// checkpoint (the runner's).
func (b *unitBuild) commit(t *tx) error {
	out := b.v.db.NewBatch()
	defer out.Close()
	r := t.b.Reader()
	for {
		kind, k, val, ok, err := r.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if len(k) < 5 || !b.keep[k[4]] {
			continue
		}
		switch kind {
		case pebble.InternalKeyKindSet:
			err = out.Set(k, val, nil)
		case pebble.InternalKeyKindDelete:
			err = out.Delete(k, nil)
		case pebble.InternalKeyKindSingleDelete:
			err = out.SingleDelete(k, nil)
		case pebble.InternalKeyKindRangeDelete:
			err = out.DeleteRange(k, val, nil)
		default:
			err = fmt.Errorf("projections: a batch of the views holds a %s", kind)
		}
		if err != nil {
			return err
		}
	}
	if err := pebbleutil.Commit(out, pebble.NoSync); err != nil {
		return fmt.Errorf("projections: write the views: %w", err)
	}
	return t.b.Close()
}

// swap makes the build's tables the units' (the runner is held between
// batches, and the build has reached its checkpoint). One batch, synced,
// sets the units' generations and versions, deletes the scratch tables and
// the pending mark, and retires the units' old tables; they are deleted a
// while later (dropRetired), as reads that took the old generations just
// before may still be reading them.
func (b *unitBuild) swap() error {
	v := b.v
	old := v.generation()
	batch := v.db.NewBatch()
	defer batch.Close()
	retired, err := v.get(keyRetired)
	if err != nil {
		return err
	}
	var rebuilt []byte
	for _, u := range b.units {
		if err := batch.Set(unitKey(u.Name), encodeUnit(unitState{gen: b.gen, version: u.Version}), nil); err != nil {
			return err
		}
		for _, t := range u.Tables {
			retired = append(binary.BigEndian.AppendUint32(retired, old[t]), t)
		}
		rebuilt = append(rebuilt, u.Tables...)
	}
	for _, t := range stateTables {
		if old.with(rebuilt, b.gen)[t] != b.gen {
			if err := batch.DeleteRange(key(b.gens, t), key(b.gens, t).upper(), nil); err != nil {
				return err
			}
		}
	}
	if err := batch.Set(keyRetired, retired, nil); err != nil {
		return err
	}
	if err := batch.Delete(keyPending, nil); err != nil {
		return err
	}
	if err := pebbleutil.Commit(batch, v.syncOpts()); err != nil {
		return fmt.Errorf("projections: swap the rebuilt views in: %w", err)
	}
	v.mu.Lock()
	for _, u := range b.units {
		v.stored[u.Name] = unitState{gen: b.gen, version: u.Version}
	}
	v.mu.Unlock()
	v.gens.Store(old.with(rebuilt, b.gen))
	if b.rebuilds(tPlacement) {
		v.states.clear() // the runner's states are of the tables swapped out
	}
	if b.rebuilds(tTrial) {
		v.trials.clear() // and so are its trial-balance aggregates
	}
	return nil
}

// dropRetired deletes the tables swaps retired.
func (v *Views) dropRetired() error {
	b := v.db.NewBatch()
	defer b.Close()
	if err := v.deleteRetired(b); err != nil {
		return err
	}
	return pebbleutil.Commit(b, v.syncOpts())
}
