package projections

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The state cache keeps the most recent states decoded, the ones they push
// out encoded within the byte budget, and gives back, to be written, only
// the unsaved states that leave both.
func TestStateCacheTiers(t *testing.T) {
	st := typicalState(t)
	enc, err := encodeState(nil, st)
	require.NoError(t, err)
	per := len(enc) + ringHeader
	c := newStateCache(2, 3*per) // 2 decoded, 3 encoded
	ids := make([]uuid.UUID, 8)
	for i := range ids {
		ids[i] = uuid.New()
	}
	unsaved := func(i int) bool { return i%2 == 0 }

	var left []*cached
	for i, id := range ids[:5] {
		left = append(left, c.put(id, st, unsaved(i))...)
	}
	require.Empty(t, left, "five states fit: two decoded, three encoded")
	require.Equal(t, 2, c.order.Len())
	require.Equal(t, 3, c.enc.len())
	require.Equal(t, 3*per, c.enc.live)
	require.Nil(t, c.get(ids[0]), "the oldest is no longer decoded")

	// An encoded state comes back as it was encoded, with its flag.
	b, wasUnsaved, ok := c.takeEncoded(ids[0])
	require.True(t, ok)
	require.True(t, wasUnsaved)
	require.Equal(t, enc, b)
	var back placementState
	require.NoError(t, decodeState(b, &back))
	want, err := json.Marshal(st)
	require.NoError(t, err)
	got, err := json.Marshal(&back)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.Equal(t, 2*per, c.enc.live)
	_, _, ok = c.takeEncoded(ids[0])
	require.False(t, ok, "taken once")

	// Three more push the oldest encoded out: the unsaved ones are given
	// back (encoded), the saved ones dropped.
	for i, id := range ids[5:] {
		left = append(left, c.put(id, st, unsaved(5+i))...)
	}
	require.Equal(t, 3, c.enc.len())
	var gone []uuid.UUID
	for _, ce := range left {
		require.Nil(t, ce.st)
		require.Equal(t, enc, ce.enc)
		require.True(t, ce.unsaved)
		gone = append(gone, ce.id)
	}
	require.Equal(t, []uuid.UUID{ids[2]}, gone, "ids[1] and ids[2] left; ids[1] was saved")

	// Putting a state that is encoded replaces it, keeping it unsaved.
	require.Contains(t, c.enc.byID, ids[4])
	c.put(ids[4], st, false)
	require.NotContains(t, c.enc.byID, ids[4])

	// unsavedStates visits both tiers once.
	seen := map[uuid.UUID]bool{}
	require.NoError(t, c.unsavedStates(func(id uuid.UUID, s *placementState, e []byte) error {
		require.True(t, (s == nil) != (e == nil), "decoded or encoded")
		seen[id] = true
		return nil
	}))
	require.Equal(t, map[uuid.UUID]bool{ids[4]: true, ids[6]: true}, seen)
	require.NoError(t, c.unsavedStates(func(id uuid.UUID, _ *placementState, _ []byte) error {
		t.Errorf("%s saved already", id)
		return nil
	}))

	c.clear()
	require.Zero(t, c.order.Len()+c.enc.len()+c.enc.live)
	_, _, ok = c.takeEncoded(ids[6])
	require.False(t, ok)
}

// Without a budget nothing is kept encoded: an unsaved state the decoded
// tier lets go of is given back decoded.
func TestStateCacheWithoutEncodedTier(t *testing.T) {
	st := typicalState(t)
	c := newStateCache(1, 0)
	a, b := uuid.New(), uuid.New()
	require.Empty(t, c.put(a, st, true))
	left := c.put(b, st, false)
	require.Len(t, left, 1)
	require.Equal(t, a, left[0].id)
	require.Same(t, st, left[0].st)
	require.Nil(t, c.enc)
}

