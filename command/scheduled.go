package command

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// scheduled runs the ledger's own commands, as the actor "system", on what a
// read side's index says is due (D: one due item). Each command is decided
// on the placement's stream, so an item whose work was done meanwhile (by
// another instance, a person, or a run whose index lagged) is refused with
// one of the refusals in done, the expected answer for the loser; when
// several instances race, the store's revision check lets exactly one
// append.
type scheduled[D any] struct {
	h      *Handler
	due    func(now time.Time) []D
	logger *slog.Logger
	// command is the placement an item is of and the command to run on it.
	command func(d D) (uuid.UUID, func(at time.Time) domain.Command)
	done    []error
	// failed is what the log says when a command fails for another reason
	// (it is tried again at the next run).
	failed string
}

// RunOnce runs what is due now and says how many commands it recorded.
func (s *scheduled[D]) RunOnce(ctx context.Context) int {
	n := 0
	for _, d := range s.due(s.h.now()) {
		req := Request{Actor: journal.ActorSystem, ActorType: journal.ActorSystem, RequestID: uuid.NewString()}
		id, build := s.command(d)
		_, err := s.h.Execute(ctx, id, req, build)
		switch {
		case err == nil:
			n++
		case s.isDone(err):
		case ctx.Err() != nil:
			return n
		default:
			s.logger.Error(s.failed, "placement", id, "err", err)
		}
	}
	return n
}

func (s *scheduled[D]) isDone(err error) bool {
	for _, d := range s.done {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// Run runs what is due every interval until ctx ends; it starts with what
// fell due while the ledger was down.
func (s *scheduled[D]) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
