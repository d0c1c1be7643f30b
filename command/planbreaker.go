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

// DuePlan is an active payment plan whose oldest unpaid instalment's grace
// has passed (as a read side's index says: the decision re-checks it).
type DuePlan struct {
	ID         uuid.UUID
	PlanNumber string
}

// PlanBreaker breaks the payment plans that are due, as the actor
// "system", the way the Resumer ends holds. The decision is taken on the
// placement's stream: a plan paid, cancelled or broken meanwhile is refused
// with domain.ErrPlanNotBreakable, and when several instances (or a run
// after a restart whose index lagged) race, the store's revision check lets
// exactly one append; the others re-decide and are refused the same way.
type PlanBreaker struct {
	h      *Handler
	due    func(now time.Time) []DuePlan
	logger *slog.Logger
}

// NewPlanBreaker returns a breaker that asks due for what is due.
func NewPlanBreaker(h *Handler, due func(now time.Time) []DuePlan, logger *slog.Logger) *PlanBreaker {
	if logger == nil {
		logger = slog.Default()
	}
	return &PlanBreaker{h: h, due: due, logger: logger}
}

// RunOnce breaks what is due now and says how many it broke.
func (b *PlanBreaker) RunOnce(ctx context.Context) int {
	n := 0
	for _, d := range b.due(b.h.now()) {
		number := d.PlanNumber
		req := Request{Actor: journal.ActorSystem, ActorType: journal.ActorSystem, RequestID: uuid.NewString()}
		_, err := b.h.Execute(ctx, d.ID, req, func(at time.Time) domain.Command { return domain.BreakPaymentPlan{PlanNumber: number, At: at} })
		switch {
		case err == nil:
			n++
		case errors.Is(err, domain.ErrPlanNotBreakable), errors.Is(err, domain.ErrPlanNotFound), errors.Is(err, domain.ErrClosed):
			// Another instance got there first, or the plan was paid or ended.
		case ctx.Err() != nil:
			return n
		default:
			b.logger.Error("breaking a payment plan failed; will try again", "placement", d.ID, "plan", number, "err", err)
		}
	}
	return n
}

// Run breaks what is due every interval until ctx ends; it starts with what
// fell due while the ledger was down.
func (b *PlanBreaker) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		b.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
