package projections

import (
	"encoding/binary"

	"github.com/google/uuid"
)

// idFilter is a Bloom filter of placement IDs that grows with what it holds
// (a scalable Bloom filter: each layer twice the last, added when the last is
// full). A bulk build from nothing keeps in one the placements whose states
// it wrote to the store: a placement it does not hold has no state there, so
// its first event skips a read that could only miss (on 1.1M events over
// 100,000 placements such reads were 8 of a rebuild's 77 s of CPU, each
// looking through every table of a deep L0; docs/PERFORMANCE.md). It never
// answers no for an ID it holds; a false yes costs only the read it would
// otherwise save (about 0.07% per layer: 16 bits per ID, 7 probes).
type idFilter struct {
	layers []idFilterLayer
}

type idFilterLayer struct {
	bits     []uint64
	mask     uint64 // bits in the layer − 1 (a power of two)
	held, of int    // IDs added, and how many it takes
}

const (
	idFilterFirst  = 1 << 16 // IDs the first layer takes (128 KiB)
	idFilterProbes = 7       // bits set per ID: the optimum at 10 bits per ID, and near it at 16
)

// add puts id in the filter.
func (f *idFilter) add(id uuid.UUID) {
	if n := len(f.layers); n == 0 || f.layers[n-1].held >= f.layers[n-1].of {
		of := idFilterFirst
		if n > 0 {
			of = 2 * f.layers[n-1].of
		}
		// At least 10 bits per ID, rounded up to a power of two (for
		// the mask): 16 bits per ID.
		size := uint64(1)
		for size < uint64(10*of) {
			size <<= 1
		}
		f.layers = append(f.layers, idFilterLayer{bits: make([]uint64, size/64), mask: size - 1, of: of})
	}
	l := &f.layers[len(f.layers)-1]
	h1, h2 := idHashes(id)
	for i := range uint64(idFilterProbes) {
		b := (h1 + i*h2) & l.mask
		l.bits[b/64] |= 1 << (b % 64)
	}
	l.held++
}

// mayHold reports whether id may have been added: false only if it was not.
func (f *idFilter) mayHold(id uuid.UUID) bool {
	h1, h2 := idHashes(id)
	for li := range f.layers {
		l := &f.layers[li]
		all := true
		for i := range uint64(idFilterProbes) {
			b := (h1 + i*h2) & l.mask
			if l.bits[b/64]&(1<<(b%64)) == 0 {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// idHashes derives the two hashes of double hashing from id's bytes, mixed
// (SplitMix64's finalizer) so that IDs that are not random (time-ordered,
// sequential in tests) spread as well; h2 is odd, so the probes differ.
func idHashes(id uuid.UUID) (h1, h2 uint64) {
	lo, hi := binary.LittleEndian.Uint64(id[:8]), binary.LittleEndian.Uint64(id[8:])
	h1 = mix64(lo ^ mix64(hi))
	h2 = mix64(h1^0x9e3779b97f4a7c15) | 1
	return h1, h2
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
