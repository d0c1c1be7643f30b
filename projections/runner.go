package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Runner feeds the views from the log, from their checkpoint on, and says
// how far it got.
type Runner struct {
	store  eventstore.Store
	Views  *Views
	logger *slog.Logger
	// MaxBatch bounds the events applied in one batch (one commit).
	MaxBatch int
	// Progress, when set, is called after each commit with the position
	// reached and the head the runner started towards.
	Progress func(pos, head eventstore.Position)
	// Once makes Run return once the views have caught up with the log as it
	// was when Run started (tools that rebuild or catch up, then read).
	Once bool

	mu       sync.Mutex
	position eventstore.Position
	target   eventstore.Position // the head at start-up: ready once reached
	ready    bool
	err      error
	changed  chan struct{} // closed and replaced when position moves and someone waits
	waiting  bool

	// build is the background build of changed units, if one runs;
	// built is closed when none runs (any more), buildErr says why one
	// stopped short. buildFirst: some of them are of a version the code
	// cannot read, so the build runs before the runner applies or is ready.
	build      *unitBuild
	buildFirst bool
	built      chan struct{}
	buildErr   error
}

// NewRunner returns a runner over store feeding views.
func NewRunner(store eventstore.Store, views *Views, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	built := make(chan struct{})
	close(built)
	return &Runner{store: store, Views: views, logger: logger, MaxBatch: 2000, changed: make(chan struct{}), built: built}
}

// Run brings the views up to date and keeps them so until ctx ends or an
// event cannot be applied (then Err says why and the views stay at the last
// committed position). The tables of units another version built are
// rebuilt from position 0 in the background meanwhile, and swapped in when
// they reach the views (see unitBuild); the views serve the current ones
// until then. With Once, Run returns once the views have caught up and
// that rebuild is done.
func (r *Runner) Run(ctx context.Context) error {
	from, caughtUp, err := r.begin(ctx)
	if err != nil {
		return r.fail(err)
	}
	if r.Once {
		if !caughtUp {
			if err := r.follow(ctx, from); err != nil {
				return err
			}
		}
		return r.runBuild(ctx)
	}
	if r.buildFirst {
		r.logger.Warn("some views are of a version this code cannot read: rebuilding them before serving")
		if err := r.runBuild(ctx); err != nil {
			return r.fail(err)
		}
		r.committed(r.Views.Checkpoint()) // ready, if caught up
	}
	ctx, cancel := context.WithCancel(ctx)
	if r.build != nil && !r.buildFirst {
		go func() { _ = r.runBuild(ctx) }()
	}
	defer func() {
		cancel()
		<-r.built
	}()
	return r.follow(ctx, from)
}

// runBuild runs the background build, if there is one, to its end.
func (r *Runner) runBuild(ctx context.Context) error {
	if r.build == nil {
		return nil
	}
	err := r.build.run(ctx)
	if rerr := r.build.states.release(); err == nil {
		err = rerr
	}
	if err == nil {
		// Reads that took the old generations just before the swap end
		// well within this; what a stop leaves, the next start deletes.
		// With Once, nobody reads before Run returns; before the runner
		// is ready, the views are not to be read.
		grace := RetireAfter
		if r.Once || r.buildFirst {
			grace = 0
		}
		select {
		case <-time.After(grace):
			err = r.Views.dropRetired()
		case <-ctx.Done():
		}
	} else if ctx.Err() == nil {
		r.logger.Error("the background rebuild of the views stopped; they serve the tables they had", "units", r.build.names(), "err", err)
	}
	r.mu.Lock()
	r.build, r.buildErr = nil, err
	close(r.built)
	r.mu.Unlock()
	return err
}

// RetireAfter is how long the tables a background rebuild swapped out stay
// readable after the swap.
var RetireAfter = 2 * time.Second

// follow applies the log from position from on until ctx ends (with Once,
// until the views reach the head begin saw).
func (r *Runner) follow(ctx context.Context, from eventstore.Position) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := r.store.SubscribeAll(ctx, from)
	if err != nil {
		return r.fail(fmt.Errorf("projections: subscribe: %w", err))
	}
	defer sub.Close()
	var ahead func(*decodedEvent)
	var recent *recentEvents
	if r.Views.opts.Bulk {
		ahead = func(d *decodedEvent) { r.Views.readAhead(r.Views.states, r.Views.generation(), d) }
		recent = newRecentEvents(r.Views.states)
	}
	out, recvErr := decodeInParallel(ctx, sub, max(1, runtime.GOMAXPROCS(0)), ahead, recent)
	return r.applyAll(out, recvErr)
}

