package projections_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// trialBalances is every trial balance the views give: both bases, every
// creditor and currency, as of a date after everything.
func trialBalances(t *testing.T, v *projections.Views) map[string]projections.TrialBalance {
	t.Helper()
	out := map[string]projections.TrialBalance{}
	for _, basis := range []string{projections.BasisValue, projections.BasisBooking} {
		tb, err := v.TrialBalance("", "", "9999-12-31", basis)
		require.NoError(t, err)
		require.NotEmpty(t, tb.Lines)
		out[basis] = tb
	}
	return out
}

// requireTrialBalancesOfRebuild: v's trial balances are those of views
// rebuilt from position 0 by this code.
func requireTrialBalancesOfRebuild(t *testing.T, s eventstore.Store, v *projections.Views, msg string) {
	t.Helper()
	fresh := MustViews(t, "")
	_, stop := MustRunner(t, s, fresh, v.Checkpoint())
	stop()
	require.Equal(t, trialBalances(t, fresh), trialBalances(t, v), msg)
}

// TestBooksOfVersion2KeepServingTheTrialBalance: books built by version 2
// (every account an aggregate, a claim's included). Applied to by this code
// as they are (the version pinned, so nothing is rebuilt yet), payments add
// rows of the claims' accounts beside version 2's aggregates, and the trial
// balance is that of a rebuild. Then, at this code's version, the books are
// rebuilt in the background, and are exactly a rebuild's.
func TestBooksOfVersion2KeepServingTheTrialBalance(t *testing.T) {
	defer setRetireAfter(20 * time.Millisecond)()
	s := MustStore(t)
	dir := filepath.Join(t.TempDir(), "views")
	restoreBooks := projections.SetBooksVersion2ForTest()
	ids := viewsWithData(t, s, dir, 3)
	restoreBooks()

	restoreVersion := projections.SetUnitForTest("books", 2, 2)
	v := MustViews(t, dir)
	require.Empty(t, v.ChangedUnits())
	requireTrialBalancesOfRebuild(t, s, v, "version 2's books, as they open")
	r, stop := MustRunner(t, s, v, v.Checkpoint())
	h := command.NewHandler(s, projections.NewWriteIndex(v), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, id := range ids {
		payAndWait(ctx, t, h, r, id, decimal.RequireFromString("12.34"), fmt.Sprintf("UP-%d", i))
	}
	requireTrialBalancesOfRebuild(t, s, v, "version 2's books with this code's rows added")
	stop()
	require.NoError(t, v.Close())
	restoreVersion()

	v = MustViews(t, dir)
	require.Equal(t, []string{"books"}, v.ChangedUnits())
	requireTrialBalancesOfRebuild(t, s, v, "version 2's books with rows, served while rebuilt")
	r, _ = MustRunner(t, s, v, v.Checkpoint())
	require.NoError(t, r.WaitRebuilt(ctx))
	require.Empty(t, v.ChangedUnits())
	requireTrialBalancesOfRebuild(t, s, v, "the books rebuilt in the background")
	requireSameAsRebuild(t, s, v)
}
