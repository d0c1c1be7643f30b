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
	"github.com/collections-ledger/ledger/projections"
)

// changedIDs reads every page of a creditor's changes since since, limit at
// a time, and returns the placement ids in the order served.
func changedIDs(t *testing.T, v *projections.Views, creditor string, since time.Time, limit int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	var after *projections.ChangeCursor
	for range 100 {
		page, next, err := v.Changed(creditor, since, after, limit)
		require.NoError(t, err)
		for _, r := range page {
			var p projections.PlacementResource
			require.NoError(t, json.Unmarshal(r, &p))
			ids = append(ids, p.PlacementID)
		}
		if next == nil {
			return ids
		}
		after = next
	}
	t.Fatal("the pages do not end")
	return nil
}

// TestChangedHoldsEachPlacementAtItsLatestChange: the change index serves
// each placement once, at its latest change, oldest first, from a time on,
// paged; two commands on one placement in one batch leave one entry.
func TestChangedHoldsEachPlacementAtItsLatestChange(t *testing.T) {
	v := MustViews(t, "")
	f := &planFeeder{t: t, b: v.Builder(), p: map[uuid.UUID]domain.Placement{}}
	at := time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	var ids []uuid.UUID
	for i := range 3 {
		ids = append(ids, f.place(fmt.Sprintf("CH-%d", i), at.Add(time.Duration(i)*time.Minute)))
	}
	pay := func(id uuid.UUID, n string, when time.Time) {
		f.decide(id, domain.ReceivePayment{PaymentNumber: n, Amount: decimal.NewFromInt(1), At: when}, when)
	}
	pay(ids[0], "P1", at.Add(time.Hour))
	pay(ids[0], "P2", at.Add(2*time.Hour)) // the same batch: the first move is not left behind
	_, err := f.b.Flush()
	require.NoError(t, err)

	for _, limit := range []int{1, 2, 10} {
		assert.Equal(t, []uuid.UUID{ids[1], ids[2], ids[0]}, changedIDs(t, v, "acme", at, limit), "limit %d", limit)
	}
	assert.Equal(t, []uuid.UUID{ids[2], ids[0]}, changedIDs(t, v, "acme", at.Add(2*time.Minute), 10), "from a change on, inclusive")
	assert.Equal(t, []uuid.UUID{ids[0]}, changedIDs(t, v, "acme", at.Add(2*time.Hour), 10))
	assert.Empty(t, changedIDs(t, v, "acme", at.Add(3*time.Hour), 10))
	assert.Empty(t, changedIDs(t, v, "beta", at, 10))

	pay(ids[1], "P3", at.Add(3*time.Hour)) // a later batch: moved from the stored entry
	_, err = f.b.Flush()
	require.NoError(t, err)
	assert.Equal(t, []uuid.UUID{ids[2], ids[0], ids[1]}, changedIDs(t, v, "acme", at, 1))
}

func TestChangeCursorRoundTrips(t *testing.T) {
	c := projections.ChangeCursor{At: 1 << 63, Pos: 42}
	got, ok := projections.ParseChangeCursor(c.String())
	require.True(t, ok)
	assert.Equal(t, c, got)
	for name, s := range map[string]string{"empty": "", "list cursor": projections.ListCursor(5).String(), "not base64": "!!", "no position": "dTEy"} {
		_, ok := projections.ParseChangeCursor(s)
		assert.False(t, ok, name)
	}
}

// TestChangesRebuiltAloneEqualAFullRebuild: the change index rebuilt in the
// background on its own (its unit's version changed) holds what views
// rebuilt from position 0 hold.
func TestChangesRebuiltAloneEqualAFullRebuild(t *testing.T) {
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	viewsWithData(t, s, dir, 5)
	t.Cleanup(projections.SetUnitVersionForTest("changes", 3)) // after the runner stops
	v := MustViews(t, dir)
	before := v.UnitGenerations()
	r, _ := MustRunner(t, s, v, v.Checkpoint())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, r.WaitRebuilt(ctx))
	assert.NotEqual(t, before["changes"], v.UnitGenerations()["changes"], "the change index is in a new generation")
	MustCatchUp(t, s, r)
	requireSameAsRebuild(t, s, v)
}