// begin checks that the views were built from this log (see CheckLog),
// readies them (preparing the background rebuild of the units
// another version built) and records where the runner starts, at the
// views' checkpoint, and the head it is ready at, the log's head now. It
// returns the checkpoint and whether the views have caught up already.
func (r *Runner) begin(ctx context.Context) (from eventstore.Position, caughtUp bool, err error) {
	if err := r.Views.CheckLog(ctx, r.store); err != nil {
		return 0, false, err
	}
	if changed := r.Views.changedUnits(); len(changed) > 0 && r.Views.Checkpoint() == 0 {
		// Nothing is built yet: the runner builds them as it goes.
		if err := r.Views.adopt(changed); err != nil {
			return 0, false, err
		}
	} else if len(changed) > 0 {
		b, err := r.Views.newBuild(r.store, r.logger, changed)
		if err != nil {
			return 0, false, err
		}
		r.logger.Warn("views built by another version of the ledger: rebuilding them in the background, serving the current ones meanwhile",
			"units", b.names())
		r.mu.Lock()
		r.build, r.built, r.buildFirst = b, make(chan struct{}), r.Views.unreadable(changed)
		r.mu.Unlock()
	}
	from = r.Views.Checkpoint()
	head, err := r.store.Head(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("projections: read the log's head: %w", err)
	}
	r.mu.Lock()
	r.position, r.target = from, head
	r.ready = from >= head && !r.buildFirst
	r.wake()
	r.mu.Unlock()
	if from >= head && !r.buildFirst {
		r.logger.Info("projections caught up", "position", from)
	}
	return from, from >= head, nil
}

