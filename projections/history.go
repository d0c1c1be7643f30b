package projections

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// ErrOtherHistory is what CheckLog returns for views that were not built
// from the log they are opened with.
var ErrOtherHistory = errors.New("projections: the views were built from another history of the log")

// encodeCheckpointEvent is the value of keyCheckpointEvent: the ID, revision
// and stream of the event at the checkpoint.
func encodeCheckpointEvent(e eventstore.RecordedEvent) []byte {
	b := make([]byte, 0, 24+len(e.Stream))
	b = append(b, e.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Revision)
	return append(b, e.Stream...)
}

// CheckLog checks that the views were built from store's log: that the log
// holds the event the views applied last, at their checkpoint. Views ahead
// of the log (a log restored from an older backup, which has lost what the
// views saw), or built from another log, would decide every command on
// states the log does not have: each append would meet a revision the
// stream never reached. It reads that one event from its stream (every
// engine can); views written before the event was recorded are checked
// against the log's head only.
func (v *Views) CheckLog(ctx context.Context, store eventstore.Store) error {
	cp := v.Checkpoint()
	if cp == 0 {
		return nil
	}
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("projections: read the log's head: %w", err)
	}
	if cp > head {
		return fmt.Errorf("%w: they have applied it up to position %d, and the log ends at %d (restored from an older backup?)", ErrOtherHistory, cp, head)
	}
	b, err := v.get(keyCheckpointEvent)
	if err != nil || b == nil {
		return err
	}
	if len(b) < 24 {
		return fmt.Errorf("projections: the view store's %q is damaged", keyCheckpointEvent)
	}
	id, rev, stream := uuid.UUID(b[:16]), binary.BigEndian.Uint64(b[16:24]), string(b[24:])
	recs, err := store.ReadStream(ctx, stream, rev, 1)
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return fmt.Errorf("projections: read the event at the views' checkpoint: %w", err)
	}
	if len(recs) == 0 || recs[0].ID != id || recs[0].Position != cp {
		return fmt.Errorf("%w: the last event they applied (%s, revision %d of %s, at position %d) is not in the log", ErrOtherHistory, id, rev, stream, cp)
	}
	return nil
}
