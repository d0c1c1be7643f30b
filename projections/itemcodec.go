package projections

import (
	"fmt"
	"strings"
	"time"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/internal/bincodec"
)

// The items of the views' other binary tables (feed items 'f',
// reconciliation entries 'x', processed numbers 'n') are written with the
// placement state's encoder (statecodec.go: varints, length-prefixed
// strings, tagged times and amounts in integer minor units at the
// currency's ISO 4217 scale where exact, losslessly otherwise) and two
// more forms, below: texts and dates. Their stored values are never
// rendered as they are: readers decode them and render JSON (or CSV) at the
// edge.

// textWords are the texts an item encodes as their index: the codes its
// fields take most (types, kinds, reasons, statuses, currencies). Append
// only: an entry's index is part of the stored form.
var textWords = []string{
	"",
	// currencies
	"EUR", "USD", "GBP", "CHF", "JPY", "BHD", "SEK", "NOK", "DKK", "PLN", "CZK",
	// confirmation, document and closing types
	ConfirmInvoice, "PARTIAL_RECALL", "RECALL", "DIRECT_PAYMENT", "AGENCY_PAYMENTS", "CANCELLATION", "PAYMENT_PLAN",
	"CLIENT_COSTS", "CLIENT_INTERESTS", "CREDIT_WAIVER", "REALLOCATION", "WRITE_OFF", "DEBIT",
	"RECALLED_BY_CLIENT", "FULL_PAYMENT", "WRITTEN_OFF", "PRINCIPAL_CLAIM",
	// statuses and their changes, reasons
	"PAUSED", "RESUMED", "REOPENED", "PAYMENT_PLAN_COMPLETED", "PAYMENT_PLAN_BROKEN", "PAYMENT_PLAN_CANCELLED",
	"active", "paused", "recalled", "paid", "written_off",
	"DISPUTE", "CREDITOR_REQUEST", "OTHER", "PAYMENT_REVERSED", "CREDIT_WAIVER_CANCELLED",
	"RETURNED", "ENTERED_IN_ERROR", "RECALLED", "UNCOLLECTIBLE", "INSOLVENCY", "DECEASED",
	// reconciliation kinds
	"payment", "reversal", "waiver", "waiver_cancellation", "recall", "write_off",
}

var textIndex = func() map[string]uint64 {
	m := make(map[string]uint64, len(textWords))
	for i, w := range textWords {
		if _, dup := m[w]; !dup {
			m[w] = uint64(i)
		}
	}
	return m
}()

// Tags of a text, in the low two bits of its leading uvarint.
const (
	textLiteral = 0 // the rest is its length; its bytes follow
	textRef     = 1 // the rest indexes textWords, then the item's earlier texts
	textUUID    = 2 // (rest 0) a uuid's canonical string: its 16 bytes follow
)

// itemEncoder writes an item's fields with the state encoder's forms and
// texts (each an index in textWords, a reference to an earlier text of the
// same item, a uuid's 16 bytes, or its bytes).
type itemEncoder struct {
	stateEncoder
	// seen are the item's texts so far, in order: the first eight in
	// place (an item has a few, and the encoder no allocation for them),
	// any after those in more.
	seen  [8]string
	nseen int
	more  []string
}

// in returns e writing amounts of currency.
func (e *itemEncoder) in(currency string) *itemEncoder {
	e.scale, e.known = domain.MinorUnits(currency)
	return e
}

func (e *itemEncoder) text(b []byte, s string) []byte {
	if i, ok := textIndex[s]; ok {
		return e.uvarint(b, i<<2|textRef)
	}
	for i, t := range e.seen[:e.nseen] {
		if t == s {
			return e.uvarint(b, uint64(len(textWords)+i)<<2|textRef)
		}
	}
	for i, t := range e.more {
		if t == s {
			return e.uvarint(b, uint64(len(textWords)+len(e.seen)+i)<<2|textRef)
		}
	}
	if e.nseen < len(e.seen) {
		e.seen[e.nseen] = s
		e.nseen++
	} else {
		e.more = append(e.more, s)
	}
	if u, ok := bincodec.ParseCanonicalUUID(s); ok {
		return e.id(e.uvarint(b, textUUID), u)
	}
	return append(e.uvarint(b, uint64(len(s))<<2|textLiteral), s...)
}

// The days of 0000-01-01 before 1970-01-01.
const daysBefore1970 = 719528

// date writes a date: the day (from 0000-01-01, plus one) when s is one
// as time.DateOnly writes it, else 0 and s as it is.
func (e *itemEncoder) date(b []byte, s string) []byte {
	if t, ok := domain.ParseDate(s); ok { // what time.DateOnly writes, and no other form
		return e.uvarint(b, uint64(t.Unix()/86400+daysBefore1970+1))
	}
	return e.str(e.uvarint(b, 0), s)
}

// itemDecoder reads what itemEncoder wrote.
type itemDecoder struct {
	stateDecoder
	seen []string
}

func newItemDecoder(b []byte) *itemDecoder {
	return &itemDecoder{stateDecoder: stateDecoder{b: b, s: string(b), i: 1}}
}

// in returns d reading amounts of currency.
func (d *itemDecoder) in(currency string) *itemDecoder {
	d.scale, d.known = domain.MinorUnits(currency)
	return d
}

func (d *itemDecoder) text() string {
	v := d.uvarint()
	if d.err != nil {
		return ""
	}
	switch v & 3 {
	case textLiteral:
		from, to := d.span(v >> 2)
		d.seen = append(d.seen, d.s[from:to])
		return d.s[from:to]
	case textRef:
		r := v >> 2
		if r < uint64(len(textWords)) {
			return textWords[r]
		}
		if r-uint64(len(textWords)) < uint64(len(d.seen)) {
			return d.seen[r-uint64(len(textWords))]
		}
		d.fail("a reference to text %d of %d", r, len(textWords)+len(d.seen))
	case textUUID:
		if v>>2 == 0 {
			s := d.id().String()
			d.seen = append(d.seen, s)
			return s
		}
		d.fail("a uuid text of tag %d", v)
	default:
		d.fail("a text of unknown tag %d", v&3)
	}
	return ""
}

// maxDay bounds a stored day (10000-01-01 and a little more), so that no
// input overflows a time.
const maxDay = 4_000_000

func (d *itemDecoder) date() string {
	v := d.uvarint()
	switch {
	case d.err != nil:
		return ""
	case v == 0:
		return d.str()
	case v > maxDay:
		d.fail("a day %d beyond the calendar", v)
		return ""
	}
	return domain.DateOnly(time.Unix((int64(v)-1-daysBefore1970)*86400, 0))
}

// end fails unless every byte was read; its error names what was read (the
// state decoder's errors say "a placement state", which end replaces).
func (d *itemDecoder) end(what string) error {
	if d.err == nil && d.i != len(d.b) {
		d.fail("%d bytes after its end", len(d.b)-d.i)
	}
	if d.err != nil {
		return fmt.Errorf("projections: %s: %s", what, strings.TrimPrefix(d.err.Error(), "projections: a placement state: "))
	}
	return nil
}
