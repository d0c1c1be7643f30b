package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
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

// viewsWithData builds views in dir over s with drive's commands and n
// placements left open for more payments, and closes them.
func viewsWithData(t *testing.T, s eventstore.Store, dir string, n int) []uuid.UUID {
	t.Helper()
	v := MustViews(t, dir)
	r, stop := MustRunner(t, s, v, eventstore.Start)
	h := command.NewHandler(s, projections.NewWriteIndex(v), nil)
	drive(t, h, 11, 200)
	var ids []uuid.UUID
	for i := range n {
		res, err := h.Place(context.Background(), command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, domain.Place{
			PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("LOAD-%03d", i), CustomerNumber: "K9", Currency: "EUR",
			FeeRate:  decimal.RequireFromString("0.15"),
			Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("1000.00")), DueDate: "2024-01-01"}},
		})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
	}
	MustCatchUp(t, s, r)
	stop()
	require.NoError(t, v.Close())
	return ids
}

// requireSameAsRebuild: v holds exactly what views rebuilt from position 0 hold.
func requireSameAsRebuild(t *testing.T, s eventstore.Store, v *projections.Views) {
	t.Helper()
	fresh := MustViews(t, "")
	_, stop := MustRunner(t, s, fresh, v.Checkpoint())
	stop()
	diffs := 0
	require.NoError(t, projections.Diff(v, fresh, func(table byte, k, a, b []byte) bool {
		diffs++
		t.Errorf("views.%c key %x: %q, rebuilt %q", table, k, a, b)
		return diffs < 5
	}))
}

// requireOnlyUnitGenerations: every key of v is in a unit's generation
// (nothing pending, scratch or retired is left).
func requireOnlyUnitGenerations(t *testing.T, v *projections.Views) {
	t.Helper()
	inUse, err := projections.GenerationsForTest(v)
	require.NoError(t, err)
	units := map[uint32]bool{}
	for _, g := range v.UnitGenerations() {
		units[g] = true
	}
	for g := range inUse {
		assert.True(t, units[g], "keys of generation %d, which no unit is in (units: %v)", g, v.UnitGenerations())
	}
}

func setRetireAfter(d time.Duration) func() {
	old := projections.RetireAfter
	projections.RetireAfter = d
	return func() { projections.RetireAfter = old }
}

// TestUnitRebuildsInTheBackgroundUnderLoad: a new version of the feed unit
// on views holding data. The runner starts and payments keep coming while
// the feed's tables are rebuilt in the background (slowed down so that they
// do): the runner stays ready throughout, every payment is in the
// placement resource and its feed as soon as the views have applied it,
// only the feed's generation changes, and the views end up exactly as a
// rebuild from scratch.
func TestUnitRebuildsInTheBackgroundUnderLoad(t *testing.T) {
	defer projections.SetBuildPaceForTest(10, 3*time.Millisecond, 10)()
	defer setRetireAfter(20 * time.Millisecond)()
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	ids := viewsWithData(t, s, dir, 5)

	t.Cleanup(projections.SetUnitVersionForTest("feed", unitVersion(t, "feed")+1)) // after the runner stops
	v := MustViews(t, dir)
	before := v.UnitGenerations()
	current, err := v.Current()
	require.NoError(t, err)
	require.False(t, current)
	r, _ := MustRunner(t, s, v, v.Checkpoint())
	h := command.NewHandler(s, projections.NewWriteIndex(v), nil)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rebuilt := make(chan error, 1)
	go func() { rebuilt <- r.WaitRebuilt(ctx) }()
	during, total := 0, 0
	for running := true; running; total++ {
		select {
		case err := <-rebuilt:
			require.NoError(t, err)
			running = false
		default:
		}
		building, _, _ := r.Rebuilding()
		ready, err := r.Ready()
		require.NoError(t, err)
		require.True(t, ready, "ready throughout (payment %d)", total)
		id, number := ids[total%len(ids)], fmt.Sprintf("LOAD-%d", total)
		res := payAndWait(ctx, t, h, r, id, decimal.New(1, -2), number)
		_, revision, found, err := v.PlacementJSON("", id)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, res.Revision, revision, "the placement read after payment %d is fresh", total)
		feed, err := v.PlacementFeed(id, 0, 100_000)
		require.NoError(t, err)
		require.NotEmpty(t, feed)
		require.Contains(t, string(feed[len(feed)-1]), `"`+number+`"`, "the feed read after payment %d ends with it", total)
		if len(building) > 0 {
			during++
		}
	}
	t.Logf("%d payments, %d of them while the feed was rebuilt", total, during)
	require.Positive(t, during, "payments came while the feed was rebuilt")

	current, err = v.Current()
	require.NoError(t, err)
	assert.True(t, current)
	after := v.UnitGenerations()
	for name, gen := range before {
		if name == "feed" {
			assert.NotEqual(t, gen, after[name], "the feed is in a new generation")
		} else {
			assert.Equal(t, gen, after[name], "%s was not rebuilt", name)
		}
	}
	requireOnlyUnitGenerations(t, v)
	MustCatchUp(t, s, r)
	requireSameAsRebuild(t, s, v)
}

