package verify

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

// TestEveryEventTypeIsClassified walks the registry: every event type must
// be handled or ignored, not both, by each reader of the log that switches
// over event types. A type added to domain's registry fails here until
// each reader has placed it (projections' TestSwitchesAgreeWithTheirClasses
// holds the projections' switches to their classes).
func TestEveryEventTypeIsClassified(t *testing.T) {
	readers := map[string]domain.EventClasses{
		"feed":           projections.FeedEvents,
		"reconciliation": projections.ReconciledEvents,
		"status changes": projections.StatusEvents,
		"verify":         CheckedEvents,
	}
	for name, classes := range readers {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, classes.Check())
		})
	}
}

// TestPlacementEventKnowsEveryEventType drives verify's own switch with
// every registered type: a type it has no case for panics.
func TestPlacementEventKnowsEveryEventType(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			e, err := domain.DecodeEvent(typ, []byte(`{}`))
			require.NoError(t, err)
			s := &scan{v: &verifier{}, owners: newOwners(testScratch(t), 0)}
			require.NotPanics(t, func() { s.placementEvent(eventstore.RecordedEvent{}, uuid.New(), e) })
			assert.Empty(t, s.v.report.Findings, "an empty event of a known type is no finding")
		})
	}
}

type unclassified struct{}

func (unclassified) EventType() string { return "Unclassified" }

func TestPlacementEventPanicsOnAnUnclassifiedType(t *testing.T) {
	s := &scan{v: &verifier{}, owners: newOwners(testScratch(t), 0)}
	assert.PanicsWithValue(t, "verify: no rule for event type Unclassified", func() {
		s.placementEvent(eventstore.RecordedEvent{}, uuid.New(), unclassified{})
	})
}
