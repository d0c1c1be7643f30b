package projections

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// zeroRecords is one record of every registered event type, its payload
// empty (but a handover's one invoice: every handover has one), of the
// current schema and ending its command.
func zeroRecords(t *testing.T) []journal.Record {
	t.Helper()
	var out []journal.Record
	for _, typ := range domain.EventTypes() {
		payload := `{}`
		if typ == domain.TypePlacementOpened {
			payload = `{"invoices":[{"invoiceNumber":"I-1"}]}`
		}
		e, err := domain.DecodeEvent(typ, []byte(payload))
		require.NoError(t, err)
		out = append(out, journal.Record{ID: uuid.New(), Type: typ, Event: e,
			Meta: journal.Metadata{SchemaVersion: domain.SchemaVersion, Index: 0, Count: 1}})
	}
	return out
}

// TestSwitchesAgreeWithTheirClasses drives each switch over event types in
// this package with every registered type: a type that reaches a default
// panics, and each switch acts on exactly the types its classes say it
// handles (TestEveryEventTypeIsClassified in verify checks the classes
// cover the registry).
func TestSwitchesAgreeWithTheirClasses(t *testing.T) {
	for _, rec := range zeroRecords(t) {
		t.Run(rec.Type, func(t *testing.T) {
			var items commandItems
			require.NotPanics(t, func() { items.add(domain.Placement{}, rec) }, "feed")
			assert.Equal(t, FeedEvents.Handles(rec.Type), !items.empty(), "feed")

			var counted bool
			require.NotPanics(t, func() {
				_, counted = reconcileEntry(uuid.New(), domain.Placement{}, domain.Placement{}, rec, journal.Hash{}, nil)
			}, "reconciliation")
			assert.Equal(t, ReconciledEvents.Handles(rec.Type), counted, "reconciliation")

			var changes bool
			require.NotPanics(t, func() { _, changes = statusAfter(rec.Event) }, "status changes")
			assert.Equal(t, StatusEvents.Handles(rec.Type), changes, "status changes")
		})
	}
}

// TestStatusChangesAreEvolvesStatus checks that the status a status change
// names is the one Evolve gives the placement.
func TestStatusChangesAreEvolvesStatus(t *testing.T) {
	for _, rec := range zeroRecords(t) {
		status, changes := statusAfter(rec.Event)
		if !changes {
			continue
		}
		p := domain.Evolve(domain.Placement{Status: domain.StatusActive}, rec.Event)
		assert.Equal(t, p.Status, status, rec.Type)
	}
}

type unclassified struct{}

func (unclassified) EventType() string { return "Unclassified" }

func TestSwitchesPanicOnAnUnclassifiedType(t *testing.T) {
	rec := journal.Record{Type: "Unclassified", Event: unclassified{}}
	tests := map[string]struct {
		call func()
		who  string
	}{
		"feed":           {call: func() { new(commandItems).add(domain.Placement{}, rec) }, who: "the feed"},
		"status item":    {call: func() { statusChange(rec.Event, "", domain.SchemaVersion) }, who: "a STATUS item"},
		"reconciliation": {call: func() { reconcileEntry(uuid.Nil, domain.Placement{}, domain.Placement{}, rec, journal.Hash{}, nil) }, who: "reconciliation"},
		"status changes": {call: func() { statusAfter(rec.Event) }, who: "status-change detection"},
	}
	for name, tc := range tests {
		t.Run("Err_"+name, func(t *testing.T) {
			assert.PanicsWithValue(t, "projections: "+tc.who+" has no rule for event type Unclassified", tc.call)
		})
	}
}
