package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/reconcile"
)

// A reconciliation entry ('x') is stored in a binary form (itemcodec.go):
// a format byte, its kind, placement id (16 bytes), claim number and
// currency, its moves (amounts of its currency, in minor units), payment
// number, reason, agency flag and returnedTo, how its booking time relates
// to its key's (entryTime…), its value date and its hash (32 bytes when
// hexadecimal). Its position and booking time are its key's.
//
// An entry the views wrote before this form is JSON (its first byte '{'):
// decodeEntry still reads it, so the reconciliation serves while it
// rebuilds.
const entryFormat1 byte = 1

// How an entry's booking time relates to its key's.
const (
	entryTimeUTC    byte = iota // the key's instant, in UTC
	entryTimeOffset             // the key's instant at a fixed offset (seconds east of UTC, a varint)
	entryTimeFull               // out of the key's range: the time in full
)

// encodeEntry appends e's binary form to dst.
func encodeEntry(dst []byte, e *reconcile.Entry) []byte {
	c := &itemEncoder{}
	b := append(dst, entryFormat1)
	b = c.text(b, e.Kind)
	b = c.id(b, e.Placement)
	b = c.text(b, e.ClaimNumber)
	b = c.text(b, e.Currency)
	c.in(e.Currency)
	m := &e.Moves
	for _, d := range [...]*decimal.Decimal{&m.Collected, &m.AgencyPayable, &m.Fees, &m.Waived, &m.Recalled, &m.WrittenOff, &m.Overpaid} {
		b = c.money(b, *d)
	}
	b = c.text(b, e.PaymentNumber)
	b = c.text(b, e.Reason)
	b = c.present(b, e.Agency)
	b = c.text(b, e.ReturnedTo)
	_, offset := e.OccurredAt.Zone()
	switch k := timeKey(e.OccurredAt); {
	case k == 0 || k == 1<<64-1 || !timeFromKey(k).Equal(e.OccurredAt):
		b = c.time(append(b, entryTimeFull), e.OccurredAt)
	case offset == 0:
		b = append(b, entryTimeUTC)
	default:
		b = c.varint(append(b, entryTimeOffset), int64(offset))
	}
	b = c.date(b, e.ValueDate)
	return c.hash(b, e.Hash)
}

// decodeEntry reads an entry encodeEntry wrote, or one the views wrote as
// JSON before it; k is its key, which ends in its booking time and
// position.
func decodeEntry(k, b []byte) (reconcile.Entry, error) {
	var e reconcile.Entry
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &e)
		return e, err
	}
	if len(b) == 0 || b[0] != entryFormat1 || len(k) < 16 {
		return e, fmt.Errorf("projections: a reconciliation entry of unknown format (%d bytes, key %x)", len(b), k)
	}
	booked := timeFromKey(binary.BigEndian.Uint64(k[len(k)-16:]))
	e.Position = binary.BigEndian.Uint64(k[len(k)-8:])
	d := newItemDecoder(b)
	e.Kind = d.text()
	e.Placement = d.id()
	e.ClaimNumber, e.Currency = d.text(), d.text()
	d.in(e.Currency)
	m := &e.Moves
	for _, v := range [...]*decimal.Decimal{&m.Collected, &m.AgencyPayable, &m.Fees, &m.Waived, &m.Recalled, &m.WrittenOff, &m.Overpaid} {
		*v = d.money()
	}
	e.PaymentNumber, e.Reason, e.Agency, e.ReturnedTo = d.text(), d.text(), d.present(), d.text()
	switch tag := d.byte(); tag {
	case entryTimeUTC:
		e.OccurredAt = booked
	case entryTimeOffset:
		offset := d.varint()
		if offset < -1<<20 || offset > 1<<20 {
			d.fail("a time offset of %d s", offset)
		}
		e.OccurredAt = booked.In(time.FixedZone("", int(offset)))
	case entryTimeFull:
		e.OccurredAt = d.time()
	default:
		d.fail("a booking time of unknown tag %d", tag)
	}
	e.ValueDate = d.date()
	e.Hash = d.hash()
	return e, d.end("a reconciliation entry")
}
