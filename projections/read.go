package projections

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/reconcile"
)

// Every read here is a range of one index: its cost is that of what it
// returns (and, for the creditor feed's type filter and time window, of the
// creditor's items in the window), never that of the log or of other
// creditors.

// placementOf returns a placement's state, or nil.
func (v *Views) placementOf(gen *generations, id uuid.UUID) (*placementState, error) {
	st, _, err := v.storedPlacement(gen, id)
	return st, err
}

// storedPlacement is placementOf, with the state's bytes as stored.
func (v *Views) storedPlacement(gen *generations, id uuid.UUID) (*placementState, []byte, error) {
	b, err := v.get(key(gen, tPlacement).id(id))
	if err != nil || b == nil {
		return nil, nil, err
	}
	st := &placementState{}
	if err := decodeState(b, st); err != nil {
		return nil, nil, fmt.Errorf("projections: placement %s's state in the views: %w", id, err)
	}
	return st, b, nil
}

// PlacementJSON returns the placement resource as the API serves it (JSON) and
// its revision. creditor, when not empty, must own it: another creditor's
// placement is not found, exactly like one that does not exist.
func (v *Views) PlacementJSON(creditor string, id uuid.UUID) (resource json.RawMessage, revision uint64, found bool, err error) {
	gen := v.generation()
	st, err := v.placementOf(gen, id)
	if err != nil || st == nil || (creditor != "" && st.P.CreditorID != creditor) {
		return nil, 0, false, err
	}
	b, err := renderJSON(st)
	return b, st.Revision, err == nil, err
}

// renderJSON is a placement's resource as the API serves it, rendered from
// its state: the views store nothing that can be rendered from what they
// store.
func renderJSON(st *placementState) (json.RawMessage, error) {
	return json.Marshal(Render(st.P, st.Revision))
}

// PlacementResource is PlacementJSON decoded, for pages that show its fields.
func (v *Views) PlacementResource(creditor string, id uuid.UUID) (PlacementResource, bool, error) {
	b, _, found, err := v.PlacementJSON(creditor, id)
	if err != nil || !found {
		return PlacementResource{}, false, err
	}
	var p PlacementResource
	err = json.Unmarshal(b, &p)
	return p, err == nil, err
}

// ListCursor is where a page of a creditor's placements ends.
type ListCursor eventstore.Position

// String encodes the cursor for a client.
func (c ListCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.FormatUint(uint64(c), 10)))
}

// ParseListCursor decodes a cursor String returned.
func ParseListCursor(s string) (ListCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != 'p' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[1:]), 10, 64)
	return ListCursor(n), err == nil && ListCursor(n).String() == s
}

// List returns up to limit of a creditor's placements in the order they
// were placed, after the cursor (0: from the first), with the given status
// when status is not empty, and the cursor of the next page (nil: none).
func (v *Views) List(creditor string, status domain.Status, after ListCursor, limit int) ([]json.RawMessage, *ListCursor, error) {
	gen := v.generation()
	prefix := key(gen, tList).str(creditor)
	if status != "" {
		prefix = key(gen, tListStatus).str(creditor).b(statusByte[string(status)])
	}
	return v.listed(gen, prefix, after, limit)
}

// listed reads a page of placement resources from an index whose keys end
// with the placement's opened position and whose values are placement ids.
func (v *Views) listed(gen *generations, prefix keyBuf, after ListCursor, limit int) ([]json.RawMessage, *ListCursor, error) {
	lower := prefix
	if after > 0 {
		lower = prefix.pos(eventstore.Position(after) + 1)
	}
	out := []json.RawMessage{}
	var next *ListCursor
	err := v.scan(lower, prefix.upper(), func(k, val []byte) (bool, error) {
		opened := ListCursor(binary.BigEndian.Uint64(k[len(k)-8:]))
		if len(out) == limit {
			c := ListCursor(uint64(opened) - 1)
			next = &c
			return false, nil
		}
		st, err := v.placementOf(gen, uuid.UUID(val))
		if err != nil {
			return false, err
		}
		if st == nil {
			return false, fmt.Errorf("projections: placement %s is indexed but has no state", uuid.UUID(val))
		}
		r, err := renderJSON(st)
		out = append(out, r)
		return err == nil, err
	})
	return out, next, err
}

// Search returns a page of a creditor's placements (their resources, in the
// order placed) filed under a customer, contract or invoice number (kind is
// SearchCustomer, SearchContract or SearchInvoice), after the cursor, at most
// limit, and the cursor of the next page (nil: none).
func (v *Views) Search(creditor string, kind byte, value string, after ListCursor, limit int) ([]json.RawMessage, *ListCursor, error) {
	gen := v.generation()
	return v.listed(gen, key(gen, tSearch).str(creditor).b(kind).str(value), after, limit)
}

