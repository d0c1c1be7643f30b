package projections

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// The change index ('C', the unit "changes") holds each placement once, at
// its latest change, so that a client can ask what changed since a time:
//
//	'C' 'c', creditor, occurredAt, position → placement id  (by latest change)
//	'C' 'p', placement id                   → occurredAt, position (8 + 8 bytes: where it is under 'c')
//
// A change is a command's last event on the placement: its occurredAt (as a
// time key) and its position. The placement's state carries where it is
// under 'c' (placementState.Change); the 'p' rows are what changes version
// 1 wrote instead, read only for a state from before (see recordChange),
// and deleted then.
const (
	changeByCreditor  = 'c'
	changeOfPlacement = 'p'
)

// changeAt is where a placement is in the change index: its latest
// change's time key and position.
type changeAt [16]byte

func newChangeAt(at time.Time, pos eventstore.Position) changeAt {
	var c changeAt
	binary.BigEndian.PutUint64(c[:8], timeKey(at))
	binary.BigEndian.PutUint64(c[8:], uint64(pos))
	return c
}

// recordChange moves placement id, of creditor, whose state is st, to rec
// in the change index when rec ends its command, deleting its previous
// entry: the one st carries, or, for a state decoded from a form that does
// not carry it, the one the per-placement row of changes version 1 names
// (read, and deleted: the state carries it from now on).
func (t *tx) recordChange(creditor string, id uuid.UUID, st *placementState, rec journal.Record) error {
	if !endsCommand(rec.Meta) {
		return nil
	}
	if !st.ChangeKnown {
		row := key(t.gen, tChange).b(changeOfPlacement).id(id)
		b, err := t.v.get(row)
		if err != nil {
			return err
		}
		if b != nil {
			copy(st.Change[:], b)
			if err := t.del(row); err != nil {
				return err
			}
		}
	}
	prefix := key(t.gen, tChange).b(changeByCreditor).str(creditor)
	if st.Change != (changeAt{}) { // its key holds its position: written once
		if err := t.delOnce(append(prefix.grow(16), st.Change[:]...)); err != nil {
			return err
		}
	}
	st.Change, st.ChangeKnown = newChangeAt(rec.Meta.OccurredAt, rec.Position), true
	return t.set(append(prefix.grow(16), st.Change[:]...), id[:])
}

// ChangeCursor is where a page of a creditor's changed placements ends: the
// last one's change (time key and position).
type ChangeCursor struct {
	At  uint64
	Pos eventstore.Position
}

// String encodes the cursor for a client.
func (c ChangeCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte("u" + strconv.FormatUint(c.At, 10) + "." + strconv.FormatUint(uint64(c.Pos), 10)))
}

// ParseChangeCursor decodes a cursor String returned.
func ParseChangeCursor(s string) (ChangeCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'u' {
		return ChangeCursor{}, false
	}
	at, pos, found := strings.Cut(string(b[1:]), ".")
	if !found {
		return ChangeCursor{}, false
	}
	a, err1 := strconv.ParseUint(at, 10, 64)
	p, err2 := strconv.ParseUint(pos, 10, 64)
	c := ChangeCursor{At: a, Pos: eventstore.Position(p)}
	return c, err1 == nil && err2 == nil && c.String() == s
}

// Changed returns up to limit of a creditor's placements (their resources)
// whose latest change occurred at or after since, oldest change first, after
// the cursor (nil: from since), and the cursor of the next page (nil: none).
// It reads the change index from since on, never every placement. A
// placement that changes again while a client pages moves to the end: the
// client sees it again, as it is then.
func (v *Views) Changed(creditor string, since time.Time, after *ChangeCursor, limit int) ([]json.RawMessage, *ChangeCursor, error) {
	gen := v.generation()
	prefix := key(gen, tChange).b(changeByCreditor).str(creditor)
	lower := []byte(prefix.time(since))
	if after != nil {
		// The smallest key after the cursor's.
		if k := append(prefix.u64(after.At).pos(after.Pos), 0); string(k) > string(lower) {
			lower = k
		}
	}
	out := []json.RawMessage{}
	var next *ChangeCursor
	var last ChangeCursor
	err := v.scan(lower, prefix.upper(), func(k, val []byte) (bool, error) {
		if len(out) == limit {
			next = &last
			return false, nil
		}
		rest := k[len(prefix):]
		if len(rest) != 16 || len(val) != 16 {
			return false, fmt.Errorf("projections: a change index key is malformed")
		}
		last = ChangeCursor{At: binary.BigEndian.Uint64(rest), Pos: eventstore.Position(binary.BigEndian.Uint64(rest[8:]))}
		st, err := v.placementOf(gen, uuid.UUID(val))
		if err != nil {
			return false, err
		}
		if st == nil {
			return false, fmt.Errorf("projections: placement %s is in the change index but has no state", uuid.UUID(val))
		}
		r, err := renderJSON(st)
		out = append(out, r)
		return err == nil, err
	})
	return out, next, err
}
