package kurrent

import (
	"context"
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
)

func TestNormalizeConnectionString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false"},
		{"kurrentdb://admin:changeit@localhost:2113", "esdb://admin:changeit@localhost:2113"},
		{"kurrentdb+discover://a:2113,b:2113", "esdb+discover://a:2113,b:2113"},
		{"esdb+discover://cluster.dns:2113", "esdb+discover://cluster.dns:2113"},
	} {
		t.Run("OK"+tc.in, func(t *testing.T) {
			got, err := normalizeConnectionString(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.True(t, IsConnectionString(tc.in))
		})
	}
	for _, in := range []string{"./data/ledger.db", "/var/lib/ledger", "http://localhost:2113", "", "ESDB"} {
		t.Run("Err"+in, func(t *testing.T) {
			_, err := normalizeConnectionString(in)
			assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
			assert.False(t, IsConnectionString(in))
		})
	}
}

func TestOpenRefusesBadConnectionString(t *testing.T) {
	_, err := Open("kurrentdb://", nil)
	assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
	_, err = Open("./data", nil)
	assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
}

func TestToExpected(t *testing.T) {
	for _, tc := range []struct {
		in   eventstore.ExpectedRevision
		want esdb.ExpectedRevision
	}{
		{eventstore.Any(), esdb.Any{}},
		{eventstore.NoStream(), esdb.NoStream{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(41), esdb.Revision(41)},
	} {
		got, err := toExpected(tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%s", tc.in)
	}
	got, err := toExpected(eventstore.ExpectedRevision{})
	assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
	assert.Nil(t, got, "never a nil option that the client would turn into Any")
}

func TestPositionMapping(t *testing.T) {
	t.Run("OKRoundTrip", func(t *testing.T) {
		for _, p := range []uint64{1, 1234, 1 << 40} {
			pos, err := fromPosition(esdb.Position{Commit: p, Prepare: p})
			require.NoError(t, err)
			assert.Equal(t, eventstore.Position(p), pos)
			assert.Equal(t, esdb.Position{Commit: p, Prepare: p}, toPosition(pos))
		}
		assert.Equal(t, esdb.Start{}, toPosition(eventstore.Start))
	})
	t.Run("ErrExplicitTransaction", func(t *testing.T) {
		_, err := fromPosition(esdb.Position{Commit: 200, Prepare: 100})
		assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	})
	t.Run("ErrZero", func(t *testing.T) {
		_, err := fromPosition(esdb.Position{})
		assert.ErrorIs(t, err, eventstore.ErrCorrupt)
	})
}

func TestTranslateCode(t *testing.T) {
	raw := errors.New("raw")
	for _, tc := range []struct {
		code esdb.ErrorCode
		want error
	}{
		{esdb.ErrorCodeWrongExpectedVersion, eventstore.ErrConcurrency},
		{esdb.ErrorCodeResourceNotFound, eventstore.ErrStreamNotFound},
		{esdb.ErrorCodeConnectionClosed, eventstore.ErrClosed},
		{esdb.ErrorCodeDeadlineExceeded, context.DeadlineExceeded},
		{esdb.ErrorCodeStreamDeleted, eventstore.ErrCorrupt},
		{esdb.ErrorUnavailable, eventstore.ErrUnavailable},
		{esdb.ErrorCodeNotLeader, eventstore.ErrUnavailable},
		{esdb.ErrorCodeUnauthenticated, eventstore.ErrUnavailable},
		{esdb.ErrorCodeInternalServer, eventstore.ErrUnavailable},
	} {
		err := translateCode(tc.code, raw)
		assert.ErrorIs(t, err, tc.want, "code %d", tc.code)
		assert.Contains(t, err.Error(), "raw", "the client's message is kept")
	}
}

func TestTranslateError(t *testing.T) {
	ctx := context.Background()
	assert.NoError(t, translateError(ctx, nil))
	// An error the client did not classify (FromError's ok is false for it).
	assert.ErrorIs(t, translateError(ctx, errors.New("boom")), eventstore.ErrUnavailable)
	// The client wraps some errors with fmt.Errorf: errors.As still finds them.
	wrapped := esdbError(t)
	assert.ErrorIs(t, translateError(ctx, wrapped), eventstore.ErrUnavailable)
	// A cancelled context wins over whatever the client made of it.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, translateError(cctx, errors.New("rpc canceled")), context.Canceled)
}

// esdbError returns a real *esdb.Error wrapped the way the client wraps it.
func esdbError(t *testing.T) error {
	t.Helper()
	e, ok := esdb.FromError(errors.New("transport is closing"))
	require.False(t, ok, "FromError reports ok only for nil")
	return errors.Join(errors.New("could not construct append operation"), e)
}

func TestIsSystem(t *testing.T) {
	assert.True(t, isSystem("$stats-127.0.0.1:2113", "$statsCollected"))
	assert.True(t, isSystem("placement-1", "$>"))
	assert.True(t, isSystem("$$placement-1", "$metadata"))
	assert.False(t, isSystem("placement-1", "PlacementOpened"))
}

func TestRecordedMapping(t *testing.T) {
	id := uuid.New()
	rec, err := fromRecorded(&esdb.RecordedEvent{
		EventID: id, EventType: "PlacementOpened", StreamID: "placement-1", EventNumber: 3,
		Position: esdb.Position{Commit: 99, Prepare: 99}, Data: []byte(`{}`), UserMetadata: []byte(`{"a":1}`),
	})
	require.NoError(t, err)
	assert.Equal(t, eventstore.RecordedEvent{
		ID: id, Stream: "placement-1", Type: "PlacementOpened", Revision: 3, Position: 99,
		Data: []byte(`{}`), Metadata: []byte(`{"a":1}`), RecordedAt: rec.RecordedAt,
	}, rec)
	data := toEventData(eventstore.EventData{ID: id, Type: "T", Data: []byte("d"), Metadata: []byte("m")})
	assert.Equal(t, esdb.EventData{EventID: id, EventType: "T", ContentType: esdb.ContentTypeBinary, Data: []byte("d"), Metadata: []byte("m")}, data)
}
