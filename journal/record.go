package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// Record is a placement event as a reader needs it: what the store recorded,
// the decoded event, and the metadata the command wrote.
type Record struct {
	ID       uuid.UUID
	Stream   string
	Revision uint64
	Position eventstore.Position
	Type     string
	Data     json.RawMessage
	Event    domain.Event
	Meta     Metadata
}

// Snapshot is a placement as of one revision of its stream, as a read side
// keeps it: its state without the processed numbers (PaymentNumbers and
// WaiverNumbers are empty), the revision, the position and the hash of the
// stream's last event at that revision.
type Snapshot struct {
	Placement domain.Placement
	Revision  uint64
	Position  eventstore.Position
	Hash      Hash
}

// Decode decodes a recorded placement event and its metadata. It is the one
// decoder every reader of placement events uses.
func Decode(rec eventstore.RecordedEvent) (Record, error) { return decode(rec, true) }

// DecodeWithoutHashes is Decode but leaves the metadata's Hash and PrevHash
// empty, which then cost nothing to decode. It is for readers that check
// the chain from the stored bytes (CheckSeal) and need nothing else of it:
// turning the two hashes into hexadecimal was 3% of ledger verify's CPU.
func DecodeWithoutHashes(rec eventstore.RecordedEvent) (Record, error) { return decode(rec, false) }

func decode(rec eventstore.RecordedEvent, hashes bool) (Record, error) {
	e, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		return Record{}, fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	m, err := decodeMetadata(rec.Metadata, hashes)
	if err != nil {
		return Record{}, fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	return Record{ID: rec.ID, Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Type: rec.Type, Data: rec.Data, Event: e, Meta: m}, nil
}

// DecodeMeta decodes a recorded placement event's metadata and not its
// data: the Record's Event is nil. It is for readers that need only what
// the metadata says (the idempotency keys, where a command ends).
func DecodeMeta(rec eventstore.RecordedEvent) (Record, error) {
	m, err := DecodeMetadata(rec.Metadata)
	if err != nil {
		return Record{}, fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
	}
	return Record{ID: rec.ID, Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Type: rec.Type, Data: rec.Data, Meta: m}, nil
}

// ReadStream calls fn with each event of a stream from revision from on, in
// order, reading a page at a time. A stream with no events is
// eventstore.ErrStreamNotFound; fn's error stops the read and is returned.
func ReadStream(ctx context.Context, store eventstore.Store, stream string, from uint64, fn func(eventstore.RecordedEvent) error) error {
	const page = 1000
	for {
		batch, err := store.ReadStream(ctx, stream, from, page)
		if err != nil {
			return err
		}
		for _, rec := range batch {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		from = batch[len(batch)-1].Revision + 1
	}
}

// ReadPlacement reads and decodes every event of a placement's stream. A
// placement that does not exist is domain.ErrNotFound.
func ReadPlacement(ctx context.Context, store eventstore.Store, id uuid.UUID) ([]Record, error) {
	var out []Record
	err := ReadStream(ctx, store, PlacementStream(id), 0, func(rec eventstore.RecordedEvent) error {
		r, err := Decode(rec)
		out = append(out, r)
		return err
	})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, domain.ErrNotFound
	}
	return out, err
}
