package projections_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// planFeeder applies placements and their plans to views through a
// builder, as the runner would from the log, numbering positions itself.
type planFeeder struct {
	t   testing.TB
	b   *projections.Builder
	pos eventstore.Position
	p   map[uuid.UUID]domain.Placement
}

// decide decides c on the placement and applies its events.
func (f *planFeeder) decide(id uuid.UUID, c domain.Command, at time.Time) {
	f.t.Helper()
	p := f.p[id]
	dec := domain.Decide(p, c)
	require.NoError(f.t, dec.Err)
	for i, e := range dec.Events {
		f.pos++
		rec := journal.Record{ID: uuid.New(), Stream: journal.PlacementStream(id), Revision: p.Version, Position: f.pos, Type: e.EventType(), Event: e,
			Meta: journal.Metadata{SchemaVersion: domain.SchemaVersion, OccurredAt: at, Index: i, Count: len(dec.Events)}}
		require.NoError(f.t, f.b.Apply(eventstore.RecordedEvent{Position: f.pos}, id, rec))
		p = domain.Evolve(p, e)
	}
	f.p[id] = p
}

func (f *planFeeder) place(claim string, at time.Time) uuid.UUID {
	id := uuid.New()
	f.decide(id, domain.Place{PlacementID: id, CreditorID: "acme", ClaimNumber: claim, CustomerNumber: "K1", Currency: "EUR",
		FeeRate:  decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}, At: at}, at)
	return id
}

func planOf(number string, due ...string) domain.AgreePaymentPlan {
	c := domain.AgreePaymentPlan{PlanNumber: number, StartDate: "2024-08-07"}
	part := decimal.NewFromInt(100).Div(decimal.NewFromInt(int64(len(due))))
	for _, d := range due {
		c.Installments = append(c.Installments, domain.Installment{DueDate: d, Amount: part})
	}
	return c
}

// TestPlansDueFollowTheOldestUnpaidInstalment: the index holds an active
// plan at the day its oldest unpaid instalment breaks, moves it when that
// is paid and drops it when the plan ends.
func TestPlansDueFollowTheOldestUnpaidInstalment(t *testing.T) {
	v := MustViews(t, "")
	f := &planFeeder{t: t, b: v.Builder(), p: map[uuid.UUID]domain.Placement{}}
	at := time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	id := f.place("PD-1", at)
	c := planOf("P-1", "2024-09-01", "2024-10-01")
	c.At = at
	f.decide(id, c, at)
	_, err := f.b.Flush()
	require.NoError(t, err)
	firstBreak := time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC)

	due, err := v.PlansDue(firstBreak.Add(-time.Nanosecond), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "not due before its grace has passed")
	due, err = v.PlansDue(firstBreak, 0)
	require.NoError(t, err)
	assert.Equal(t, []projections.DuePlan{{ID: id, PlanNumber: "P-1", BreaksAt: firstBreak}}, due)

	f.decide(id, domain.ReceivePayment{Amount: decimal.NewFromInt(50), At: at}, at)
	_, err = f.b.Flush()
	require.NoError(t, err)
	due, err = v.PlansDue(time.Date(2024, 10, 16, 0, 0, 0, 0, time.UTC), 0)
	require.NoError(t, err)
	assert.Equal(t, []projections.DuePlan{{ID: id, PlanNumber: "P-1", BreaksAt: time.Date(2024, 10, 16, 0, 0, 0, 0, time.UTC)}}, due,
		"the first instalment paid: the second one's date")

	f.decide(id, domain.BreakPaymentPlan{PlanNumber: "P-1", At: firstBreak.AddDate(0, 2, 0)}, firstBreak.AddDate(0, 2, 0))
	_, err = f.b.Flush()
	require.NoError(t, err)
	due, err = v.PlansDue(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "a broken plan is out of the index")
}
