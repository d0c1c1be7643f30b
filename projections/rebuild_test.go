package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/reconcile"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// MustStore opens an embedded event store in a temporary directory until
// the test ends.
func MustStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// MustViews opens a view store in dir (a fresh one when dir is "").
func MustViews(t *testing.T, dir string) *projections.Views {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "views")
	}
	v, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet(), States: 7})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// MustRunner runs a runner over views until the test ends and waits until
// it has applied pos.
func MustRunner(t *testing.T, s eventstore.Store, v *projections.Views, pos eventstore.Position) (*projections.Runner, func()) {
	t.Helper()
	r := projections.NewRunner(s, v, quiet())
	r.MaxBatch = 17 // many batches, many boundaries
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	require.NoError(t, r.WaitFor(wctx, pos))
	return r, stop
}

// MustCatchUp waits until r has applied everything in s, and returns the
// position that is.
func MustCatchUp(t *testing.T, s eventstore.Store, r *projections.Runner) eventstore.Position {
	t.Helper()
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.WaitFor(ctx, head))
	return head
}

// drive places 30 claims and runs 300 random commands on them.
func drive(t *testing.T, h *command.Handler, seed uint64, n int) []uuid.UUID {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	var ids []uuid.UUID
	for i := range 30 {
		creditor := []string{"acme", "beta"}[i%2]
		res, err := h.Place(ctx, command.Request{Actor: creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), IdempotencyKey: fmt.Sprintf("p-%d-%d", seed, i)}, domain.Place{
			PlacementID: uuid.New(), CreditorID: creditor, ClaimNumber: fmt.Sprintf("CL-%d-%03d", seed, i), CustomerNumber: "K1", Currency: "EUR",
			FeeRate: decimal.RequireFromString("0.15"),
			Invoices: []domain.Invoice{
				{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("100.10")), DueDate: "2024-01-01"},
				{InvoiceNumber: "B", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("55.55")), DueDate: "2024-02-01"},
			}})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
	}
	for k := range n {
		id := ids[rng.IntN(len(ids))]
		r := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
		if rng.IntN(4) == 0 {
			r.IdempotencyKey = fmt.Sprintf("k-%d-%d", seed, k)
		}
		_, _ = h.Execute(ctx, id, r, func(at time.Time) domain.Command {
			switch rng.IntN(8) {
			case 0:
				return domain.Recall{At: at}
			case 1:
				return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "A", ContractNumber: "C", Date: "2024-03-01", Amount: decimal.RequireFromString("10.01"), Currency: "EUR"}}, At: at}
			case 2:
				return domain.StartEmailSequence{SequenceID: uuid.New(), NextSendAt: at.Add(time.Hour), At: at}
			case 3:
				return domain.ScheduleCall{CallID: uuid.New(), ScheduledAt: at.Add(time.Hour), At: at}
			case 4:
				resume := at.Add(time.Hour)
				return domain.Pause{Reason: domain.PauseDispute, ResumeAt: &resume, At: at}
			case 5:
				return domain.Resume{At: at}
			default:
				return domain.ReceivePayment{Amount: decimal.New(int64(rng.IntN(5000)+1), -2), PaymentNumber: fmt.Sprintf("PN-%d", rng.IntN(40)), At: at}
			}
		})
	}
	return ids
}

