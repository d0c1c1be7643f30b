package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/internal/bincodec"
	"github.com/collections-ledger/ledger/internal/pebbleutil"
	"github.com/collections-ledger/ledger/projections"
)

// scratch is a Pebble database in verify's temporary directory that holds
// what verify keeps per stream, claim and payment to the agency once there
// is more of it than its maps keep in memory (see spillMap). It has no
// write-ahead log: it is removed with the directory.
type scratch struct {
	db *pebble.DB
	// err is the first failed write or read; Run reports it. The maps of
	// the fold's parts (see part) share the store, each from its own
	// goroutine.
	mu  sync.Mutex
	err error
}

// scratchMemory is the scratch database's Pebble memory (block cache and
// memtables together, see pebbleutil.MemTableSize).
const scratchMemory = 16 << 20

func openScratch(dir string) (*scratch, error) {
	cache := pebble.NewCache(scratchMemory)
	defer cache.Unref()
	logger := pebbleutil.Logger{L: slog.New(slog.NewTextHandler(io.Discard, nil))}
	db, err := pebble.Open(dir, &pebble.Options{
		FS:                 pebbleutil.PrivateFS(),
		Cache:              cache,
		MemTableSize:       pebbleutil.MemTableSize(scratchMemory),
		DisableWAL:         true,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             logger,
		// A flush that keeps failing (the temporary directory's disk
		// full) stops verify instead of spinning (pebbleutil.Failures).
		EventListener: (&pebbleutil.Failures{Logger: logger, What: "verify's scratch store"}).Listen(&pebble.EventListener{}),
	})
	if err != nil {
		return nil, fmt.Errorf("verify: open a scratch store: %w", err)
	}
	return &scratch{db: db}, nil
}

func (s *scratch) close() error {
	if s == nil {
		return nil
	}
	return s.db.Close()
}

// fail keeps the first error.
func (s *scratch) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// failed returns the first error.
func (s *scratch) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// spillMap maps a stream, a claim or a payment to what verify keeps for it.
// It keeps at most max entries in memory; when full it writes an eighth of
// them, chosen arbitrarily, to the scratch database, and reads an entry back
// from there when it is asked for again. So verify's memory does not grow
// with the placements or the payments of the ledger it checks. With max 0
// every entry stays in memory.
//
// An entry in memory is kept encoded (enc), in an arena of bytes, and its
// key in a map whose keys hold no pointers: so the collector has nothing
// in the maps to scan, however many entries they keep. At 3.3M events over
// 300,000 placements, with the entries as Go values behind pointers, the
// collector's marking took half of verify's CPU (docs/PERFORMANCE.md). The
// entry get returns is decoded into a value of the map's own (cur) and
// encoded back to the arena at the next call; so a pointer that get returns
// is valid until the next call of get or each, and dec must set every field
// of the value it decodes into (it holds the entry decoded before).
type spillMap[K comparable, V any] struct {
	mem map[K]uint32 // an entry in memory: its slot
	// slots are where each entry in memory is in arena; free, the slots
	// no entry uses.
	slots []memSlot
	free  []uint32
	arena arena
	// garbage counts the bytes of arena no slot uses (values that moved
	// when they outgrew their room, entries written out).
	garbage int
	// cur is the entry get returned last, decoded; held, whether it is to
	// be encoded back to its slot (curSlot), under curKey.
	cur     V
	curKey  K
	curSlot uint32
	held    bool
	max     int
	table   byte
	// prefix begins the keys of the map's entries in the scratch store:
	// its table, after the part's prefix for a part's map (see under).
	prefix []byte
	s      *scratch
	key    func([]byte, K) []byte
	enc    func([]byte, *V) []byte
	dec    func([]byte, *V) error
	// n counts the distinct keys; spilled, whether any entry was written out.
	n       int
	spilled bool
	kbuf    []byte
	vbuf    []byte
}

// memSlot is where an entry's value is in the arena: in its slab, at off,
// n bytes, in room bytes.
type memSlot struct{ slab, off, n, room uint32 }

// arenaSlab is the size of an arena's slabs (a value larger than that has
// a slab of its own size).
const arenaSlab = 1 << 20

// arena holds a spill map's values in slabs: it grows by a slab at a time
// and never copies what it holds. As one slice grown by append it copied
// itself at every growth, 3% of verify's CPU over 1.1M events, and held
// the old and the new copy at once.
type arena struct {
	slabs [][]byte
	// used counts the bytes handed out, in all slabs.
	used int
}

