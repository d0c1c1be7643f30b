package projections

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/google/uuid"
)

// encRing is the state cache's encoded tier: placement states in their
// binary form, first in first out, in one buffer of a fixed size mapped
// outside Go's heap (allocArena) when the first state comes. On the heap,
// the tier's bytes counted twice (the collector lets the heap grow by as
// much as is live before it runs), and each state cost a list element and
// an entry of its own besides; here only the index of ids is on the heap.
//
// An entry is a header (the id, the state's length, flags) and the state.
// An entry never wraps: one that does not fit before the end of the
// buffer starts at its beginning, and what was skipped is marked as
// padding (or, shorter than a header, skipped by the reader as well). A
// state taken out is marked dead and its bytes stay until the tail passes
// them.
type encRing struct {
	size int
	buf  []byte // nil until the first put, and after release
	// head and tail are offsets that only grow; an entry at offset o is at
	// buf[o%size]. The entries are in [tail, head).
	head, tail uint64
	byID       map[uuid.UUID]uint64 // a live entry's offset
	// live is the bytes of the live entries, headers included.
	live int
	// letGo: the ring has let a live state go (evicted, or larger than
	// the ring) since it was made.
	letGo bool
	// discarded counts the bytes drain gave back.
	discarded int
	// moveUnder, when more than 0: a live state at the tail that is in the
	// way of a new one is moved to the head, not let go of, while the
	// states held and the new one take at most moveUnder bytes. A ring
	// wraps over the states taken out of it as well as over those it
	// holds; without this it let states go at every wrap however few it
	// held, and the build read them back from the store.
	moveUnder int
	scratch   []byte // a state being moved
}

const ringHeader = 16 + 4 + 1 // id, length (little endian), flags

const (
	ringUnsaved byte = 1 << iota
	ringDead
	ringPad
)

func newEncRing(size int) *encRing {
	return &encRing{size: size, byID: map[uuid.UUID]uint64{}}
}

func (r *encRing) len() int { return len(r.byID) }

// put keeps a state (copied), and appends to left each unsaved state it
// let go of for it (encoded, a copy the caller may keep). A state larger
// than the ring is let go of at once. It fails only when the memory for
// the ring cannot be mapped.
func (r *encRing) put(id uuid.UUID, enc []byte, unsaved bool, left []*cached) ([]*cached, error) {
	r.take(id) // never there (a state is in one tier), but if it were, this one is newer
	n := ringHeader + len(enc)
	if n > r.size {
		r.letGo = true
		if unsaved {
			left = append(left, &cached{id: id, enc: bytes.Clone(enc), unsaved: true})
		}
		return left, nil
	}
	if r.buf == nil {
		buf, err := allocArena(r.size)
		if err != nil {
			return left, fmt.Errorf("projections: map %d bytes for the states kept encoded: %w", r.size, err)
		}
		r.buf = buf
	}
	moved := 0 // bytes moved from the tail to the head for this state: at most a round
	for {
		skip, fits := r.room(n, r.tail)
		if fits {
			r.padHead(skip)
			break
		}
		if r.head == r.tail { // empty
			r.head += uint64(skip)
			r.tail = r.head
			continue
		}
		if r.live+n <= r.moveUnder && moved < r.size && r.moveTail() {
			moved += len(r.scratch)
			continue
		}
		left = r.evict(left)
	}
	p := int(r.head % uint64(r.size))
	copy(r.buf[p:], id[:])
	binary.LittleEndian.PutUint32(r.buf[p+16:], uint32(len(enc)))
	r.buf[p+20] = 0
	if unsaved {
		r.buf[p+20] = ringUnsaved
	}
	copy(r.buf[p+ringHeader:], enc)
	r.byID[id] = r.head
	r.head += uint64(n)
	r.live += n
	return left, nil
}

// moveTail moves a live state at the tail to the head, and reports
// whether it did: not when the tail holds padding or a dead state (evict
// passes them), nor when there is no room for it at the head even once it
// is gone from the tail (when it must start at the buffer's beginning and
// the tail is not far enough past it).
func (r *encRing) moveTail() bool {
	p, flags, enc, next := r.at(r.tail)
	if p < 0 || flags&(ringDead|ringPad) != 0 {
		return false
	}
	n := ringHeader + len(enc)
	skip, fits := r.room(n, next)
	if !fits {
		return false
	}
	r.scratch = append(r.scratch[:0], r.buf[p:p+n]...) // id, length, flags, state
	r.tail = next
	r.padHead(skip)
	copy(r.buf[r.head%uint64(r.size):], r.scratch)
	r.byID[uuid.UUID(r.scratch[:16])] = r.head
	r.head += uint64(n)
	return true
}

// room returns the bytes an entry of n bytes must skip at the head (one
// that does not fit before the end of the buffer starts at its beginning),
// and whether it then fits with the tail at tail.
func (r *encRing) room(n int, tail uint64) (skip int, fits bool) {
	if p := int(r.head % uint64(r.size)); p+n > r.size {
		skip = r.size - p
	}
	return skip, r.head+uint64(skip+n)-tail <= uint64(r.size)
}

// padHead marks skip bytes at the head as padding (when they can hold a
// header; shorter, the reader skips them as well) and moves the head past
// them.
func (r *encRing) padHead(skip int) {
	if p := int(r.head % uint64(r.size)); skip >= ringHeader {
		r.buf[p+20] = ringPad
		binary.LittleEndian.PutUint32(r.buf[p+16:], uint32(skip-ringHeader))
	}
	r.head += uint64(skip)
}