// Closed calls fn, in the order they closed, with each placement that
// closed in [from, to) and is still closed: its creditor, customer number
// and id. fn returns false to stop.
func (v *Views) Closed(from, to time.Time, fn func(creditor, customer string, placement uuid.UUID, at time.Time) bool) error {
	prefix := key(v.generation(), tClosed)
	return v.scan(prefix.time(from), prefix.time(to), func(k, _ []byte) (bool, error) {
		rest := k[len(prefix):]
		if len(rest) < 8 {
			return false, fmt.Errorf("projections: a closed placement's key is malformed")
		}
		at := time.Unix(0, int64(binary.BigEndian.Uint64(rest[:8])^(1<<63))).UTC()
		rest = rest[8:]
		var parts [2]string
		for i := range parts {
			n, w := binary.Uvarint(rest)
			if w <= 0 || len(rest) < w+int(n) {
				return false, fmt.Errorf("projections: a closed placement's key is malformed")
			}
			parts[i], rest = string(rest[w:w+int(n)]), rest[w+int(n):]
		}
		if len(rest) != 16 {
			return false, fmt.Errorf("projections: a closed placement's key is malformed")
		}
		return fn(parts[0], parts[1], uuid.UUID(rest), at), nil
	})
}

// ClosedContactChanges calls fn, in log order, with each contact change
// recorded after position after on a placement that was closed then: its
// creditor, customer number, placement id and position. fn returns false
// to stop. The retention reactor reads those since its last run: new
// personal data of a debtor whose retention may have passed already.
func (v *Views) ClosedContactChanges(after eventstore.Position, fn func(creditor, customer string, placement uuid.UUID, at eventstore.Position) bool) error {
	prefix := key(v.generation(), tClosedChange)
	return v.scan(prefix.pos(after+1), prefix.upper(), func(k, _ []byte) (bool, error) {
		rest := k[len(prefix):]
		malformed := fmt.Errorf("projections: a closed placement's contact change key is malformed")
		if len(rest) < 8 {
			return false, malformed
		}
		at := eventstore.Position(binary.BigEndian.Uint64(rest[:8]))
		rest = rest[8:]
		var parts [2]string
		for i := range parts {
			n, w := binary.Uvarint(rest)
			if w <= 0 || len(rest) < w+int(n) {
				return false, malformed
			}
			parts[i], rest = string(rest[w:w+int(n)]), rest[w+int(n):]
		}
		if len(rest) != 16 {
			return false, malformed
		}
		return fn(parts[0], parts[1], uuid.UUID(rest), at), nil
	})
}

// Payment is a payment of a placement as the views know it: its number
// (given, or assigned by the ledger) and what it was processed as.
type Payment struct {
	Number string
	domain.Processed
}

// Payments lists a placement's payments in the order they were recorded
// (the dashboard offers each for reversal). The caller has checked that
// the placement is its creditor's.
func (v *Views) Payments(id uuid.UUID) ([]Payment, error) {
	prefix := key(v.generation(), tNumber).id(id).b(numberPayment)
	var out []Payment
	err := v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		n, w := binary.Uvarint(k[len(prefix):])
		if w <= 0 || len(k) != len(prefix)+w+int(n) {
			return false, fmt.Errorf("projections: a payment number key of placement %s is malformed", id)
		}
		p := Payment{Number: string(k[len(prefix)+w:])}
		var err error
		if p.Processed, err = decodeProcessed(val); err != nil {
			return false, fmt.Errorf("projections: payment %q of placement %s: %w", p.Number, id, err)
		}
		if p.Payment != nil {
			out = append(out, p)
		}
		return true, nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out, err
}

// ClaimPlacement returns the placement of a creditor's claim number.
func (v *Views) ClaimPlacement(creditor, claim string) (uuid.UUID, bool, error) {
	b, err := v.get(key(v.generation(), tClaim).str(creditor).str(claim))
	if err != nil || len(b) != 16 {
		return uuid.Nil, false, err
	}
	return uuid.UUID(b), true, nil
}

// ClaimFeed returns a creditor's claim's feed items from sortNumber from on,
// at most limit, as the API serves them (JSON); found is false when the
// creditor has no such claim.
func (v *Views) ClaimFeed(creditor, claim string, from uint64, limit int) (items []json.RawMessage, found bool, err error) {
	id, found, err := v.ClaimPlacement(creditor, claim)
	if err != nil || !found {
		return nil, found, err
	}
	items, err = v.PlacementFeed(id, from, limit)
	return items, true, err
}

