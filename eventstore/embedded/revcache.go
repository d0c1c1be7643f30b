package embedded

import (
	"strings"

	"github.com/collections-ledger/ledger/internal/bincodec"
)

// revisionCache is the writer's cache of each touched stream's last
// revision. Only the writer goroutine uses it.
//
// A stream whose name ends in '-' and a canonical (lower-case) UUID, as a
// placement's does, is held as the number of its kind (the name before the
// UUID) and the UUID's 16 bytes, not as its name: the name an append
// carries (46 bytes for a placement, in a larger allocation) would otherwise
// stay live as long as its entry. Over 1,000,000 placements the names alone
// held 11.5 MB after 20 s of payments, and the cache grew with every
// placement paid up to a million streams (docs/PERFORMANCE.md).
type revisionCache struct {
	ids   map[streamID]uint64 // streams named by a kind and a UUID
	names map[string]uint64   // every other stream, by its name
	kinds map[string]uint16   // the kinds of ids, each held once
}

// streamID is a stream named kinds[kind] followed by id in its canonical form.
// At 18 bytes (no pointer) it makes a slot of 32 with its revision, where a
// name's string header makes 24 and its bytes 48 or 64 more.
type streamID struct {
	id   [16]byte
	kind uint16
}

// maxCachedStreams bounds the cache; past it the cache is emptied and
// refilled from disk on demand (two point reads a stream for an append that
// expects a revision, which the tables' bloom filters mostly answer: on
// 1,000,000 placements a payment cost the same CPU whether its stream's
// revision was cached or not). With the map's empty slots a placement's entry
// took about 80 bytes (21 MB for 1 << 18 of them), so the cache stays near
// 10 MB however many placements the store holds; on 100,000 it holds them all.
const maxCachedStreams = 1 << 17

// maxKinds bounds the kinds the cache holds once; streams of further kinds
// are held by name.
const maxKinds = 1 << 10

func newRevisionCache() revisionCache {
	return revisionCache{ids: make(map[streamID]uint64), names: make(map[string]uint64), kinds: make(map[string]uint16)}
}

func (c *revisionCache) get(stream string) (uint64, bool) {
	if k, ok := c.idOf(stream); ok {
		rev, ok := c.ids[k]
		return rev, ok
	}
	rev, ok := c.names[stream]
	return rev, ok
}

func (c *revisionCache) put(stream string, rev uint64) {
	if k, ok := c.idOf(stream); ok {
		c.ids[k] = rev
		return
	}
	c.names[stream] = rev
}

func (c *revisionCache) len() int { return len(c.ids) + len(c.names) }

// clear empties the cache. The kinds stay: they are few, and their numbers
// are only ever compared with each other.
func (c *revisionCache) clear() {
	clear(c.ids)
	clear(c.names)
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
