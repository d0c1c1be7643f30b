package verify

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
	db  *pebble.DB
	err error // the first failed write or read; Run reports it
}

// scratchMemory is the scratch database's Pebble memory (block cache and
// memtables together, see pebbleutil.MemTableSize).
const scratchMemory = 16 << 20

func openScratch(dir string) (*scratch, error) {
	cache := pebble.NewCache(scratchMemory)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		FS:                 pebbleutil.PrivateFS(),
		Cache:              cache,
		MemTableSize:       pebbleutil.MemTableSize(scratchMemory),
		DisableWAL:         true,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleutil.Logger{L: slog.New(slog.NewTextHandler(io.Discard, nil))},
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
	if s.err == nil {
		s.err = err
	}
}

// spillMap maps a stream, a claim or a payment to what verify keeps for it.
// It keeps at most max entries in memory; when full it writes an eighth of
// them, chosen arbitrarily, to the scratch database, and reads an entry back
// from there when it is asked for again. So verify's memory does not grow
// with the placements or the payments of the ledger it checks. Without a
// scratch database (max 0) every entry stays in memory.
//
// A pointer that get returns is valid until the next call of get: the entry
// it points to may be written out and dropped then.
type spillMap[K comparable, V any] struct {
	mem   map[K]*V
	max   int
	table byte
	s     *scratch
	key   func([]byte, K) []byte
	enc   func([]byte, *V) []byte
	dec   func([]byte, *V) error
	// n counts the distinct keys; spilled, whether any entry was written out.
	n       int
	spilled bool
	kbuf    []byte
}

func newSpillMap[K comparable, V any](s *scratch, max int, table byte, key func([]byte, K) []byte, enc func([]byte, *V) []byte,
	dec func([]byte, *V) error) *spillMap[K, V] {
	if s == nil {
		max = 0
	}
	return &spillMap[K, V]{mem: map[K]*V{}, max: max, table: table, s: s, key: key, enc: enc, dec: dec}
}

// get returns k's entry and whether it was there before. An entry that was
// not is created (zero) when create is set; otherwise get returns nil.
func (m *spillMap[K, V]) get(k K, create bool) (*V, bool) {
	if p, ok := m.mem[k]; ok {
		return p, true
	}
	p := new(V)
	found := false
	if m.spilled {
		m.kbuf = m.key(append(m.kbuf[:0], m.table), k)
		val, closer, err := m.s.db.Get(m.kbuf)
		switch {
		case err == nil:
			err = m.dec(val, p)
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
	m.mem[k] = p
	return p, found
}

// spill writes an eighth of the entries in memory to the scratch store and
// drops them from memory.
func (m *spillMap[K, V]) spill() {
	b := m.s.db.NewBatch()
	defer b.Close()
	var val []byte
	left := max(1, m.max/8)
	for k, p := range m.mem {
		m.kbuf = m.key(append(m.kbuf[:0], m.table), k)
		val = m.enc(val[:0], p)
		if err := b.Set(m.kbuf, val, nil); err != nil {
			m.s.fail(err)
		}
		delete(m.mem, k)
		if left--; left == 0 {
			break
		}
	}
	if err := pebbleutil.Commit(b, pebble.NoSync); err != nil {
		m.s.fail(fmt.Errorf("verify: write the scratch store: %w", err))
	}
	m.spilled = true
}

// spillEntries is how many entries each of verify's maps keeps in memory
// (a variable for tests): about 130 bytes each, so the streams, the owners,
// the claims' books and the payments to the agency hold at most about
// 35 MB together, whatever the ledger's size. At 131,072 (70 MB) verify of
// 3.3M events over 300,000 placements, whose maps fill, took 240 s under
// verify's memory limit (verifyGoMemory in cmd/ledger) against 212 s at
// 65,536, in the same memory; 1.1M events over 100,000 took 49.8 and 49.9 s.
var spillEntries = 1 << 16

// The tables of the scratch store.
const (
	tStreams = 's'
	tOwners  = 'o'
	tClaims  = 'c'
	tItems   = 'i'
	tStates  = 'p'
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

func newStreams(s *scratch, max int) *spillMap[string, streamState] {
	return newSpillMap(s, max, tStreams,
		func(b []byte, k string) []byte { return append(b, k...) },
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
	return newSpillMap(s, max, tClaims, uuidKey,
		func(b []byte, cb *claimBooks) []byte {
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
		},
		func(b []byte, cb *claimBooks) error {
			r := bincodec.NewReader(b)
			cb.broken = r.Byte() == 1
			for i := range cb.balance {
				cb.balance[i] = r.Varint()
			}
			n := r.Uvarint()
			if n > uint64(len(r.Rest())) { // each at least a byte
				return bincodec.ErrShort
			}
			if n > 0 {
				cb.principal = make([]int64, n)
				for i := range cb.principal {
					cb.principal[i] = r.Varint()
				}
			}
			return r.Done()
		})
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