// alloc hands out room bytes, in the last slab when they fit there and
// in a new slab when not (the last one's rest then unused).
func (a *arena) alloc(room int) (slab, off uint32, ok bool) {
	if room > math.MaxUint32 || len(a.slabs) >= math.MaxUint32 {
		return 0, 0, false
	}
	if n := len(a.slabs); n == 0 || cap(a.slabs[n-1])-len(a.slabs[n-1]) < room {
		a.slabs = append(a.slabs, make([]byte, 0, max(arenaSlab, room)))
	}
	last := len(a.slabs) - 1
	b := a.slabs[last]
	a.slabs[last] = b[:len(b)+room]
	a.used += room
	return uint32(last), uint32(len(b)), true
}

// value is the slot's value.
func (a *arena) value(sl memSlot) []byte { return a.slabs[sl.slab][sl.off : sl.off+sl.n] }

// room is the slot's room.
func (a *arena) room(sl memSlot) []byte { return a.slabs[sl.slab][sl.off : sl.off+sl.room] }

func newSpillMap[K comparable, V any](s *scratch, max int, table byte, key func([]byte, K) []byte, enc func([]byte, *V) []byte,
	dec func([]byte, *V) error) *spillMap[K, V] {
	if s == nil {
		panic("verify: a spill map needs a scratch store")
	}
	return &spillMap[K, V]{mem: map[K]uint32{}, max: max, table: table, prefix: []byte{table}, s: s, key: key, enc: enc, dec: dec}
}

// under puts the map's entries in the scratch store under prefix, before
// its table's byte: the maps of the fold's parts (see part) are each
// under its own, and none is under another's or a table's. It is called
// before the map is used.
func (m *spillMap[K, V]) under(prefix []byte) *spillMap[K, V] {
	m.prefix = append(slices.Clip(prefix), m.table)
	return m
}

// get returns k's entry and whether it was there before. An entry that was
// not is created (zero) when create is set; otherwise get returns nil.
func (m *spillMap[K, V]) get(k K, create bool) (*V, bool) {
	if m.held && m.curKey == k {
		return &m.cur, true
	}
	m.put()
	if i, ok := m.mem[k]; ok {
		sl := m.slots[i]
		if err := m.dec(m.arena.value(sl), &m.cur); err != nil {
			m.s.fail(fmt.Errorf("verify: an entry of table %c in memory: %w", m.table, err))
		}
		m.hold(k, i)
		return &m.cur, true
	}
	m.cur = *new(V)
	found := false
	if m.spilled {
		m.kbuf = m.key(append(m.kbuf[:0], m.prefix...), k)
		val, closer, err := m.s.db.Get(m.kbuf)
		switch {
		case err == nil:
			err = m.dec(val, &m.cur)
			_ = closer.Close()
			if err != nil {
				m.s.fail(fmt.Errorf("verify: scratch entry %x: %w", m.kbuf, err))
			}
			found = true
		case !errors.Is(err, pebble.ErrNotFound):
			m.s.fail(fmt.Errorf("verify: read the scratch store: %w", err))
		}
	}
	if !found {
		if !create {
			return nil, false
		}
		m.n++
	}
	if m.max > 0 && len(m.mem) >= m.max {
		m.spill()
	}
	var i uint32
	if n := len(m.free); n > 0 {
		i, m.free = m.free[n-1], m.free[:n-1]
	} else {
		i = uint32(len(m.slots))
		m.slots = append(m.slots, memSlot{})
	}
	m.mem[k] = i
	m.hold(k, i)
	return &m.cur, found
}

func (m *spillMap[K, V]) hold(k K, slot uint32) {
	m.curKey, m.curSlot, m.held = k, slot, true
}

// put encodes the entry get returned last back to its slot: in its room
// when it fits, else at the arena's end (the arena compacted first when
// more of it is garbage than not).
func (m *spillMap[K, V]) put() {
	if !m.held {
		return
	}
	m.held = false
	m.vbuf = m.enc(m.vbuf[:0], &m.cur)
	sl := &m.slots[m.curSlot]
	if len(m.vbuf) > int(sl.room) {
		m.garbage += int(sl.room)
		sl.n, sl.room = 0, 0
		if m.garbage > 1<<20 && m.garbage > m.arena.used/2 {
			m.compact()
		}
		room := len(m.vbuf) + len(m.vbuf)/8 // room to grow a little in place
		slab, off, ok := m.arena.alloc(room)
		if !ok {
			m.s.fail(errors.New("verify: a spill map's memory is full"))
			return
		}
		sl.slab, sl.off, sl.room = slab, off, uint32(room)
	}
	sl.n = uint32(copy(m.arena.room(*sl), m.vbuf))
}

// compact moves every entry in memory to a new arena, without garbage.
func (m *spillMap[K, V]) compact() {
	var to arena
	for _, i := range m.mem {
		sl := &m.slots[i]
		old := m.arena.value(*sl)
		sl.slab, sl.off, _ = to.alloc(int(sl.room)) // it fit the old arena
		copy(to.room(*sl), old)
	}
	m.arena, m.garbage = to, 0
}

