package projections_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// steppingClock is a command clock that moves on at every reading: mostly
// by less than the envelope's step of 10 ms, often by more, sometimes by
// seconds, and now and then back (a clock stepped back, which the feed
// counts as lateness).
func steppingClock(seed uint64) func() time.Time {
	rng := rand.New(rand.NewPCG(seed, 3))
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		switch n := rng.IntN(20); {
		case n < 10:
			now = now.Add(time.Duration(rng.IntN(3_000_000)))
		case n < 16:
			now = now.Add(time.Duration(5_000_000 + rng.IntN(40_000_000)))
		case n < 18:
			now = now.Add(time.Duration(1+rng.IntN(3)) * time.Second)
		default:
			now = now.Add(-time.Duration(rng.IntN(60_000_000)))
		}
		return now
	}
}

// feedItem is an item of a creditor's feed as the log says it should be.
type feedItem struct {
	at      time.Time
	command eventstore.Position
	sort    uint64
	typ     string
	json    string
}

// creditorItems is every item of the creditor's feed, rendered from the log
// (each placement's feed items, at its command's time), in the feed's
// order: by command position, then sortNumber.
func creditorItems(t *testing.T, s eventstore.Store, ids []uuid.UUID, creditor string) []feedItem {
	t.Helper()
	var out []feedItem
	for _, id := range ids {
		events, err := journal.ReadPlacement(context.Background(), s, id)
		require.NoError(t, err)
		if events[0].Meta.Actor != creditor {
			continue
		}
		at := map[eventstore.Position]time.Time{}
		for _, e := range events {
			at[e.Position] = e.Meta.OccurredAt
		}
		for _, it := range projections.FeedItems(events) {
			b, err := json.Marshal(it)
			require.NoError(t, err)
			when, ok := at[it.CommandPosition]
			require.True(t, ok, "item %d's command is the placement's", it.SortNumber)
			out = append(out, feedItem{at: when, command: it.CommandPosition, sort: it.SortNumber, typ: it.Type, json: string(b)})
		}
	}
	slices.SortFunc(out, func(a, b feedItem) int {
		if a.command != b.command {
			return int(a.command) - int(b.command)
		}
		return int(a.sort) - int(b.sort)
	})
	return out
}

// requireFeedWindows: every window of the creditor feeds, read a page at a
// time and filtered by type, is exactly the items of the log that happened
// in it. The windows start and end at items' times, a nanosecond either
// side, at envelope steps, and at neither end.
func requireFeedWindows(t *testing.T, s eventstore.Store, v *projections.Views, ids []uuid.UUID, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 5))
	for _, creditor := range []string{"acme", "beta"} {
		all := creditorItems(t, s, ids, creditor)
		require.NotEmpty(t, all)
		edge := func() time.Time {
			at := all[rng.IntN(len(all))].at
			switch rng.IntN(5) {
			case 0:
				return at.Add(-time.Nanosecond)
			case 1:
				return at.Add(time.Nanosecond)
			case 2:
				return at.Truncate(10 * time.Millisecond)
			case 3:
				return at.Add(time.Duration(rng.IntN(40_000_000)) - 20*time.Millisecond)
			}
			return at
		}
		for w := range 60 {
			from, to := edge(), edge()
			if from.After(to) {
				from, to = to, from
			}
			switch w % 10 {
			case 0:
				from = time.Time{}
			case 1:
				to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			typ := ""
			if w%3 == 0 {
				typ = []string{projections.ItemConfirmation, projections.ItemAccountingDocument, projections.ItemClosing, projections.ItemStatus}[rng.IntN(4)]
			}
			var want []string
			for _, it := range all {
				if !it.at.Before(from) && it.at.Before(to) && (typ == "" || it.typ == typ) {
					want = append(want, it.json)
				}
			}
			got := readFeedPages(t, v, creditor, from, to, typ, 1+rng.IntN(7))
			require.Equal(t, want, got, "%s's feed over [%s, %s) of type %q", creditor, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), typ)
		}
	}
}

