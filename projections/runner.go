package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
)

// Runner feeds the read models from the log and says how far it got.
type Runner struct {
	store      eventstore.Store
	Placements *Placements
	Idem       *command.IdempotencyIndex
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
func NewRunner(store eventstore.Store, idem *command.IdempotencyIndex, logger *slog.Logger) *Runner {
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
	sub, err := r.store.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		return r.fail(fmt.Errorf("projections: subscribe: %w", err))
	}
	defer sub.Close()
	for {
		rec, err := sub.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, eventstore.ErrClosed) {
				return nil
			}
			return r.fail(fmt.Errorf("projections: subscription ended: %w", err))
		}
		if err := r.apply(rec); err != nil {
			return r.fail(err)
		}
	}
}

func (r *Runner) apply(rec eventstore.RecordedEvent) error {
	if id, ok := strings.CutPrefix(rec.Stream, command.StreamPrefix); ok {
		pid, err := uuid.Parse(id)
		if err != nil {
			return fmt.Errorf("projections: stream %q is not a placement stream: %w", rec.Stream, err)
		}
		se, err := Decode(rec)
		if err != nil {
			return fmt.Errorf("projections: %w", err)
		}
		r.Placements.Apply(pid, rec.Revision, se.Event)
		r.Idem.Apply(pid, rec.Position, se.Meta)
	}
	r.mu.Lock()
	r.position = rec.Position
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
	return nil
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
