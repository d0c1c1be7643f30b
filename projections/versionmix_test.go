package projections_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// oldUnit is a unit's version before a change of what its tables hold, as
// the tests of the change write it.
type oldUnit struct {
	name              string
	version, readable uint64
	// write makes this code write the unit as that version did, at that
	// version, and returns its undoing.
	write func() func()
}

// The ways the tests of a unit's new version write its tables.
const (
	writtenByThisCode = "this code"
	writtenByOld      = "the old version"
	// The old version's writes, then this code's in the same generation,
	// as while the unit is rebuilt after an upgrade (its old tables are
	// served and applied to meanwhile).
	writtenByOldThenThisCode = "the old version, then this code"
)

var writtenBy = []string{writtenByThisCode, writtenByOld, writtenByOldThenThisCode}

// handlerOf is a command handler on s and v, whose commands happen at the
// times clock gives.
func handlerOf(s eventstore.Store, v *projections.Views, clock func() time.Time) *command.Handler {
	return command.NewHandler(s, projections.NewWriteIndex(v), clock)
}

// viewsWrittenBy drives commands into fresh views (drive's round 0, and in
// the mixed mode round 1 too) with the unit written as mode says, and
// returns the store, the caught-up views and the placements drive touched.
// Nothing is rebuilt: the old version is set before the views open, and
// kept while this code writes after it.
func viewsWrittenBy(t *testing.T, mode string, old oldUnit, drive func(s eventstore.Store, v *projections.Views, round uint64) []uuid.UUID) (eventstore.Store, *projections.Views, []uuid.UUID) {
	t.Helper()
	s := MustStore(t)
	restore := func() {}
	if mode != writtenByThisCode {
		restore = old.write()
	}
	defer func() { restore() }() // once no runner runs
	v := MustViews(t, filepath.Join(t.TempDir(), "views"))
	r, stop := MustRunner(t, s, v, eventstore.Start)
	ids := drive(s, v, 0)
	MustCatchUp(t, s, r)
	stop()
	if mode == writtenByOldThenThisCode {
		restore()
		restore = projections.SetUnitForTest(old.name, old.version, old.readable)
		r, stop := MustRunner(t, s, v, v.Checkpoint())
		ids = append(ids, drive(s, v, 1)...)
		MustCatchUp(t, s, r)
		stop()
	}
	return s, v, ids
}

// requireRebuiltWhileServing: views whose unit the old version wrote open
// with that unit changed; they pass check while it is rebuilt in the
// background and once it is, and end up exactly as a rebuild.
func requireRebuiltWhileServing(t *testing.T, old oldUnit, drive func(s eventstore.Store, v *projections.Views) []uuid.UUID,
	check func(s eventstore.Store, v *projections.Views, ids []uuid.UUID, pass uint64)) {
	t.Helper()
	defer setRetireAfter(20 * time.Millisecond)()
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	restore := old.write()
	v := MustViews(t, dir)
	r, stop := MustRunner(t, s, v, eventstore.Start)
	ids := drive(s, v)
	MustCatchUp(t, s, r)
	stop()
	require.NoError(t, v.Close())
	restore()

	v = MustViews(t, dir)
	require.Equal(t, []string{old.name}, v.ChangedUnits())
	check(s, v, ids, 0)
	r, _ = MustRunner(t, s, v, v.Checkpoint())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, r.WaitRebuilt(ctx))
	require.Empty(t, v.ChangedUnits())
	check(s, v, ids, 1)
	requireSameAsRebuild(t, s, v)
}
