package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
	"github.com/collections-ledger/ledger/reconcile"
)

// hoursClock is a command clock that moves on by up to eight hours at
// every reading, so that commands fall on many days.
func hoursClock(seed uint64) func() time.Time {
	rng := rand.New(rand.NewPCG(seed, 13))
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		now = now.Add(time.Duration(rng.Int64N(int64(8 * time.Hour))))
		return now
	}
}

// driveDated runs drive's commands (payments without a date, booked on
// their value date, and waivers dated before) and then payments dated the
// day they are booked, the day before, days before, or not at all.
func driveDated(t *testing.T, h *command.Handler, seed uint64) []uuid.UUID {
	t.Helper()
	ids := drive(t, h, seed, 150)
	rng := rand.New(rand.NewPCG(seed, 17))
	for k := range 150 {
		id := ids[rng.IntN(len(ids))]
		back := []time.Duration{0, 0, 24 * time.Hour, 72 * time.Hour, -1}[rng.IntN(5)]
		_, _ = h.Execute(context.Background(), id, command.Request{Actor: []string{"acme", "beta"}[k%2], ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
			func(at time.Time) domain.Command {
				date := ""
				if back >= 0 {
					date = domain.DateOnly(at.Add(-back))
				}
				return domain.ReceivePayment{Amount: decimal.New(int64(1+rng.IntN(500)), -2), PaymentNumber: fmt.Sprintf("D-%d-%d", seed, k), Date: date, At: at}
			})
	}
	return ids
}

// requireValueDateWindows: over windows from and to midnights and times in
// between, and open at either end, every creditor's reconciliation by value
// date is the report of exactly the entries (read by booking time, all of
// them) whose value date is in the window.
func requireValueDateWindows(t *testing.T, v *projections.Views, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 19))
	end := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, creditor := range []string{"acme", "beta"} {
		all, err := v.Reconciliation(creditor, reconcile.BasisBooking, time.Time{}, end)
		require.NoError(t, err)
		require.NotEmpty(t, all.Entries)
		edge := func() time.Time {
			e := all.Entries[rng.IntN(len(all.Entries))]
			day, _ := domain.ParseDate(e.ValueDate)
			switch rng.IntN(4) {
			case 0:
				return day.Add(time.Duration(rng.IntN(3)-1) * 24 * time.Hour)
			case 1:
				return e.OccurredAt
			case 2:
				return day.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
			}
			return day
		}
		sameDay := 0
		for w := range 60 {
			from, to := edge(), edge()
			if from.After(to) {
				from, to = to, from
			}
			switch w % 10 {
			case 0:
				from = time.Time{}
			case 1:
				to = end
			}
			var in []reconcile.Entry
			for _, e := range all.Entries {
				if day, _ := domain.ParseDate(e.ValueDate); !day.Before(from) && day.Before(to) {
					in = append(in, e)
					if e.ValueDate == domain.DateOnly(e.OccurredAt) {
						sameDay++
					}
				}
			}
			want, _ := json.Marshal(reconcile.FromEntries(creditor, reconcile.BasisValue, from, to, in).View())
			got, err := v.Reconciliation(creditor, reconcile.BasisValue, from, to)
			require.NoError(t, err)
			gotJSON, _ := json.Marshal(got.View())
			require.JSONEq(t, string(want), string(gotJSON), "%s by value date over [%s, %s)", creditor, from, to)
		}
		require.Positive(t, sameDay, "some entries were booked on their value date")
	}
}

// oldReconciliation is the reconciliation before version 4: every
// entry in the value dates' index.
var oldReconciliation = oldUnit{name: "reconciliation", version: 3, readable: 2, write: projections.SetReconcileVersion3ForTest}

// TestReconciliationByValueDateFindsEveryEntry: an entry booked on its
// value date is not in the value dates' index (reconciliation version 4);
// version 3 indexed every entry. Every window of the reconciliation by
// value date holds exactly the entries whose value date is in it, however
// the reconciliation was written (writtenBy).
func TestReconciliationByValueDateFindsEveryEntry(t *testing.T) {
	for i, mode := range writtenBy {
		t.Run(mode, func(t *testing.T) {
			clock := hoursClock(uint64(i))
			_, v, _ := viewsWrittenBy(t, mode, oldReconciliation, func(s eventstore.Store, v *projections.Views, round uint64) []uuid.UUID {
				return driveDated(t, handlerOf(s, v, clock), 31+round)
			})
			requireValueDateWindows(t, v, 3)
		})
	}
}

// TestReconciliationOfVersion3IsRebuiltWhileItServes: views whose
// reconciliation version 3 wrote serve it by value date while it is rebuilt
// in the background, and end up exactly as a rebuild.
func TestReconciliationOfVersion3IsRebuiltWhileItServes(t *testing.T) {
	requireRebuiltWhileServing(t, oldReconciliation, func(s eventstore.Store, v *projections.Views) []uuid.UUID {
		return driveDated(t, handlerOf(s, v, hoursClock(5)), 33)
	}, func(_ eventstore.Store, v *projections.Views, _ []uuid.UUID, pass uint64) {
		requireValueDateWindows(t, v, 4+pass)
	})
}
