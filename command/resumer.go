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

// Due is a held placement whose resumeAt has come.
type Due struct {
	ID       uuid.UUID
	ResumeAt time.Time
}

// Resumer resumes held placements at their resumeAt, as the actor "system".
// Each resume names the hold it ends (its resumeAt), so a placement resumed
// and held again meanwhile is left alone, and when several instances race,
// the store's revision check lets exactly one win: the others are refused
// with domain.ErrNotPaused, the expected answer for the loser.
type Resumer struct {
	h      *Handler
	due    func(now time.Time) []Due
	logger *slog.Logger
}

// NewResumer returns a resumer that asks due for what is due.
func NewResumer(h *Handler, due func(now time.Time) []Due, logger *slog.Logger) *Resumer {
	if logger == nil {
		logger = slog.Default()
	}
	return &Resumer{h: h, due: due, logger: logger}
}

// RunOnce resumes what is due now and says how many it resumed.
func (r *Resumer) RunOnce(ctx context.Context) int {
	n := 0
	for _, d := range r.due(r.h.now()) {
		due := d.ResumeAt
		req := Request{Actor: journal.ActorSystem, ActorType: journal.ActorSystem, RequestID: uuid.NewString()}
		_, err := r.h.Execute(ctx, d.ID, req, func(at time.Time) domain.Command { return domain.Resume{Due: &due, At: at} })
		switch {
		case err == nil:
			n++
		case errors.Is(err, domain.ErrNotPaused), errors.Is(err, domain.ErrClosed):
			// Another instance, or a person, got there first.
		case ctx.Err() != nil:
			return n
		default:
			r.logger.Error("automatic resume failed; will try again", "placement", d.ID, "err", err)
		}
	}
	return n
}

// Run resumes what is due every interval until ctx ends; it starts with what
// fell due while the ledger was down.
func (r *Resumer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
