package verify

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// Without Deep and without live views to compare, verify reads nothing of
// the views but the placements' states, so it folds them itself (fold)
// instead of rebuilding the views: each placement's state is kept encoded
// in the views' binary form (projections.AppendPlacement), in a spillMap,
// decoded for each of its events, folded (domain.Evolve) exactly as the
// views fold it, checked (books.check) and encoded again. What the views
// would add to it (feed items, indexes, postings records, notifications,
// the processed numbers) is neither computed nor written, nor the Pebble
// store the views were rebuilt in: over 1.1M events that was about a third
// of verify's time (docs/PERFORMANCE.md). -deep still
// rebuilds the views and checks every placement's feed and stream against
// them.

// folded is a placement's state as verify folds it: the revision of the
// last event folded and the state encoded.
type folded struct {
	rev uint64
	enc []byte
}

// newFolds keeps the placements' folded states: at most max in memory, the
// others in s (see spillMap).
func newFolds(s *scratch, max int) *spillMap[uuid.UUID, folded] {
	return newSpillMap(s, max, tFolded, uuidKey,
		func(b []byte, f *folded) []byte { return append(binary.AppendUvarint(b, f.rev), f.enc...) },
		func(b []byte, f *folded) error {
			rev, n := binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("a folded state's revision of %d bytes", len(b))
			}
			f.rev, f.enc = rev, append(f.enc[:0], b[n:]...)
			return nil
		})
}

// fold folds one decoded event of a placement (rec, r) into the
// placement's state and checks its postings on the states before and after
// it. An event that cannot be folded (a stream that does not begin with
// its handover, a state that does not decode) is reported, and the rest of
// its placement is not folded.
func (s *scan) fold(rec eventstore.RecordedEvent, id uuid.UUID, r journal.Record) {
	at := func(problem string) {
		s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "projection", Problem: problem})
		s.broken[id] = true
	}
	f, _ := s.folds.get(id, false)
	var before domain.Placement
	switch {
	case f != nil:
		if err := projections.DecodePlacement(f.enc, &before); err != nil {
			at("the placement's state cannot be folded past this event: " + err.Error())
			return
		}
	case isOpening(r.Event):
		f, _ = s.folds.get(id, true)
	default:
		at(fmt.Sprintf("the placement's first event is %s, not %s", rec.Type, domain.TypePlacementOpened))
		return
	}
	after := domain.Evolve(before, r.Event)
	s.folded(id, r, before, after)
	enc, err := projections.AppendPlacement(f.enc[:0], after)
	if err != nil {
		at("the placement's state cannot be folded past this event: " + err.Error())
		return
	}
	f.rev, f.enc = rec.Revision, enc
}

func isOpening(e domain.Event) bool {
	_, opens := e.(domain.PlacementOpened)
	return opens
}

// checkFolds checks every folded state's invariants, in the order of the
// placements' ids.
func (s *scan) checkFolds() error {
	return s.folds.each(func(b []byte) (uuid.UUID, error) { return uuid.FromBytes(b) }, func(id uuid.UUID, f *folded) error {
		var p domain.Placement
		if err := projections.DecodePlacement(f.enc, &p); err != nil {
			return fmt.Errorf("verify: placement %s's folded state: %w", id, err)
		}
		s.v.checkInvariants(journal.PlacementStream(id), f.rev, p)
		return nil
	})
}
