package domain

import (
	"encoding/base64"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/valyala/fastjson"

	"github.com/collections-ledger/ledger/domain/iso4217"
	"github.com/collections-ledger/ledger/internal/plainjson"
)

// Every reader of the log decodes every event it reads (the views, verify,
// rebuilds, replays), and nine in ten events of a collections ledger are
// one of four types: documents, payments, placements and waivers. Those
// four are decoded with fastjson's parser and no reflection, as journal
// decodes metadata, with the same checks (internal/plainjson). The fast
// path takes only what EncodeEvent writes: one object whose keys are the
// type's own (exactly, each once), with values of their JSON types
// (decimals and times as strings), no escapes, no control characters and
// valid UTF-8. Anything else (another schema's field, a key
// in another case, a number where a string is written, null where a value
// is, a value its type refuses) goes to encoding/json, so that the result,
// errors included, is encoding/json's (FuzzDecodeEventFast and
// TestFastDecodersAgreeWithEncodingJSON check it).

var eventParsers fastjson.ParserPool

// fastDecoders decode an event's object; false means "not in the form the
// fast path takes".
var fastDecoders = map[string]func(*fastjson.Object) (Event, bool){
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
	p := eventParsers.Get()
	defer eventParsers.Put(p)
	v, err := p.ParseBytes(data)
	if err != nil {
		return nil, false
	}
	o, err := v.Object()
	if err != nil {
		return nil, false
	}
	return dec(o)
}

func fastString(v *fastjson.Value, dst *string) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	*dst = string(v.GetStringBytes())
	return true
}

// fastCode reads a string that is almost always one of a few the ledger
// writes (a currency code, a document type, what a payment was for): one
// of them is the shared string, not a copy.
func fastCode(v *fastjson.Value, dst *string) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	b := v.GetStringBytes()
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
func fastDate(v *fastjson.Value, dst *string) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	b := v.GetStringBytes()
	if last := lastDay.Load(); last != nil && last.text == string(b) {
		*dst = last.text
	} else {
		*dst = string(b)
	}
	return true
}

// fastDecimal reads a decimal written as a string, as Decimal.UnmarshalJSON
// does: the bytes between the quotes, parsed by NewFromString.
func fastDecimal(v *fastjson.Value, dst *decimal.Decimal) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	raw := v.GetStringBytes()
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
func fastAmount(v *fastjson.Value, dst *Amount) bool {
	if v.Type() == fastjson.TypeString {
		if c, exp, ok := plainDigits(v.GetStringBytes()); ok {
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

func fastDecimalPtr(v *fastjson.Value, dst **decimal.Decimal) bool {
	if v.Type() == fastjson.TypeNull {
		*dst = nil
		return true
	}
	d := new(decimal.Decimal)
	if !fastDecimal(v, d) {
		return false
	}
	*dst = d
	return true
}

// fastTime reads a time as time.Time.UnmarshalJSON does, given the value
// as it was quoted.
func fastTime(v *fastjson.Value, dst *time.Time) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	raw := v.GetStringBytes()
	q := make([]byte, 0, 40)
	q = append(append(append(q, '"'), raw...), '"')
	return dst.UnmarshalJSON(q) == nil
}

func fastUUID(v *fastjson.Value, dst *uuid.UUID) bool {
	if v.Type() != fastjson.TypeString {
		return false
	}
	return dst.UnmarshalText(v.GetStringBytes()) == nil
}

// fastBytes reads a []byte as encoding/json writes one: base64 (standard,
// padded) in a string.
func fastBytes(v *fastjson.Value, dst *[]byte) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		*dst = nil
		return true
	case fastjson.TypeString:
		raw := v.GetStringBytes()
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
func fastSlice[T any](v *fastjson.Value, dst *[]T, item func(*fastjson.Object, *T) bool) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		*dst = nil
		return true
	case fastjson.TypeArray:
	default:
		return false
	}
	a, _ := v.Array()
	out := make([]T, len(a))
	for i, x := range a {
		o, err := x.Object()
		if err != nil || !item(o, &out[i]) {
			return false
		}
	}
	*dst = out
	return true
}

var lineItemFields = []string{"invoiceNumber", "contractNumber", "amount", "allocateTo", "creditWaiverNumber"}

func fastLineItem(o *fastjson.Object, l *LineItem) bool {
	return plainjson.Fields(o, lineItemFields, func(i int, v *fastjson.Value) bool {
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

func decodeDocumentFast(o *fastjson.Object) (Event, bool) {
	var e AccountingDocumentIssued
	ok := plainjson.Fields(o, documentFields, func(i int, v *fastjson.Value) bool {
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

func fastAllocation(o *fastjson.Object, a *Allocation) bool {
	return plainjson.Fields(o, allocationFields, func(i int, v *fastjson.Value) bool {
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

func fastSplit(v *fastjson.Value, dst **Split) bool {
	if v.Type() == fastjson.TypeNull {
		*dst = nil
		return true
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	s := new(Split)
	if !plainjson.Fields(o, splitFields, func(i int, v *fastjson.Value) bool {
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

func decodePaymentFast(o *fastjson.Object) (Event, bool) {
	var e PaymentReceived
	ok := plainjson.Fields(o, paymentFields, func(i int, v *fastjson.Value) bool {
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

func decodeWaiverFast(o *fastjson.Object) (Event, bool) {
	var e CreditWaiverIssued
	ok := plainjson.Fields(o, waiverFields, func(i int, v *fastjson.Value) bool {
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

func fastInvoice(o *fastjson.Object, n *Invoice) bool {
	return plainjson.Fields(o, invoiceFields, func(i int, v *fastjson.Value) bool {
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
			return fastDecimalPtr(v, &n.InvoicedAmount)
		}
	})
}

var chargeFields = []string{"type", "number", "amount", "date", "description"}

func fastCharge(o *fastjson.Object, c *Charge) bool {
	return plainjson.Fields(o, chargeFields, func(i int, v *fastjson.Value) bool {
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

func fastSealed(v *fastjson.Value, dst **SealedData) bool {
	if v.Type() == fastjson.TypeNull {
		*dst = nil
		return true
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	s := new(SealedData)
	if !plainjson.Fields(o, sealedFields, func(i int, v *fastjson.Value) bool {
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

func decodeOpenedFast(o *fastjson.Object) (Event, bool) {
	var e PlacementOpened
	ok := plainjson.Fields(o, openedFields, func(i int, v *fastjson.Value) bool {
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
