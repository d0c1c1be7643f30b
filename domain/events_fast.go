package domain

import (
	"encoding/base64"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain/iso4217"
	"github.com/collections-ledger/ledger/internal/plainjson"
)

// Every reader of the log decodes every event it reads (the views, verify,
// rebuilds, replays), and nine in ten events of a collections ledger are
// one of four types: documents, payments, placements and waivers. Those
// four are decoded by a scanner of plain JSON and no reflection, as journal
// decodes metadata, with the same checks (internal/plainjson). The fast
// path takes only what EncodeEvent writes: one object without whitespace
// whose keys are the type's own (exactly, each once), with values of their
// JSON types (decimals and times as strings), no escapes, no control
// characters and valid UTF-8. Anything else (another schema's field, a key
// in another case, a number where a string is written, null where a value
// is, a value its type refuses) goes to encoding/json, so that the result,
// errors included, is encoding/json's (FuzzDecodeEventFast and
// TestFastDecodersAgreeWithEncodingJSON check it).

// fastDecoders decode an event's object; false means "not in the form the
// fast path takes".
var fastDecoders = map[string]func(plainjson.Value) (Event, bool){
	AccountingDocumentIssued{}.EventType(): decodeDocumentFast,
	PaymentReceived{}.EventType():          decodePaymentFast,
	PlacementOpened{}.EventType():          decodeOpenedFast,
	CreditWaiverIssued{}.EventType():       decodeWaiverFast,
}

// decodeFast decodes data as an event of eventType; ok is false when the
// type has no fast decoder or data is not in the form it takes.
func decodeFast(eventType string, data []byte) (e Event, ok bool) {
	dec, known := fastDecoders[eventType]
	if !known || !plainjson.Plain(data) {
		return nil, false
	}
	return dec(plainjson.Value(data))
}

func fastString(v plainjson.Value, dst *string) bool {
	if !v.IsString() {
		return false
	}
	*dst = string(v.Str())
	return true
}

// fastCode reads a string that is almost always one of a few the ledger
// writes (a currency code, a document type, what a payment was for): one
// of them is the shared string, not a copy.
func fastCode(v plainjson.Value, dst *string) bool {
	if !v.IsString() {
		return false
	}
	b := v.Str()
	if s, ok := iso4217.Code(b); ok { // a currency, found without hashing
		*dst = s
	} else if s, ok := codes[string(b)]; ok {
		*dst = s
	} else {
		*dst = string(b)
	}
	return true
}

// codes are the strings other than currency codes fastCode shares.
var codes = func() map[string]string {
	m := map[string]string{}
	for _, s := range []string{DocCreditWaiver, DocCancellation, DocDirectPayment, DocReallocation, DocAgencyPayments, DocWriteOff, DocDebit,
		AllocatePrincipal, AllocateCosts, AllocateInterests, ReceivedByAgency} {
		m[s] = s
	}
	return m
}()

// fastDate reads a date, sharing the text of the day DateOnly gave last
// (under load, today's) when it is that day.
func fastDate(v plainjson.Value, dst *string) bool {
	if !v.IsString() {
		return false
	}
	b := v.Str()
	if last := lastDay.Load(); last != nil && last.text == string(b) {
		*dst = last.text
	} else {
		*dst = string(b)
	}
	return true
}

// fastDecimal reads a decimal written as a string, as Decimal.UnmarshalJSON
// does: the bytes between the quotes, parsed by NewFromString.
func fastDecimal(v plainjson.Value, dst *decimal.Decimal) bool {
	if !v.IsString() {
		return false
	}
	raw := v.Str()
	if len(raw) == 0 {
		return false // UnmarshalJSON does not unquote "" (and then refuses it)
	}
	if d, ok := plainDecimal(raw); ok {
		*dst = d
		return true
	}
	d, err := decimal.NewFromString(string(raw))
	if err != nil {
		return false
	}
	*dst = d
	return true
}

// fastAmount reads what fastDecimal reads, as an Amount: an amount
// EncodeEvent wrote (plainDigits) without building a Decimal.
func fastAmount(v plainjson.Value, dst *Amount) bool {
	if v.IsString() {
		if c, exp, ok := plainDigits(v.Str()); ok {
			*dst = NewAmount(c, int32(exp))
			return true
		}
	}
	var d decimal.Decimal
	if !fastDecimal(v, &d) {
		return false
	}
	*dst = AmountOf(d)
	return true
}

// plainDecimal parses what EncodeEvent writes of an amount, -?d+(.d+)?
// with at most 18 digits, to the Decimal NewFromString gives for it (the
// digits as an int64 coefficient, the exponent minus the number of
// decimals) without its allocations; false for anything else, which
// NewFromString parses.
func plainDecimal(raw []byte) (decimal.Decimal, bool) {
	c, exp, ok := plainDigits(raw)
	if !ok {
		return decimal.Decimal{}, false
	}
	return decimal.New(c, int32(exp)), true
}

