package embedded

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"

	"github.com/collections-ledger/ledger/internal/bincodec"
)

// revisionCache is the writer's cache of each touched stream's last
// revision. Only the writer goroutine uses it. It may forget a stream (a
// miss costs two point reads of the log), never hold a revision the stream
// has moved past: every commit puts the new revisions of its streams.
//
// A stream whose name ends in '-' and a canonical (lower-case) UUID, as a
// placement's does, is held as the number of its kind (the name before the
// UUID) and the UUID's 16 bytes in a slotTable, not as its name: the name an
// append carries (46 bytes for a placement, in a larger allocation) would
// otherwise stay live as long as its entry. Over 1,000,000 placements the
// names alone held 11.5 MB after 20 s of payments (docs/PERFORMANCE.md).
type revisionCache struct {
	ids   slotTable         // streams named by a kind and a UUID
	names map[string]uint64 // every other stream, by its name
	kinds map[string]uint16 // the kinds of ids, each held once
}

// streamID is a stream named kinds[kind] followed by id in its canonical form.
type streamID struct {
	id   [16]byte
	kind uint16
}

// maxKinds bounds the kinds the cache holds once; streams of further kinds
// are held by name.
const maxKinds = 1 << 10

// maxCachedNames bounds the streams held by name (the log's own streams,
// and any not named by a kind and a UUID: few); past it they are all
// forgotten.
const maxCachedNames = 1 << 12

func newRevisionCache() revisionCache {
	return revisionCache{ids: newSlotTable(), names: make(map[string]uint64), kinds: make(map[string]uint16)}
}

func (c *revisionCache) get(stream string) (uint64, bool) {
	if k, ok := c.idOf(stream); ok {
		return c.ids.get(k)
	}
	rev, ok := c.names[stream]
	return rev, ok
}

func (c *revisionCache) put(stream string, rev uint64) {
	if k, ok := c.idOf(stream); ok {
		c.ids.put(k, rev)
		return
	}
	if _, held := c.names[stream]; !held && len(c.names) >= maxCachedNames {
		clear(c.names)
	}
	c.names[stream] = rev
}

// idOf is the key of stream in ids, when its name is a kind (any text,
// ending in '-') followed by a UUID in its canonical form, and the kind is
// one of the first maxKinds seen.
func (c *revisionCache) idOf(stream string) (streamID, bool) {
	n := len(stream)
	if n <= 37 || stream[n-37] != '-' {
		return streamID{}, false
	}
	id, ok := bincodec.ParseCanonicalUUID(stream[n-36:])
	if !ok {
		return streamID{}, false
	}
	kind := stream[:n-36]
	k, ok := c.kinds[kind]
	if !ok {
		if len(c.kinds) >= maxKinds {
			return streamID{}, false
		}
		k = uint16(len(c.kinds))
		c.kinds[strings.Clone(kind)] = k
	}
	return streamID{id: id, kind: k}, true
}

// slotTable maps streamIDs to revisions in one array of 24-byte slots with
// no pointer (so Go's collector never scans it), open-addressed by linear
// probing. It doubles while it is under maxRevisionSlots; at that size, a
// stream it does not hold takes the place of one chosen at random.
//
// A Go map took about 80 bytes a stream, so the cache was bounded at 131,072
// streams and emptied whole past them; a slot takes 24 bytes (32 a stream at
// most, with the empty slots), so 786,432 streams fit in 24 MiB, and evicting
// one stream at a time keeps the table full. With 200,000 placements paid
// again and again out of 1,000,000, the cache now holds them all, and after
// 40 s the check's reads took 3% of the server's CPU instead of 10%
// (docs/PERFORMANCE.md).
type slotTable struct {
	slots []revisionSlot // a power of two long
	n     int            // slots in use
	seed  maphash.Seed
}

// revisionSlot is a stream's entry: kind is its streamID's kind plus one (0:
// the slot is empty), and the revision is held in 48 bits (hi, lo); a stream
// past them is not held.
type revisionSlot struct {
	id   [16]byte
	kind uint16
	hi   uint16
	lo   uint32
}

// maxRevisionSlots bounds a slotTable (24 MiB); a variable for tests.
var maxRevisionSlots = 1 << 20

const (
	minRevisionSlots = 1 << 10
	maxSlotRevision  = 1<<48 - 1
)

func newSlotTable() slotTable { return slotTable{seed: maphash.MakeSeed()} }

func (t *slotTable) home(k streamID) int {
	return int(maphash.Comparable(t.seed, k) & uint64(len(t.slots)-1))
}

// find returns where k is, or the empty slot where it would go.
func (t *slotTable) find(k streamID) (int, bool) {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.kind == 0 {
			return i, false
		}
		if s.kind == k.kind+1 && s.id == k.id {
			return i, true
		}
	}
}

func (t *slotTable) get(k streamID) (uint64, bool) {
	if t.n == 0 {
		return 0, false
	}
	i, ok := t.find(k)
	if !ok {
		return 0, false
	}
	s := &t.slots[i]
	return uint64(s.hi)<<32 | uint64(s.lo), true
}

func (t *slotTable) put(k streamID, rev uint64) {
	if t.slots == nil {
		t.slots = make([]revisionSlot, minRevisionSlots)
	}
	i, ok := t.find(k)
	if rev > maxSlotRevision { // not held: forgotten, so never stale
		if ok {
			t.remove(i)
		}
		return
	}
	if !ok {
		if (t.n+1)*4 > len(t.slots)*3 {
			if len(t.slots) < maxRevisionSlots {
				t.grow()
			} else {
				t.evict()
			}
			i, _ = t.find(k)
		}
		t.n++
	}
	t.slots[i] = revisionSlot{id: k.id, kind: k.kind + 1, hi: uint16(rev >> 32), lo: uint32(rev)}
}

// grow doubles the table in one go, holding the writer while it moves every
// entry: 7, 15 and 27 ms at 98,304, 196,608 and 393,216 streams, once each
// in a server's life (a Go map grew by parts).
func (t *slotTable) grow() {
	old := t.slots
	t.slots = make([]revisionSlot, 2*len(old))
	for _, s := range old {
		if s.kind != 0 {
			i, _ := t.find(streamID{id: s.id, kind: s.kind - 1})
			t.slots[i] = s
		}
	}
}

// evict forgets the stream in the first slot in use from a random one.
func (t *slotTable) evict() {
	mask := len(t.slots) - 1
	i := rand.IntN(len(t.slots))
	for t.slots[i].kind == 0 {
		i = (i + 1) & mask
	}
	t.remove(i)
}

// remove empties slot i, moving back the entries after it that probing
// would no longer reach (Knuth's algorithm R for linear probing), so that no
// slot is ever marked deleted.
func (t *slotTable) remove(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].kind != 0; j = (j + 1) & mask {
		s := t.slots[j]
		h := t.home(streamID{id: s.id, kind: s.kind - 1})
		// The entry at j stays unless its home is cyclically outside (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = revisionSlot{}
	t.n--
}