// TestViewsLiveRestartedAndRebuiltAreIdentical: over random command
// sequences, the views a runner keeps while commands happen, the same views
// after a restart in the middle, and views rebuilt from position 0 hold the
// same bytes under every key; and every read answers the same.
func TestViewsLiveRestartedAndRebuiltAreIdentical(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := MustStore(t)
			dir := filepath.Join(t.TempDir(), "live")
			live := MustViews(t, dir)
			_, stop := MustRunner(t, s, live, eventstore.Start)
			h := command.NewHandler(s, projections.NewWriteIndex(live), nil)
			ids := drive(t, h, seed, 150)
			stop()
			require.NoError(t, live.Close())
			// Restart: the same directory, from its checkpoint.
			live = MustViews(t, dir)
			r, _ := MustRunner(t, s, live, live.Checkpoint())
			h = command.NewHandler(s, projections.NewWriteIndex(live), nil)
			ids = append(ids, drive(t, h, seed+100, 150)...)
			ctx := context.Background()
			head := MustCatchUp(t, s, r)

			rebuilt := MustViews(t, "")
			MustRunner(t, s, rebuilt, head)
			require.Equal(t, live.Checkpoint(), rebuilt.Checkpoint())
			diffs := 0
			require.NoError(t, projections.Diff(live, rebuilt, func(table byte, k, a, b []byte) bool {
				diffs++
				t.Errorf("views.%c key %x: live %q, rebuilt %q", table, k, a, b)
				return diffs < 10
			}))
			for _, creditor := range []string{"acme", "beta"} {
				la, _, err := live.List(creditor, "", 0, 1000)
				require.NoError(t, err)
				lb, _, err := rebuilt.List(creditor, "", 0, 1000)
				require.NoError(t, err)
				assert.Equal(t, la, lb)
				from, to := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
				fa, _, err := live.CreditorFeed(creditor, from, to, "", nil, 10_000)
				require.NoError(t, err)
				fb, _, err := rebuilt.CreditorFeed(creditor, from, to, "", nil, 10_000)
				require.NoError(t, err)
				assert.Equal(t, fa, fb)
				for _, basis := range []string{reconcile.BasisValue, reconcile.BasisBooking} {
					ra, err := live.Reconciliation(creditor, basis, from, to)
					require.NoError(t, err)
					ja, _ := json.Marshal(ra.View())
					rb, err := rebuilt.Reconciliation(creditor, basis, from, to)
					require.NoError(t, err)
					jb, _ := json.Marshal(rb.View())
					assert.JSONEq(t, string(ja), string(jb))
				}
			}
			for _, id := range ids {
				events, err := journal.ReadPlacement(ctx, s, id)
				require.NoError(t, err)
				// The views agree with a fold of the stream, byte for byte.
				var p domain.Placement
				for _, se := range events {
					p = domain.Evolve(p, se.Event)
				}
				want, _ := json.Marshal(projections.Render(p, events[len(events)-1].Revision))
				got, _, found, err := live.PlacementJSON("", id)
				require.NoError(t, err)
				require.True(t, found)
				assert.JSONEq(t, string(want), string(got))
				assert.Equal(t, string(want), string(got))
				feed, err := live.PlacementFeed(id, 0, 0)
				require.NoError(t, err)
				wantFeed, _ := json.Marshal(projections.FeedItems(events))
				gotFeed := []byte("[")
				for i, it := range feed {
					if i > 0 {
						gotFeed = append(gotFeed, ',')
					}
					gotFeed = append(gotFeed, it...)
				}
				gotFeed = append(gotFeed, ']')
				if len(feed) == 0 {
					gotFeed = []byte("null")
				}
				assert.Equal(t, string(wantFeed), string(gotFeed), "feed of %s is byte-identical", id)
				assert.False(t, p.Outstanding().IsNegative())
				assert.True(t, domain.Fee(p.Recovered.Decimal(), p.FeeRate, "EUR").Equal(p.Fee.Decimal()))
			}
		})
	}
}

// TestVersionChangeRebuilds: views written by another version of the code
// are rebuilt from position 0 (in the background) when the runner starts.
func TestVersionChangeRebuilds(t *testing.T) {
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	v := MustViews(t, dir)
	r, stop := MustRunner(t, s, v, 0)
	drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), 5, 20)
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, head))
	stop()
	require.NoError(t, v.Close())
	require.NoError(t, projections.SetVersionForTest(dir, 1000))
	v = MustViews(t, dir)
	current, err := v.Current()
	require.NoError(t, err)
	assert.False(t, current)
	r, _ = MustRunner(t, s, v, head)
	require.NoError(t, r.WaitRebuilt(wctx), "the units are rebuilt in the background")
	current, err = v.Current()
	require.NoError(t, err)
	assert.True(t, current, "rebuilt at this version")
	ready, _ := r.Ready()
	assert.True(t, ready)
	n, err := v.Count()
	require.NoError(t, err)
	assert.Equal(t, 30, n, "every placement is back")
}

