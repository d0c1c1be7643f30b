package projections

import (
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
)

// PaymentPlans returns a placement's payment plans, in the order agreed,
// from its state in the views; found is false when creditor has no such
// placement (another creditor's is not found, exactly like one that does
// not exist).
func (v *Views) PaymentPlans(creditor string, id uuid.UUID) (plans []domain.PlanState, found bool, err error) {
	st, err := v.placementOf(v.generation(), id)
	if err != nil || st == nil || st.P.CreditorID != creditor {
		return nil, false, err
	}
	return st.P.Plans, true, nil
}

// planBreak is when p's active payment plan breaks unless paid, and its
// number; zero when it has none, or the claim is closed (nothing to break).
func planBreak(p domain.Placement) (time.Time, string) {
	if p.Status.Closed() {
		return time.Time{}, ""
	}
	s, active := p.ActivePlan()
	if !active {
		return time.Time{}, ""
	}
	at, breaks := s.BreaksAt()
	if !breaks {
		return time.Time{}, ""
	}
	return at, s.PlanNumber
}

// movePlanBreak moves a placement in the index of plans by when they break
// ('B'), as it went from before to p: a payment moves it to the next unpaid
// instalment's date, an ending takes it out.
func (t *tx) movePlanBreak(id uuid.UUID, before, p domain.Placement) error {
	old, oldNumber := planBreak(before)
	now, number := planBreak(p)
	if old.Equal(now) && oldNumber == number {
		return nil
	}
	if !old.IsZero() {
		if err := t.del(key(t.gen, tPlanBreak).time(old).id(id)); err != nil {
			return err
		}
	}
	if now.IsZero() {
		return nil
	}
	return t.set(key(t.gen, tPlanBreak).time(now).id(id), []byte(number))
}

// DuePlan is an active payment plan whose oldest unpaid instalment's grace
// has passed.
type DuePlan struct {
	ID         uuid.UUID
	PlanNumber string
	BreaksAt   time.Time
}

// PlansDue returns the active plans that break at or before now, in the
// order they break, at most limit (0: no limit). It reads the index from
// its start to now and nothing else: its cost is what is due, never the
// number of plans.
func (v *Views) PlansDue(now time.Time, limit int) ([]DuePlan, error) {
	prefix := key(v.generation(), tPlanBreak)
	lower, upper := plansDueBounds(v.generation(), now)
	var out []DuePlan
	err := v.scan(lower, upper, func(k, val []byte) (bool, error) {
		at := timeFromKey(binary.BigEndian.Uint64(k[len(prefix) : len(prefix)+8]))
		out = append(out, DuePlan{ID: uuid.UUID(k[len(prefix)+8:]), PlanNumber: string(val), BreaksAt: at})
		return limit == 0 || len(out) < limit, nil
	})
	return out, err
}

// plansDueBounds is the range of the plan-breaking index that is due at now.
func plansDueBounds(gen *generations, now time.Time) (lower, upper []byte) {
	prefix := key(gen, tPlanBreak)
	return prefix, prefix.time(now.Add(time.Nanosecond))
}
