package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Runner feeds the read models from the log and says how far it got.
type Runner struct {
	store      eventstore.Store
	Placements *Placements
	Idem       *IdempotencyIndex
	logger     *slog.Logger

	mu       sync.Mutex
	position eventstore.Position
	target   eventstore.Position // the head at start-up: ready once reached
	ready    bool
	err      error
	changed  chan struct{} // closed and replaced when position moves and someone waits
	waiting  bool
}

// NewRunner returns a runner over store feeding fresh read models.
func NewRunner(store eventstore.Store, idem *IdempotencyIndex, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{store: store, Placements: NewPlacements(), Idem: idem, logger: logger, changed: make(chan struct{})}
}

// Run applies the log from position 0 until ctx ends or an event cannot be
// applied (then Err says why and the runner stays where it stopped).
func (r *Runner) Run(ctx context.Context) error {
	head, err := r.store.Head(ctx)
	if err != nil {
		return r.fail(fmt.Errorf("projections: read the log's head: %w", err))
	}
	r.mu.Lock()
	r.target = head
	r.ready = head == eventstore.Start
	r.mu.Unlock()
	// The pipeline below stops with this context, whichever way Run returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := r.store.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		return r.fail(fmt.Errorf("projections: subscribe: %w", err))
	}
	defer sub.Close()
	// Decoding is the expensive part of applying an event, so it fans out:
	// the receiver hands records round-robin to one decoder per core, and
	// this goroutine takes the results back in the same round-robin order,
	// so events are applied in log order.
	workers := max(1, runtime.GOMAXPROCS(0))
	in := make([]chan eventstore.RecordedEvent, workers)
	out := make([]chan decodedEvent, workers)
	for i := range workers {
		in[i] = make(chan eventstore.RecordedEvent, 256)
		out[i] = make(chan decodedEvent, 256)
		go func() {
			defer close(out[i])
			for rec := range in[i] {
				select {
				case out[i] <- decode(rec):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	recvErr := make(chan error, 1)
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
			select {
			case in[i] <- rec:
			case <-ctx.Done():
				recvErr <- nil
				return
			}
		}
	}()
	for i := 0; ; i = (i + 1) % workers {
		d, ok := <-out[i]
		if !ok {
			if err := <-recvErr; err != nil {
				return r.fail(fmt.Errorf("projections: subscription ended: %w", err))
			}
			return nil
		}
		if d.err != nil {
			return r.fail(d.err)
		}
		r.apply(d)
	}
}

// decodedEvent is a recorded event ready to apply.
type decodedEvent struct {
	pos       eventstore.Position
	placement uuid.UUID // uuid.Nil for events of other streams
	revision  uint64
	se        StoredEvent
	err       error
}

func decode(rec eventstore.RecordedEvent) decodedEvent {
	d := decodedEvent{pos: rec.Position, revision: rec.Revision}
	id, ok := strings.CutPrefix(rec.Stream, journal.PlacementPrefix)
	if !ok {
		return d
	}
	pid, err := uuid.Parse(id)
	if err != nil {
		d.err = fmt.Errorf("projections: stream %q is not a placement stream: %w", rec.Stream, err)
		return d
	}
	e, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		d.err = fmt.Errorf("projections: %s revision %d: %w", rec.Stream, rec.Revision, err)
		return d
	}
	d.placement, d.se.Event = pid, e
	// Only the idempotency index reads metadata here; most events carry no
	// key, and their metadata is not decoded at all.
	if bytes.Contains(rec.Metadata, idempotencyKeyField) {
		if d.se.Meta, err = journal.DecodeMetadata(rec.Metadata); err != nil {
			d.err = fmt.Errorf("projections: %s revision %d: %w", rec.Stream, rec.Revision, err)
		}
	}
	return d
}

var idempotencyKeyField = []byte(`"idempotencyKey"`)

func (r *Runner) apply(d decodedEvent) {
	if d.placement != uuid.Nil {
		r.Placements.Apply(d.placement, d.revision, d.se.Event)
		r.Idem.Apply(d.placement, d.pos, d.se.Meta)
	}
	r.mu.Lock()
	r.position = d.pos
	if !r.ready && r.position >= r.target {
		r.ready = true
		r.logger.Info("projections caught up", "position", r.position, "placements", r.Placements.Count())
	}
	if r.waiting {
		close(r.changed)
		r.changed = make(chan struct{})
		r.waiting = false
	}
	r.mu.Unlock()
}

func (r *Runner) fail(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
	r.logger.Error("projections stopped", "err", err)
	if r.waiting {
		close(r.changed)
		r.changed = make(chan struct{})
		r.waiting = false
	}
	return err
}

// Position returns the position of the last event applied.
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
