package projections

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// The view store's keys. Every view key starts with the generation its
// table is in (4 bytes, big-endian; each table has its own, see Unit) and
// the table byte; the rest is the
// table's own key, built so that the ranges reads need are contiguous:
// fixed-width big-endian numbers and ids, and strings prefixed by their
// length (so no string can run into the next part).
//
//	'p' placement id                                 → placement state (binary, see encodeState; JSON before)
//	'r' placement id                                 → (no longer written: the resource is rendered from 'p' on read; placements version 1 stored it as JSON)
//	'c' creditor, claim number                       → placement id
//	'l' creditor, opened position                    → placement id            (a creditor's placements, in the order placed)
//	's' creditor, status, opened position            → placement id            (… with one status)
//	'f' placement id, sortNumber                     → feed item (binary, encodeFeedItem) (a claim's feed)
//	'g' creditor, command position                   → occurredAt, placement id, first sortNumber, types (a creditor's feed, a row per command; the items are in 'f'; see creditorfeed.go)
//	'e' creditor, step of the latest time so far, command pos. → (empty)       (where a time window starts in 'g': a mark each time the latest time enters a new step)
//	'm' creditor                                     → creditor figures (JSON)
//	'x' creditor, occurredAt, position               → reconciliation entry (binary, encodeEntry)
//	'y' creditor, value date (midnight UTC), position → occurredAt            (the same, by value date: where the entry is in 'x'; none for an entry booked on its value date)
//	'i' actor, idempotency key                       → idempotency record (JSON)
//	'h' resumeAt, placement id                       → (empty)                 (holds the ledger resumes by itself)
//	'w' creditor                                     → webhook configuration (JSON)
//	'o' creditor, position                           → webhook notification (JSON)
//	'n' placement id, 'p' or 'w', number             → what a payment ('p') or credit waiver ('w') number was processed as (binary, encodeProcessed)
//	'q' creditor, kind, value, opened position      → placement id            (claims by customer 'u', contract 'k' or invoice 'v' number)
//	'd' resolvedAt, creditor, customer, placement id → (empty)                 (closed placements by when they closed, for retention)
//	'k' position, creditor, customer, placement id   → (empty)                 (contact changes of closed placements, for retention)
//	'j' placement id, position                       → the event's postings (binary, encodePostings) (a claim's postings, in log order)
//	't' creditor, basis 'v'/'b', date, account, currency → debit, credit (2 × int64, minor units) (trial-balance aggregates of shared accounts, by value or booking date)
//	't' creditor, basis 'v'/'b', date, account, currency, position → debit, credit (2 varints) (… a claim account's postings of one event; see addTrial; under 'b' with a third byte, rowBothBases, for 'v' too)
//	'u' creditor, currency, value date, position     → settlement item (JSON)  (agency payments and reversals no remittance settled yet)
//	'z' creditor, remittance number                  → remittance (JSON)
//	'a' creditor                                     → the revision of its remittance stream
//	'B' breaksAt, placement id                       → plan number             (active payment plans by when they break unless paid)
//	'C' 'c', creditor, occurredAt, position          → placement id            (placements by their latest change; see changes.go)
//	'C' 'p', placement id                            → occurredAt, position    (… where each is under 'c'; changes version 1 only: states carry it now)
//
// Keys outside any generation hold the store's own state (metaPrefix; see
// Layout).
const (
	tPlacement     = 'p'
	tResource      = 'r'
	tClaim         = 'c'
	tList          = 'l'
	tListStatus    = 's'
	tFeed          = 'f'
	tCreditorFeed  = 'g'
	tEnvelope      = 'e'
	tCreditor      = 'm'
	tReconcile     = 'x'
	tReconcileVal  = 'y'
	tIdempotency   = 'i'
	tHold          = 'h'
	tWebhook       = 'w'
	tOutbox        = 'o'
	tNumber        = 'n'
	tSearch        = 'q'
	tClosed        = 'd'
	tClosedChange  = 'k'
	tPosting       = 'j'
	tTrial         = 't'
	tUnsettled     = 'u'
	tRemittance    = 'z'
	tRemittanceRev = 'a'
	tPlanBreak     = 'B'
	tChange        = 'C'
)

// keyBuf builds a key. Each method returns a new key and leaves its receiver
// as it was, so one prefix can start several keys (a range's two ends).
type keyBuf []byte

// grow returns k with room for n more bytes, never sharing k's array.
func (k keyBuf) grow(n int) keyBuf { return append(make(keyBuf, 0, len(k)+n), k...) }

// key starts a key of table in its generation in gens (nil: generation 0).
// (Its buffer is of a constant size, which lets the compiler keep a key
// that does not escape on the stack.)
func key(gens *generations, table byte) keyBuf {
	k := make(keyBuf, 0, 64)
	return appendKeyStart(k, gens, table)
}

// keyRoom is key with room for n more bytes: a caller that appends the
// rest of a key it alone holds (see trialKey.key) makes it in one
// allocation, where each of keyBuf's methods copies.
func keyRoom(gens *generations, table byte, n int) keyBuf {
	return appendKeyStart(make(keyBuf, 0, 5+n), gens, table)
}

func appendKeyStart(k keyBuf, gens *generations, table byte) keyBuf {
	var gen uint32
	if gens != nil {
		gen = gens[table]
	}
	return append(binary.BigEndian.AppendUint32(k, gen), table)
}

func (k keyBuf) str(s string) keyBuf { return appendKeyStr(k.grow(len(s)+binary.MaxVarintLen64), s) }

// appendKeyStr appends a string as keys hold it: its length, then its bytes.
func appendKeyStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func (k keyBuf) u64(n uint64) keyBuf { return binary.BigEndian.AppendUint64(k.grow(8), n) }

func (k keyBuf) pos(p eventstore.Position) keyBuf { return k.u64(uint64(p)) }

func (k keyBuf) id(id uuid.UUID) keyBuf { return append(k.grow(16), id[:]...) }

func (k keyBuf) b(c byte) keyBuf { return append(k.grow(1), c) }

// time appends t as nanoseconds since 1970, offset so that earlier times
// still sort first. Times outside what nanoseconds in an int64 can say
// (years 1678 to 2262) are clamped to its ends, so an open window such as
// [0001-01-01, 9999-01-01) covers everything.
func (k keyBuf) time(t time.Time) keyBuf { return k.u64(timeKey(t)) }

var (
	minNanoTime = time.Unix(0, math.MinInt64).UTC()
	maxNanoTime = time.Unix(0, math.MaxInt64).UTC()
)

func timeKey(t time.Time) uint64 {
	switch {
	case t.Before(minNanoTime):
		return 0
	case t.After(maxNanoTime):
		return math.MaxUint64
	}
	return uint64(t.UnixNano()) ^ (1 << 63)
}

func timeFromKey(n uint64) time.Time { return time.Unix(0, int64(n^(1<<63))).UTC() }

// upper returns the smallest key greater than every key that starts with k.
func (k keyBuf) upper() []byte {
	u := append([]byte(nil), k...)
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] < 0xff {
			u[i]++
			return u[:i+1]
		}
	}
	return nil // k is all 0xff: no upper bound
}

// statusByte codes a placement status in the 's' table.
var statusByte = map[string]byte{"active": 'a', "paused": 'p', "recalled": 'r', "paid": 'd'}