// decodeInParallel receives sub's events and decodes them on workers
// goroutines, until sub ends or ctx does. Decoding is the expensive part of
// applying an event, so it fans out: the receiver hands records round-robin
// to one decoder each, and out[i] gives back the decoder i's results in
// order, so reading out round-robin from out[0] yields the events in log
// order. Every out[i] is closed once the subscription ends; recvErr then
// holds why it ended (nil when ctx ended or sub was closed).
func decodeInParallel(ctx context.Context, sub eventstore.Subscription, workers int, ahead func(*decodedEvent), recent *recentEvents) (out []chan decodedEvent, recvErr chan error) {
	in := make([]chan received, workers)
	out = make([]chan decodedEvent, workers)
	for i := range workers {
		in[i] = make(chan received, 256)
		out[i] = make(chan decodedEvent, 256)
		go func() {
			defer close(out[i])
			for r := range in[i] {
				d := decode(r.rec)
				if ahead != nil && !r.held {
					ahead(&d)
				}
				select {
				case out[i] <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	recvErr = make(chan error, 1)
	go func() {
		defer func() {
			for _, c := range in {
				close(c)
			}
		}()
		for i := 0; ; i = (i + 1) % workers {
			rec, err := sub.Recv()
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, eventstore.ErrClosed) {
					err = nil
				}
				recvErr <- err
				return
			}
			held := recent != nil && recent.held(rec)
			select {
			case in[i] <- received{rec: rec, held: held}:
			case <-ctx.Done():
				recvErr <- nil
				return
			}
		}
	}()
	return out, recvErr
}

// received is an event handed to a decoder, with whether its placement's
// state will be in the applier's cache when the applier comes to it (see
// recentEvents): then it is not read ahead.
type received struct {
	rec  eventstore.RecordedEvent
	held bool
}

// applyAll applies the decoded events of out (see decodeInParallel) in log
// order, in batches committed whenever the decoders fall behind, until the
// subscription ends or, with Once, the views have reached the head the
// runner started towards. An event that cannot be decoded or applied stops
// it (through fail) with the batch not yet committed abandoned.
func (r *Runner) applyAll(out []chan decodedEvent, recvErr <-chan error) error {
	b := r.Views.Builder()
	b.MaxBatch = r.MaxBatch
	b.Committed = r.committed
	defer b.Abort()
	for i := 0; ; i = (i + 1) % len(out) {
		var d decodedEvent
		var ok bool
		select {
		case d, ok = <-out[i]:
		default:
			// Nothing decoded yet: a good moment to commit, between commands.
			if _, err := b.Flush(); err != nil {
				return r.fail(err)
			}
			d, ok = <-out[i]
		}
		if !ok {
			if err := <-recvErr; err != nil {
				return r.fail(fmt.Errorf("projections: subscription ended: %w", err))
			}
			return nil
		}
		if d.err != nil {
			return r.fail(d.err)
		}
		b.ahead = d.ahead
		if err := b.Apply(d.raw, d.placement, d.rec); err != nil {
			return r.fail(err)
		}
		if r.Once && d.raw.Position >= r.target {
			if done, err := b.Flush(); err != nil {
				return r.fail(err)
			} else if done {
				return nil
			}
		}
	}
}

// decodedEvent is a recorded event ready to apply.
type decodedEvent struct {
	raw       eventstore.RecordedEvent
	placement uuid.UUID // uuid.Nil for events of other streams
	rec       journal.Record
	err       error
	// ahead, in a bulk build, is the placement's state the store held
	// when the event was decoded, if it is the one the event applies to.
	ahead stateAhead
}

// stateAhead is placement id's state in gen read from the store ahead of
// the applier, for its event after st.Revision.
type stateAhead struct {
	id  uuid.UUID
	gen *generations
	st  *placementState
}

// usable reports whether the state read ahead is the one the applier needs
// for placement id's event of revision rev in gen: the one the store holds
// now, since a placement's state at a revision is a function of its events
// up to it (as with the states Snapshot hands on, see handoff).
func (a stateAhead) usable(id uuid.UUID, gen *generations, rev uint64) bool {
	return a.st != nil && a.id == id && a.gen == gen && a.st.Revision+1 == rev
}

// readAhead reads and decodes, on a decoder's goroutine, the stored state
// in gen of the placement of a decoded event, for a bulk build or a unit
// built in the background (see unitBuild.read), once the applier's cache
// (c) has let a state go (before, it holds them all): the applier, whose
// cache of states cannot hold every placement of a large ledger, would
// otherwise read it itself, on the one goroutine every event waits for (a
// rebuild of 1.1M events over 100,000 placements spent 2.1 s of its 17 s
// of applying there, and 1.1 s decoding; docs/PERFORMANCE.md). A state the
// store does not hold at the revision before the event's (one the applier
// holds newer in memory, or has not written yet) is left: the applier
// then finds it where it is.
func (v *Views) readAhead(c *stateCache, gen *generations, d *decodedEvent) {
	if d.err != nil || d.placement == uuid.Nil || d.raw.Revision == 0 || !c.letGo.Load() {
		return
	}
	v.readsAhead.Add(1)
	b, err := v.get(key(gen, tPlacement).id(d.placement))
	if err != nil || b == nil {
		return // the applier reads it again, and meets the error itself
	}
	rev, err := stateRevision(b)
	if err != nil || rev+1 != d.raw.Revision {
		return
	}
	st := &placementState{}
	if decodeState(b, st) != nil {
		return
	}
	d.ahead = stateAhead{id: d.placement, gen: gen, st: st}
}

func decode(raw eventstore.RecordedEvent) decodedEvent {
	d := decodedEvent{raw: raw}
	d.placement, d.rec, d.err = Decode(raw)
	if d.err != nil {
		d.err = fmt.Errorf("projections: %w", d.err)
	}
	return d
}

// decodeForEventsAlone decodes an event as a stateless build needs it (see
// tx.applyEventAlone): a placement's opening in full, any other placement
// event's metadata only.
func decodeForEventsAlone(raw eventstore.RecordedEvent) decodedEvent {
	if raw.Type == domain.TypePlacementOpened {
		return decode(raw)
	}
	d := decodedEvent{raw: raw}
	id, isPlacement := journal.PlacementID(raw.Stream)
	if !isPlacement {
		return d
	}
	d.placement = id
	if d.rec, d.err = journal.DecodeMeta(raw); d.err != nil {
		d.err = fmt.Errorf("projections: %w", d.err)
	}
	return d
}

// committed moves the runner's position to a committed batch's.
func (r *Runner) committed(pos eventstore.Position) {
	r.mu.Lock()
	r.position = pos
	if !r.ready && r.position >= r.target {
		r.ready = true
		r.logger.Info("projections caught up", "position", r.position)
	}
	r.wake()
	target := r.target
	r.mu.Unlock()
	if r.Progress != nil {
		r.Progress(pos, target)
	}
}

func (r *Runner) fail(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	r.logger.Error("projections stopped", "err", err)
	r.wake()
	return err
}

// wake wakes those waiting for the position to move (r.mu held).
func (r *Runner) wake() {
	if r.waiting {
		close(r.changed)
		r.changed = make(chan struct{})
		r.waiting = false
	}
}

// Rebuilding reports the units a background rebuild is building, and how
// far it has come towards the views' checkpoint; none when none runs.
func (r *Runner) Rebuilding() (units []string, position, target eventstore.Position) {
	r.mu.Lock()
	b := r.build
	r.mu.Unlock()
	if b == nil {
		return nil, 0, 0
	}
	return b.names(), eventstore.Position(b.position.Load()), eventstore.Position(b.target.Load())
}

// WaitRebuilt blocks until no background rebuild runs (any more), or ctx
// ends, and returns why the last one stopped short, if it did.
func (r *Runner) WaitRebuilt(ctx context.Context) error {
	r.mu.Lock()
	built := r.built
	r.mu.Unlock()
	select {
	case <-built:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buildErr
}

// Position returns the position the views have applied and committed.
func (r *Runner) Position() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.position
}

// Ready reports whether the runner has caught up with the log as it was at
// start-up, and the error that stopped it, if any.
func (r *Runner) Ready() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready && r.err == nil, r.err
}

// WaitFor blocks until the runner has applied position pos, ctx ends, or the
// runner stops.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		r.mu.Lock()
		if r.position >= pos {
			r.mu.Unlock()
			return nil
		}
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return err
		}
		r.waiting = true
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// History reads a placement's events from its stream (see History).
func (r *Runner) History(ctx context.Context, creditor string, id uuid.UUID) ([]journal.Record, error) {
	return History(ctx, r.store, creditor, id)
}

// AuditPage reads one page of a placement's audit trail (see AuditPage).
func (r *Runner) AuditPage(ctx context.Context, creditor string, id uuid.UUID, cut Cut, from eventstore.Position, limit int) ([]journal.Record, eventstore.Position, error) {
	return AuditPage(ctx, r.store, creditor, id, cut, from, limit)
}

// Head returns the log's head (for the projection lag).
func (r *Runner) Head(ctx context.Context) (eventstore.Position, error) { return r.store.Head(ctx) }