// plainDigits reads -?d+(.d+)? with at most 18 digits as the integer of
// its digits, signed, and minus the number of its decimals; false for
// anything else.
func plainDigits(raw []byte) (c int64, exp int, ok bool) {
	if len(raw) == 0 {
		return 0, 0, false
	}
	i, neg := 0, false
	if raw[0] == '-' {
		i, neg = 1, true
	}
	digits, point := 0, -1
	for ; i < len(raw); i++ {
		switch b := raw[i]; {
		case b >= '0' && b <= '9':
			c = c*10 + int64(b-'0')
			digits++
		case b == '.' && point < 0 && digits > 0:
			point = digits
		default:
			return 0, 0, false
		}
	}
	if digits == 0 || digits > 18 || point == digits {
		return 0, 0, false
	}
	if point >= 0 {
		exp = point - digits
	}
	if neg {
		c = -c
	}
	return c, exp, true
}

func fastAmountPtr(v plainjson.Value, dst **Amount) bool {
	if v.IsNull() {
		*dst = nil
		return true
	}
	a := new(Amount)
	if !fastAmount(v, a) {
		return false
	}
	*dst = a
	return true
}

// fastTime reads a time as time.Time.UnmarshalJSON does, given the value
// as it was quoted.
func fastTime(v plainjson.Value, dst *time.Time) bool {
	if !v.IsString() {
		return false
	}
	raw := v.Str()
	q := make([]byte, 0, 40)
	q = append(append(append(q, '"'), raw...), '"')
	return dst.UnmarshalJSON(q) == nil
}

func fastUUID(v plainjson.Value, dst *uuid.UUID) bool {
	if !v.IsString() {
		return false
	}
	return dst.UnmarshalText(v.Str()) == nil
}

// fastBytes reads a []byte as encoding/json writes one: base64 (standard,
// padded) in a string.
func fastBytes(v plainjson.Value, dst *[]byte) bool {
	switch {
	case v.IsNull():
		*dst = nil
		return true
	case v.IsString():
		raw := v.Str()
		b := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Decode(b, raw)
		if err != nil {
			return false
		}
		*dst = b[:n]
		return true
	}
	return false
}

// fastSlice reads an array of objects, each by item; null leaves the slice
// nil, and [] makes it empty, as encoding/json does.
func fastSlice[T any](v plainjson.Value, dst *[]T, item func(plainjson.Value, *T) bool) bool {
	if v.IsNull() {
		*dst = nil
		return true
	}
	var buf [8]plainjson.Value
	a, ok := plainjson.Elements(v, buf[:])
	if !ok {
		return false
	}
	out := make([]T, len(a))
	for i, x := range a {
		if !item(x, &out[i]) {
			return false
		}
	}
	*dst = out
	return true
}

var lineItemFields = []string{"invoiceNumber", "contractNumber", "amount", "allocateTo", "creditWaiverNumber"}

func fastLineItem(v plainjson.Value, l *LineItem) bool {
	return plainjson.Fields(v, lineItemFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &l.InvoiceNumber)
		case 1:
			return fastString(v, &l.ContractNumber)
		case 2:
			return fastAmount(v, &l.Amount)
		case 3:
			return fastCode(v, &l.AllocateTo)
		default:
			return fastString(v, &l.CreditWaiverNumber)
		}
	})
}

var documentFields = []string{"documentNumber", "type", "date", "amount", "currency", "lineItems", "originalType", "originalNumber", "paymentNumber"}

func decodeDocumentFast(v plainjson.Value) (Event, bool) {
	var e AccountingDocumentIssued
	ok := plainjson.Fields(v, documentFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &e.DocumentNumber)
		case 1:
			return fastCode(v, &e.Type)
		case 2:
			return fastDate(v, &e.Date)
		case 3:
			return fastAmount(v, &e.Amount)
		case 4:
			return fastCode(v, &e.Currency)
		case 5:
			return fastSlice(v, &e.LineItems, fastLineItem)
		case 6:
			return fastCode(v, &e.OriginalType)
		case 7:
			return fastString(v, &e.OriginalNumber)
		default:
			return fastString(v, &e.PaymentNumber)
		}
	})
	if ok {
		e.scaleAmounts()
	}
	return e, ok
}

var allocationFields = []string{"invoiceNumber", "contractNumber", "amount"}

func fastAllocation(v plainjson.Value, a *Allocation) bool {
	return plainjson.Fields(v, allocationFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &a.InvoiceNumber)
		case 1:
			return fastString(v, &a.ContractNumber)
		default:
			return fastAmount(v, &a.Amount)
		}
	})
}

var splitFields = []string{"costs", "interests", "overpaid"}

func fastSplit(v plainjson.Value, dst **Split) bool {
	if v.IsNull() {
		*dst = nil
		return true
	}
	s := new(Split)
	if !plainjson.Fields(v, splitFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastDecimal(v, &s.Costs)
		case 1:
			return fastDecimal(v, &s.Interests)
		default:
			return fastDecimal(v, &s.Overpaid)
		}
	}) {
		return false
	}
	*dst = s
	return true
}

