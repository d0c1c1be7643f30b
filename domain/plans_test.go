package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// twoInstalments is a plan of the 400 open on place(): 100 on
// 2024-09-01, 300 on 2024-10-01.
func twoInstalments(number string) domain.AgreePaymentPlan {
	return domain.AgreePaymentPlan{PlanNumber: number, StartDate: "2024-08-07", At: t0,
		Installments: []domain.Installment{{DueDate: "2024-09-01", Amount: d("100")}, {DueDate: "2024-10-01", Amount: d("300")}}}
}

func TestAgreePaymentPlan(t *testing.T) {
	active := states(t)["active"]
	dec := domain.Decide(active, twoInstalments("P-1"))
	require.NoError(t, dec.Err)
	assert.Equal(t, []string{domain.TypePaymentPlanAgreed, domain.TypePlacementPaused, domain.TypeSequencesPaused, domain.TypeCallsCancelled}, types(dec.Events))
	p := MustApply(t, active, twoInstalments("P-1"))
	assert.Equal(t, domain.StatusPaused, p.Status)
	assert.Equal(t, domain.PausePaymentPlan, p.Pause.Reason)
	plan, ok := p.ActivePlan()
	require.True(t, ok)
	assert.Equal(t, domain.DefaultGraceDays, plan.GraceDays)
	assert.True(t, plan.Total.Equal(d("400")))

	t.Run("Err_a manual resume while the plan holds", func(t *testing.T) {
		dec := domain.Decide(p, domain.Resume{At: t0})
		assert.ErrorIs(t, dec.Err, domain.ErrPausedForPlan)
		assert.Empty(t, dec.Events)
	})
	t.Run("OK_repeat answers as the first", func(t *testing.T) {
		dec := domain.Decide(p, twoInstalments("P-1"))
		require.NoError(t, dec.Err)
		assert.Empty(t, dec.Events)
		require.NotNil(t, dec.Repeat)
		assert.Equal(t, plan.Revision, dec.Repeat.Revision)
	})
	t.Run("OK_on a paused claim it does not pause again", func(t *testing.T) {
		dec := domain.Decide(states(t)["paused"], twoInstalments("P-1"))
		require.NoError(t, dec.Err)
		assert.Equal(t, []string{domain.TypePaymentPlanAgreed}, types(dec.Events))
	})
}

func TestAgreePaymentPlanRefusals(t *testing.T) {
	st := states(t)
	withPlan := MustApply(t, st["active"], twoInstalments("P-1"))
	plan := func(mut func(c *domain.AgreePaymentPlan)) domain.AgreePaymentPlan {
		c := twoInstalments("P-2")
		c.Installments = append([]domain.Installment(nil), c.Installments...)
		mut(&c)
		return c
	}
	many := make([]domain.Installment, 121)
	for i := range many {
		many[i] = domain.Installment{DueDate: time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly), Amount: d("1")}
	}
	tests := map[string]struct {
		p     domain.Placement
		c     domain.AgreePaymentPlan
		kind  domain.Kind
		field string
	}{
		"sum short":             {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[1].Amount = d("299") }), domain.KindUnprocessable, "installments"},
		"sum over":              {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[1].Amount = d("301") }), domain.KindUnprocessable, "installments"},
		"not ascending":         {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[1].DueDate = "2024-09-01" }), domain.KindUnprocessable, "installments[1].dueDate"},
		"due before start":      {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[0].DueDate = "2024-08-06" }), domain.KindUnprocessable, "installments[0].dueDate"},
		"start in the past":     {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.StartDate = "2024-08-06" }), domain.KindUnprocessable, "startDate"},
		"bad start":             {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.StartDate = "2024-8-6" }), domain.KindInvalid, "startDate"},
		"bad due date":          {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[0].DueDate = "x" }), domain.KindInvalid, "installments[0].dueDate"},
		"zero amount":           {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[0].Amount = d("0") }), domain.KindInvalid, "installments[0].amount"},
		"negative amount":       {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[0].Amount = d("-1") }), domain.KindInvalid, "installments[0].amount"},
		"more decimals":         {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments[0].Amount = d("99.999") }), domain.KindInvalid, "installments[0].amount"},
		"none":                  {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments = nil }), domain.KindInvalid, "installments"},
		"121 instalments":       {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.Installments = many }), domain.KindInvalid, "installments"},
		"negative grace":        {st["active"], plan(func(c *domain.AgreePaymentPlan) { g := -1; c.GraceDays = &g }), domain.KindInvalid, "graceDays"},
		"bad number":            {st["active"], plan(func(c *domain.AgreePaymentPlan) { c.PlanNumber = "a b" }), domain.KindInvalid, "planNumber"},
		"closed":                {st["paid"], plan(func(*domain.AgreePaymentPlan) {}), domain.KindClosed, ""},
		"recalled":              {st["recalled"], plan(func(*domain.AgreePaymentPlan) {}), domain.KindClosed, ""},
		"second active plan":    {withPlan, plan(func(*domain.AgreePaymentPlan) {}), domain.KindConflict, ""},
		"number reused":         {withPlan, plan(func(c *domain.AgreePaymentPlan) { c.PlanNumber = "P-1"; c.StartDate = "2024-08-08" }), domain.KindConflict, ""},
		"number reused, amount": {withPlan, plan(func(c *domain.AgreePaymentPlan) { c.PlanNumber = "P-1"; c.Installments[0].Amount = d("101") }), domain.KindConflict, ""},
	}
	for name, tc := range tests {
		t.Run("Err_"+name, func(t *testing.T) {
			dec := domain.Decide(tc.p, tc.c)
			require.Error(t, dec.Err)
			assert.Empty(t, dec.Events, "a refusal records nothing")
			e, ok := domain.AsError(dec.Err)
			require.True(t, ok)
			assert.Equal(t, tc.kind, e.Kind, e.Error())
			if tc.field != "" {
				require.NotEmpty(t, e.Fields)
				assert.Equal(t, tc.field, e.Fields[0].Field)
			}
		})
	}
}

