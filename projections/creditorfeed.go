package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
)

// A creditor's feed ('g') has a row per command with feed items, under the
// command's position: when the command happened, its placement, and where
// its items are in the claim's feed ('f'), which holds them:
//
//	occurredAt (8 bytes, timeKey) | placement id (16) | first sortNumber (uvarint) | each item's type byte (itemTypeByte), in sortNumber order
//
// The feed unit's version 2 had a row per item, under the command's
// position and the item's sortNumber: occurredAt (8) | type byte (1) |
// placement id (16). Both are read (readCreditorRow), so that the feed
// serves while it is rebuilt.

// appendCreditorRow appends the creditor feed's row of a command's items,
// the claim's from sortNumber first on, to b.
func appendCreditorRow(b []byte, at time.Time, id uuid.UUID, first uint64, items []FeedItem) []byte {
	b = binary.BigEndian.AppendUint64(b, timeKey(at))
	b = append(b, id[:]...)
	b = binary.AppendUvarint(b, first)
	for _, it := range items {
		b = append(b, itemTypeByte[it.Type])
	}
	return b
}

// creditorRow is a row of a creditor's feed: a command's items, the
// claim's from first on, one type byte each.
type creditorRow struct {
	command eventstore.Position
	at      time.Time
	id      uuid.UUID
	first   uint64
	types   []byte
}

// readCreditorRow reads a row of a creditor's feed; rest is its key after
// the creditor. The row's types are val's.
func readCreditorRow(rest, val []byte) (creditorRow, bool) {
	var r creditorRow
	switch {
	case len(rest) == 8 && len(val) > 24:
		first, n := binary.Uvarint(val[24:])
		if n <= 0 || len(val) == 24+n {
			return r, false
		}
		r.first, r.types = first, val[24+n:]
	case len(rest) == 16 && len(val) == 25: // version 2: an item
		r.first, r.types = binary.BigEndian.Uint64(rest[8:]), val[8:9]
		val = append(val[:8:8], val[9:]...)
	default:
		return r, false
	}
	r.command = eventstore.Position(binary.BigEndian.Uint64(rest))
	r.at = timeFromKey(binary.BigEndian.Uint64(val))
	r.id = uuid.UUID(val[8:24])
	return r, true
}

// CreditorFeed returns a page of a creditor's feed: the items that happened
// in [from, to), of type typ (an item type; empty: all), after the cursor
// (nil: from the first), at most limit, and the cursor of the next page
// (nil: none).
//
// Items are kept by command position. To find where [from, to) lies
// without reading the creditor's whole history, the creditor keeps the
// latest time its commands have reached (runMax, which only grows along
// positions) and the most any command's time has been behind it (lateness;
// clocks may step back), and its envelope ('e') marks, each time runMax
// enters a new step of envelopeNanos, the step's start and the position of
// the command that entered it (version 2 marked every command with its
// runMax): every command before a mark had a runMax at most the mark's.
// So every item before the last mark below from is earlier than from, and
// every item at or after the first mark that reaches to + lateness is at or
// after to. Only the positions in between are read.
func (v *Views) CreditorFeed(creditor string, from, to time.Time, typ string, after *FeedCursor, limit int) ([]json.RawMessage, *FeedCursor, error) {
	gen := v.generation()
	fb, err := v.get(key(gen, tCreditor).str(creditor))
	if err != nil || fb == nil {
		return []json.RawMessage{}, nil, err
	}
	var f creditorFigures
	if err := json.Unmarshal(fb, &f); err != nil {
		return nil, nil, err
	}
	if f.RunMax.Before(from) { // every item is earlier
		return []json.RawMessage{}, nil, nil
	}
	feed := key(gen, tCreditorFeed).str(creditor)
	lower, upper, bounded, err := v.feedWindow(gen, creditor, f, from, to)
	if err != nil {
		return nil, nil, err
	}
	if after != nil && after.Command > lower {
		lower = after.Command
	}
	var want byte
	if typ != "" {
		want = itemTypeByte[typ]
	}
	items := []json.RawMessage{}
	var next *FeedCursor
	var last FeedCursor
	end := feed.upper()
	if bounded {
		end = feed.pos(upper)
	}
	err = v.scan(feed.pos(lower), end, func(k, val []byte) (bool, error) {
		r, ok := readCreditorRow(k[len(feed):], val)
		if !ok {
			return false, fmt.Errorf("projections: creditor feed row %x is malformed", k)
		}
		if r.at.Before(from) || !r.at.Before(to) {
			return true, nil
		}
		var stored []byte // the claim's, written in the same batch as this row
		for i, c := range r.types {
			sort := r.first + uint64(i)
			if (after != nil && r.command == after.Command && sort <= after.Sort) || (want != 0 && c != want) {
				continue
			}
			if len(items) == limit {
				next = &last
				return false, nil
			}
			last = FeedCursor{Command: r.command, Sort: sort}
			if stored == nil {
				b, err := v.get(key(gen, tFeed).id(r.id).u64(r.first))
				if err != nil {
					return false, err
				}
				stored = b
			}
			item, err := storedItemJSON(stored, r.first, sort)
			if err != nil {
				return false, fmt.Errorf("projections: creditor feed row %x: %w", k, err)
			}
			items = append(items, item)
		}
		return true, nil
	})
	return items, next, err
}

// storedItemJSON renders the item of sortNumber sort that a value of the
// claim's feed under first holds (nil: none), as the API serves it.
func storedItemJSON(stored []byte, first, sort uint64) (json.RawMessage, error) {
	if stored == nil {
		return nil, fmt.Errorf("no claim feed item under %d", first)
	}
	var item json.RawMessage
	err := eachStoredItem(stored, first, func(b []byte, at uint64) (bool, error) {
		if at != sort {
			return true, nil
		}
		var err error
		item, err = feedItemJSON(b, sort)
		return false, err
	})
	if err == nil && item == nil {
		err = fmt.Errorf("no claim feed item %d", sort)
	}
	return item, err
}

// feedWindow returns the positions of a creditor's feed that hold its
// items in [from, to): from lower on and, when bounded, before upper; see
// CreditorFeed.
func (v *Views) feedWindow(gen *generations, creditor string, f creditorFigures, from, to time.Time) (lower, upper eventstore.Position, bounded bool, err error) {
	envelope := key(gen, tEnvelope).str(creditor)
	mark, err := v.lastKey(envelope, envelope.time(from))
	if err != nil {
		return 0, 0, false, err
	}
	if mark != nil {
		lower = eventstore.Position(binary.BigEndian.Uint64(mark[len(mark)-8:]))
	}
	if !to.Before(maxTime) {
		return lower, 0, false, nil
	}
	err = v.scan(envelope.time(to.Add(f.Lateness)), envelope.upper(), func(k, _ []byte) (bool, error) {
		upper, bounded = eventstore.Position(binary.BigEndian.Uint64(k[len(k)-8:])), true
		return false, nil
	})
	return lower, upper, bounded, err
}
