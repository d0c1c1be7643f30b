package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/projections"
)

// TestViewsOfAnotherHistoryAreRefused: views are used only with the log
// they were built from. A log that ends before their checkpoint (restored
// from an older backup), another store's log, and a log that holds another
// event in the place of the last one they applied are each refused with
// ErrOtherHistory, by CheckLog and by a runner, which then applies nothing.
func TestViewsOfAnotherHistoryAreRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, views, head := drivenViews(t, 3, 60)
	require.NoError(t, views.CheckLog(ctx, s), "the log they were built from")
	require.Equal(t, head, views.Checkpoint())

	older, olderHead := drivenStore(t, 3, 5)
	require.Less(t, olderHead, head)
	err := views.CheckLog(ctx, older)
	assert.ErrorIs(t, err, projections.ErrOtherHistory)
	assert.ErrorContains(t, err, "the log ends at")

	other, otherHead := drivenStore(t, 4, 200)
	require.Greater(t, otherHead, head)
	err = views.CheckLog(ctx, other)
	assert.ErrorIs(t, err, projections.ErrOtherHistory)
	assert.ErrorContains(t, err, "is not in the log")

	// The same history up to the last event the views applied, then
	// another event in its place (a log restored from a backup that was
	// written to again): the stream and revision they recorded hold
	// another event.
	all, err := s.ReadAll(ctx, eventstore.Start, int(head))
	require.NoError(t, err)
	diverged := MustStore(t)
	for _, e := range all[:len(all)-1] {
		_, err := diverged.Append(ctx, e.Stream, eventstore.Any(), []eventstore.EventData{{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}})
		require.NoError(t, err)
	}
	last := all[len(all)-1]
	res, err := diverged.Append(ctx, last.Stream, eventstore.Any(), []eventstore.EventData{{ID: uuid.New(), Type: last.Type, Data: last.Data, Metadata: last.Metadata}})
	require.NoError(t, err)
	require.Equal(t, last.Revision, res.Revision)
	require.Equal(t, last.Position, res.Position)
	err = views.CheckLog(ctx, diverged)
	assert.ErrorIs(t, err, projections.ErrOtherHistory)
	assert.ErrorContains(t, err, "is not in the log")

	r := projections.NewRunner(other, views, quiet())
	r.Once = true
	assert.ErrorIs(t, r.Run(ctx), projections.ErrOtherHistory)
	assert.Equal(t, head, views.Checkpoint(), "nothing applied")
}

// drivenStore is a store of its own with drive's placements and n commands
// (seed chooses them), without views, and its head.
func drivenStore(t *testing.T, seed uint64, n int) (*embedded.Store, eventstore.Position) {
	t.Helper()
	s := MustStore(t)
	drive(t, command.NewHandler(s, projections.NewIdempotencyIndex(), nil), seed, n)
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	return s, head
}