// A bulk build keeps states encoded by default, three times as many until
// they fill two thirds of that, and so does a background build's cache; the views
// a server keeps up to date do not, unless told.
func TestEncodedTierDefaults(t *testing.T) {
	for _, tc := range []struct {
		opts                ViewsOptions
		first, settle, some int
	}{
		{ViewsOptions{}, 0, 0, 64 << 20},
		{ViewsOptions{Bulk: true}, 48 << 20, 16 << 20, 16 << 20},
		{ViewsOptions{StateBytes: 1000}, 1000, 0, 1000},
		{ViewsOptions{StateBytes: 1000, Bulk: true}, 3000, 1000, 1000},
		{ViewsOptions{StateBytes: -1, Bulk: true}, 0, 0, 0},
	} {
		tc.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		v, err := OpenViews(t.TempDir(), tc.opts)
		require.NoError(t, err)
		assert.Equal(t, tc.first, encSize(v.states), "%+v: the views'", tc.opts)
		assert.Equal(t, tc.settle, v.states.settle, "%+v: the views' once they let a state go", tc.opts)
		assert.Equal(t, tc.some, v.opts.StateBytes, "%+v: a background build's", tc.opts)
		require.NoError(t, v.Close())
	}
}

func encSize(c *stateCache) int {
	if c.enc == nil {
		return 0
	}
	return c.enc.size
}

// The encoded tier against a model: a list of the states it should hold,
// oldest first, within its size counted as the ring counts it (an entry
// that does not fit before the end of the buffer starts at its
// beginning). States of random sizes, some larger than the ring, taken
// out at random, the ring wrapping many times; the model and the ring
// must agree on every state held, given back and saved.
func TestEncRingAgainstAModel(t *testing.T) {
	for _, size := range []int{64, 200, 1000, 4096} {
		rng := rand.New(rand.NewPCG(uint64(size), 7))
		r := newEncRing(size)
		type entry struct {
			id      uuid.UUID
			enc     []byte
			unsaved bool
			at      uint64 // its offset
			dead    bool
		}
		var model []*entry // what the ring holds, oldest first, dead ones included
		var head, tail uint64
		ids := make([]uuid.UUID, 40)
		for i := range ids {
			ids[i] = uuid.New()
		}
		held := func(id uuid.UUID) *entry {
			for _, e := range model {
				if e.id == id && !e.dead {
					return e
				}
			}
			return nil
		}
		type gone struct {
			id  uuid.UUID
			enc []byte
		}
		for step := range 3000 {
			id := ids[rng.IntN(len(ids))]
			if rng.IntN(3) == 0 {
				enc, unsaved, ok := r.take(id)
				e := held(id)
				require.Equal(t, e != nil, ok, "step %d: take", step)
				if ok {
					require.Equal(t, e.enc, enc)
					require.Equal(t, e.unsaved, unsaved)
					e.dead = true
				}
			} else {
				if e := held(id); e != nil {
					e.dead = true // put takes the older one out
				}
				length := rng.IntN(size/2 + 8)
				if rng.IntN(20) == 0 {
					length = rng.IntN(size + 8) // now and then one too large
				}
				enc := make([]byte, length)
				for i := range enc {
					enc[i] = byte(rng.IntN(256))
				}
				unsaved := rng.IntN(2) == 0
				var got, want []gone
				left, err := r.put(id, enc, unsaved, nil)
				require.NoError(t, err)
				for _, ce := range left {
					require.Nil(t, ce.st)
					require.True(t, ce.unsaved)
					got = append(got, gone{ce.id, ce.enc})
				}
				n := uint64(ringHeader + len(enc))
				if n > uint64(size) {
					if unsaved {
						want = append(want, gone{id, enc})
					}
					require.Equal(t, want, got, "step %d: a state larger than the ring", step)
					continue
				}
				for {
					skip := uint64(0)
					if p := head % uint64(size); p+n > uint64(size) {
						skip = uint64(size) - p
					}
					switch {
					case head+skip+n-tail <= uint64(size):
						head += skip
					case head == tail:
						head += skip
						tail = head
						continue
					case len(model) > 0 && model[0].at > tail, len(model) == 0:
						// Padding at the tail: skipped, nothing let go of.
						tail = head
						if len(model) > 0 {
							tail = model[0].at
						}
						continue
					default:
						e := model[0]
						model = model[1:]
						tail = e.at + uint64(ringHeader+len(e.enc))
						if !e.dead && e.unsaved {
							want = append(want, gone{e.id, e.enc})
						}
						continue
					}
					break
				}
				require.Equal(t, want, got, "step %d: the states let go of", step)
				model = append(model, &entry{id: id, enc: enc, unsaved: unsaved, at: head})
				head += n
			}
			live, bytes := 0, 0
			for _, e := range model {
				if !e.dead {
					live++
					bytes += ringHeader + len(e.enc)
				}
			}
			require.Equal(t, live, r.len(), "step %d", step)
			require.Equal(t, bytes, r.live, "step %d", step)
		}
		var want []uuid.UUID
		for _, e := range model {
			if !e.dead && e.unsaved {
				want = append(want, e.id)
			}
		}
		// A failure stops the walk: what it visited before is saved, the
		// rest not.
		var saved []uuid.UUID
		walkErr := r.unsaved(func(id uuid.UUID, _ []byte) error {
			if len(saved) == 1 {
				return io.ErrShortWrite
			}
			saved = append(saved, id)
			return nil
		})
		if len(want) > 1 {
			require.ErrorIs(t, walkErr, io.ErrShortWrite)
		}
		require.NoError(t, r.unsaved(func(id uuid.UUID, _ []byte) error {
			saved = append(saved, id)
			return nil
		}))
		require.Equal(t, want, saved, "size %d: the unsaved ones, oldest first, each once", size)
		require.NoError(t, r.unsaved(func(id uuid.UUID, _ []byte) error {
			t.Errorf("%s saved already", id)
			return nil
		}))
		require.NoError(t, r.release())
		_, _, ok := r.take(ids[0])
		require.False(t, ok, "released")
		_, err := r.put(ids[0], []byte("x"), true, nil)
		require.NoError(t, err, "a released ring is mapped again")
		_, _, ok = r.take(ids[0])
		require.True(t, ok)
		require.NoError(t, r.release())
	}
}

