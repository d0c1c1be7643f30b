package projections_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

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
	assert.Equal(t, first.Placement.Recovered.Add(decimal.New(1, -2)).String(), second.Placement.Recovered.String())
	assert.Positive(t, logReads.n.Load()-logBefore, "the log was read for what followed the snapshot")
}