func TestPaymentPlanLifecycle(t *testing.T) {
	withPlan := MustApply(t, states(t)["active"], twoInstalments("P-1"))
	pay := func(p domain.Placement, amount string) (domain.Placement, []string) {
		dec := domain.Decide(p, domain.ReceivePayment{Amount: d(amount), At: t0})
		require.NoError(t, dec.Err)
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
		}
		return p, types(dec.Events)
	}
	t.Run("OK_payments fill the oldest instalment first", func(t *testing.T) {
		p, _ := pay(withPlan, "150")
		plan, _ := p.ActivePlan()
		s := plan.Schedule()
		assert.True(t, s[0].Paid.Equal(d("100")) && s[0].Open.IsZero())
		assert.True(t, s[1].Paid.Equal(d("50")) && s[1].Open.Equal(d("250")))
	})
	t.Run("OK_the payment of the last instalment completes it before the payoff closes the claim", func(t *testing.T) {
		p, _ := pay(withPlan, "150")
		p, ty := pay(p, "250")
		assert.Equal(t, []string{domain.TypePaymentReceived, domain.TypeAccountingDocumentIssued, domain.TypePaymentPlanCompleted, domain.TypePlacementPaid,
			domain.TypeSequencesPaused, domain.TypeCallsCancelled, domain.TypeOutcomeScoreSnapshotted}, ty)
		assert.Equal(t, domain.PlanCompleted, p.Plans[0].Status)
		assert.Equal(t, domain.StatusPaid, p.Status)
	})
	t.Run("OK_broken once, after its grace, resuming outreach", func(t *testing.T) {
		breaks, ok := withPlan.Plans[0].BreaksAt()
		require.True(t, ok)
		assert.Equal(t, time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC), breaks) // 2024-09-01 + 14 days, from the day after
		early := domain.Decide(withPlan, domain.BreakPaymentPlan{PlanNumber: "P-1", At: breaks.Add(-time.Nanosecond)})
		assert.ErrorIs(t, early.Err, domain.ErrPlanNotBreakable)
		assert.Empty(t, early.Events)
		p := MustApply(t, withPlan, domain.BreakPaymentPlan{PlanNumber: "P-1", At: breaks})
		assert.Equal(t, domain.PlanBroken, p.Plans[0].Status)
		assert.Equal(t, domain.StatusActive, p.Status)
		assert.Equal(t, domain.SequenceActive, p.Sequences[0].Status)
		again := domain.Decide(p, domain.BreakPaymentPlan{PlanNumber: "P-1", At: breaks})
		assert.ErrorIs(t, again.Err, domain.ErrPlanNotBreakable)
		assert.Empty(t, again.Events)
	})
	t.Run("OK_paid instalment moves the breaking date", func(t *testing.T) {
		p, _ := pay(withPlan, "100")
		breaks, _ := p.Plans[0].BreaksAt()
		assert.Equal(t, time.Date(2024, 10, 16, 0, 0, 0, 0, time.UTC), breaks)
	})
	t.Run("OK_cancelled, resuming outreach; a repeat answers as the first", func(t *testing.T) {
		p := MustApply(t, withPlan, domain.CancelPaymentPlan{PlanNumber: "P-1", At: t0})
		assert.Equal(t, domain.PlanCancelled, p.Plans[0].Status)
		assert.Equal(t, domain.StatusActive, p.Status)
		dec := domain.Decide(p, domain.CancelPaymentPlan{PlanNumber: "P-1", At: t0})
		require.NoError(t, dec.Err)
		assert.NotNil(t, dec.Repeat)
		brk := domain.Decide(p, domain.BreakPaymentPlan{PlanNumber: "P-1", At: t0.AddDate(1, 0, 0)})
		assert.ErrorIs(t, brk.Err, domain.ErrPlanNotBreakable, "a cancelled plan never breaks")
	})
	t.Run("Err_cancel unknown or ended plan", func(t *testing.T) {
		dec := domain.Decide(withPlan, domain.CancelPaymentPlan{PlanNumber: "nope", At: t0})
		assert.ErrorIs(t, dec.Err, domain.ErrPlanNotFound)
		assert.Empty(t, dec.Events)
		broken := MustApply(t, withPlan, domain.BreakPaymentPlan{PlanNumber: "P-1", At: t0.AddDate(1, 0, 0)})
		dec = domain.Decide(broken, domain.CancelPaymentPlan{PlanNumber: "P-1", At: t0})
		assert.ErrorIs(t, dec.Err, domain.ErrPlanNotActive)
		assert.Empty(t, dec.Events)
	})
}

