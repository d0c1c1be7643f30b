package projections_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
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

// trialOfLog is the trial balance the log gives, as of asOf on basis:
// every event's postings (domain.Postings) dated up to asOf (by value date
// or by the day it was booked, UTC), summed per creditor, account and
// currency, in minor units.
func trialOfLog(t *testing.T, s eventstore.Store, ids []uuid.UUID, asOf, basis string) map[string][2]int64 {
	t.Helper()
	out := map[string][2]int64{}
	for _, id := range ids {
		events, err := journal.ReadPlacement(context.Background(), s, id)
		require.NoError(t, err)
		var p domain.Placement
		for _, rec := range events {
			before := p
			p = domain.Evolve(p, rec.Event)
			for _, ps := range domain.Postings(before, rec.Event, rec.Meta.OccurredAt) {
				date := ps.ValueDate
				if basis == projections.BasisBooking {
					date = domain.DateOnly(rec.Meta.OccurredAt)
				}
				if date > asOf {
					continue
				}
				k := p.CreditorID + " " + ps.Account + " " + ps.Currency
				sums := out[k]
				if ps.Side == domain.Debit {
					sums[0] += ps.Amount
				} else {
					sums[1] += ps.Amount
				}
				out[k] = sums
			}
		}
	}
	return out
}

// requireTrialOfLog: the views' trial balances, of every creditor and of
// each, on both bases, as of every day the commands ran on and the days
// either side, are the log's.
func requireTrialOfLog(t *testing.T, s eventstore.Store, v *projections.Views, ids []uuid.UUID, first, last time.Time) {
	t.Helper()
	for day := first.AddDate(0, 0, -1); !day.After(last.AddDate(0, 0, 1)); day = day.AddDate(0, 0, 1) {
		asOf := day.Format(time.DateOnly)
		for _, basis := range []string{projections.BasisValue, projections.BasisBooking} {
			want := trialOfLog(t, s, ids, asOf, basis)
			for _, creditor := range []string{"", "acme", "beta"} {
				tb, err := v.TrialBalance(creditor, "", asOf, basis)
				require.NoError(t, err)
				got := map[string][2]string{}
				for _, l := range tb.Lines {
					got[l.CreditorID+" "+l.Account+" "+l.Currency] = [2]string{decimal.Decimal(l.Debit).String(), decimal.Decimal(l.Credit).String()}
				}
				exp := map[string][2]string{}
				for k, sums := range want {
					if creditor == "" || strings.HasPrefix(k, creditor+" ") {
						cur := k[strings.LastIndexByte(k, ' ')+1:]
						exp[k] = [2]string{domain.MajorAmount(sums[0], cur).String(), domain.MajorAmount(sums[1], cur).String()}
					}
				}
				require.Equal(t, exp, got, "%q's trial balance as of %s on the %s basis", creditor, asOf, basis)
			}
		}
	}
}

// oldBooks are the books before version 4: an event's claim rows on
// each basis.
var oldBooks = oldUnit{name: "books", version: 3, readable: 2, write: projections.SetBooksVersion3ForTest}

// spanClock is a clock that moves by up to eight hours a reading (see
// hoursClock) and keeps the first and last times it gave.
type spanClock struct {
	next        func() time.Time
	first, last time.Time
}

func (c *spanClock) now() time.Time {
	c.last = c.next()
	if c.first.IsZero() {
		c.first = c.last
	}
	return c.last
}

// TestTrialBalanceIsThePostingsOfTheLog: an event booked on its value date
// writes its claim accounts' rows once, for both bases (books version 4);
// version 3 wrote them on each. Over payments without a date, dated the
// day they are booked and days before, and waivers dated before, the trial
// balance is the sum of the log's postings on both bases, as of every day,
// however the books were written (writtenBy).
func TestTrialBalanceIsThePostingsOfTheLog(t *testing.T) {
	for i, mode := range writtenBy {
		t.Run(mode, func(t *testing.T) {
			clock := &spanClock{next: hoursClock(uint64(i))}
			s, v, ids := viewsWrittenBy(t, mode, oldBooks, func(s eventstore.Store, v *projections.Views, round uint64) []uuid.UUID {
				return driveDated(t, handlerOf(s, v, clock.now), 41+round)
			})
			requireTrialOfLog(t, s, v, ids, clock.first, clock.last)
		})
	}
}

// TestBooksOfVersion3AreRebuiltWhileTheyServe: books version 3 wrote serve
// the log's trial balance while they are rebuilt in the background, and
// end up exactly as a rebuild.
func TestBooksOfVersion3AreRebuiltWhileTheyServe(t *testing.T) {
	clock := &spanClock{next: hoursClock(6)}
	requireRebuiltWhileServing(t, oldBooks, func(s eventstore.Store, v *projections.Views) []uuid.UUID {
		return driveDated(t, handlerOf(s, v, clock.now), 43)
	}, func(s eventstore.Store, v *projections.Views, ids []uuid.UUID, _ uint64) {
		requireTrialOfLog(t, s, v, ids, clock.first, clock.last)
	})
}
