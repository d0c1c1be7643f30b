package projections

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/journal"
)

// Snapshot returns a placement as the views have applied it, without its
// processed numbers (WriteIndex.Processed answers for those); false when the
// views do not know it (yet). The command side starts from it through
// WriteIndex; readers read a placement's state (its sealed personal data,
// say) with it.
func (v *Views) Snapshot(id uuid.UUID) (journal.Snapshot, bool, error) {
	gen := v.generation()
	st, b, err := v.storedPlacement(gen, id)
	if err != nil || st == nil {
		return journal.Snapshot{}, false, err
	}
	// The command's event follows: the applier will need this very state.
	v.handed.put(id, gen, st.Revision, b)
	if st.Hash.none() {
		return journal.Snapshot{}, false, fmt.Errorf("projections: placement %s's state in the views has no valid hash", id)
	}
	return journal.Snapshot{Placement: st.P, Revision: st.Revision, Position: st.Last, Hash: journal.Hash(st.Hash)}, true, nil
}
