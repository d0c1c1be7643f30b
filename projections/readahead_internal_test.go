package projections

import (
	"io"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
)

// A decoder reads ahead the stored state of an event's placement only when
// it is the state just before the event (readAhead), and the applier takes
// it only for that placement, event and generation, instead of reading the
// store; otherwise it reads the store as before.
func TestReadAheadTakesOnlyTheStateBeforeTheEvent(t *testing.T) {
	v, err := OpenViews(t.TempDir(), ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Bulk: true})
	require.NoError(t, err)
	defer v.Close()
	st := typicalState(t)
	st.Revision = 4
	enc, err := encodeState(nil, st)
	require.NoError(t, err)
	id, gen := uuid.New(), v.generation()
	require.NoError(t, v.db.Set(key(gen, tPlacement).id(id), enc, pebble.NoSync))
	if v.written != nil {
		v.written.add(id)
	}
	v.states.letGo.Store(true) // as once the applier's cache has let states go
	event := func(id uuid.UUID, rev uint64) decodedEvent {
		d := decodedEvent{raw: eventstore.RecordedEvent{Revision: rev}, placement: id}
		v.readAhead(v.states, gen, &d)
		return d
	}

	d := event(id, 5)
	require.NotNil(t, d.ahead.st, "the state at revision 4, for the event of revision 5")
	assert.Equal(t, uint64(4), d.ahead.st.Revision)
	assert.True(t, d.ahead.usable(id, gen, 5))
	assert.False(t, d.ahead.usable(uuid.New(), gen, 5), "another placement")
	assert.False(t, d.ahead.usable(id, gen, 6), "another event")
	assert.False(t, d.ahead.usable(id, &generations{}, 5), "another generation")
	for _, rev := range []uint64{0, 4, 6, 7} {
		assert.Nil(t, event(id, rev).ahead.st, "the stored state is not the one before revision %d", rev)
	}
	assert.Nil(t, event(uuid.New(), 5).ahead.st, "no state stored")
	assert.Nil(t, event(uuid.Nil, 5).ahead.st, "not a placement's event")

	tx := v.begin()
	tx.ahead = d.ahead
	got, err := tx.state(id, 5)
	require.NoError(t, err)
	assert.Same(t, d.ahead.st, got, "the applier takes the state read ahead")
	assert.Zero(t, v.stateReads.Load(), "and reads nothing")
	assert.Equal(t, uint64(1), v.statesAhead.Load())
	tx.abort()

	tx = v.begin()
	tx.ahead = d.ahead
	got, err = tx.state(id, 6) // as if the decoder had read it for revision 5 and the applier needed 6's
	require.NoError(t, err)
	assert.NotSame(t, d.ahead.st, got, "a state read ahead for another event is left")
	assert.Equal(t, uint64(1), v.stateReads.Load(), "and the store read")
	tx.abort()
}
