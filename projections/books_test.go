package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// remittedStore is richStore's log, then a remittance of what the agency
// collected for acme in each currency, then more commands (whose postings
// and trial-balance sums come after the remittance's); and the position
// of the last event before the remittances.
func remittedStore(t *testing.T) (eventstore.Store, eventstore.Position) {
	t.Helper()
	s := richStore(t)
	v := MustViews(t, "")
	r, stop := MustRunner(t, s, v, eventstore.Start)
	defer stop()
	before := MustCatchUp(t, s, r)
	h := command.NewHandler(s, projections.NewWriteIndex(v), nil)
	remitted := 0
	for _, currency := range []string{"EUR", "USD", "SEK"} {
		_, _, err := h.IssueRemittance(context.Background(), command.Request{Actor: "agency", ActorType: journal.ActorAgency, RequestID: uuid.NewString()},
			r.Settlements(), command.RemitRequest{CreditorID: "acme", Currency: currency, To: time.Now().UTC().Format(time.DateOnly), RemittanceNumber: "R-" + currency})
		if errors.Is(err, domain.ErrNothingToRemit) {
			continue
		}
		require.NoError(t, err)
		remitted++
	}
	require.Positive(t, remitted, "the log has agency payments to remit")
	drive(t, h, 9, 40)
	MustCatchUp(t, s, r)
	return s, before
}

// TestBooksWorkerBuildsWhatTheApplierAloneBuilds: with the books and the
// reconciliation handed to their worker from a batch's first event, or
// from the event after the last agency payment before the remittances (in
// one batch of all, the applier writes those payments' unsettled items, the
// worker the remittances that settle them, so the worker's rows must come
// after the applier's, in the batch as in a bulk build's sink), the
// views a runner keeps, a bulk build and a background build of those two
// units hold exactly what the applier builds alone, over a log with
// postings of every kind, remittances among them.
func TestBooksWorkerBuildsWhatTheApplierAloneBuilds(t *testing.T) {
	s, remitted := remittedStore(t)
	restore := projections.SetBooksAfterForTest(math.MaxInt)
	alone := MustViews(t, "")
	r, stop := MustRunner(t, s, alone, eventstore.Start)
	head := MustCatchUp(t, s, r)
	stop()
	tables, err := projections.TableBytesForTest(alone)
	require.NoError(t, err)
	require.Subset(t, tables, []byte("jtuxyza"), "the log leaves rows in every table of the books and the reconciliation")
	dir := filepath.Join(t.TempDir(), "views")
	v := MustViews(t, dir)
	_, stop = MustRunner(t, s, v, head)
	stop()
	require.NoError(t, v.Close())
	restore()

	for _, after := range []int{1, lastAgencyPayment(t, s, remitted) + 1} {
		defer projections.SetBooksAfterForTest(after)()
		t.Run(fmt.Sprint("runner/after", after), func(t *testing.T) {
			v := MustViews(t, "")
			_, stop := MustRunner(t, s, v, head)
			stop()
			requireSameViews(t, alone, v, "with the books worker")
		})
		for _, batch := range []int{17, 100_000} {
			t.Run(fmt.Sprint("bulk/after", after, "/batch", batch), func(t *testing.T) { bulkBuild(t, s, alone, head, 0, 0, batch) })
		}
		for _, bulk := range []bool{false, true} {
			t.Run(fmt.Sprint("one batch/after", after, "/bulk ", bulk), func(t *testing.T) {
				requireSameViews(t, alone, builtInOneBatch(t, s, bulk), "in one batch with the books worker")
			})
		}
	}
	t.Run("background", func(t *testing.T) {
		defer projections.SetBooksAfterForTest(1)()
		for _, name := range []string{"books", "reconciliation"} {
			defer projections.SetUnitVersionForTest(name, unitVersion(t, name)+1)()
		}
		v := MustViews(t, dir)
		r, stop := MustRunner(t, s, v, head)
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, r.WaitRebuilt(ctx))
		requireSameViews(t, alone, v, "rebuilt in the background with the books worker")
	})
}

// builtInOneBatch builds views of the whole of s in one batch (a runner's
// end wherever its decoders fall behind).
func builtInOneBatch(t *testing.T, s eventstore.Store, bulk bool) *projections.Views {
	t.Helper()
	v, err := projections.OpenViews(filepath.Join(t.TempDir(), "views"), projections.ViewsOptions{Logger: quiet(), Bulk: bulk})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close() })
	evs, err := s.ReadAll(context.Background(), eventstore.Start, 10_000)
	require.NoError(t, err)
	require.Less(t, len(evs), 10_000, "the whole log in one read")
	b := v.Builder()
	b.MaxBatch = math.MaxInt
	for _, raw := range evs {
		id, rec, err := projections.Decode(raw)
		require.NoError(t, err)
		require.NoError(t, b.Apply(raw, id, rec))
	}
	done, err := b.Flush()
	require.NoError(t, err)
	require.True(t, done, "the log ends between commands")
	if bulk {
		require.NoError(t, v.SaveStates())
	}
	return v
}

// lastAgencyPayment is the number of the last event before position before
// that is a payment to the agency (an event's number is its position: the
// embedded store numbers them from 1).
func lastAgencyPayment(t *testing.T, s eventstore.Store, before eventstore.Position) int {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), eventstore.Start, 10_000)
	require.NoError(t, err)
	last := 0
	for i, raw := range evs {
		require.Equal(t, eventstore.Position(i+1), raw.Position)
		_, rec, err := projections.Decode(raw)
		require.NoError(t, err)
		if p, ok := rec.Event.(domain.PaymentReceived); ok && p.ReceivedBy == domain.ReceivedByAgency && raw.Position < before {
			last = i + 1
		}
	}
	require.Positive(t, last, "an agency payment before the remittances")
	return last
}
