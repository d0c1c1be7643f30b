package command

import (
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
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
type PlanBreaker struct{ *scheduled[DuePlan] }

// NewPlanBreaker returns a breaker that asks due for what is due.
func NewPlanBreaker(h *Handler, due func(now time.Time) []DuePlan, logger *slog.Logger) *PlanBreaker {
	if logger == nil {
		logger = slog.Default()
	}
	return &PlanBreaker{&scheduled[DuePlan]{h: h, due: due, logger: logger,
		// Another instance got there first, or the plan was paid or ended.
		done:   []error{domain.ErrPlanNotBreakable, domain.ErrPlanNotFound, domain.ErrClosed},
		failed: "breaking a payment plan failed; will try again",
		command: func(d DuePlan) (uuid.UUID, func(at time.Time) domain.Command) {
			return d.ID, func(at time.Time) domain.Command { return domain.BreakPaymentPlan{PlanNumber: d.PlanNumber, At: at} }
		}}}
}
