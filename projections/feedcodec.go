package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"
)

// A feed item ('f') is stored in a binary form (itemcodec.go): a format
// byte, the type (its byte in the creditor feed, or 0 and its text), the
// id's 16 bytes, the customer and claim numbers and the request id, a byte
// of which parts it has (partConfirmation, …), and each part's fields in
// the order of its struct. Its sortNumber is its key's; its position and
// occurredAt are not stored (the API never showed them). Readers render it
// as JSON byte for byte as the item itself marshals (feedItemJSON).
//
// An item the views wrote before this form is JSON (its first byte '{'),
// served as it is: views of an older feed unit keep serving while they are
// rebuilt.
const feedFormat1 byte = 1

// A command's feed items, when it has more than one, are stored in one row
// of the claim's feed under the first's sortNumber (feed version 3):
// feedRowFormat, then each item as its length (uvarint) and its form
// above, in sortNumber order. A command's one item is stored alone, as
// every item was before.
const feedRowFormat byte = 2

// The parts of a feed item.
const (
	partConfirmation byte = 1 << iota
	partClosing
	partRejection
	partAccountingDocument
	partStatus
)

// itemTypeOf is the item type of a creditor feed's type byte.
var itemTypeOf = func() map[byte]string {
	m := map[byte]string{}
	for t, c := range itemTypeByte {
		m[c] = t
	}
	return m
}()

// encodeFeedItem appends it's binary form to dst.
func encodeFeedItem(dst []byte, it *FeedItem) []byte {
	e := &itemEncoder{}
	b := append(dst, feedFormat1)
	if c, ok := itemTypeByte[it.Type]; ok {
		b = append(b, c)
	} else {
		b = e.text(append(b, 0), it.Type)
	}
	b = e.id(b, it.ID)
	b = e.text(b, it.CustomerNumber)
	b = e.text(b, it.ClaimNumber)
	b = e.text(b, it.RequestID)
	var parts byte
	for _, p := range []struct {
		has  bool
		part byte
	}{{it.Confirmation != nil, partConfirmation}, {it.Closing != nil, partClosing}, {it.Rejection != nil, partRejection},
		{it.AccountingDocument != nil, partAccountingDocument}, {it.Status != nil, partStatus}} {
		if p.has {
			parts |= p.part
		}
	}
	b = append(b, parts)
	if c := it.Confirmation; c != nil {
		b = e.date(b, c.Date)
		b = e.text(b, c.Type)
		b = e.text(b, c.Number)
		b = e.text(b, c.ContractNumber)
		b = e.text(b, c.Currency)
		b = e.in(c.Currency).money(b, decimal.Decimal(c.Amount))
		b = e.text(b, c.PaymentNumber)
		b = e.text(b, c.CreditWaiverNumber)
		b = e.timePtr(b, c.BookedAt)
		b = e.text(b, c.PlanNumber)
	}
	if c := it.Closing; c != nil {
		b = e.date(b, c.Date)
		b = e.text(b, c.Type)
	}
	if r := it.Rejection; r != nil {
		b = e.date(b, r.Date)
		for _, s := range []string{r.Type, r.Description, r.Number, r.ContractNumber, r.Reason} {
			b = e.text(b, s)
		}
	}
	if d := it.AccountingDocument; d != nil {
		b = e.document(b, d)
	}
	if s := it.Status; s != nil {
		b = e.statusChange(b, s)
	}
	return b
}

func (e *itemEncoder) document(b []byte, d *AccountingDocument) []byte {
	b = e.date(b, d.Date)
	b = e.text(b, d.Type)
	b = e.text(b, d.Number)
	b = e.text(b, d.Currency)
	b = e.in(d.Currency).money(b, decimal.Decimal(d.Amount))
	b = e.count(b, len(d.LineItems), d.LineItems == nil)
	for _, l := range d.LineItems {
		b = e.text(b, l.InvoiceNumber)
		b = e.text(b, l.ContractNumber)
		b = e.money(b, decimal.Decimal(l.Amount))
		b = e.text(b, l.AllocateTo)
		b = e.text(b, l.CreditWaiverNumber)
	}
	b = e.text(b, d.OriginalType)
	b = e.text(b, d.OriginalNumber)
	b = e.text(b, d.PaymentNumber)
	return e.timePtr(b, d.BookedAt)
}

func (e *itemEncoder) statusChange(b []byte, s *StatusChange) []byte {
	b = e.date(b, s.Date)
	b = e.text(b, s.Type)
	b = e.text(b, s.Status)
	b = e.text(b, s.Reason)
	b = e.timePtr(b, s.ResumeAt)
	b = e.present(b, s.Automatic)
	b = e.text(b, s.PaymentNumber)
	b = e.present(b, s.ResumedSequences != nil)
	if s.ResumedSequences != nil {
		b = e.varint(b, int64(*s.ResumedSequences))
	}
	return e.text(b, s.PlanNumber)
}