// evict lets go of the entry at the tail (or skips the padding there),
// appending it to left if it is unsaved.
func (r *encRing) evict(left []*cached) []*cached {
	p, flags, enc, next := r.at(r.tail)
	r.tail = next
	if p < 0 || flags&(ringDead|ringPad) != 0 {
		return left
	}
	id := uuid.UUID(r.buf[p : p+16])
	delete(r.byID, id)
	r.live -= ringHeader + len(enc)
	r.letGo = true
	if flags&ringUnsaved != 0 {
		left = append(left, &cached{id: id, enc: bytes.Clone(enc), unsaved: true})
	}
	return left
}

// at reads the entry at offset o: where it is in buf (-1 where the end of
// the buffer is too short for a header, which is skipped), its flags and
// its state (or padding), and the offset after it.
func (r *encRing) at(o uint64) (p int, flags byte, enc []byte, next uint64) {
	p = int(o % uint64(r.size))
	if r.size-p < ringHeader {
		return -1, 0, nil, o + uint64(r.size-p)
	}
	enc = r.entry(p)
	return p, r.buf[p+20], enc, o + uint64(ringHeader+len(enc))
}

// entry returns the state (or padding) of the entry at p.
func (r *encRing) entry(p int) []byte {
	n := int(binary.LittleEndian.Uint32(r.buf[p+16:]))
	return r.buf[p+ringHeader : p+ringHeader+n : p+ringHeader+n]
}

// take removes a state and returns it, with whether it is unsaved. The
// bytes are the ring's: they stay as they are until the next put.
func (r *encRing) take(id uuid.UUID) (enc []byte, unsaved, ok bool) {
	o, ok := r.byID[id]
	if !ok {
		return nil, false, false
	}
	delete(r.byID, id)
	p := int(o % uint64(r.size))
	enc = r.entry(p)
	unsaved = r.buf[p+20]&ringUnsaved != 0
	r.buf[p+20] = ringDead
	r.live -= ringHeader + len(enc)
	return enc, unsaved, true
}

// unsaved calls fn with each unsaved state, oldest first, and marks it
// saved. The bytes are the ring's, valid during the call.
func (r *encRing) unsaved(fn func(id uuid.UUID, enc []byte) error) error {
	return r.walkUnsaved(fn, false)
}

// drain calls fn with each unsaved state as unsaved does, and gives the
// ring's memory back as it goes, then releases the ring, whether fn failed
// or not. fn must copy what it keeps: the pages behind a state are given
// back once the walk is ringDrainStep past it. A bulk build's SaveStates
// copies every state into Pebble's memtable before it releases the ring;
// without this the ring and the states' copies were resident together, a
// peak of the whole build's memory.
func (r *encRing) drain(fn func(id uuid.UUID, enc []byte) error) error {
	err := r.walkUnsaved(fn, true)
	if rerr := r.release(); err == nil {
		err = rerr
	}
	return err
}

// ringDrainStep is how far drain walks between two returns of memory (a
// variable for tests).
var ringDrainStep uint64 = 1 << 20

func (r *encRing) walkUnsaved(fn func(id uuid.UUID, enc []byte) error, discard bool) error {
	done := r.tail // with discard, what is before it was given back
	for o := r.tail; o < r.head; {
		p, flags, enc, next := r.at(o)
		o = next
		if unsavedEntry(p, flags) {
			if err := fn(uuid.UUID(r.buf[p:p+16]), enc); err != nil {
				return err
			}
			r.buf[p+20] &^= ringUnsaved
		}
		if discard && o-done >= ringDrainStep {
			done = r.discard(done, o)
		}
	}
	return nil
}

// unsavedEntry tells whether the entry r.at found at p, with flags, is a
// live unsaved state (not padding, nor a dead or saved state).
func unsavedEntry(p int, flags byte) bool {
	return p >= 0 && flags&(ringDead|ringPad) == 0 && flags&ringUnsaved != 0
}

// discard gives back the whole pages of the ring between the offsets from
// and to (at most the ring's size apart; they read as zeros afterwards),
// and returns the offset of the end of the last: the next call starts
// there, so that a page cut by to is given back by it.
func (r *encRing) discard(from, to uint64) (done uint64) {
	page := os.Getpagesize()
	done = from
	for from < to {
		p := int(from % uint64(r.size))
		n := min(int(to-from), r.size-p)
		if lo, hi := (p+page-1)/page*page, (p+n)/page*page; lo < hi {
			if discardArena(r.buf[lo:hi]) == nil {
				r.discarded += hi - lo
			}
			done = from + uint64(hi-p)
		}
		from += uint64(n)
	}
	return done
}

// clear forgets every state; the memory stays mapped for the next.
func (r *encRing) clear() {
	r.head, r.tail, r.live = 0, 0, 0
	clear(r.byID)
}

// release forgets every state and unmaps the memory (a later put maps it
// again).
func (r *encRing) release() error {
	r.clear()
	r.byID = map[uuid.UUID]uint64{} // clear keeps the buckets
	if r.buf == nil {
		return nil
	}
	buf := r.buf
	r.buf = nil
	return freeArena(buf)
}
