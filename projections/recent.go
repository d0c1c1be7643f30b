package projections

import (
	"hash/maphash"
	"strings"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// recentEvents tells which placement events need no state read ahead
// (readAhead) because the applier's cache will surely still hold the
// placement's state when it comes to them. Before it, three reads ahead in
// four were for nothing: a rebuild of 1.1M events over 100,000 placements
// read 900,126 states ahead and the applier took 225,666 of them
// (docs/PERFORMANCE.md); most were for an event whose placement's event
// before it was a few positions back (the events of one command follow
// each other), decoded at the same time on another decoder.
//
// It is given every event in log order, on the one goroutine that hands
// them to the decoders, and notes where each placement's last event was,
// in a slot chosen by its stream's hash (another placement may take the
// slot: then nothing is known of the first). The cache lets states go
// least recently applied first (the decoded tier by use, the encoded tier
// in the order the decoded one let them go), and between two events of a
// placement at most as many other states are applied as there are events
// between them. So when a placement's event before this one is fewer
// events back than three quarters of the states the cache holds (a margin
// for a cache that holds fewer by then, its encoded tier filled with larger
// states), its state will be in the cache.
//
// What it says is only a guess: a wrong one costs a read (by the decoder
// for nothing, or by the applier itself), never a wrong state, since the
// applier takes a state read ahead only for the event it was read for
// (stateAhead.usable), and otherwise finds the state where it is.
type recentEvents struct {
	slots []uint64 // an event: its position << recentTagBits | its stream's tag
	cache *stateCache
}

const (
	recentSlots   = 1 << 17 // 1 MiB
	recentTagBits = 24
	// recentMaxPosition is the first position an event cannot be noted at.
	recentMaxPosition = 1 << (64 - recentTagBits)
)

var recentSeed = maphash.MakeSeed()

func newRecentEvents(c *stateCache) *recentEvents {
	return &recentEvents{slots: make([]uint64, recentSlots), cache: c}
}

// held reports whether placement event rec's state will be in the cache
// when the applier comes to it (see recentEvents), and notes rec. Not a
// placement's event: false.
func (r *recentEvents) held(rec eventstore.RecordedEvent) bool {
	if !strings.HasPrefix(rec.Stream, journal.PlacementPrefix) {
		return false
	}
	h := maphash.String(recentSeed, rec.Stream)
	i, tag, pos := h%recentSlots, h>>(64-recentTagBits), uint64(rec.Position)
	prev := r.slots[i]
	if pos < recentMaxPosition { // else not noted: past what a slot holds
		r.slots[i] = pos<<recentTagBits | tag
	}
	if prev == 0 || prev&(1<<recentTagBits-1) != tag {
		return false
	}
	last := prev >> recentTagBits
	return last < pos && pos-last <= uint64(r.cache.holding.Load())*3/4
}