// A reader waiting for a position the views already hold, from before the
// runner has started, is woken when it starts, although it has nothing to
// apply (it used to wait until its deadline).
func TestWaitForBeforeTheRunnerStarts(t *testing.T) {
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	v := MustViews(t, dir)
	drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), 3, 10)
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	_, stop := MustRunner(t, s, v, head)
	stop()
	require.NoError(t, v.Close())

	v = MustViews(t, dir)
	require.Equal(t, head, v.Checkpoint())
	r := projections.NewRunner(s, v, quiet())
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	waited := make(chan error, 1)
	go func() { waited <- r.WaitFor(wctx, head) }()
	time.Sleep(20 * time.Millisecond) // let the reader wait first
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	require.NoError(t, <-waited)
}

// TestBulkBuildsWriteStatesBack: a bulk build (rebuild, verify) writes a
// placement's state back only when its cache lets it go, or when saved at
// the end; with a cache of 3 decoded states, none, a few or all encoded
// behind them, and batches of every size, its views
// hold the same bytes under every key as views built event by event (once
// with the final save split into a batch per state).
func TestBulkBuildsWriteStatesBack(t *testing.T) {
	s, live, head := drivenViews(t, 7, 200)
	// Encoded states behind the 3 decoded: none, a few (so that states
	// leave them, encoded, and are read back from the store), or all.
	for _, encoded := range []int{-1, 2_500, 0} {
		for _, batch := range []int{1, 17, 100_000} {
			t.Run(fmt.Sprint("encoded", encoded, "/batch", batch), func(t *testing.T) {
				bulkBuild(t, s, live, head, 3, encoded, batch)
			})
		}
	}
}

// bulkBuild builds views in bulk from s, with states cached decoded and
// encoded bytes behind them (0: the defaults), in batches of batch events,
// requires that they hold what live (built event by event up to head)
// holds, and returns them (closed with the test).
func bulkBuild(t *testing.T, s eventstore.Store, live *projections.Views, head eventstore.Position, states, encoded, batch int) *projections.Views {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if batch == 17 {
		// SaveStates commits after every state it writes.
		defer projections.SetSaveBatchBytes(1)()
	}
	bulk, err := projections.OpenViews(filepath.Join(t.TempDir(), "bulk"), projections.ViewsOptions{Logger: quiet(), States: states,
		StateBytes: encoded, Bulk: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bulk.Close() })
	br := projections.NewRunner(s, bulk, quiet())
	br.MaxBatch, br.Once = batch, true
	require.NoError(t, br.Run(ctx))
	require.NoError(t, bulk.SaveStates())
	require.Equal(t, head, bulk.Checkpoint())
	requireSameViews(t, live, bulk, "bulk")
	return bulk
}

// requireSameViews fails t where got holds other than want, the views built
// event by event (naming up to ten keys).
func requireSameViews(t *testing.T, want, got *projections.Views, what string) {
	t.Helper()
	diffs := 0
	require.NoError(t, projections.Diff(want, got, func(table byte, k, a, b []byte) bool {
		diffs++
		t.Errorf("views.%c key %x: event by event %q, %s %q", table, k, a, what, b)
		return diffs < 10
	}))
}

