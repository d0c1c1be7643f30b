package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// TestViewsWrittenAsJSONKeepWorking: views whose placement states earlier
// code wrote as JSON are read as they are, without a rebuild: the runner
// continues from them, snapshots start commands from them, and the views
// then hold what a rebuild holds (states compared by content, since those
// no event touched since stay JSON, and beside those the change index's
// rows that earlier code wrote; every other table byte for byte).
func TestViewsWrittenAsJSONKeepWorking(t *testing.T) {
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "live")
	live := MustViews(t, dir)
	_, stop := MustRunner(t, s, live, eventstore.Start)
	h := command.NewHandler(s, projections.NewWriteIndex(live), nil)
	ids := drive(t, h, 5, 150)
	stop()
	require.NoError(t, live.Close())
	n, err := projections.RewriteStatesAsJSONForTest(dir)
	require.NoError(t, err)
	require.Equal(t, len(ids), n)

	live = MustViews(t, dir)
	current, err := live.Current()
	require.NoError(t, err)
	require.True(t, current, "JSON states need no new version")
	r, _ := MustRunner(t, s, live, live.Checkpoint())
	h = command.NewHandler(s, projections.NewWriteIndex(live), nil)
	for i, id := range ids[:20] { // the runner continues these from their JSON states
		_, _ = h.Execute(context.Background(), id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
			func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.New(1, -2), PaymentNumber: fmt.Sprintf("JSON-%d", i), At: at}
			})
	}
	ids = append(ids, drive(t, h, 6, 150)...)
	head := MustCatchUp(t, s, r)

	rebuilt := MustViews(t, "")
	MustRunner(t, s, rebuilt, head)
	diffs := 0
	require.NoError(t, projections.Diff(live, rebuilt, func(table byte, k, a, b []byte) bool {
		if table == 'p' && a != nil && b != nil {
			ja, err := projections.StateAsJSONForTest(a)
			require.NoError(t, err)
			jb, err := projections.StateAsJSONForTest(b)
			require.NoError(t, err)
			if ja == jb {
				return true
			}
		}
		if table == 'C' && b == nil && len(k) == 17 && k[0] == 'p' {
			// The change index's row of a placement whose state is
			// still JSON: the state does not say where it is in the
			// index, the row does (deleted when the state is next written).
			f, err := projections.StateFormatForTest(live, uuid.UUID(k[1:]))
			require.NoError(t, err)
			if f == '{' {
				return true
			}
		}
		diffs++
		t.Errorf("views.%c key %x: live %q, rebuilt %q", table, k, a, b)
		return diffs < 10
	}))
	for _, id := range ids {
		events, err := journal.ReadPlacement(context.Background(), s, id)
		require.NoError(t, err)
		var p domain.Placement
		for _, se := range events {
			p = domain.Evolve(p, se.Event)
		}
		want, _ := json.Marshal(projections.Render(p, events[len(events)-1].Revision))
		got, _, found, err := live.PlacementJSON("", id)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, string(want), string(got))
		snap, found, err := live.Snapshot(id)
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, events[len(events)-1].Revision, snap.Revision)
	}
}
