package command_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// clock is a settable time for handlers.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func brokenEvents(t *testing.T, s eventstore.Store, id uuid.UUID) int {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), journal.PlacementStream(id), 0, 1000)
	require.NoError(t, err)
	n := 0
	for _, r := range recs {
		if r.Type == domain.TypePaymentPlanBroken {
			n++
		}
	}
	return n
}

// planned places a claim with an active email sequence and agrees a plan of
// one instalment due on 2024-09-01 (14 grace days: it breaks on
// 2024-09-16).
func planned(t *testing.T, h *command.Handler, claim string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	res, err := h.Place(ctx, req(), placeCmd(claim))
	require.NoError(t, err)
	id := res.Placement.ID
	_, err = h.Execute(ctx, id, req(), func(at time.Time) domain.Command {
		return domain.StartEmailSequence{SequenceID: uuid.New(), NextSendAt: at.Add(time.Hour), At: at}
	})
	require.NoError(t, err)
	_, err = h.Execute(ctx, id, req(), func(at time.Time) domain.Command {
		return domain.AgreePaymentPlan{PlanNumber: "P-1", StartDate: "2024-08-07", At: at,
			Installments: []domain.Installment{{DueDate: "2024-09-01", Amount: decimal.NewFromInt(100)}}}
	})
	require.NoError(t, err)
	return id
}

// TestPlanBrokenExactlyOnce: a plan whose grace has passed is broken once,
// whether two runs, a restarted instance or two instances at the same time
// try (each told it is due, as a lagging index would), and its outreach
// resumes; before its grace has passed nothing is recorded.
func TestPlanBrokenExactlyOnce(t *testing.T) {
	s := mustStore(t)
	clk := newClock(time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC))
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), clk.now)
	id := planned(t, h, "PB-1")
	due := func(time.Time) []command.DuePlan { return []command.DuePlan{{ID: id, PlanNumber: "P-1"}} }

	t.Run("Err_not before its grace has passed", func(t *testing.T) {
		clk.set(time.Date(2024, 9, 15, 23, 59, 0, 0, time.UTC))
		head, err := s.Head(context.Background())
		require.NoError(t, err)
		assert.Zero(t, command.NewPlanBreaker(h, due, nil).RunOnce(context.Background()))
		after, err := s.Head(context.Background())
		require.NoError(t, err)
		assert.Equal(t, head, after, "nothing appended")
	})
	t.Run("OK_two runs and a restarted instance break it once", func(t *testing.T) {
		clk.set(time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC))
		b := command.NewPlanBreaker(h, due, nil)
		assert.Equal(t, 1, b.RunOnce(context.Background()))
		assert.Zero(t, b.RunOnce(context.Background()))
		restarted := command.NewHandler(s, projections.NewIdempotencyIndex(), clk.now)
		assert.Zero(t, command.NewPlanBreaker(restarted, due, nil).RunOnce(context.Background()))
		assert.Equal(t, 1, brokenEvents(t, s, id))
		p, _, _, err := restarted.Load(context.Background(), id, "acme")
		require.NoError(t, err)
		assert.Equal(t, domain.PlanBroken, p.Plans[0].Status)
		assert.Equal(t, domain.StatusActive, p.Status, "outreach resumed")
		assert.Equal(t, domain.SequenceActive, p.Sequences[0].Status)
	})
	t.Run("OK_two instances at once break it once", func(t *testing.T) {
		clk.set(time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC))
		id2 := planned(t, h, "PB-2")
		clk.set(time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
		due2 := func(time.Time) []command.DuePlan { return []command.DuePlan{{ID: id2, PlanNumber: "P-1"}} }
		var wg sync.WaitGroup
		var broke atomic.Int64
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				other := command.NewHandler(s, projections.NewIdempotencyIndex(), clk.now)
				broke.Add(int64(command.NewPlanBreaker(other, due2, nil).RunOnce(context.Background())))
			}()
		}
		wg.Wait()
		assert.Equal(t, int64(1), broke.Load())
		assert.Equal(t, 1, brokenEvents(t, s, id2))
	})
}