// TestBulkBuildReadsStatesAhead: a bulk build whose cache holds 3 states
// reads the others back from the store, and its decoders read them ahead
// of the applier. The applier takes those at the revision before their
// event's, and reads the others itself: those the store held older when a
// decoder read them (a decoder runs up to about a thousand events ahead).
// Over random commands on 30 placements (events close together: most read
// too early) and over 2,000 placements placed and then each paid once
// (every state before a payment read ahead), in batches of one event
// (states written back at once), of 50 or of all, the views hold what
// views built event by event do.
func TestBulkBuildReadsStatesAhead(t *testing.T) {
	for _, tc := range []struct {
		name       string
		views      func(t *testing.T) (eventstore.Store, *projections.Views, eventstore.Position)
		everyAhead bool
	}{
		{"random", func(t *testing.T) (eventstore.Store, *projections.Views, eventstore.Position) {
			return drivenViews(t, 11, 3000)
		}, false},
		{"placed then paid", placedThenPaid, true},
	} {
		s, live, head := tc.views(t)
		for _, batch := range []int{1, 50, 100_000} {
			t.Run(fmt.Sprint(tc.name, "/batch", batch), func(t *testing.T) {
				bulk := bulkBuild(t, s, live, head, 3, -1, batch)
				t.Logf("states taken from the decoders: %d; read by the applier: %d", bulk.StatesReadAhead(), bulk.StateReads())
				if tc.everyAhead && batch == 1 {
					assert.Equal(t, uint64(placedThenPaidN), bulk.StatesReadAhead(), "each payment's state read ahead")
					assert.Zero(t, bulk.StateReads())
				}
			})
		}
		t.Run(tc.name+"/every state cached", func(t *testing.T) {
			bulk := bulkBuild(t, s, live, head, 0, 0, 100)
			assert.Zero(t, bulk.ReadsAhead(), "a cache that let no state go: nothing to read ahead")
		})
	}
}

const placedThenPaidN = 2000

// placedThenPaid places placedThenPaidN placements, then pays each once,
// in the same order, and returns the views built event by event.
func placedThenPaid(t *testing.T) (eventstore.Store, *projections.Views, eventstore.Position) {
	s := MustStore(t)
	live := MustViews(t, "")
	r, stop := MustRunner(t, s, live, eventstore.Start)
	h := command.NewHandler(s, projections.NewWriteIndex(live), nil)
	ctx := context.Background()
	ids := make([]uuid.UUID, placedThenPaidN)
	for i := range ids {
		res, err := h.Place(ctx, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, domain.Place{
			PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%04d", i), CustomerNumber: "K1", Currency: "EUR",
			FeeRate:  decimal.RequireFromString("0.15"),
			Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("100.10")), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		ids[i] = res.Placement.ID
	}
	for i, id := range ids {
		_, err := h.Execute(ctx, id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: decimal.RequireFromString("10"), PaymentNumber: fmt.Sprintf("PN-%d", i), At: at}
		})
		require.NoError(t, err)
	}
	head := MustCatchUp(t, s, r)
	stop()
	return s, live, head
}

// TestBulkBuildOverStoredViewsReadsTheirStates: a bulk build skips reading
// the state of a placement it never wrote only when it began from nothing
// (see idFilter); one opened over views that hold states reads them, and
// builds what an event-by-event build does.
func TestBulkBuildOverStoredViewsReadsTheirStates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := driveLive(t, 5, 100)
	s, live, r, h := d.s, d.live, d.r, d.h
	dir := filepath.Join(t.TempDir(), "bulk")
	build := func() *projections.Views {
		bulk, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet(), States: 3, StateBytes: -1, Bulk: true})
		require.NoError(t, err)
		br := projections.NewRunner(s, bulk, quiet())
		br.Once = true
		require.NoError(t, br.Run(ctx))
		require.NoError(t, bulk.SaveStates())
		return bulk
	}
	require.NoError(t, build().Close())
	// Later events of placements whose states the first build stored.
	payEach(ctx, t, h, d.ids, "late-")
	head := MustCatchUp(t, s, r)
	bulk := build()
	defer bulk.Close()
	require.Equal(t, head, bulk.Checkpoint())
	requireSameViews(t, live, bulk, "bulk over stored views")
}