// drain hands every unsaved state over, oldest first and byte for byte as
// unsaved would, while it gives back the pages behind the states it has
// handed over (never one ahead of them), and leaves the cache released.
func TestStateCacheDrainGivesTheRingBackAsItGoes(t *testing.T) {
	defer func(step uint64) { ringDrainStep = step }(ringDrainStep)
	ringDrainStep = 1
	page := os.Getpagesize()
	rng := rand.New(rand.NewPCG(5, 5))
	st := typicalState(t)
	c := newStateCache(2, 16*page)
	type state struct {
		id  uuid.UUID
		enc []byte
	}
	var decoded []uuid.UUID
	for i := range 400 { // the ring wraps several times
		id := uuid.New()
		if i%7 == 0 {
			c.put(id, st, false) // a saved state
			continue
		}
		enc := make([]byte, 50+rng.IntN(2*page))
		for j := range enc {
			enc[j] = byte(rng.Uint32() | 1) // no zeros: a page given back too early reads as zeros
		}
		_, err := c.enc.put(id, enc, true, nil)
		require.NoError(t, err)
		if i%11 == 0 {
			c.put(uuid.New(), st, true) // pushes a decoded state into the ring
		}
	}
	for e := c.order.Front(); e != nil; e = e.Next() {
		if ce := e.Value.(*cached); ce.unsaved {
			decoded = append(decoded, ce.id)
		}
	}
	// What unsaved would hand over, read without marking anything.
	var want []state
	for o := c.enc.tail; o < c.enc.head; {
		p, flags, enc, next := c.enc.at(o)
		o = next
		if unsavedEntry(p, flags) {
			want = append(want, state{uuid.UUID(c.enc.buf[p : p+16]), bytes.Clone(enc)})
		}
	}
	require.Greater(t, len(want), 10)

	var got []state
	var gotDecoded []uuid.UUID
	before := 0 // what was given back when the last state was handed over
	require.NoError(t, c.drain(func(id uuid.UUID, s *placementState, enc []byte) error {
		if s != nil {
			require.Empty(t, got, "the decoded states first")
			gotDecoded = append(gotDecoded, id)
			return nil
		}
		before = c.enc.discarded
		got = append(got, state{id, bytes.Clone(enc)})
		return nil
	}))
	assert.Equal(t, decoded, gotDecoded)
	require.Equal(t, want, got, "every unsaved state, oldest first, none read after its pages were given back")
	if runtime.GOOS == "linux" {
		assert.Greater(t, before, 8*page, "pages given back while the ring was walked")
	}
	assert.Nil(t, c.enc.buf, "the ring is released")
	assert.Zero(t, c.order.Len()+c.enc.len())
}

