package projections

import (
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// WriteIndex is what the command side reads from the views, apart from the
// read models: the index of Idempotency-Keys that answers repeats, and the
// placements' states and processed payment and credit waiver numbers that a
// command on an uncached placement starts from (so its cost does not grow
// with the placement's history). Package command declares what it needs of
// it (command.Idempotency and command.Snapshots); readers use Views.
//
// Its tables ('i', 'p' and 'n') stay in the view store: the runner writes
// them in the same atomic batch as the read models and the checkpoint, so
// after a crash they are the log up to that checkpoint, like the rest.
type WriteIndex struct {
	v     *Views
	reads atomic.Uint64
}

// NewWriteIndex returns the write-side index kept in v.
func NewWriteIndex(v *Views) *WriteIndex { return &WriteIndex{v: v} }

// Snapshot returns a placement as the views have applied it, without its
// processed numbers (Processed answers for those); false when the views do
// not know it (yet). One point read.
func (w *WriteIndex) Snapshot(id uuid.UUID) (journal.Snapshot, bool, error) {
	w.reads.Add(1)
	return w.v.Snapshot(id)
}

// Processed says what a placement processed under each of the payment and
// credit waiver numbers given (numbers never processed are left out), as
// far as the views have applied the log. ok is false when the views do not
// reach position through (they were rebuilt, or lost their last batches in
// a crash, since a Snapshot said so): the caller must then read the stream
// instead. One point read per number.
func (w *WriteIndex) Processed(id uuid.UUID, through eventstore.Position, payments, waivers []string) (pay, waive map[string]domain.Processed, ok bool, err error) {
	v := w.v
	// The generations are taken first: a swap keeps the tables it retires
	// for a while after it, and a unit rebuilt in the background is swapped
	// in only once it reaches the live checkpoint, so either generation
	// holds every number processed up to a checkpoint at or past through
	// (a batch is committed before its checkpoint is published).
	gen := v.generation()
	if eventstore.Position(v.checkpoint.Load()) < through {
		return nil, nil, false, nil
	}
	lookup := func(kind byte, numbers []string) (map[string]domain.Processed, error) {
		out := map[string]domain.Processed{}
		for _, n := range numbers {
			w.reads.Add(1)
			b, err := v.get(key(gen, tNumber).id(id).b(kind).str(n))
			if err != nil || b == nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			p, err := decodeProcessed(b)
			if err != nil {
				return nil, fmt.Errorf("projections: placement %s's number %q in the views: %w", id, n, err)
			}
			out[n] = p
		}
		return out, nil
	}
	if pay, err = lookup(numberPayment, payments); err != nil {
		return nil, nil, false, err
	}
	if waive, err = lookup(numberWaiver, waivers); err != nil {
		return nil, nil, false, err
	}
	return pay, waive, true, nil
}

// Lookup returns the first execution of (actor, key): recorded by the
// command handler a moment ago, or applied from the log (one point read).
func (w *WriteIndex) Lookup(actor, k string) (journal.IdempotencyRecord, bool) {
	v := w.v
	if r, ok := v.idem.lookup(actor, k); ok {
		return r, true
	}
	w.reads.Add(1)
	b, err := v.get(key(v.generation(), tIdempotency).str(actor).str(k))
	if err != nil || b == nil {
		if err != nil {
			v.logger.Error("projections: read the idempotency index", "err", err)
		}
		return journal.IdempotencyRecord{}, false
	}
	var r journal.IdempotencyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		v.logger.Error("projections: the idempotency index is damaged", "err", err)
		return journal.IdempotencyRecord{}, false
	}
	return r, true
}

// Reads is how many point reads of the view store the command side has
// made through this index.
func (w *WriteIndex) Reads() uint64 { return w.reads.Load() }

// Record remembers a key the command handler has just appended, until the
// views have applied it from the log.
func (w *WriteIndex) Record(actor, k string, r journal.IdempotencyRecord) {
	w.v.idem.record(actor, k, r)
}

func (o *idemOverlay) lookup(actor, k string) (journal.IdempotencyRecord, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.recs[[2]string{actor, k}]
	return r, ok
}

func (o *idemOverlay) record(actor, k string, r journal.IdempotencyRecord) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if old, ok := o.recs[[2]string{actor, k}]; ok && old.Position >= r.Position {
		return
	}
	o.recs[[2]string{actor, k}] = r
}

// prune forgets what the views have applied up to pos.
func (o *idemOverlay) prune(pos eventstore.Position) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, r := range o.recs {
		if r.Position <= pos {
			delete(o.recs, k)
		}
	}
}