// TestBulkBuildAppliesOnAfterSavingItsStates: SaveStates gives back what a
// bulk build from nothing held to apply (its cache of states and the filter
// of the states it wrote) before its merge; events applied afterwards read
// the states from the store, new placements included, and the views are
// those built event by event. Its batches and memtable are small here, so
// that SaveStates flushes as it writes (what that saves is memory, measured
// in docs/PERFORMANCE.md, not something a test can see).
func TestBulkBuildAppliesOnAfterSavingItsStates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer projections.SetSaveBatchBytes(1)()      // a batch per state
	defer projections.SetBulkForTest(4<<10, 64)() // flushed every 2 KiB of them
	d := driveLive(t, 6, 100)
	s, live, r, h := d.s, d.live, d.r, d.h

	bulk, err := projections.OpenViews(filepath.Join(t.TempDir(), "bulk"), projections.ViewsOptions{Logger: quiet(), States: 3, Bulk: true})
	require.NoError(t, err)
	defer bulk.Close()
	build := func() {
		br := projections.NewRunner(s, bulk, quiet())
		br.Once = true
		require.NoError(t, br.Run(ctx))
	}
	build()
	kept, cached := projections.WrittenFilterForTest(bulk)
	require.True(t, kept, "a build from nothing filters the states it wrote")
	require.Positive(t, cached)
	require.NoError(t, bulk.SaveStates())
	kept, cached = projections.WrittenFilterForTest(bulk)
	assert.False(t, kept, "the filter is given back once every state is written")
	assert.Zero(t, cached, "and the cached states")

	payEach(ctx, t, h, d.ids, "after-")
	drive(t, h, 7, 20) // and placements the build never saw
	head := MustCatchUp(t, s, r)
	build()
	require.NoError(t, bulk.SaveStates())
	require.Equal(t, head, bulk.Checkpoint())
	requireSameViews(t, live, bulk, "bulk, applied on after SaveStates")
}

// payEach pays 1.00 on each placement of ids through h, numbered prefix
// and its index, and requires that the rules accepted some of them.
func payEach(ctx context.Context, t *testing.T, h *command.Handler, ids []uuid.UUID, prefix string) {
	t.Helper()
	paid := 0
	for i, id := range ids {
		_, err := h.Execute(ctx, id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
			func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.RequireFromString("1.00"), PaymentNumber: fmt.Sprint(prefix, i), At: at}
			})
		if err == nil {
			paid++
		}
	}
	require.Positive(t, paid, "payments the rules accepted")
}

// payAndWait pays amount on placement id through h, under number, and waits
// until r has applied the payment.
func payAndWait(ctx context.Context, t *testing.T, h *command.Handler, r *projections.Runner, id uuid.UUID, amount decimal.Decimal,
	number string) command.Result {
	t.Helper()
	res, err := h.Execute(ctx, id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
		func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: amount, PaymentNumber: number, At: at}
		})
	require.NoError(t, err)
	require.NoError(t, r.WaitFor(ctx, res.Position))
	return res
}