// PlacementFeed is a placement's feed items from sortNumber from on, at most
// limit (0: all).
func (v *Views) PlacementFeed(id uuid.UUID, from uint64, limit int) ([]json.RawMessage, error) {
	prefix := key(v.generation(), tFeed).id(id)
	// The row that holds from starts at it or before (see feedRowFormat).
	start := []byte(prefix.u64(from))
	if from < math.MaxUint64 {
		row, err := v.lastKey(prefix, prefix.u64(from+1))
		if err != nil {
			return nil, err
		}
		if row != nil {
			start = row
		}
	}
	items := []json.RawMessage{}
	err := v.scan(start, prefix.upper(), func(k, val []byte) (bool, error) {
		full := false
		err := eachStoredItem(val, binary.BigEndian.Uint64(k[len(k)-8:]), func(b []byte, sort uint64) (bool, error) {
			if sort < from {
				return true, nil
			}
			if full = len(items) == limit && limit > 0; full {
				return false, nil
			}
			item, err := feedItemJSON(b, sort)
			items = append(items, item)
			return true, err
		})
		return !full, err
	})
	return items, err
}

// FeedCursor is where a page of a creditor's feed ends: items are in the
// order of their commands' positions and, within one command (one claim),
// of their sortNumbers.
type FeedCursor struct {
	Command eventstore.Position
	Sort    uint64
}

func (k FeedCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", k.Command, k.Sort)))
}

// ParseFeedCursor decodes a cursor String returned.
func ParseFeedCursor(s string) (FeedCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var k FeedCursor
	if err == nil {
		_, err = fmt.Sscanf(string(b), "%d.%d", &k.Command, &k.Sort)
	}
	return k, err == nil && k.String() == s
}

// FeedTypes maps the type filter of the creditor feed to item types: the
// collection API's names, and the item types themselves.
var FeedTypes = map[string]string{
	"confirmation": ItemConfirmation, "closing": ItemClosing, "rejection": ItemRejection, "accountingDocument": ItemAccountingDocument, "status": ItemStatus,
	ItemConfirmation: ItemConfirmation, ItemClosing: ItemClosing, ItemRejection: ItemRejection, ItemAccountingDocument: ItemAccountingDocument, ItemStatus: ItemStatus,
}

// maxTime stands for "no end" in time windows.
var maxTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Reconciliation reconciles a creditor's placements over [from, to) from
// its entries in that window, on a basis: by value date (an entry's value
// date at midnight UTC is in the window) or by booking time.
func (v *Views) Reconciliation(creditor, basis string, from, to time.Time) (reconcile.Report, error) {
	gen := v.generation()
	booking := key(gen, tReconcile).str(creditor)
	var entries []reconcile.Entry
	var err error
	if basis == reconcile.BasisBooking {
		err = v.scan(booking.time(from), booking.time(to), func(k, val []byte) (bool, error) {
			e, err := decodeEntry(k, val)
			entries = append(entries, e)
			return true, err
		})
	} else {
		entries, err = v.entriesByValueDate(gen, creditor, from, to)
	}
	return reconcile.FromEntries(creditor, basis, from, to, entries), err
}

// entriesByValueDate returns a creditor's reconciliation entries whose
// value date (at midnight UTC) is in [from, to): those the value dates'
// index ('y') names, and those booked on their value date, which it need
// not name (reconciliation version 4), read by their booking time. Version
// 3 named every entry: an entry both ways is taken once.
func (v *Views) entriesByValueDate(gen *generations, creditor string, from, to time.Time) ([]reconcile.Entry, error) {
	booking := key(gen, tReconcile).str(creditor)
	byValue := key(gen, tReconcileVal).str(creditor)
	var entries []reconcile.Entry
	named := map[uint64]bool{}
	err := v.scan(byValue.time(from), byValue.time(to), func(k, val []byte) (bool, error) {
		if len(val) != 8 || len(k) < 8 {
			return false, fmt.Errorf("projections: reconciliation index entry %x is malformed", k)
		}
		// The entry, written in the same batch as this index entry.
		at := booking.u64(binary.BigEndian.Uint64(val)).u64(binary.BigEndian.Uint64(k[len(k)-8:]))
		b, err := v.get(at)
		if err == nil && b == nil {
			err = fmt.Errorf("projections: reconciliation index entry %x names no entry", k)
		}
		if err != nil {
			return false, err
		}
		e, err := decodeEntry(at, b)
		entries, named[e.Position] = append(entries, e), true
		return true, err
	})
	if err != nil {
		return nil, err
	}
	// An entry booked on its value date d, with from <= d < to, was booked
	// in [d, d + 24h): from the first midnight at or after from to the
	// first at or after to.
	err = v.scan(booking.time(nextMidnight(from)), booking.time(nextMidnight(to)), func(k, val []byte) (bool, error) {
		e, err := decodeEntry(k, val)
		if err != nil {
			return false, err
		}
		if bookedOnValueDate(e.ValueDate, e.OccurredAt) && !named[e.Position] {
			if day, _ := domain.ParseDate(e.ValueDate); !day.Before(from) && day.Before(to) {
				entries = append(entries, e)
			}
		}
		return true, nil
	})
	return entries, err
}