// TestPaymentPlanProperty agrees random plans on random claims (EUR, JPY,
// BHD) and then pays, reverses, breaks and cancels at random; after every
// step each plan's paid plus open equals its total, instalment by
// instalment too, and no plan is both completed and broken.
func TestPaymentPlanProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 15))
	seen := map[string]int{}
	for run := range 300 {
		cur := currencies[run%len(currencies)]
		if problem := runPlanProperty(rng, cur, seen); problem != "" {
			t.Fatalf("run %d (%s): %s", run, cur, problem)
		}
	}
	for _, c := range []string{domain.TypePaymentPlanAgreed, domain.TypePaymentPlanCompleted, domain.TypePaymentPlanBroken, domain.TypePaymentPlanCancelled,
		domain.TypePaymentReversed} {
		assert.Positive(t, seen[c], "no run reached %s", c)
	}
}

func runPlanProperty(rng *rand.Rand, cur string, seen map[string]int) string {
	units, _ := domain.MinorUnits(cur)
	money := func(minor int64) decimal.Decimal { return decimal.New(minor, -units) }
	pl := place()
	pl.Currency = cur
	pl.Invoices = pl.Invoices[:1]
	pl.Invoices[0].Amount = domain.AmountOf(money(1 + rng.Int64N(1_000_000)))
	p := domain.Placement{}
	at := t0
	ended := map[string]string{} // plan number → the event that ended it
	apply := func(c domain.Command) string {
		dec := domain.Decide(p, c)
		if dec.Err != nil && len(dec.Events) > 0 {
			return fmt.Sprintf("%T refused with events", c)
		}
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
			seen[e.EventType()]++
			var number string
			switch e := e.(type) {
			case domain.PaymentPlanCompleted:
				number = e.PlanNumber
			case domain.PaymentPlanBroken:
				number = e.PlanNumber
			case domain.PaymentPlanCancelled:
				number = e.PlanNumber
			}
			if number != "" && ended[number] != "" {
				return fmt.Sprintf("plan %s: %s after %s", number, e.EventType(), ended[number])
			}
			if number != "" {
				ended[number] = e.EventType()
			}
		}
		return planInvariants(p)
	}
	if problem := apply(pl); problem != "" {
		return problem
	}
	payments := 0
	for step := range 40 {
		at = at.Add(time.Duration(rng.IntN(72)) * time.Hour)
		var c domain.Command
		switch r := rng.IntN(10); {
		case r < 2:
			c = randomPlan(rng, p, cur, at, step)
		case r < 6:
			c = domain.ReceivePayment{Amount: money(1 + rng.Int64N(domain.MinorAmount(p.TotalOpen(), cur)+1)), At: at}
			payments++
		case r < 7 && payments > 0:
			c = domain.ReversePayment{PaymentNumber: fmt.Sprintf("%s-AD%03d", p.ClaimNumber, 1+rng.IntN(max(p.Documents, 1))), Reason: domain.ReversalReturned, At: at}
		case r < 9:
			c = domain.BreakPaymentPlan{PlanNumber: lastPlan(p), At: at.AddDate(0, 0, rng.IntN(60))}
		default:
			c = domain.CancelPaymentPlan{PlanNumber: lastPlan(p), At: at}
		}
		if c == nil {
			continue
		}
		if problem := apply(c); problem != "" {
			return fmt.Sprintf("step %d %T: %s", step, c, problem)
		}
	}
	return ""
}

