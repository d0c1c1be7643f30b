package projections

import (
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
