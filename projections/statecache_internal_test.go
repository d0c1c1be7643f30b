package projections

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The state cache keeps the most recent states decoded, the ones they push
// out encoded within the byte budget, and gives back, to be written, only
// the unsaved states that leave both.
func TestStateCacheTiers(t *testing.T) {
	st := typicalState(t)
	enc, err := encodeState(nil, st)
	require.NoError(t, err)
	per := len(enc) + encOverhead
	c := newStateCache(2, 3*per) // 2 decoded, 3 encoded
	ids := make([]uuid.UUID, 8)
	for i := range ids {
		ids[i] = uuid.New()
	}
	unsaved := func(i int) bool { return i%2 == 0 }

	var left []*cached
	for i, id := range ids[:5] {
		left = append(left, c.put(id, st, unsaved(i))...)
	}
	require.Empty(t, left, "five states fit: two decoded, three encoded")
	require.Equal(t, 2, c.order.Len())
	require.Equal(t, 3, c.encOrder.Len())
	require.Equal(t, 3*per, c.encBytes)
	require.Nil(t, c.get(ids[0]), "the oldest is no longer decoded")

	// An encoded state comes back as it was encoded, with its flag.
	b, wasUnsaved, ok := c.takeEncoded(ids[0])
	require.True(t, ok)
	require.True(t, wasUnsaved)
	require.Equal(t, enc, b)
	var back placementState
	require.NoError(t, decodeState(b, &back))
	want, err := json.Marshal(st)
	require.NoError(t, err)
	got, err := json.Marshal(&back)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, 2*per, c.encBytes)
	_, _, ok = c.takeEncoded(ids[0])
	require.False(t, ok, "taken once")

	// Three more push the oldest encoded out: the unsaved ones are given
	// back (encoded), the saved ones dropped.
	for i, id := range ids[5:] {
		left = append(left, c.put(id, st, unsaved(5+i))...)
	}
	require.Equal(t, 3, c.encOrder.Len())
	var gone []uuid.UUID
	for _, ce := range left {
		require.Nil(t, ce.st)
		require.Equal(t, enc, ce.enc)
		require.True(t, ce.unsaved)
		gone = append(gone, ce.id)
	}
	require.Equal(t, []uuid.UUID{ids[2]}, gone, "ids[1] and ids[2] left; ids[1] was saved")

	// Putting a state that is encoded replaces it, keeping it unsaved.
	require.Contains(t, c.encByID, ids[4])
	c.put(ids[4], st, false)
	require.NotContains(t, c.encByID, ids[4])

	// unsavedStates visits both tiers once.
	seen := map[uuid.UUID]bool{}
	require.NoError(t, c.unsavedStates(func(id uuid.UUID, s *placementState, e []byte) error {
		require.True(t, (s == nil) != (e == nil), "decoded or encoded")
		seen[id] = true
		return nil
	}))
	require.Equal(t, map[uuid.UUID]bool{ids[4]: true, ids[6]: true}, seen)
	require.NoError(t, c.unsavedStates(func(id uuid.UUID, _ *placementState, _ []byte) error {
		t.Errorf("%s saved already", id)
		return nil
	}))

	c.clear()
	require.Zero(t, c.order.Len()+c.encOrder.Len()+c.encBytes)
	_, _, ok = c.takeEncoded(ids[6])
	require.False(t, ok)
}

// Without a budget nothing is kept encoded: an unsaved state the decoded
// tier lets go of is given back decoded.
func TestStateCacheWithoutEncodedTier(t *testing.T) {
	st := typicalState(t)
	c := newStateCache(1, 0)
	a, b := uuid.New(), uuid.New()
	require.Empty(t, c.put(a, st, true))
	left := c.put(b, st, false)
	require.Len(t, left, 1)
	require.Equal(t, a, left[0].id)
	require.Same(t, st, left[0].st)
	require.Zero(t, c.encOrder.Len())
}

// A bulk build keeps states encoded by default, and so does a background
// build's cache; the views a server keeps up to date do not, unless told.
func TestEncodedTierDefaults(t *testing.T) {
	for _, tc := range []struct {
		opts       ViewsOptions
		live, some int
	}{
		{ViewsOptions{}, 0, 64 << 20},
		{ViewsOptions{Bulk: true}, 16 << 20, 16 << 20},
		{ViewsOptions{StateBytes: 1000}, 1000, 1000},
		{ViewsOptions{StateBytes: -1, Bulk: true}, 0, 0},
	} {
		tc.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		v, err := OpenViews(t.TempDir(), tc.opts)
		require.NoError(t, err)
		assert.Equal(t, tc.live, v.states.encMax, "%+v: the views'", tc.opts)
		assert.Equal(t, tc.some, v.opts.StateBytes, "%+v: a background build's", tc.opts)
		require.NoError(t, v.Close())
	}
}