// TestCrashDuringABackgroundRebuild: the runner stops in the middle of a
// background rebuild of the books. The views reopen as they were (the
// pending generation dropped, the live ones intact and equal to a
// rebuild), and the rebuild starts over and completes.
func TestCrashDuringABackgroundRebuild(t *testing.T) {
	restorePace := projections.SetBuildPaceForTest(5, 5*time.Millisecond, 5)
	defer restorePace()
	defer setRetireAfter(20 * time.Millisecond)()
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	viewsWithData(t, s, dir, 0)

	t.Cleanup(projections.SetUnitVersionForTest("books", unitVersion(t, "books")+1))
	v, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet()})
	require.NoError(t, err)
	before := v.UnitGenerations()
	r, stop := MustRunner(t, s, v, v.Checkpoint())
	require.Eventually(t, func() bool { _, pos, _ := r.Rebuilding(); return pos > 0 }, time.Minute, time.Millisecond)
	stop() // in the middle of it
	inUse, err := projections.GenerationsForTest(v)
	require.NoError(t, err)
	assert.Greater(t, len(inUse), 1, "the rebuild had written its generation")
	require.NoError(t, v.Close())

	v = MustViews(t, dir)
	assert.Equal(t, before, v.UnitGenerations(), "the live generations are as they were")
	requireOnlyUnitGenerations(t, v)
	requireSameAsRebuild(t, s, v)
	current, err := v.Current()
	require.NoError(t, err)
	assert.False(t, current, "the books are still to be rebuilt")

	restorePace()
	r, _ = MustRunner(t, s, v, v.Checkpoint())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.WaitRebuilt(ctx))
	current, err = v.Current()
	require.NoError(t, err)
	assert.True(t, current, "the rebuild started over and finished")
	assert.NotEqual(t, before["books"], v.UnitGenerations()["books"])
	requireOnlyUnitGenerations(t, v)
	requireSameAsRebuild(t, s, v)
}

// TestLayoutOneOpensAsAllChanged: views of the single-generation layout
// open with every unit changed. At the last version that layout had, they
// serve while every unit is rebuilt in the background; older, they are
// rebuilt from position 0 before serving, as before.
func TestLayoutOneOpensAsAllChanged(t *testing.T) {
	defer setRetireAfter(time.Millisecond)()
	for _, tc := range []struct {
		name    string
		version uint64
		serving bool
	}{
		{name: "last single version", version: 11, serving: true},
		{name: "older", version: 7, serving: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustStore(t)
			dir := filepath.Join(t.TempDir(), "views")
			viewsWithData(t, s, dir, 0)
			head, err := s.Head(context.Background())
			require.NoError(t, err)
			require.NoError(t, projections.SetLayoutOneForTest(dir, tc.version))

			v := MustViews(t, dir)
			current, err := v.Current()
			require.NoError(t, err)
			gens := map[uint32]bool{}
			for _, g := range v.UnitGenerations() {
				gens[g] = true
			}
			assert.Len(t, gens, 1, "every unit in one generation")
			if tc.serving {
				assert.False(t, current, "every unit changed")
				assert.Equal(t, head, v.Checkpoint(), "the views keep their checkpoint")
				n, err := v.Count()
				require.NoError(t, err)
				assert.Equal(t, 30, n, "and serve what they hold")
			} else {
				assert.True(t, current, "fresh views of this code")
				assert.Equal(t, eventstore.Position(0), v.Checkpoint())
			}
			requireOnlyUnitGenerations(t, v)
			r, _ := MustRunner(t, s, v, head)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, r.WaitRebuilt(ctx))
			current, err = v.Current()
			require.NoError(t, err)
			assert.True(t, current)
			requireOnlyUnitGenerations(t, v)
			requireSameAsRebuild(t, s, v)
		})
	}
}

