package domain

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/internal/plainjson"
)

// encodeFast writes the payload of the events every payment appends
// (PaymentReceived and its AccountingDocumentIssued) without reflection,
// byte for byte as encoding/json writes them: a stored event's bytes are
// hashed into the chain, so they must not depend on which encoder wrote
// them. It reports false for any other event, and for a value it does not
// write itself (a time outside what RFC 3339 can say, which json.Marshal
// refuses); the caller then uses json.Marshal. FuzzEncodeFast and
// TestEncodeFastIsJSONMarshal hold it to json.Marshal.
func encodeFast(e Event) ([]byte, bool) {
	var w fastWriter
	switch e := e.(type) {
	case PaymentReceived:
		w.payment(&e)
	case AccountingDocumentIssued:
		w.document(&e)
	default:
		return nil, false
	}
	return w.b, w.ok
}

type fastWriter struct {
	b  []byte
	ok bool
}

func (w *fastWriter) payment(e *PaymentReceived) {
	w.b, w.ok = make([]byte, 0, 320), true
	w.b = append(w.b, '{')
	w.optString(`"paymentNumber":`, e.PaymentNumber)
	w.optString(`"invoiceNumber":`, e.InvoiceNumber)
	w.optString(`"date":`, e.Date)
	w.optString(`"description":`, e.Description)
	w.optString(`"allocateTo":`, e.AllocateTo)
	w.decimal(`"amount":`, e.Amount)
	w.string(`,"currency":`, e.Currency)
	w.b = append(w.b, `,"allocations":`...)
	if e.Allocations == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i, a := range e.Allocations {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.string(`{"invoiceNumber":`, a.InvoiceNumber)
			w.string(`,"contractNumber":`, a.ContractNumber)
			w.decimal(`,"amount":`, a.Amount)
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	}
	w.decimal(`,"recoveredAmount":`, e.RecoveredAmount)
	w.decimal(`,"feeAmount":`, e.FeeAmount)
	w.time(`,"receivedAt":`, e.ReceivedAt)
	if e.Split != nil {
		w.decimal(`,"split":{"costs":`, e.Split.Costs)
		w.decimal(`,"interests":`, e.Split.Interests)
		w.decimal(`,"overpaid":`, e.Split.Overpaid)
		w.b = append(w.b, '}')
	}
	w.optString(`,"receivedBy":`, e.ReceivedBy)
	w.b = append(w.b, '}')
}

func (w *fastWriter) document(e *AccountingDocumentIssued) {
	w.b, w.ok = make([]byte, 0, 320), true
	w.string(`{"documentNumber":`, e.DocumentNumber)
	w.string(`,"type":`, e.Type)
	w.string(`,"date":`, e.Date)
	w.decimal(`,"amount":`, e.Amount)
	w.string(`,"currency":`, e.Currency)
	w.b = append(w.b, `,"lineItems":`...)
	if e.LineItems == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i, l := range e.LineItems {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.string(`{"invoiceNumber":`, l.InvoiceNumber)
			w.string(`,"contractNumber":`, l.ContractNumber)
			w.decimal(`,"amount":`, l.Amount)
			w.optString(`,"allocateTo":`, l.AllocateTo)
			w.optString(`,"creditWaiverNumber":`, l.CreditWaiverNumber)
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	}
	w.optString(`,"originalType":`, e.OriginalType)
	w.optString(`,"originalNumber":`, e.OriginalNumber)
	w.optString(`,"paymentNumber":`, e.PaymentNumber)
	w.b = append(w.b, '}')
}

// optString writes an omitempty string field. Its key is given without the
// comma that separates it from a field before it: the comma is added unless
// the field is the object's first so far.
func (w *fastWriter) optString(key, s string) {
	if s == "" {
		return
	}
	if key[0] != ',' && w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.string(key, s)
}

// string writes key and s as encoding/json does.
func (w *fastWriter) string(key, s string) {
	w.b = plainjson.AppendString(append(w.b, key...), s)
}

// decimal writes key and d as decimal.Decimal's MarshalJSON does: its
// String, quoted.
func (w *fastWriter) decimal(key string, d decimal.Decimal) {
	if key[0] != ',' && key[0] != '{' && w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(append(w.b, key...), '"')
	if c, ok := Coefficient18(d); ok && d.Exponent() <= 0 && d.Exponent() >= -maxPlaces {
		w.b = appendDecimalString(w.b, c, -int(d.Exponent()))
	} else {
		w.b = append(w.b, d.String()...)
	}
	w.b = append(w.b, '"')
}

// time writes key and t as time.Time's MarshalJSON does, or makes the event
// json.Marshal's when that refuses t.
func (w *fastWriter) time(key string, t time.Time) {
	var ok bool
	if w.b, ok = plainjson.AppendTime(append(w.b, key...), t); !ok {
		w.ok = false
	}
}

// appendDecimalString appends c·10^-places (places ≥ 0) as
// decimal.Decimal's String writes it: the integer part (0 when there is
// none), then a point and the fraction's digits unless they are all zeros,
// without its trailing zeros; a minus sign ahead when negative.
func appendDecimalString(b []byte, c int64, places int) []byte {
	var buf [maxPlaces + 20]byte
	u := uint64(c)
	if c < 0 {
		u = -u // two's complement: right for math.MinInt64 too
	}
	d := strconv.AppendUint(buf[:0], u, 10)
	if c < 0 {
		b = append(b, '-')
	}
	if len(d) <= places { // no integer part: zeros ahead of the digits
		b = append(b, '0')
		d = append(buf[:0], zeroDigits[:places-len(d)]...)
		d = strconv.AppendUint(d, u, 10)
		return appendFraction(b, d)
	}
	b = append(b, d[:len(d)-places]...)
	return appendFraction(b, d[len(d)-places:])
}

// maxPlaces is the most places appendDecimalString writes (a decimal with
// more goes through its String).
const maxPlaces = 38

const zeroDigits = "00000000000000000000000000000000000000" // maxPlaces of them

// appendFraction appends a point and frac without its trailing zeros, or
// nothing when that leaves no digit.
func appendFraction(b, frac []byte) []byte {
	n := len(frac)
	for n > 0 && frac[n-1] == '0' {
		n--
	}
	if n == 0 {
		return b
	}
	return append(append(b, '.'), frac[:n]...)
}