// readFeedPages reads a window of a creditor's feed a page of limit at a
// time, following the cursors.
func readFeedPages(t *testing.T, v *projections.Views, creditor string, from, to time.Time, typ string, limit int) []string {
	t.Helper()
	var got []string
	var after *projections.FeedCursor
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000)
		items, next, err := v.CreditorFeed(creditor, from, to, typ, after, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, len(items), limit)
		for _, it := range items {
			got = append(got, string(it))
		}
		if next == nil {
			return got
		}
		require.Len(t, items, limit, "a page with a cursor after it is full")
		after = next
	}
}

// requirePlacementFeeds: every placement's feed, read from every
// sortNumber with every limit, is the log's items from there on.
func requirePlacementFeeds(t *testing.T, s eventstore.Store, v *projections.Views, ids []uuid.UUID) {
	t.Helper()
	several := 0
	for _, id := range ids {
		events, err := journal.ReadPlacement(context.Background(), s, id)
		require.NoError(t, err)
		var want []string
		commands := map[eventstore.Position]int{}
		for _, it := range projections.FeedItems(events) {
			b, err := json.Marshal(it)
			require.NoError(t, err)
			want = append(want, string(b))
			if commands[it.CommandPosition]++; commands[it.CommandPosition] == 2 {
				several++
			}
		}
		for from := range len(want) + 2 {
			for _, limit := range []int{0, 1, 2, 3} {
				items, err := v.PlacementFeed(id, uint64(from), limit)
				require.NoError(t, err)
				got := []string{}
				for _, it := range items {
					got = append(got, string(it))
				}
				end := len(want)
				if limit > 0 {
					end = min(end, from+limit)
				}
				exp := []string{}
				if from < end {
					exp = want[from:end]
				}
				require.Equal(t, exp, got, "placement %s's feed from %d, at most %d", id, from, limit)
			}
		}
	}
	require.Positive(t, several, "some commands have several items")
}

// oldFeed is the feed before version 3: a row per item in both feeds
// and an envelope mark per command.
var oldFeed = oldUnit{name: "feed", version: 2, write: projections.SetFeedVersion2ForTest}

// TestCreditorFeedWindowsAreTheItemsInThem: the creditor feed has a row per
// command and its envelope a mark per 10 ms step of the creditor's latest
// time, and the claim's feed a row per command of several items; version 2
// had a row per item in both and a mark per command. Over commands whose
// clock steps by less and more than a step and now and then back, every
// window of the feed, paged and filtered, is the log's items in it, and so
// is every claim's feed from every sortNumber, however the feed was written
// (writtenBy).
func TestCreditorFeedWindowsAreTheItemsInThem(t *testing.T) {
	for i, mode := range writtenBy {
		t.Run(mode, func(t *testing.T) {
			clock := steppingClock(uint64(i))
			s, v, ids := viewsWrittenBy(t, mode, oldFeed, func(s eventstore.Store, v *projections.Views, round uint64) []uuid.UUID {
				return drive(t, handlerOf(s, v, clock), 21+round, 200)
			})
			requireFeedWindows(t, s, v, ids, 9)
			requirePlacementFeeds(t, s, v, ids)
		})
	}
}

// TestFeedOfVersion2IsRebuiltWhileItServes: views whose feed version 2
// wrote serve its windows while it is rebuilt in the background, and end
// up exactly as a rebuild.
func TestFeedOfVersion2IsRebuiltWhileItServes(t *testing.T) {
	requireRebuiltWhileServing(t, oldFeed, func(s eventstore.Store, v *projections.Views) []uuid.UUID {
		return drive(t, handlerOf(s, v, steppingClock(4)), 23, 200)
	}, func(s eventstore.Store, v *projections.Views, ids []uuid.UUID, pass uint64) {
		requireFeedWindows(t, s, v, ids, 10+pass)
	})
}