// TestUnreadableUnitRebuildsBeforeServing: a unit whose tables are of a
// version older than the code reads (a change of encoding) is rebuilt
// before the runner says it is ready; the others are left as they were.
func TestUnreadableUnitRebuildsBeforeServing(t *testing.T) {
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	viewsWithData(t, s, dir, 0)
	t.Cleanup(projections.SetUnitForTest("search", 2, 2))
	v := MustViews(t, dir)
	before := v.UnitGenerations()
	r := projections.NewRunner(s, v, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { ready, _ := r.Ready(); return ready }, time.Minute, time.Millisecond)
	current, err := v.Current()
	require.NoError(t, err)
	assert.True(t, current, "rebuilt by the time the runner is ready")
	after := v.UnitGenerations()
	for name, gen := range before {
		if name == "search" {
			assert.NotEqual(t, gen, after[name])
		} else {
			assert.Equal(t, gen, after[name], "%s was not rebuilt", name)
		}
	}
	requireOnlyUnitGenerations(t, v)
	requireSameAsRebuild(t, s, v)
}

// unitVersion is this code's version of the unit name.
func unitVersion(t *testing.T, name string) uint64 {
	for _, u := range projections.Units() {
		if u.Name == name {
			return u.Version
		}
	}
	t.Fatalf("no unit %q", name)
	return 0
}

// richStore is a log with rows for nearly every table of the views: drive's
// commands on two creditors, acme with a webhook that subscribes to every
// notice, reconCommand's on claims in three currencies (payments to the
// agency, reversals, waivers and their cancellations, debits, recalls,
// write-offs), and a claim on hold and one with a payment plan.
func richStore(t *testing.T) eventstore.Store {
	t.Helper()
	ctx := context.Background()
	s := MustStore(t)
	at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), func() time.Time { return at })
	acme := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	_, err := h.ConfigureWebhook(ctx, acme, "https://acme.example/hooks", "s3cret", journal.DefaultWebhookEvent,
		projections.NoticePaymentReceived, projections.NoticePaymentReversed, projections.NoticeCreditWaiverIssued,
		projections.NoticeClaimClosed, projections.NoticeClaimReopened, projections.NoticePlanAgreed, projections.NoticePlanCancelled)
	require.NoError(t, err)
	drive(t, h, 4, 60)
	rng := rand.New(rand.NewPCG(4, 31))
	var claims []*reconClaim
	for i := range 9 {
		c, cmd := reconHandover(rng, i)
		_, err := h.Place(ctx, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, cmd)
		require.NoError(t, err)
		claims = append(claims, c)
	}
	for step := range 100 {
		at = at.Add(time.Duration(1+rng.IntN(600)) * time.Minute)
		c := claims[rng.IntN(len(claims))]
		req, cmd := reconCommand(rng, c, at, step)
		_, _ = h.Execute(ctx, c.id, req, func(time.Time) domain.Command { return cmd })
	}
	// Last, a claim on hold until a set time and one with a payment plan.
	resume := at.Add(48 * time.Hour)
	plan := planOf("PL-1", resume.Format(time.DateOnly), resume.AddDate(0, 1, 0).Format(time.DateOnly))
	plan.StartDate, plan.At = at.Format(time.DateOnly), at
	for i, cmd := range []domain.Command{domain.Pause{Reason: domain.PauseDispute, ResumeAt: &resume, At: at}, plan} {
		id := uuid.New()
		_, err := h.Place(ctx, acme, domain.Place{PlacementID: id, CreditorID: "acme", ClaimNumber: fmt.Sprintf("LAST-%d", i), CustomerNumber: "K2",
			Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		_, err = h.Execute(ctx, id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
			func(time.Time) domain.Command { return cmd })
		require.NoError(t, err)
	}
	return s
}

// TestUnitRebuiltInTheBackgroundReadsStatesAhead: a unit built in the
// background whose cache lets states go (3 kept here) has its decoders
// read them ahead, and takes every payment's (placed 2,000 events before
// it, ten batches of the build's); what it builds is what a rebuild gives.
func TestUnitRebuiltInTheBackgroundReadsStatesAhead(t *testing.T) {
	defer projections.SetBuildPaceForTest(200, 0, 2000)()
	s, _, _ := placedThenPaid(t)
	dir := filepath.Join(t.TempDir(), "views")
	open := func() *projections.Views {
		v, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet(), States: 3, StateBytes: -1})
		require.NoError(t, err)
		t.Cleanup(func() { _ = v.Close() })
		return v
	}
	v := open()
	r, stop := MustRunner(t, s, v, eventstore.Start)
	MustCatchUp(t, s, r)
	stop()
	require.NoError(t, v.Close())

	defer projections.SetUnitVersionForTest("feed", unitVersion(t, "feed")+1)()
	v = open()
	r, stop = MustRunner(t, s, v, v.Checkpoint())
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.WaitRebuilt(ctx))
	requireSameAsRebuild(t, s, v)
	assert.Equal(t, uint64(placedThenPaidN), v.StatesReadAhead(), "each payment's state read ahead")
	assert.LessOrEqual(t, v.StateReads(), uint64(placedThenPaidN), "none read by the build for a payment (one for each opening, which finds none)")
}