// spill writes an eighth of the entries in memory to the scratch store and
// drops them from memory.
func (m *spillMap[K, V]) spill() {
	m.put()
	b := m.s.db.NewBatch()
	defer b.Close()
	left := max(1, m.max/8)
	for k, i := range m.mem {
		sl := m.slots[i]
		m.kbuf = m.key(append(m.kbuf[:0], m.prefix...), k)
		if err := b.Set(m.kbuf, m.arena.value(sl), nil); err != nil {
			m.s.fail(err)
		}
		delete(m.mem, k)
		m.garbage += int(sl.room)
		m.slots[i] = memSlot{}
		m.free = append(m.free, i)
		if left--; left == 0 {
			break
		}
	}
	if err := pebbleutil.Commit(b, pebble.NoSync); err != nil {
		m.s.fail(fmt.Errorf("verify: write the scratch store: %w", err))
	}
	m.spilled = true
}

// each calls fn with every entry once, in the order of their keys' bytes:
// the entries written to the scratch store merged with those in memory
// (the one in memory when both hold a key). key reads a key back from its
// bytes (without the table's byte). The value fn gets is valid until fn
// returns.
func (m *spillMap[K, V]) each(key func([]byte) (K, error), fn func(K, *V) error) error {
	m.put()
	type held struct {
		b    []byte
		k    K
		slot uint32
	}
	mem := make([]held, 0, len(m.mem))
	for k, i := range m.mem {
		mem = append(mem, held{m.key(slices.Clip(m.prefix), k), k, i})
	}
	slices.SortFunc(mem, func(a, b held) int { return bytes.Compare(a.b, b.b) })
	var v V
	next := func() error {
		sl := m.slots[mem[0].slot]
		v = *new(V)
		if err := m.dec(m.arena.value(sl), &v); err != nil {
			return fmt.Errorf("verify: an entry of table %c in memory: %w", m.table, err)
		}
		err := fn(mem[0].k, &v)
		mem = mem[1:]
		return err
	}
	if m.spilled {
		upper := slices.Clone(m.prefix)
		upper[len(upper)-1]++ // no table is 0xff
		it, err := m.s.db.NewIter(&pebble.IterOptions{LowerBound: m.prefix, UpperBound: upper})
		if err != nil {
			return fmt.Errorf("verify: read the scratch store: %w", err)
		}
		defer it.Close()
		for valid := it.First(); valid; valid = it.Next() {
			for len(mem) > 0 && bytes.Compare(mem[0].b, it.Key()) < 0 {
				if err := next(); err != nil {
					return err
				}
			}
			if len(mem) > 0 && bytes.Equal(mem[0].b, it.Key()) {
				if err := next(); err != nil {
					return err
				}
				continue
			}
			k, err := key(it.Key()[len(m.prefix):])
			if err != nil {
				return fmt.Errorf("verify: scratch key %x: %w", it.Key(), err)
			}
			v = *new(V)
			if err := m.dec(it.Value(), &v); err != nil {
				return fmt.Errorf("verify: scratch entry %x: %w", it.Key(), err)
			}
			if err := fn(k, &v); err != nil {
				return err
			}
		}
		if err := it.Error(); err != nil {
			return fmt.Errorf("verify: read the scratch store: %w", err)
		}
	}
	for len(mem) > 0 {
		if err := next(); err != nil {
			return err
		}
	}
	return nil
}

// spillEntries is how many entries each of verify's maps keeps in memory
// (a variable for tests), and Run gives the maps every event reads a
// multiple of it: kept encoded, an entry is 60 to 100 bytes with its key
// (270 for a folded state, see Run), so whatever the ledger's size
// verify's maps hold a bounded amount. When
// verify rebuilt the views for their states, 131,072 for every map was
// slower than 65,536 at 3.3M events over 300,000 placements (240 s against
// 212 s), the views' memory and the maps sharing verify's memory limit
// (verifyGoMemory in cmd/ledger).
var spillEntries = 1 << 16

// The tables of the scratch store.
const (
	tStreams = 's'
	tOwners  = 'o'
	tClaims  = 'c'
	tItems   = 'i'
	tStates  = 'p'
	tFolded  = 'f'
	// tPart and the part's number begin the keys of a part's maps, after
	// tPass and the pass's number (see pass).
	tPart = 'w'
	tPass = 'x'
)

// newStates keeps the claims' states of books that fold them (verify's
// replay of a damaged log, verify-export) in the views' binary form; a state
// that form refuses is reported through the scratch store's error.
func newStates(s *scratch, max int) *spillMap[uuid.UUID, domain.Placement] {
	return newSpillMap(s, max, tStates, uuidKey,
		func(b []byte, p *domain.Placement) []byte {
			out, err := projections.AppendPlacement(b, *p)
			if err != nil {
				s.fail(fmt.Errorf("verify: keep claim %s's state: %w", p.ClaimNumber, err))
				return b
			}
			return out
		},
		func(b []byte, p *domain.Placement) error { return projections.DecodePlacement(b, p) })
}

