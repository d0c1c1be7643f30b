package journal

import (
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// IdempotencyRecord is what is remembered of a command that carried an
// Idempotency-Key: enough to answer a repeat as the first execution was
// answered. The log's metadata holds it; readers index it.
type IdempotencyRecord struct {
	RequestHash string              `json:"requestHash"`
	PlacementID uuid.UUID           `json:"placementId"`
	Position    eventstore.Position `json:"position"`
	Outcome     string              `json:"outcome,omitempty"`
	RequestID   string              `json:"requestId,omitempty"`
	// Bulk marks the key of a whole bulk request (its items have keys of
	// their own): it only says which request the key was first used with.
	Bulk bool `json:"bulk,omitempty"`
}

// IdempotencyRecords returns what one event's metadata says about keys:
// the command's own key, and the key of the bulk request it belongs to.
func IdempotencyRecords(placement uuid.UUID, pos eventstore.Position, m Metadata, fn func(actor, key string, r IdempotencyRecord)) {
	if m.BulkKey != "" {
		fn(m.Actor, m.BulkKey, IdempotencyRecord{RequestHash: m.RequestHash, Position: pos, Bulk: true})
	}
	if m.IdempotencyKey != "" {
		fn(m.Actor, m.IdempotencyKey, IdempotencyRecord{RequestHash: m.RequestHash, PlacementID: placement, Position: pos,
			Outcome: m.Outcome, RequestID: m.RequestID})
	}
}
