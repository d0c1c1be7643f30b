package projections

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Cut is a point in history: the events up to a log position, or up to a
// time (both may be set; the earlier cut wins).
type Cut struct {
	Position eventstore.Position // 0: no position cut
	Time     time.Time           // zero: no time cut
}

// IsZero reports whether the cut keeps everything.
func (c Cut) IsZero() bool { return c.Position == 0 && c.Time.IsZero() }

// Until returns the events of a placement that were there at the cut. A
// command's events are appended atomically, so a cut that falls inside one
// command is moved back to the end of the command before it: no reader ever
// saw half a command.
func Until(events []journal.Record, c Cut) []journal.Record {
	if c.IsZero() {
		return events
	}
	n := 0
	for n < len(events) && !c.excludes(events[n]) {
		n++
	}
	return wholeCommands(events[:n])
}

// excludes reports whether an event came after the cut.
func (c Cut) excludes(se journal.Record) bool {
	return (c.Position != 0 && se.Position > c.Position) || (!c.Time.IsZero() && se.Meta.OccurredAt.After(c.Time))
}

// wholeCommands drops the events of a command cut short at the end of
// events: no reader ever saw half a command.
func wholeCommands(events []journal.Record) []journal.Record {
	n := len(events)
	for n > 0 && events[n-1].Meta.Count > 0 && events[n-1].Meta.Index != events[n-1].Meta.Count-1 {
		n--
	}
	return events[:n]
}

// RenderEvents folds events and renders the placement they describe; ok is
// false when there are none.
func RenderEvents(events []journal.Record) (PlacementResource, bool) {
	if len(events) == 0 {
		return PlacementResource{}, false
	}
	var p domain.Placement
	for _, se := range events {
		p = domain.Evolve(p, se.Event)
	}
	return Render(p, events[len(events)-1].Revision), true
}

// History reads a placement's events from its stream: time travel and the
// audit trail show history, which the views do not keep, and reading one
// stream costs what that placement's history does. creditor, when not empty,
// must own the placement: another creditor's is domain.ErrNotFound, exactly
// like one that does not exist.
func History(ctx context.Context, store eventstore.Store, creditor string, id uuid.UUID) ([]journal.Record, error) {
	events, err := journal.ReadPlacement(ctx, store, id)
	if err == nil && creditor != "" && CreditorOf(events) != creditor {
		err = domain.ErrNotFound
	}
	return events, err
}