func lastPlan(p domain.Placement) string {
	if len(p.Plans) == 0 {
		return "none"
	}
	return p.Plans[len(p.Plans)-1].PlanNumber
}

// randomPlan is a plan of what is open, in 1 to 6 instalments a few days
// apart (nil when nothing is open).
func randomPlan(rng *rand.Rand, p domain.Placement, cur string, at time.Time, step int) domain.Command {
	units, _ := domain.MinorUnits(cur)
	open := domain.MinorAmount(p.TotalOpen(), cur)
	if open <= 0 {
		return nil
	}
	n := 1 + rng.Int64N(min(6, open))
	var ins []domain.Installment
	due := at
	left := open
	for i := range n {
		part := left
		if i < n-1 {
			part = 1 + rng.Int64N(left-(n-1-i))
		}
		left -= part
		due = due.AddDate(0, 0, 1+rng.IntN(20))
		ins = append(ins, domain.Installment{DueDate: due.Format(time.DateOnly), Amount: decimal.New(part, -units)})
	}
	return domain.AgreePaymentPlan{PlanNumber: fmt.Sprintf("P-%d", step), Installments: ins, StartDate: at.Format(time.DateOnly), At: at}
}

func planInvariants(p domain.Placement) string {
	active := 0
	for _, s := range p.Plans {
		if !s.Paid.Add(s.Open()).Equal(s.Total) {
			return fmt.Sprintf("plan %s: paid %s + open %s ≠ total %s", s.PlanNumber, s.Paid, s.Open(), s.Total)
		}
		sum := decimal.Zero
		for _, in := range s.Schedule() {
			if !in.Paid.Add(in.Open).Equal(in.Amount) || in.Open.IsNegative() || in.Paid.IsNegative() {
				return fmt.Sprintf("plan %s: instalment %s paid %s open %s of %s", s.PlanNumber, in.DueDate, in.Paid, in.Open, in.Amount)
			}
			sum = sum.Add(in.Paid)
		}
		if !sum.Equal(s.Paid) {
			return fmt.Sprintf("plan %s: instalments paid %s, plan paid %s", s.PlanNumber, sum, s.Paid)
		}
		switch s.Status {
		case domain.PlanActive:
			active++
		case domain.PlanCompleted:
			if s.EndRevision == 0 || s.Open().IsPositive() {
				return fmt.Sprintf("plan %s completed with %s open", s.PlanNumber, s.Open())
			}
		case domain.PlanBroken, domain.PlanCancelled:
		default:
			return "plan status " + s.Status
		}
	}
	if active > 1 {
		return "two active plans"
	}
	return ""
}

// TestAPlanEndsWithItsClaim: a recall or a write-off cancels the active plan
// in the same command (a closed claim keeps no active plan), and a payoff
// that pays the plan completes it and cancels nothing.
func TestAPlanEndsWithItsClaim(t *testing.T) {
	withPlan := MustApply(t, states(t)["active"], twoInstalments("P-1"))
	for name, c := range map[string]domain.Command{
		"recall":    domain.Recall{At: t0},
		"write-off": domain.WriteOff{Reason: domain.WriteOffInsolvency, At: t0},
	} {
		t.Run("OK_"+name, func(t *testing.T) {
			dec := domain.Decide(withPlan, c)
			require.NoError(t, dec.Err)
			assert.Equal(t, domain.TypePaymentPlanCancelled, dec.Events[len(dec.Events)-1].EventType())
			p := withPlan
			for _, e := range dec.Events {
				p = domain.Evolve(p, e)
			}
			assert.True(t, p.Status.Closed())
			assert.Equal(t, domain.PlanCancelled, p.Plans[0].Status)
			_, active := p.ActivePlan()
			assert.False(t, active)
		})
	}
	t.Run("OK_a payoff completes it and cancels nothing", func(t *testing.T) {
		dec := domain.Decide(withPlan, domain.ReceivePayment{Amount: d("400"), At: t0})
		require.NoError(t, dec.Err)
		assert.NotContains(t, types(dec.Events), domain.TypePaymentPlanCancelled)
		assert.Contains(t, types(dec.Events), domain.TypePaymentPlanCompleted)
	})
}