// TestEachUnitRebuiltAloneIsAsRebuiltWithAll: a background build does the
// work of the units it rebuilds only (and folds the states they come from,
// unless their rows come from the events alone). Each unit's version is
// changed alone, and two pairs', over views that hold a log with rows for
// nearly every table; once rebuilt in the background, the views must be
// exactly what a rebuild of every unit gives, with only those units in a
// new generation. A step skipped that a unit needs leaves its rows
// different.
func TestEachUnitRebuiltAloneIsAsRebuiltWithAll(t *testing.T) {
	defer setRetireAfter(20 * time.Millisecond)()
	s := richStore(t)
	all := MustViews(t, "")
	r, stop := MustRunner(t, s, all, eventstore.Start)
	MustCatchUp(t, s, r)
	stop()
	present, err := projections.TableBytesForTest(all)
	require.NoError(t, err)
	// Not in this log: the resource ('r', no longer stored), remittances
	// ('z', 'a') and contact changes after a closing ('k').
	absent := "rzak"
	for _, u := range projections.Units() {
		for _, table := range u.Tables {
			if !strings.ContainsRune(absent, rune(table)) {
				assert.Contains(t, present, table, "the log leaves rows in %s's table %c", u.Name, table)
			}
		}
	}
	sets := [][]string{{"search", "idempotency"}, {"search", "holds"}} // rows from the events alone; with and without states
	for _, u := range projections.Units() {
		sets = append(sets, []string{u.Name})
	}
	for _, set := range sets {
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "views")
			v := MustViews(t, dir)
			r, stop := MustRunner(t, s, v, eventstore.Start)
			MustCatchUp(t, s, r)
			stop()
			require.NoError(t, v.Close())

			for _, name := range set {
				defer projections.SetUnitVersionForTest(name, unitVersion(t, name)+1)()
			}
			v = MustViews(t, dir)
			before := v.UnitGenerations()
			r, stop = MustRunner(t, s, v, v.Checkpoint())
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, r.WaitRebuilt(ctx))
			for name, gen := range v.UnitGenerations() {
				if slices.Contains(set, name) {
					assert.NotEqual(t, before[name], gen, "%s is in a new generation", name)
				} else {
					assert.Equal(t, before[name], gen, "%s was not rebuilt", name)
				}
			}
			requireOnlyUnitGenerations(t, v)
			requireSameAsRebuild(t, s, v)
		})
	}
}