// TestKeptViewsAreStoredCompressed: views that are kept are stored with
// Pebble's "good" profile (zstd at the bottom), and a finished bulk build
// compacted leaves nothing in L0; views that are thrown away are stored
// with Pebble's default, snappy. Neither
// changes a byte of what the views hold, and views stored either way are
// read by the other's options (tables keep the form they were written in).
func TestKeptViewsAreStoredCompressed(t *testing.T) {
	s, live, head := drivenViews(t, 11, 300)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	build := func(dir string, throwaway bool) *projections.Views {
		v, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet(), Bulk: true, Throwaway: throwaway})
		require.NoError(t, err)
		br := projections.NewRunner(s, v, quiet())
		br.Once = true
		require.NoError(t, br.Run(ctx))
		require.NoError(t, v.SaveStates())
		require.NoError(t, v.Compact(ctx))
		require.Equal(t, head, v.Checkpoint())
		return v
	}
	same := func(what string, v *projections.Views) {
		t.Helper()
		require.NoError(t, projections.Diff(live, v, func(table byte, k, a, b []byte) bool {
			t.Errorf("%s: views.%c key %x: event by event %q, here %q", what, table, k, a, b)
			return false
		}))
	}

	keptDir, thrownDir := filepath.Join(t.TempDir(), "kept"), filepath.Join(t.TempDir(), "thrown")
	kept := build(keptDir, false)
	l0, settings, err := projections.TablesForTest(kept)
	require.NoError(t, err)
	assert.Zero(t, l0, "tables left in L0 after Compact")
	// Pebble picks zstd or the fastest algorithm block by block (zstd where
	// it saves at least a tenth), so which of the two a small store gets
	// depends on its bytes; snappy, the default, never.
	assert.Zero(t, settings["Snappy"], "kept views' tables: %v", settings)
	assert.Positive(t, settings["ZSTD3"]+settings["MinLZ1"], "kept views' tables: %v", settings)
	bottom := projections.CompressionProfilesForTest(projections.ViewsOptions{})
	assert.Equal(t, "Good", bottom[len(bottom)-1], "kept views' bottom level: %v", bottom)
	assert.Equal(t, "Balanced", bottom[len(bottom)-2], "kept views' level above the bottom: %v", bottom)
	same("kept", kept)
	require.NoError(t, kept.Close())

	thrown := build(thrownDir, true)
	_, settings, err = projections.TablesForTest(thrown)
	require.NoError(t, err)
	// Snappy in the bottom level, the fastest above it: never zstd.
	assert.Positive(t, settings["Snappy"]+settings["MinLZ1"]+settings["NoCompression"], "thrown-away views' tables: %v", settings)
	assert.Zero(t, settings["ZSTD3"], "thrown-away views' tables: %v", settings)
	same("thrown away", thrown)
	require.NoError(t, thrown.Close())

	// Each read with the other's options.
	for _, tc := range []struct {
		dir       string
		throwaway bool
	}{{thrownDir, false}, {keptDir, true}} {
		v, err := projections.OpenViews(tc.dir, projections.ViewsOptions{Logger: quiet(), Throwaway: tc.throwaway})
		require.NoError(t, err)
		same(fmt.Sprintf("%s reopened", filepath.Base(tc.dir)), v)
		require.NoError(t, v.Close())
	}

	empty := MustViews(t, "")
	require.NoError(t, empty.Compact(ctx), "an empty store compacts to nothing")
}

// liveDriven is a store with random commands on 30 claims (see drive)
// through h, and views r keeps up to date event by event.
type liveDriven struct {
	s    eventstore.Store
	live *projections.Views
	r    *projections.Runner
	stop func()
	h    *command.Handler
	ids  []uuid.UUID
	head eventstore.Position // what r had applied when driveLive returned
}

// driveLive drives n commands of seed, and waits for the views to apply
// them.
func driveLive(t *testing.T, seed uint64, n int) liveDriven {
	t.Helper()
	d := liveDriven{s: MustStore(t), live: MustViews(t, "")}
	d.r, d.stop = MustRunner(t, d.s, d.live, eventstore.Start)
	d.h = command.NewHandler(d.s, projections.NewWriteIndex(d.live), nil)
	d.ids = drive(t, d.h, seed, n)
	d.head = MustCatchUp(t, d.s, d.r)
	return d
}

// drivenViews is a store with n random commands on 30 claims (see drive),
// and views a runner kept up to date event by event, stopped at head.
func drivenViews(t *testing.T, seed uint64, n int) (eventstore.Store, *projections.Views, eventstore.Position) {
	t.Helper()
	d := driveLive(t, seed, n)
	d.stop()
	return d.s, d.live, d.head
}

