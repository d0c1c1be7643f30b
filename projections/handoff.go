package projections

import (
	"sync"

	"github.com/google/uuid"
)

// handoff passes the placement states that Snapshot read for the command
// side on to the applier. A command on a placement the command handler does
// not cache reads its state from the views (its one point read), decides,
// and appends an event that the applier applies a moment later; the live
// views keep 10,000 states decoded, so on a ledger of more placements than
// that the applier read the same state from the store again (on 100,000
// placements, 25 of a payment's 531 µs of CPU; docs/PERFORMANCE.md).
//
// The applier takes a state only where it would read the store, and only
// the state it needs: of the generation it applies, at the revision just
// before the event's. A placement's state at a revision is a function of its
// events up to it, so that state is the one the store holds; any other
// (older, or of a generation since replaced) is left, and the store read.
type handoff struct {
	mu   sync.Mutex
	byID map[uuid.UUID]handed
}

type handed struct {
	gen *generations
	rev uint64
	enc []byte // the state as the store holds it (a copy, read only)
}

// handoffSize bounds the states held: the applier takes a command's state
// within a batch, so what stays is the states of readers that are not
// commands and of commands refused. When it is full it is emptied, as the
// log's cache of stream revisions is: a state lost costs the read it would
// have saved.
const handoffSize = 2048

// put keeps the state enc of placement id, at revision rev of gen.
func (h *handoff) put(id uuid.UUID, gen *generations, rev uint64, enc []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID == nil || len(h.byID) >= handoffSize {
		h.byID = make(map[uuid.UUID]handed, handoffSize)
	}
	h.byID[id] = handed{gen: gen, rev: rev, enc: enc}
}

// take returns and forgets placement id's state if it is held at revision
// rev of gen; nil otherwise.
func (h *handoff) take(id uuid.UUID, gen *generations, rev uint64) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.byID[id]
	if !ok || e.gen != gen || e.rev != rev {
		return nil
	}
	delete(h.byID, id)
	return e.enc
}
