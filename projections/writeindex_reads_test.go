package projections_test

import (
	"context"
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
	"github.com/collections-ledger/ledger/eventstore/storetest"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// streamReads counts the reads of streams a command handler makes.
type streamReads struct {
	eventstore.Store
	n atomic.Int64
}

func (s *streamReads) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	s.n.Add(1)
	return s.Store.ReadStream(ctx, stream, from, limit)
}

// TestCommandPathViewReads counts the view store's point reads a command
// makes: none when its placement is cached, one (its snapshot) when it is
// not, and one more per number it names that the cache does not know; and
// its reads of the log: none, unless the snapshot turns out to be behind it.
func TestCommandPathViewReads(t *testing.T) {
	s := MustStore(t)
	v := MustViews(t, "")
	ids := drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), 3, 60)
	r, stop := MustRunner(t, s, v, 0)
	MustCatchUp(t, s, r)

	idx := projections.NewWriteIndex(v)
	logReads := &streamReads{Store: s}
	h := command.NewHandler(logReads, idx, nil)
	pay := func(h *command.Handler, number string) (command.Result, error) {
		return h.Execute(context.Background(), ids[1], command.Request{Actor: "beta", ActorType: journal.ActorCreditor, RequestID: "r"},
			func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.New(1, -2), PaymentNumber: number, At: at}
			})
	}
	for _, tc := range []struct {
		name    string
		number  string
		reads   uint64
		readLog bool
	}{
		{name: "a miss reads the snapshot", reads: 1},
		{name: "a hit reads nothing", reads: 0},
		{name: "a hit again reads nothing", reads: 0},
		{name: "a hit naming a new number reads it", number: "N-1", reads: 1},
		// … and answers a repeat as it was answered, from the log.
		{name: "a hit naming a number it processed reads nothing", number: "N-1", reads: 0, readLog: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, logBefore := idx.Reads(), logReads.n.Load()
			_, err := pay(h, tc.number)
			require.NoError(t, err)
			assert.Equal(t, tc.reads, idx.Reads()-before)
			assert.Equal(t, tc.readLog, logReads.n.Load() > logBefore, "the log read")
		})
	}

	// The views stop: a payment appended now is not in the snapshot, and a
	// handler that has not seen it decides on the snapshot, loses the append
	// to the log, and decides again on the placement as the log has it.
	stop()
	first, err := pay(command.NewHandler(s, projections.NewWriteIndex(v), nil), "")
	require.NoError(t, err)
	logBefore := logReads.n.Load()
	fresh := command.NewHandler(logReads, projections.NewWriteIndex(v), nil)
	second, err := pay(fresh, "")
	require.NoError(t, err)
	stream := storetest.MustReadStream(t, s, journal.PlacementStream(ids[1]))
	assert.Equal(t, stream[len(stream)-1].Revision, second.Revision)
	assert.Greater(t, second.Revision, first.Revision, "decided after the payment the views have not applied")
	assert.Equal(t, first.Placement.Recovered.Add(domain.AmountOf(decimal.New(1, -2))).String(), second.Placement.Recovered.String())
	assert.Positive(t, logReads.n.Load()-logBefore, "the log was read for what followed the snapshot")
}

// TestSnapshotHandsTheStateToTheApplier: a command on a placement its
// handler does not cache reads the placement's state from the views
// (Snapshot), and the applier applies the command's events on that state
// instead of reading it from the store again, even when it keeps fewer
// states than there are placements (MustViews keeps 7 of these 30). When
// the handler decides from its own cache, nothing is handed on and the
// applier reads the store. Either way the views are those of an
// event-by-event build from the log.
func TestSnapshotHandsTheStateToTheApplier(t *testing.T) {
	s := MustStore(t)
	v := MustViews(t, "")
	ids := drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), 5, 60)
	r, _ := MustRunner(t, s, v, 0)
	MustCatchUp(t, s, r)
	pay := func(h *command.Handler, id uuid.UUID) {
		_, err := h.Execute(context.Background(), id, command.Request{Actor: "acme", ActorType: journal.ActorAgency, RequestID: uuid.NewString()},
			func(at time.Time) domain.Command { return domain.ReceivePayment{Amount: decimal.New(1, -2), At: at} })
		if _, refused := domain.AsError(err); err != nil && !refused {
			require.NoError(t, err) // a rule's refusal (a closed placement) appends nothing, and is no failure here
		}
		MustCatchUp(t, s, r)
	}

	before := v.StateReads()
	for range 2 {
		for _, id := range ids {
			pay(command.NewHandler(s, projections.NewWriteIndex(v), nil), id) // nothing cached: a snapshot each
		}
	}
	assert.Zero(t, v.StateReads()-before, "the applier read states the snapshots had handed on")

	cached := command.NewHandler(s, projections.NewWriteIndex(v), nil)
	for _, id := range ids {
		pay(cached, id) // the handler's first command on each: a snapshot
	}
	before = v.StateReads()
	for _, id := range ids {
		pay(cached, id) // decided from the handler's cache: no snapshot
	}
	assert.Positive(t, v.StateReads()-before, "without snapshots the applier reads the states it does not keep")

	// A state handed on that the applier does not take (it still kept the
	// placement) is older than the one it needs once it has let the
	// placement go: it reads the store.
	x := ids[0]
	pay(cached, x)
	_, found, err := v.Snapshot(x) // handed on at x's revision now
	require.NoError(t, err)
	require.True(t, found)
	pay(cached, x) // applied on the state the applier kept
	for _, id := range ids[1:9] {
		pay(cached, id) // x leaves the applier's 7 states
	}
	before = v.StateReads()
	pay(cached, x)
	assert.Positive(t, v.StateReads()-before, "a state handed on at an older revision is not taken")

	rebuilt := MustViews(t, "")
	MustRunner(t, s, rebuilt, MustCatchUp(t, s, r))
	requireSameViews(t, rebuilt, v, "live, with states handed on")
}