// A bulk build's encoded tier starts larger (startLarger) and, once the
// states it holds fill two thirds of it, becomes a ring of its own size
// while the first one is emptied behind it, retireRate times the bytes of each state put,
// its pages given back, then released. States taken back and put again at
// random throughout: a state the cache holds is always found, every
// unsaved state is given back to be written exactly once (by put, or at
// the end by drain with the first ring gone, and by drain and by
// unsavedStates while it is being emptied), byte for byte as it was
// encoded, and none that was taken out.
func TestStateCacheRetiresItsFirstRing(t *testing.T) {
	defer func(step uint64) { ringDrainStep = step }(ringDrainStep)
	ringDrainStep = 1
	page := os.Getpagesize()
	base := typicalState(t)
	withRevision := func(rev uint64) *placementState {
		st := *base
		st.Revision = rev
		return &st
	}
	encoded := func(rev uint64) []byte {
		b, err := encodeState(nil, withRevision(rev))
		require.NoError(t, err)
		return b
	}
	per := len(encoded(1)) + ringHeader
	size := max(4*per, 4*page) // several pages to give back
	for _, mode := range []string{"drain after", "drain while retiring", "unsavedStates while retiring"} {
		drainWhileRetiring := mode != "drain after"
		rng := rand.New(rand.NewPCG(9, 9))
		c := newStateCache(1, size)
		c.startLarger(3)
		require.Equal(t, 3*size, c.enc.size)

		pending := map[uuid.UUID]uint64{} // unsaved in the cache: the revision last put
		written := map[uuid.UUID]int{}
		give := func(left []*cached) {
			for _, ce := range left {
				rev, ok := pending[ce.id]
				require.True(t, ok, "%s given back but not in the cache", ce.id)
				if ce.st != nil {
					require.Equal(t, rev, ce.st.Revision)
				} else {
					require.Equal(t, encoded(rev), ce.enc, "%s given back as it was put", ce.id)
				}
				delete(pending, ce.id)
				written[ce.id]++
			}
		}
		var ids []uuid.UUID
		var first *encRing
		released := false
		for step := range 3000 {
			rev := uint64(step + 1)
			if len(ids) > 0 && rng.IntN(4) == 0 { // an applier takes a state back, then puts it again
				id := ids[rng.IntN(len(ids))]
				_, held := pending[id]
				_, decoded := c.byID[id]
				if held && !decoded {
					enc, _, ok := c.takeEncoded(id)
					require.True(t, ok, "step %d: a state the cache holds encoded is found", step)
					require.Equal(t, encoded(pending[id]), enc)
					pending[id] = rev
					give(c.put(id, withRevision(rev), true))
					continue
				}
			}
			id := uuid.New()
			ids = append(ids, id)
			pending[id] = rev
			give(c.put(id, withRevision(rev), true))
			require.Equal(t, len(pending), c.held(), "step %d", step)
			switch {
			case first == nil && c.retiring != nil:
				first = c.retiring
				require.Equal(t, size, c.enc.size, "the tier is its own size once the first ring filled")
				require.Greater(t, first.live, 2*size, "two thirds of the first ring held states")
				require.Empty(t, written, "nothing let go before the first ring gave way")
			case first == nil:
				require.Equal(t, 3*size, c.enc.size)
			case c.retiring == nil && !released:
				released = true
				require.Nil(t, first.buf, "the first ring is released once empty")
				if runtime.GOOS == "linux" {
					assert.Greater(t, first.discarded, 2*page, "its pages given back as it was emptied")
				}
				require.Less(t, step, 3000/2, "emptied while states kept coming")
			}
			if drainWhileRetiring && first != nil && first.len() > 2 && rng.IntN(3) == 0 {
				break
			}
		}
		require.NotNil(t, first, "the first ring let a state go")
		require.Equal(t, !drainWhileRetiring, released)
		each := c.drain
		if mode == "unsavedStates while retiring" {
			each = c.unsavedStates
		}
		require.NoError(t, each(func(id uuid.UUID, st *placementState, enc []byte) error {
			if st != nil {
				give([]*cached{{id: id, st: st, unsaved: true}})
			} else {
				give([]*cached{{id: id, enc: bytes.Clone(enc), unsaved: true}})
			}
			return nil
		}), mode)
		require.Zero(t, len(pending), "%s: every unsaved state written", mode)
		for id, n := range written {
			require.Equal(t, 1, n, "%s: %s written once", mode, id)
		}
		if mode != "unsavedStates while retiring" {
			require.Nil(t, c.retiring)
			require.Nil(t, first.buf, "released")
		}
		require.NoError(t, c.release())
	}
}

