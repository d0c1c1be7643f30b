package projections

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// sinkBufLikeARebuild fills a buffer with n keys shaped as a rebuild's
// sunk writes: a claim's feed items, a creditor's feed, postings,
// reconciliation rows, change-index rows, envelopes and processed numbers,
// over 100,000 placements and a few creditors, with positions rising.
func sinkBufLikeARebuild(n int, seed uint64) *sinkBuf {
	rng := rand.New(rand.NewPCG(seed, 3))
	ids := make([]uuid.UUID, 100_000)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(rng.Uint32())
		}
	}
	creditors := []string{"load", "acme-collections", "northwind", "contoso-finance", "globex"}
	b := &sinkBuf{}
	for i := range n {
		id := ids[rng.IntN(len(ids))]
		c := creditors[rng.IntN(len(creditors))]
		pos := uint64(1_000_000 + i/3)
		var k keyBuf
		switch rng.IntN(7) {
		case 0:
			k = key(nil, tFeed).id(id).u64(uint64(rng.IntN(12)))
		case 1:
			k = key(nil, tCreditorFeed).str(c).u64(pos).u64(uint64(rng.IntN(12)))
		case 2:
			k = key(nil, tPosting).id(id).u64(pos)
		case 3:
			k = key(nil, tReconcile).str(c).u64(1<<63 + pos*1e9).u64(pos)
		case 4:
			k = key(nil, tChange).str(c).u64(1<<63 + pos*1e9).id(id)
		case 5:
			k = key(nil, tEnvelope).str(c).u64(1<<63 + pos*1e9).u64(pos)
		default:
			k = key(nil, tNumber).id(id).b('p').str("PAY-" + string(rune('a'+rng.IntN(26))))
		}
		off := len(b.mem)
		b.mem = append(b.mem, k...)
		b.refs = append(b.refs, sinkRef{pre: keyPrefix(k), off: uint32(off), klen: uint32(len(k))})
	}
	return b
}

// BenchmarkSinkSort sorts a run of 270,000 refs (a run's 16 MiB of a
// rebuild's records) by radix passes, as the sink does, and by
// comparisons alone (-bench SinkSort/compare).
func BenchmarkSinkSort(b *testing.B) {
	for _, radix := range []bool{true, false} {
		name := "radix"
		if !radix {
			name = "compare"
		}
		b.Run(name, func(b *testing.B) {
			buf := sinkBufLikeARebuild(270_000, 1)
			if radix {
				buf.scratch = make([]sinkRef, len(buf.refs))
			}
			refs := slices.Clone(buf.refs)
			for b.Loop() {
				copy(buf.refs, refs)
				buf.sort()
			}
		})
	}
}