// streamKey is the key of a stream's entry: the first 16 bytes of the
// SHA-256 of its name, a key with no pointer for the collector to follow
// (see spillMap), and as unlikely to be another stream's as the hash
// chains' hashes are to collide.
type streamKey [16]byte

func streamKeyOf(name string) (k streamKey) {
	// The name copied to the stack (a name of up to 96 bytes, which every
	// stream the ledger names is): []byte(name) took an allocation for
	// every event verify reads.
	var buf [96]byte
	sum := sha256.Sum256(append(buf[:0], name...))
	copy(k[:], sum[:])
	return k
}

func newStreams(s *scratch, max int) *spillMap[streamKey, streamState] {
	return newSpillMap(s, max, tStreams,
		func(b []byte, k streamKey) []byte { return append(b, k[:]...) },
		func(b []byte, st *streamState) []byte {
			return append(binary.BigEndian.AppendUint64(b, st.next), st.hash[:]...)
		},
		func(b []byte, st *streamState) error {
			if len(b) != 8+len(st.hash) {
				return fmt.Errorf("a stream's entry of %d bytes", len(b))
			}
			st.next = binary.BigEndian.Uint64(b)
			copy(st.hash[:], b[8:])
			return nil
		})
}

func uuidKey(b []byte, id uuid.UUID) []byte { return append(b, id[:]...) }

func newOwners(s *scratch, max int) *spillMap[uuid.UUID, [2]string] {
	return newSpillMap(s, max, tOwners, uuidKey,
		func(b []byte, o *[2]string) []byte {
			return bincodec.AppendString(bincodec.AppendString(b, o[0]), o[1])
		},
		func(b []byte, o *[2]string) error {
			r := bincodec.NewReader(b)
			o[0], o[1] = r.String(), r.String()
			return r.Done()
		})
}

func newClaims(s *scratch, max int) *spillMap[uuid.UUID, claimBooks] {
	return newSpillMap(s, max, tClaims, uuidKey, appendClaimBooks,
		func(b []byte, cb *claimBooks) error {
			r := bincodec.NewReader(b)
			if err := readClaimBooks(&r, cb); err != nil {
				return err
			}
			return r.Done()
		})
}

// appendClaimBooks appends cb's encoded form to b.
func appendClaimBooks(b []byte, cb *claimBooks) []byte {
	if cb.broken {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, v := range cb.balance {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(cb.principal)))
	for _, v := range cb.principal {
		b = binary.AppendVarint(b, v)
	}
	return b
}

// readClaimBooks reads what appendClaimBooks wrote from r into cb, every
// field of it (reusing the room of its principal).
func readClaimBooks(r *bincodec.Reader, cb *claimBooks) error {
	cb.broken = r.Byte() == 1
	for i := range cb.balance {
		cb.balance[i] = r.Varint()
	}
	n := r.Uvarint()
	if n > uint64(len(r.Rest())) { // each at least a byte
		return bincodec.ErrShort
	}
	room := cb.principal[:0] // the entry decoded before's (see spillMap.cur)
	cb.principal = nil
	if n > 0 {
		cb.principal = slices.Grow(room, int(n))[:n]
		for i := range cb.principal {
			cb.principal[i] = r.Varint()
		}
	}
	return r.Err()
}

func newItems(s *scratch, max int, intern func(string) string) *spillMap[uint64, settleable] {
	return newSpillMap(s, max, tItems,
		func(b []byte, k uint64) []byte { return binary.BigEndian.AppendUint64(b, k) },
		func(b []byte, it *settleable) []byte {
			b = bincodec.AppendString(bincodec.AppendString(bincodec.AppendString(b, it.creditor), it.currency), it.settledBy)
			b = binary.AppendUvarint(b, it.item.Position)
			b = bincodec.AppendString(bincodec.AppendString(bincodec.AppendString(b, it.item.ClaimNumber), it.item.DocumentNumber), it.item.ValueDate)
			return binary.AppendVarint(binary.AppendVarint(b, it.item.Collected), it.item.Fee)
		},
		func(b []byte, it *settleable) error {
			r := bincodec.NewReader(b)
			it.creditor, it.currency, it.settledBy = intern(r.String()), intern(r.String()), r.String()
			it.item.Position = r.Uvarint()
			it.item.ClaimNumber, it.item.DocumentNumber, it.item.ValueDate = r.String(), r.String(), r.String()
			it.item.Collected, it.item.Fee = r.Varint(), r.Varint()
			return r.Done()
		})
}
