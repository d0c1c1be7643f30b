package projections

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// recentEvents says a placement event's state will be in the cache only
// when the placement's event before it is fewer events back than three
// quarters of what the cache holds, and only for placements' events.
func TestRecentEventsSaysHeldOnlyForAnEventCloseBehind(t *testing.T) {
	c := newStateCache(2, 0)
	c.holding.Store(100) // a window of 75 events
	r := newRecentEvents(c)
	a, b := journal.PlacementStream(uuid.New()), journal.PlacementStream(uuid.New())
	at := func(stream string, pos uint64) bool {
		return r.held(eventstore.RecordedEvent{Stream: stream, Position: eventstore.Position(pos)})
	}
	assert.False(t, at(a, 10), "a's first event: nothing known")
	assert.True(t, at(a, 11), "the next event of the same command")
	assert.True(t, at(a, 86), "75 events back")
	assert.False(t, at(a, 162), "76 events back")
	assert.False(t, at(b, 163), "b's first event")
	assert.True(t, at(a, 163), "a's events are noted apart from b's")
	assert.False(t, at("creditor-x", 164), "not a placement's event")
	assert.False(t, at("creditor-x", 165))

	c.holding.Store(0) // a cache that holds nothing
	assert.False(t, at(a, 166))

	c.holding.Store(100)
	assert.False(t, at(a, recentMaxPosition), "a position too large to note")
}
