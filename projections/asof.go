package projections

import (
	"time"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
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
func Until(events []StoredEvent, c Cut) []StoredEvent {
	if c.IsZero() {
		return events
	}
	n := 0
	for n < len(events) {
		se := events[n]
		if (c.Position != 0 && se.Position > c.Position) || (!c.Time.IsZero() && se.Meta.OccurredAt.After(c.Time)) {
			break
		}
		n++
	}
	for n > 0 && events[n-1].Meta.Count > 0 && events[n-1].Meta.Index != events[n-1].Meta.Count-1 {
		n--
	}
	return events[:n]
}

// RenderEvents folds events and renders the placement they describe; ok is
// false when there are none.
func RenderEvents(events []StoredEvent) (Placement, bool) {
	if len(events) == 0 {
		return Placement{}, false
	}
	var p domain.Placement
	for _, se := range events {
		p = domain.Evolve(p, se.Event)
	}
	return Render(p, events[len(events)-1].Revision), true
}