// appendFeedRow appends the row of items to dst, encoding each in scratch
// first; it returns the row and scratch, to be used again.
func appendFeedRow(dst, scratch []byte, items []FeedItem) ([]byte, []byte) {
	dst = append(dst, feedRowFormat)
	for i := range items {
		scratch = encodeFeedItem(scratch[:0], &items[i])
		dst = append(binary.AppendUvarint(dst, uint64(len(scratch))), scratch...)
	}
	return dst, scratch
}

// eachStoredItem calls fn with each item a value of the claim's feed holds
// (a row of several, or one item) and its sortNumber, first being the
// key's, until fn returns false or an error.
func eachStoredItem(val []byte, first uint64, fn func(item []byte, sort uint64) (bool, error)) error {
	if len(val) == 0 || val[0] != feedRowFormat {
		_, err := fn(val, first)
		return err
	}
	for rest, sort := val[1:], first; len(rest) > 0; sort++ {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n == 0 || n > uint64(len(rest)-w) {
			return fmt.Errorf("projections: a row of feed items from sortNumber %d is malformed", first)
		}
		if more, err := fn(rest[w:w+int(n)], sort); err != nil || !more {
			return err
		}
		rest = rest[w+int(n):]
	}
	return nil
}

// decodeFeedItem reads an item encodeFeedItem wrote, or one the views
// wrote as JSON before it; sort is its key's sortNumber.
func decodeFeedItem(b []byte, sort uint64) (FeedItem, error) {
	var it FeedItem
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &it)
		return it, err
	}
	if len(b) == 0 || b[0] != feedFormat1 {
		return it, fmt.Errorf("projections: a feed item of unknown format (%d bytes)", len(b))
	}
	d := newItemDecoder(b)
	it.SortNumber = sort
	if c := d.byte(); c != 0 {
		if it.Type = itemTypeOf[c]; it.Type == "" {
			d.fail("an item type of unknown byte 0x%02x", c)
		}
	} else {
		it.Type = d.text()
	}
	it.ID = d.id()
	it.CustomerNumber, it.ClaimNumber, it.RequestID = d.text(), d.text(), d.text()
	parts := d.byte()
	if parts&^(partConfirmation|partClosing|partRejection|partAccountingDocument|partStatus) != 0 {
		d.fail("unknown parts 0x%02x", parts)
	}
	if parts&partConfirmation != 0 {
		c := &Confirmation{Date: d.date(), Type: d.text(), Number: d.text(), ContractNumber: d.text(), Currency: d.text()}
		c.Amount = Exact(d.in(c.Currency).money())
		c.PaymentNumber, c.CreditWaiverNumber, c.BookedAt, c.PlanNumber = d.text(), d.text(), d.timePtr(), d.text()
		it.Confirmation = c
	}
	if parts&partClosing != 0 {
		it.Closing = &Closing{Date: d.date(), Type: d.text()}
	}
	if parts&partRejection != 0 {
		it.Rejection = &Rejection{Date: d.date(), Type: d.text(), Description: d.text(), Number: d.text(), ContractNumber: d.text(), Reason: d.text()}
	}
	if parts&partAccountingDocument != 0 {
		it.AccountingDocument = d.document()
	}
	if parts&partStatus != 0 {
		it.Status = d.statusChange()
	}
	return it, d.end("a feed item")
}

func (d *itemDecoder) document() *AccountingDocument {
	doc := &AccountingDocument{Date: d.date(), Type: d.text(), Number: d.text(), Currency: d.text()}
	doc.Amount = Exact(d.in(doc.Currency).money())
	if n, ok := d.count(); ok {
		doc.LineItems = make([]LineItem, n)
		for i := range doc.LineItems {
			l := &doc.LineItems[i]
			l.InvoiceNumber, l.ContractNumber = d.text(), d.text()
			l.Amount = Exact(d.money())
			l.AllocateTo, l.CreditWaiverNumber = d.text(), d.text()
		}
	}
	doc.OriginalType, doc.OriginalNumber, doc.PaymentNumber, doc.BookedAt = d.text(), d.text(), d.text(), d.timePtr()
	return doc
}

func (d *itemDecoder) statusChange() *StatusChange {
	s := &StatusChange{Date: d.date(), Type: d.text(), Status: d.text(), Reason: d.text(), ResumeAt: d.timePtr(), Automatic: d.present(),
		PaymentNumber: d.text()}
	if d.present() {
		n := d.int()
		s.ResumedSequences = &n
	}
	s.PlanNumber = d.text()
	return s
}

// feedItemJSON renders a stored feed item (sortNumber sort) as the API
// serves it; one stored as JSON is served as it is.
func feedItemJSON(b []byte, sort uint64) (json.RawMessage, error) {
	if len(b) > 0 && b[0] == '{' {
		return slices.Clone(b), nil
	}
	it, err := decodeFeedItem(b, sort)
	if err != nil {
		return nil, err
	}
	return json.Marshal(it)
}