// TestBulkBuildBoundsL0: a bulk build writes faster than Pebble compacts;
// it waits for Pebble's compactions whenever L0 grows deeper than its
// bound, and what it builds is the same.
func TestBulkBuildBoundsL0(t *testing.T) {
	s, live, head := drivenViews(t, 13, 300)
	defer projections.SetBulkForTest(64<<10, 2)() // a flush every 64 KiB, at most 2 sublevels
	// Everything through Pebble, as the states of a build of many
	// placements are (the sink takes most keys of a build, see the next
	// test).
	defer projections.WithoutSinkForTest()()
	for _, throwaway := range []bool{false, true} {
		bulk := bulkBuilt(t, s, filepath.Join(t.TempDir(), "bulk"), throwaway)
		sublevels, bottom := projections.LevelsForTest(bulk)
		assert.LessOrEqual(t, sublevels, int32(2), "L0's depth after the last commit")
		assert.Positive(t, bottom, "tables Pebble's compactions put in the bottom level")
		require.NoError(t, bulk.SaveStates())
		require.Equal(t, head, bulk.Checkpoint())
		requireSameViews(t, live, bulk, "bulk")
		require.NoError(t, bulk.Close())
	}
}

// bulkBuilt builds bulk views of s in dir, in batches of 17 events, up to
// the head (SaveStates not called).
func bulkBuilt(t *testing.T, s eventstore.Store, dir string, throwaway bool) *projections.Views {
	t.Helper()
	bulk, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: quiet(), Bulk: true, Throwaway: throwaway})
	require.NoError(t, err)
	br := projections.NewRunner(s, bulk, quiet())
	br.MaxBatch, br.Once = 17, true
	require.NoError(t, br.Run(context.Background()))
	return bulk
}

// TestBulkBuildSortsWriteOnlyKeys: a bulk build writes the keys it never
// reads back through its sink, sorted in runs and merged into the bottom
// level at SaveStates; the views are the same as those built event by
// event, and until SaveStates a read of what the sink holds is refused.
func TestBulkBuildSortsWriteOnlyKeys(t *testing.T) {
	s, live, head := drivenViews(t, 21, 300)
	defer projections.SetSinkForTest(4<<10, 3)() // a run every 4 KiB, merged three at a time
	for _, throwaway := range []bool{false, true} {
		bulk := bulkBuilt(t, s, filepath.Join(t.TempDir(), "bulk"), throwaway)
		pending, keys, runs := projections.SinkForTest(bulk)
		require.True(t, pending)
		assert.Positive(t, keys)
		assert.Greater(t, runs, 3, "runs written, so that merging them takes more than one pass")
		_, err := bulk.HasCreditor("acme")
		require.Error(t, err, "a read of the creditor's list before SaveStates")
		_, _, err = bulk.ClaimPlacement("acme", "CL-21-000")
		require.Error(t, err, "a read of the claim index before SaveStates")

		require.NoError(t, bulk.SaveStates())
		pending, _, _ = projections.SinkForTest(bulk)
		require.False(t, pending)
		has, err := bulk.HasCreditor("acme")
		require.NoError(t, err)
		assert.True(t, has)
		require.Equal(t, head, bulk.Checkpoint())
		requireSameViews(t, live, bulk, "bulk, sorted")
		_, bottom := projections.LevelsForTest(bulk)
		assert.Positive(t, bottom, "tables ingested into the bottom level")
		require.NoError(t, bulk.Close())
	}

	// A build thrown away (interrupted, or verify's) is discarded as it
	// is: nothing merged, its directory removed by the caller.
	dir := filepath.Join(t.TempDir(), "discarded")
	bulk := bulkBuilt(t, s, dir, false)
	_, _, runs := projections.SinkForTest(bulk)
	require.Positive(t, runs)
	require.NoError(t, bulk.Discard())
	pending, _, _ := projections.SinkForTest(bulk)
	assert.False(t, pending)
	require.NoError(t, bulk.Discard(), "discarding again does nothing")
	require.NoError(t, os.RemoveAll(dir))
}