// A few states put again and again wrap the first ring many times, over
// the places of the states taken out, but never fill two thirds of it: it
// moves the ones it holds rather than let them go, and stays.
func TestStateCacheKeepsItsFirstRingWhileItHasRoom(t *testing.T) {
	st := typicalState(t)
	enc, err := encodeState(nil, st)
	require.NoError(t, err)
	size := 10 * (len(enc) + ringHeader)
	c := newStateCache(1, size)
	c.startLarger(3)
	ids := make([]uuid.UUID, 12) // 11 encoded: a third of the first ring
	for i := range ids {
		ids[i] = uuid.New()
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		id := ids[rng.IntN(len(ids))]
		c.takeEncoded(id)
		c.put(id, st, true)
	}
	require.Greater(t, c.enc.head, uint64(4*c.enc.size), "the ring wrapped")
	require.False(t, c.enc.letGo, "no state let go")
	require.Equal(t, len(ids)-1, c.enc.len())
	require.Nil(t, c.retiring)
	require.Equal(t, 3*size, c.enc.size)
}

// A ring that moves the states at its tail to its head while they take at
// most moveUnder bytes: states of random sizes put, taken out and put
// again at random, the ring wrapping hundreds of times. It gives back
// every unsaved state it lets go of, holds the others byte for byte,
// found where it says they are, and lets one go while the states it holds
// and the new one fit in moveUnder only when there is no room to move it
// (one that must start again at the buffer's beginning): rarely.
func TestEncRingMovesStatesWhileTheyFit(t *testing.T) {
	const size = 1 << 16
	rng := rand.New(rand.NewPCG(17, 11))
	r := newEncRing(size)
	r.moveUnder = size / 3 * 2
	held := map[uuid.UUID][]byte{}
	ids := make([]uuid.UUID, 250) // about two thirds of the ring, held: both sides of moveUnder
	for i := range ids {
		ids[i] = uuid.New()
	}
	puts, fitting, letGoFitting := 0, 0, 0
	for step := range 100_000 {
		id := ids[rng.IntN(len(ids))]
		if rng.IntN(3) == 0 {
			enc, _, ok := r.take(id)
			want, isHeld := held[id]
			require.Equal(t, isHeld, ok, "step %d", step)
			if ok {
				require.Equal(t, want, enc, "step %d", step)
				delete(held, id)
			}
			continue
		}
		delete(held, id) // put takes the older one out
		enc := make([]byte, 50+rng.IntN(400))
		for i := range enc {
			enc[i] = byte(rng.IntN(256))
		}
		before := r.live
		left, err := r.put(id, enc, true, nil)
		require.NoError(t, err)
		puts++
		if before+ringHeader+len(enc) <= r.moveUnder {
			fitting++
			if len(left) > 0 {
				letGoFitting++
			}
		}
		for _, ce := range left {
			want, ok := held[ce.id]
			require.True(t, ok, "step %d: let go of a state it did not hold", step)
			require.Equal(t, want, ce.enc)
			delete(held, ce.id)
		}
		held[id] = enc
		require.Equal(t, len(held), r.len(), "step %d", step)
		if step%97 == 0 {
			for hid, want := range held {
				o, ok := r.byID[hid]
				require.True(t, ok)
				require.Equal(t, want, r.entry(int(o%size)), "step %d: %s where the ring says", step, hid)
			}
		}
	}
	require.Greater(t, r.head, uint64(300*size), "the ring wrapped hundreds of times")
	require.Greater(t, fitting, puts/10, "puts that fit in moveUnder")
	require.Less(t, fitting, puts-puts/10, "and puts that do not")
	require.LessOrEqual(t, letGoFitting, fitting/1000, "%d of %d puts that fit let states go", letGoFitting, fitting)
	t.Logf("%d puts, %d fitting, %d of them let a state go", puts, fitting, letGoFitting)
}
