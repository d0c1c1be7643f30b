package command

import (
	"sync"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// IdempotencyRecord is what is remembered of a command that carried an
// Idempotency-Key.
type IdempotencyRecord struct {
	RequestHash string
	PlacementID uuid.UUID
	Position    eventstore.Position
	Outcome     string
	RequestID   string
	// Bulk marks the key of a whole bulk request (its items have keys of
	// their own): it only says which request the key was first used with.
	Bulk bool
}

// IdempotencyIndex maps (actor, key) to the first execution. The handler
// records into it after each append; the projections runner feeds it from
// the events' metadata, so it survives restarts.
type IdempotencyIndex struct {
	mu   sync.RWMutex
	keys map[idemKey]IdempotencyRecord
}

type idemKey struct{ actor, key string }

// NewIdempotencyIndex returns an empty index.
func NewIdempotencyIndex() *IdempotencyIndex {
	return &IdempotencyIndex{keys: map[idemKey]IdempotencyRecord{}}
}

// Lookup returns the first execution of (actor, key).
func (x *IdempotencyIndex) Lookup(actor, key string) (IdempotencyRecord, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.keys[idemKey{actor, key}]
	return r, ok
}

// Record remembers the first execution of (actor, key); a later record of
// the same key with a later position (the rest of the same command, or the
// same command seen again from the log) keeps the last position.
func (x *IdempotencyIndex) Record(actor, key string, r IdempotencyRecord) {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := idemKey{actor, key}
	if old, ok := x.keys[k]; ok && old.Position >= r.Position {
		return
	}
	x.keys[k] = r
}

// Apply feeds one event's metadata into the index.
func (x *IdempotencyIndex) Apply(placementID uuid.UUID, pos eventstore.Position, m Metadata) {
	if m.BulkKey != "" {
		x.Record(m.Actor, m.BulkKey, IdempotencyRecord{RequestHash: m.RequestHash, Position: pos, Bulk: true})
	}
	if m.IdempotencyKey == "" {
		return
	}
	x.Record(m.Actor, m.IdempotencyKey, IdempotencyRecord{
		RequestHash: m.RequestHash, PlacementID: placementID, Position: pos, Outcome: m.Outcome, RequestID: m.RequestID,
	})
}
