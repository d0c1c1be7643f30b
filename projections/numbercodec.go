package projections

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/collections-ledger/ledger/domain"
)

// What a payment or credit waiver number was processed as ('n') is stored
// in a binary form (itemcodec.go): a format byte, the placement's currency
// (the scale of the amounts that follow, in minor units), the revision, a
// byte of which records it has (numberPaymentRecord, numberWaiverRecord),
// each record's fields in the order of its struct, and last the content,
// as its parts between NUL bytes: most are texts of the record written
// before, one byte each.
//
// A record the views wrote before this form is JSON (its first byte '{'):
// decodeProcessed still reads it, so the index serves while it rebuilds.
const numberFormat1 byte = 1

// The records of a processed number.
const (
	numberPaymentRecord byte = 1 << iota
	numberWaiverRecord
)

// encodeProcessed appends p's binary form to dst; currency is its
// placement's.
func encodeProcessed(dst []byte, p *domain.Processed, currency string) []byte {
	e := &itemEncoder{}
	b := append(dst, numberFormat1)
	b = e.in(currency).text(b, currency)
	b = e.uvarint(b, p.Revision)
	var records byte
	if p.Payment != nil {
		records |= numberPaymentRecord
	}
	if p.Waiver != nil {
		records |= numberWaiverRecord
	}
	b = append(b, records)
	if r := p.Payment; r != nil {
		b = e.paymentRecord(b, r)
	}
	if w := p.Waiver; w != nil {
		b = e.text(b, w.InvoiceNumber)
		b = e.text(b, w.ContractNumber)
		b = e.money(b, w.Amount)
		b = e.text(b, w.Currency)
		b = e.text(b, w.Document)
		b = e.uvarint(b, w.CancelRevision)
	}
	parts := strings.Split(p.Content, "\x00")
	b = e.uvarint(b, uint64(len(parts)))
	for _, s := range parts {
		b = e.text(b, s)
	}
	return b
}

func (e *itemEncoder) paymentRecord(b []byte, r *domain.PaymentRecord) []byte {
	b = e.money(b, r.Amount)
	b = e.text(b, r.Document)
	b = e.count(b, len(r.Allocations), r.Allocations == nil)
	for _, a := range r.Allocations {
		b = e.text(b, a.InvoiceNumber)
		b = e.text(b, a.ContractNumber)
		b = e.money(b, a.Amount.Decimal())
	}
	for _, s := range []string{r.InvoiceNumber, r.Date, r.Description, r.AllocateTo} {
		b = e.text(b, s)
	}
	b = e.present(b, r.Split != nil)
	if s := r.Split; s != nil {
		b = e.money(e.money(e.money(b, s.Costs), s.Interests), s.Overpaid)
	}
	b = e.text(b, r.ReceivedBy)
	b = e.text(b, r.Reversal)
	return e.uvarint(b, r.ReversalRevision)
}

// decodeProcessed reads what encodeProcessed wrote, or a record the views
// wrote as JSON before it.
func decodeProcessed(b []byte) (domain.Processed, error) {
	var p domain.Processed
	if len(b) > 0 && b[0] == '{' {
		err := json.Unmarshal(b, &p)
		return p, err
	}
	if len(b) == 0 || b[0] != numberFormat1 {
		return p, fmt.Errorf("projections: a processed number of unknown format (%d bytes)", len(b))
	}
	d := newItemDecoder(b)
	d.in(d.text())
	p.Revision = d.uvarint()
	records := d.byte()
	if records&^(numberPaymentRecord|numberWaiverRecord) != 0 {
		d.fail("unknown records 0x%02x", records)
	}
	if records&numberPaymentRecord != 0 {
		p.Payment = d.paymentRecord()
	}
	if records&numberWaiverRecord != 0 {
		p.Waiver = &domain.WaiverRecord{InvoiceNumber: d.text(), ContractNumber: d.text(), Amount: d.money(), Currency: d.text(), Document: d.text(),
			CancelRevision: d.uvarint()}
	}
	n := d.uvarint()
	if n == 0 || n-1 > uint64(len(b)) {
		d.fail("content of %d parts", n)
		n = 0
	}
	parts := make([]string, 0, n)
	for range n {
		parts = append(parts, d.text())
	}
	p.Content = strings.Join(parts, "\x00")
	return p, d.end("a processed number")
}

func (d *itemDecoder) paymentRecord() *domain.PaymentRecord {
	r := &domain.PaymentRecord{Amount: d.money(), Document: d.text()}
	if n, ok := d.count(); ok {
		r.Allocations = make([]domain.Allocation, n)
		for i := range r.Allocations {
			r.Allocations[i] = domain.Allocation{InvoiceNumber: d.text(), ContractNumber: d.text(), Amount: domain.AmountOf(d.money())}
		}
	}
	r.InvoiceNumber, r.Date, r.Description, r.AllocateTo = d.text(), d.text(), d.text(), d.text()
	if d.present() {
		r.Split = &domain.Split{Costs: d.money(), Interests: d.money(), Overpaid: d.money()}
	}
	r.ReceivedBy, r.Reversal, r.ReversalRevision = d.text(), d.text(), d.uvarint()
	return r
}