// nextMidnight is the first midnight (UTC) at or after t.
func nextMidnight(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	if d.Before(t) {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// DueResume is a held placement whose resumeAt has come.
type DueResume struct {
	ID       uuid.UUID
	ResumeAt time.Time
}

// Due returns the held placements whose resumeAt is not after now.
func (v *Views) Due(now time.Time) ([]DueResume, error) {
	prefix := key(v.generation(), tHold)
	var out []DueResume
	err := v.scan(prefix, prefix.time(now.Add(time.Nanosecond)), func(k, _ []byte) (bool, error) {
		t := timeFromKey(binary.BigEndian.Uint64(k[len(prefix) : len(prefix)+8]))
		out = append(out, DueResume{ID: uuid.UUID(k[len(prefix)+8:]), ResumeAt: t})
		return true, nil
	})
	return out, err
}

// Webhook is a creditor's webhook as the views know it.
type Webhook struct {
	journal.WebhookConfigured
	Since, RemovedAt eventstore.Position
}

// Webhooks returns every creditor's webhook, removed ones too.
func (v *Views) Webhooks() ([]Webhook, error) {
	prefix := key(v.generation(), tWebhook)
	var out []Webhook
	err := v.scan(prefix, prefix.upper(), func(_, val []byte) (bool, error) {
		var w webhookView
		err := json.Unmarshal(val, &w)
		out = append(out, Webhook{WebhookConfigured: w.WebhookConfigured, Since: w.Since, RemovedAt: w.RemovedAt})
		return true, err
	})
	return out, err
}

// Outbox returns a creditor's notifications after position after, at most
// limit, in log order.
func (v *Views) Outbox(creditor string, after eventstore.Position, limit int) ([]Notification, error) {
	prefix := key(v.generation(), tOutbox).str(creditor)
	var out []Notification
	err := v.scan(prefix.pos(after+1), prefix.upper(), func(_, val []byte) (bool, error) {
		if len(out) == limit {
			return false, nil
		}
		var n Notification
		err := json.Unmarshal(val, &n)
		out = append(out, n)
		return true, err
	})
	return out, err
}

// EachPlacement calls fn with every placement's state and revision, in id
// order, until fn returns an error.
func (v *Views) EachPlacement(fn func(id uuid.UUID, p domain.Placement, revision uint64) error) error {
	prefix := key(v.generation(), tPlacement)
	return v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
		var st placementState
		if err := decodeState(val, &st); err != nil {
			return false, err
		}
		return true, fn(uuid.UUID(k[len(prefix):]), st.P, st.Revision)
	})
}

// Count returns how many placements the views hold.
func (v *Views) Count() (int, error) {
	n := 0
	err := v.EachPlacement(func(uuid.UUID, domain.Placement, uint64) error { n++; return nil })
	return n, err
}

// Tables lists the key/value pairs of the views' current generations, by
// table, for comparing two view stores (verify does, against a rebuild).
func (v *Views) Tables(fn func(table byte, k, val []byte) error) error {
	gens := v.generation()
	for _, table := range allTables() {
		prefix := key(gens, table)
		err := v.scan(prefix, prefix.upper(), func(k, val []byte) (bool, error) {
			return true, fn(k[4], k[5:], val)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// WebhookOf returns a creditor's webhook, if it has one now.
func (v *Views) WebhookOf(creditor string) (journal.WebhookConfigured, bool, error) {
	b, err := v.get(key(v.generation(), tWebhook).str(creditor))
	if err != nil || b == nil {
		return journal.WebhookConfigured{}, false, err
	}
	var w webhookView
	if err := json.Unmarshal(b, &w); err != nil {
		return journal.WebhookConfigured{}, false, err
	}
	return w.WebhookConfigured, w.RemovedAt == 0, nil
}
