package projections

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestPlansDueCostWhatIsDue: with 100,000 active plans none of which is
// due, a run reads nothing; with one due among them, it reads that one.
// Counted in keys the store's iterator yields and steps over, never timed.
// The plans enter the index through movePlanBreak, as every applied event
// moves them (TestPlansDueFollowTheOldestUnpaidInstalment drives that path
// from events); 100,000 placements through the whole apply path would take
// minutes under -race for the same index.
func TestPlansDueCostWhatIsDue(t *testing.T) {
	v, err := OpenViews(filepath.Join(t.TempDir(), "views"), ViewsOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	at := time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	opened := func(id uuid.UUID) domain.Placement {
		return domain.Evolve(domain.Placement{}, domain.PlacementOpened{PlacementID: id, CreditorID: "acme", ClaimNumber: "PD", Currency: "EUR",
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}, OpenedAt: at})
	}
	agree := func(p domain.Placement, due ...string) domain.Placement {
		c := domain.AgreePaymentPlan{PlanNumber: "P-1", StartDate: "2024-08-07", At: at}
		for _, d := range due {
			c.Installments = append(c.Installments, domain.Installment{DueDate: d, Amount: decimal.NewFromInt(100).Div(decimal.NewFromInt(int64(len(due))))})
		}
		dec := domain.Decide(p, c)
		require.NoError(t, dec.Err)
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
		}
		return p
	}
	template := agree(opened(uuid.New()), "2025-01-01", "2025-02-01")
	tx := v.begin()
	for range 100_000 {
		id := uuid.New()
		after := template
		after.ID = id
		require.NoError(t, tx.movePlanBreak(id, opened(id), after))
	}
	early := uuid.New()
	require.NoError(t, tx.movePlanBreak(early, opened(early), agree(opened(early), "2024-09-01")))
	require.NoError(t, tx.commit())

	now := time.Date(2024, 9, 10, 0, 0, 0, 0, time.UTC) // none due yet
	yielded, internal, err := PlanBreakKeysVisited(v, now)
	require.NoError(t, err)
	assert.Zero(t, yielded)
	assert.Zero(t, internal, "no key of the 100,000 plans is stepped over")
	due, err := v.PlansDue(now, 0)
	require.NoError(t, err)
	assert.Empty(t, due)

	now = time.Date(2024, 9, 20, 0, 0, 0, 0, time.UTC) // the early one is due
	yielded, internal, err = PlanBreakKeysVisited(v, now)
	require.NoError(t, err)
	assert.Equal(t, 1, yielded)
	assert.LessOrEqual(t, internal, uint64(1))
	due, err = v.PlansDue(now, 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, early, due[0].ID)

	all, err := v.PlansDue(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	require.NoError(t, err)
	assert.Len(t, all, 100_001, "every active plan is in the index")
	t.Logf("100,000 active plans: a run with none due yields %d keys (%d internal); with one due, 1", 0, 0)
}

// BenchmarkPlansDueNoneDue measures a breaker run's read over 100,000
// active plans none of which is due (see TestPlansDueCostWhatIsDue).
func BenchmarkPlansDueNoneDue(b *testing.B) {
	v, err := OpenViews(filepath.Join(b.TempDir(), "views"), ViewsOptions{})
	require.NoError(b, err)
	b.Cleanup(func() { _ = v.Close() })
	tx := v.begin()
	breaks := time.Date(2025, 1, 16, 0, 0, 0, 0, time.UTC)
	for range 100_000 {
		require.NoError(b, tx.set(key(tx.gen, tPlanBreak).time(breaks).id(uuid.New()), []byte("P-1")))
	}
	require.NoError(b, tx.commit())
	now := time.Date(2024, 9, 10, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		due, err := v.PlansDue(now, 1000)
		if err != nil || len(due) != 0 {
			b.Fatal(err, len(due))
		}
	}
}
