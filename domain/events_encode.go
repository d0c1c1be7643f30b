package domain

import (
	"strconv"

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
	w := plainjson.Writer{B: make([]byte, 0, 320)}
	switch e := e.(type) {
	case PaymentReceived:
		writePayment(&w, &e)
	case AccountingDocumentIssued:
		writeDocument(&w, &e)
	default:
		return nil, false
	}
	return w.B, !w.Refused
}

func writePayment(w *plainjson.Writer, e *PaymentReceived) {
	w.Open()
	w.OptString("paymentNumber", e.PaymentNumber)
	w.OptString("invoiceNumber", e.InvoiceNumber)
	w.OptString("date", e.Date)
	w.OptString("description", e.Description)
	w.OptString("allocateTo", e.AllocateTo)
	writeAmount(w, "amount", e.Amount)
	w.String("currency", e.Currency)
	w.Array("allocations", e.Allocations == nil, len(e.Allocations), func(i int) {
		a := &e.Allocations[i]
		w.String("invoiceNumber", a.InvoiceNumber)
		w.String("contractNumber", a.ContractNumber)
		writeAmount(w, "amount", a.Amount)
	})
	writeAmount(w, "recoveredAmount", e.RecoveredAmount)
	writeAmount(w, "feeAmount", e.FeeAmount)
	w.Time("receivedAt", e.ReceivedAt)
	if e.Split != nil {
		w.Key("split")
		w.Open()
		writeDecimal(w, "costs", e.Split.Costs)
		writeDecimal(w, "interests", e.Split.Interests)
		writeDecimal(w, "overpaid", e.Split.Overpaid)
		w.Close()
	}
	w.OptString("receivedBy", e.ReceivedBy)
	w.Close()
}

func writeDocument(w *plainjson.Writer, e *AccountingDocumentIssued) {
	w.Open()
	w.String("documentNumber", e.DocumentNumber)
	w.String("type", e.Type)
	w.String("date", e.Date)
	writeAmount(w, "amount", e.Amount)
	w.String("currency", e.Currency)
	w.Array("lineItems", e.LineItems == nil, len(e.LineItems), func(i int) {
		l := &e.LineItems[i]
		w.String("invoiceNumber", l.InvoiceNumber)
		w.String("contractNumber", l.ContractNumber)
		writeAmount(w, "amount", l.Amount)
		w.OptString("allocateTo", l.AllocateTo)
		w.OptString("creditWaiverNumber", l.CreditWaiverNumber)
	})
	w.OptString("originalType", e.OriginalType)
	w.OptString("originalNumber", e.OriginalNumber)
	w.OptString("paymentNumber", e.PaymentNumber)
	w.Close()
}

// writeDecimal writes a decimal field as decimal.Decimal's MarshalJSON does:
// its String, quoted.
func writeDecimal(w *plainjson.Writer, k string, d decimal.Decimal) {
	w.Key(k)
	w.B = append(w.B, '"')
	if c, ok := Coefficient18(d); ok && d.Exponent() <= 0 && d.Exponent() >= -maxPlaces {
		w.B = appendDecimalString(w.B, c, -int(d.Exponent()))
	} else {
		w.B = append(w.B, d.String()...)
	}
	w.B = append(w.B, '"')
}

// writeAmount is writeDecimal of an Amount, without building a Decimal.
func writeAmount(w *plainjson.Writer, k string, a Amount) {
	if a.big != nil || a.exp > 0 || a.exp < -maxPlaces {
		writeDecimal(w, k, a.Decimal())
		return
	}
	w.Key(k)
	w.B = append(w.B, '"')
	w.B = appendDecimalString(w.B, a.coef, -int(a.exp))
	w.B = append(w.B, '"')
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