// TestStatesOfChangesVersion1MoveTheirChange: views left by placements
// version 2 and changes version 1 (states in format 2, which do not know
// where their placement is in the change index, and a row per placement
// that does). Applied to by this code as they are (the versions pinned, so
// nothing is rebuilt yet), a payment on a placement of such a state moves
// its change entry (found through the row) and writes its state in format
// 3: the change index stays that of a rebuild, each placement in it once.
// Then, at this code's versions, both units are rebuilt in the background,
// and the views are exactly a rebuild's, every state in format 3.
func TestStatesOfChangesVersion1MoveTheirChange(t *testing.T) {
	defer setRetireAfter(20 * time.Millisecond)()
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	ids := viewsWithData(t, s, dir, 3)
	n, err := projections.SetChangesVersion1ForTest(dir)
	require.NoError(t, err)
	require.Positive(t, n)

	restorePlacements := projections.SetUnitForTest("placements", 2, 2)
	restoreChanges := projections.SetUnitForTest("changes", 1, 1)
	v := MustViews(t, dir)
	require.Empty(t, v.ChangedUnits())
	r, stop := MustRunner(t, s, v, v.Checkpoint())
	h := command.NewHandler(s, projections.NewWriteIndex(v), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, id := range ids {
		payAndWait(ctx, t, h, r, id, decimal.RequireFromString("1.00"), fmt.Sprintf("CH-%d", i))
		requireChangesOfRebuild(t, s, v, fmt.Sprintf("after payment %d", i))
	}
	formats, err := projections.StateFormats(v)
	require.NoError(t, err)
	assert.Equal(t, map[byte]int{2: n - len(ids), 3: len(ids)}, formats, "the states paid are in format 3, the others as they were")
	stop()
	require.NoError(t, v.Close())
	restorePlacements()
	restoreChanges()

	v = MustViews(t, dir)
	require.Equal(t, []string{"placements", "changes"}, v.ChangedUnits())
	r, _ = MustRunner(t, s, v, v.Checkpoint())
	require.NoError(t, r.WaitRebuilt(ctx))
	require.Empty(t, v.ChangedUnits())
	formats, err = projections.StateFormats(v)
	require.NoError(t, err)
	assert.Equal(t, map[byte]int{3: n}, formats)
	requireSameAsRebuild(t, s, v)
}

// requireChangesOfRebuild: every creditor's change index in v serves what
// views rebuilt from position 0 serve.
func requireChangesOfRebuild(t *testing.T, s eventstore.Store, v *projections.Views, msg string) {
	t.Helper()
	fresh := MustViews(t, "")
	_, stop := MustRunner(t, s, fresh, v.Checkpoint())
	stop()
	for _, creditor := range []string{"acme", "beta"} {
		want := changedIDs(t, fresh, creditor, time.Time{}, 1000)
		require.Equal(t, want, changedIDs(t, v, creditor, time.Time{}, 1000), "%s: %s", creditor, msg)
	}
}

// TestChangeIndexThroughFlushesAndCompactions: a placement's previous entry
// in the change index is removed with a single delete, which Pebble drops
// with the entry's one Set where the two meet. Over rounds of commands with
// the views flushed and compacted into their bottom level between them (so
// that entries and their deletes meet in memtables, in flushes and in
// compactions), the index serves each placement once, at its latest change,
// and the views are exactly a rebuild's.
func TestChangeIndexThroughFlushesAndCompactions(t *testing.T) {
	s := MustStore(t)
	v := MustViews(t, filepath.Join(t.TempDir(), "views"))
	ctx := context.Background()
	var ids []uuid.UUID
	for round := range 4 {
		r, stop := MustRunner(t, s, v, v.Checkpoint())
		ids = append(ids, drive(t, command.NewHandler(s, projections.NewWriteIndex(v), nil), uint64(50+round), 120)...)
		MustCatchUp(t, s, r)
		stop()
		require.NoError(t, v.Compact(ctx))
	}
	fresh := MustViews(t, "")
	_, stop := MustRunner(t, s, fresh, v.Checkpoint())
	stop()
	for _, creditor := range []string{"acme", "beta"} {
		got := changedIDs(t, v, creditor, time.Time{}, 7)
		assert.Equal(t, changedIDs(t, fresh, creditor, time.Time{}, 7), got, creditor)
		seen := map[uuid.UUID]bool{}
		for _, id := range got {
			assert.False(t, seen[id], "%s: placement %s served twice", creditor, id)
			seen[id] = true
		}
		assert.NotEmpty(t, got)
	}
	requireSameAsRebuild(t, s, v)
}
