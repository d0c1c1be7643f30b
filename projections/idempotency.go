package projections

import (
	"sync"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// IdempotencyIndex maps (actor, key) to the first execution. The handler
// records into it after each append; the projections runner feeds it from
// the events' metadata, so it survives restarts.
type IdempotencyIndex struct {
	mu   sync.RWMutex
	keys map[idemKey]journal.IdempotencyRecord
}

type idemKey struct{ actor, key string }

// NewIdempotencyIndex returns an empty index.
func NewIdempotencyIndex() *IdempotencyIndex {
	return &IdempotencyIndex{keys: map[idemKey]journal.IdempotencyRecord{}}
}

// Lookup returns the first execution of (actor, key).
func (x *IdempotencyIndex) Lookup(actor, key string) (journal.IdempotencyRecord, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.keys[idemKey{actor, key}]
	return r, ok
}

// Record remembers the first execution of (actor, key); a later record of
// the same key with a later position (the rest of the same command, or the
// same command seen again from the log) keeps the last position.
func (x *IdempotencyIndex) Record(actor, key string, r journal.IdempotencyRecord) {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := idemKey{actor, key}
	if old, ok := x.keys[k]; ok && old.Position >= r.Position {
		return
	}
	x.keys[k] = r
}

// Apply feeds one event's metadata into the index.
func (x *IdempotencyIndex) Apply(placementID uuid.UUID, pos eventstore.Position, m journal.Metadata) {
	journal.IdempotencyRecords(placementID, pos, m, x.Record)
}
