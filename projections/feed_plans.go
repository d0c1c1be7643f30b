package projections

import "github.com/collections-ledger/ledger/domain"

// The feed items of payment plans (API §15): an agreement is a CONFIRMATION
// of type PAYMENT_PLAN for the plan's total; its completion, breaking and
// cancellation are STATUS items naming the plan, with the placement's
// status after them (a plan that ends and resumes outreach has the
// RESUMED item of its PlacementResumed after this one).
const (
	ConfirmPaymentPlan  = "PAYMENT_PLAN"
	StatusPlanCompleted = "PAYMENT_PLAN_COMPLETED"
	StatusPlanBroken    = "PAYMENT_PLAN_BROKEN"
	StatusPlanCancelled = "PAYMENT_PLAN_CANCELLED"
)

// plan renders a plan event's item.
func (r itemsOf) plan(e domain.Event) {
	var typ, number string
	switch e := e.(type) {
	case domain.PaymentPlanAgreed:
		r.confirm(0, &Confirmation{Date: r.date, Type: ConfirmPaymentPlan, Number: r.p.CustomerNumber, ContractNumber: "",
			Amount: Exact(e.Total), Currency: e.Currency, PlanNumber: e.PlanNumber})
		return
	case domain.PaymentPlanCompleted:
		typ, number = StatusPlanCompleted, e.PlanNumber
	case domain.PaymentPlanBroken:
		typ, number = StatusPlanBroken, e.PlanNumber
	case domain.PaymentPlanCancelled:
		typ, number = StatusPlanCancelled, e.PlanNumber
	default:
		panic("projections: the feed has no plan rule for event type " + e.EventType())
	}
	it := r.base(0, ItemStatus)
	it.Status = &StatusChange{Date: r.date, Type: typ, Status: string(r.p.Status), PlanNumber: number}
	r.c.items = append(r.c.items, it)
}