var paymentFields = []string{"paymentNumber", "invoiceNumber", "date", "description", "allocateTo", "amount", "currency",
	"allocations", "recoveredAmount", "feeAmount", "receivedAt", "split", "receivedBy"}

func decodePaymentFast(v plainjson.Value) (Event, bool) {
	var e PaymentReceived
	ok := plainjson.Fields(v, paymentFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &e.PaymentNumber)
		case 1:
			return fastString(v, &e.InvoiceNumber)
		case 2:
			return fastDate(v, &e.Date)
		case 3:
			return fastString(v, &e.Description)
		case 4:
			return fastCode(v, &e.AllocateTo)
		case 5:
			return fastAmount(v, &e.Amount)
		case 6:
			return fastCode(v, &e.Currency)
		case 7:
			return fastSlice(v, &e.Allocations, fastAllocation)
		case 8:
			return fastAmount(v, &e.RecoveredAmount)
		case 9:
			return fastAmount(v, &e.FeeAmount)
		case 10:
			return fastTime(v, &e.ReceivedAt)
		case 11:
			return fastSplit(v, &e.Split)
		default:
			return fastCode(v, &e.ReceivedBy)
		}
	})
	if ok {
		e.scaleAmounts()
	}
	return e, ok
}

var waiverFields = []string{"creditWaiverNumber", "invoiceNumber", "contractNumber", "date", "description", "amount", "currency"}

func decodeWaiverFast(v plainjson.Value) (Event, bool) {
	var e CreditWaiverIssued
	ok := plainjson.Fields(v, waiverFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &e.CreditWaiverNumber)
		case 1:
			return fastString(v, &e.InvoiceNumber)
		case 2:
			return fastString(v, &e.ContractNumber)
		case 3:
			return fastDate(v, &e.Date)
		case 4:
			return fastString(v, &e.Description)
		case 5:
			return fastAmount(v, &e.Amount)
		default:
			return fastCode(v, &e.Currency)
		}
	})
	if ok {
		e.scaleAmounts()
	}
	return e, ok
}

var invoiceFields = []string{"invoiceNumber", "contractNumber", "amount", "dueDate", "invoiceDate", "invoicedAmount"}

func fastInvoice(v plainjson.Value, n *Invoice) bool {
	return plainjson.Fields(v, invoiceFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &n.InvoiceNumber)
		case 1:
			return fastString(v, &n.ContractNumber)
		case 2:
			return fastAmount(v, &n.Amount)
		case 3:
			return fastString(v, &n.DueDate)
		case 4:
			return fastString(v, &n.InvoiceDate)
		default:
			return fastAmountPtr(v, &n.InvoicedAmount)
		}
	})
}

var chargeFields = []string{"type", "number", "amount", "date", "description"}

func fastCharge(v plainjson.Value, c *Charge) bool {
	return plainjson.Fields(v, chargeFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &c.Type)
		case 1:
			return fastString(v, &c.Number)
		case 2:
			return fastDecimal(v, &c.Amount)
		case 3:
			return fastString(v, &c.Date)
		default:
			return fastString(v, &c.Description)
		}
	})
}

var sealedFields = []string{"keyId", "nonce", "ciphertext", "context"}

func fastSealed(v plainjson.Value, dst **SealedData) bool {
	if v.IsNull() {
		*dst = nil
		return true
	}
	s := new(SealedData)
	if !plainjson.Fields(v, sealedFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastString(v, &s.KeyID)
		case 1:
			return fastBytes(v, &s.Nonce)
		case 2:
			return fastBytes(v, &s.Ciphertext)
		default:
			return fastString(v, &s.Context)
		}
	}) {
		return false
	}
	*dst = s
	return true
}

var openedFields = []string{"placementId", "creditorId", "claimNumber", "customerNumber", "currency", "feeRate", "invoices", "openedAt", "personalData", "charges"}

func decodeOpenedFast(v plainjson.Value) (Event, bool) {
	var e PlacementOpened
	ok := plainjson.Fields(v, openedFields, func(i int, v plainjson.Value) bool {
		switch i {
		case 0:
			return fastUUID(v, &e.PlacementID)
		case 1:
			return fastString(v, &e.CreditorID)
		case 2:
			return fastString(v, &e.ClaimNumber)
		case 3:
			return fastString(v, &e.CustomerNumber)
		case 4:
			return fastCode(v, &e.Currency)
		case 5:
			return fastDecimal(v, &e.FeeRate)
		case 6:
			return fastSlice(v, &e.Invoices, fastInvoice)
		case 7:
			return fastTime(v, &e.OpenedAt)
		case 8:
			return fastSealed(v, &e.PersonalData)
		default:
			return fastSlice(v, &e.Charges, fastCharge)
		}
	})
	if ok {
		e.scaleAmounts()
	}
	return e, ok
}
