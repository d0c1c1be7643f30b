package projections

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// The command side decides from the views' placement states, so that a
// command on a placement it has not cached reads one state and the events
// the views have not applied yet, not the placement's whole stream.

// Snapshot returns a placement as the views have applied it, without its
// processed numbers (Processed answers for those); false when the views do
// not know it (yet).
func (v *Views) Snapshot(id uuid.UUID) (journal.Snapshot, bool, error) {
	st, err := v.placementOf(v.generation(), id)
	if err != nil || st == nil {
		return journal.Snapshot{}, false, err
	}
	s := journal.Snapshot{Placement: st.P, Revision: st.Revision, Position: st.Last}
	if n, err := hex.Decode(s.Hash[:], []byte(st.Hash)); err != nil || n != len(s.Hash) {
		return journal.Snapshot{}, false, fmt.Errorf("projections: placement %s's state in the views has no valid hash", id)
	}
	return s, true, nil
}

// Processed says what a placement processed under each of the payment and
// credit waiver numbers given (numbers never processed are left out), as
// far as the views have applied its stream. ok is false when the views no
// longer reach revision through of the placement (they were rebuilt since a
// Snapshot said so): the caller must then read the stream instead.
func (v *Views) Processed(id uuid.UUID, through uint64, payments, waivers []string) (pay, waive map[string]domain.Processed, ok bool, err error) {
	// One snapshot of the store: the generation, the placement's revision
	// and its numbers are read as one batch left them.
	snap := v.db.NewSnapshot()
	defer snap.Close()
	get := func(k []byte) ([]byte, error) { return getFrom(snap, k) }
	g, err := get(keyGeneration)
	if err != nil || len(g) != 8 {
		return nil, nil, false, err
	}
	gen := uint32(binary.BigEndian.Uint64(g))
	b, err := get(key(gen, tPlacement).id(id))
	if err != nil || b == nil {
		return nil, nil, false, err
	}
	var st struct {
		Revision uint64 `json:"revision"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, nil, false, fmt.Errorf("projections: placement %s's state in the views: %w", id, err)
	}
	if st.Revision < through {
		return nil, nil, false, nil
	}
	lookup := func(kind byte, numbers []string) (map[string]domain.Processed, error) {
		out := map[string]domain.Processed{}
		for _, n := range numbers {
			b, err := get(key(gen, tNumber).id(id).b(kind).str(n))
			if err != nil || b == nil {
				if err != nil {
					return nil, err
				}
				continue
			}
			var p domain.Processed
			if err := json.Unmarshal(b, &p); err != nil {
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
