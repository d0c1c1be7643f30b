package projections

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/internal/plainjson"
	"github.com/collections-ledger/ledger/journal"
)

// placementResourceJSON is PlacementResource without its MarshalJSON: what
// encoding/json makes of it by reflection, which MarshalJSON writes.
type placementResourceJSON PlacementResource

// MarshalJSON writes the resource as encoding/json writes its fields, without
// reflection: every command on a placement answers with it, and reflection
// over its fields was 2.6% of the server's CPU under payments.
// TestPlacementResourceJSONIsReflections holds it to the reflective form,
// byte for byte. A time that JSON cannot hold (a year outside 0–9999) goes
// the reflective way, for its error.
func (r PlacementResource) MarshalJSON() ([]byte, error) {
	if b, ok := r.AppendJSON(make([]byte, 0, 1024)); ok {
		return b, nil
	}
	return json.Marshal((*placementResourceJSON)(&r))
}

// AppendJSON appends the resource's JSON (MarshalJSON's) to b, for a writer
// that keeps its buffer. It reports false, with b as it was, for a resource
// holding a time JSON cannot hold.
func (r *PlacementResource) AppendJSON(b []byte) ([]byte, bool) {
	w := resourceWriter{b: b, ok: true}
	w.resource(r)
	if !w.ok {
		return b, false
	}
	return w.b, true
}

type resourceWriter struct {
	b    []byte
	more bool // a field was written in the open object: the next needs a comma
	ok   bool
}

func (w *resourceWriter) open()  { w.b, w.more = append(w.b, '{'), false }
func (w *resourceWriter) close() { w.b, w.more = append(w.b, '}'), true }

func (w *resourceWriter) key(k string) {
	if w.more {
		w.b = append(w.b, ',')
	}
	w.more = true
	w.b = append(append(append(w.b, '"'), k...), `":`...)
}

func (w *resourceWriter) str(k, s string) { w.key(k); w.b = plainjson.AppendString(w.b, s) }

// opt writes an omitempty string.
func (w *resourceWriter) opt(k, s string) {
	if s != "" {
		w.str(k, s)
	}
}

// optPtr writes an omitempty *string: absent when nil.
func (w *resourceWriter) optPtr(k string, s *string) {
	if s != nil {
		w.str(k, *s)
	}
}

// ptr writes a *string that is null when nil.
func (w *resourceWriter) ptr(k string, s *string) {
	if s == nil {
		w.key(k)
		w.b = append(w.b, "null"...)
		return
	}
	w.str(k, *s)
}

func (w *resourceWriter) id(k string, id uuid.UUID) {
	w.key(k)
	w.b = append(journal.AppendUUID(append(w.b, '"'), id), '"')
}

func (w *resourceWriter) time(k string, t time.Time) {
	w.key(k)
	var ok bool
	if w.b, ok = plainjson.AppendTime(w.b, t); !ok {
		w.ok = false
	}
}

func (w *resourceWriter) timePtr(k string, t *time.Time) {
	if t == nil {
		w.key(k)
		w.b = append(w.b, "null"...)
		return
	}
	w.time(k, *t)
}

// array writes a slice's key and n elements, each by elem: null for a nil
// slice, as encoding/json writes it.
func (w *resourceWriter) array(k string, isNil bool, n int, elem func(i int)) {
	w.key(k)
	if isNil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		elem(i)
	}
	w.b = append(w.b, ']')
}

func (w *resourceWriter) resource(r *PlacementResource) {
	w.open()
	w.id("placementId", r.PlacementID)
	w.str("claimNumber", r.ClaimNumber)
	w.str("customerNumber", r.CustomerNumber)
	w.str("creditorId", r.CreditorID)
	w.str("status", string(r.Status))
	w.str("currency", r.Currency)
	w.str("feeRate", r.FeeRate)
	w.str("originalAmount", r.OriginalAmount)
	w.str("waivedAmount", r.WaivedAmount)
	w.str("recoveredAmount", r.RecoveredAmount)
	w.str("outstandingAmount", r.OutstandingAmount)
	w.str("feeAmount", r.FeeAmount)
	w.optPtr("agencyPaidAmount", r.AgencyPaidAmount)
	w.optPtr("writtenOffAmount", r.WrittenOffAmount)
	w.optPtr("recalledAmount", r.RecalledAmount)
	w.timePtr("resolvedAt", r.ResolvedAt)
	w.ptr("outcomeScore", r.OutcomeScore)
	w.array("invoices", r.Invoices == nil, len(r.Invoices), func(i int) {
		v := &r.Invoices[i]
		w.open()
		w.str("invoiceNumber", v.InvoiceNumber)
		w.str("contractNumber", v.ContractNumber)
		w.str("dueDate", v.DueDate)
		w.str("amount", v.Amount)
		w.str("waivedAmount", v.WaivedAmount)
		w.str("paidAmount", v.PaidAmount)
		w.str("openAmount", v.OpenAmount)
		w.optPtr("writtenOffAmount", v.WrittenOffAmount)
		w.optPtr("recalledAmount", v.RecalledAmount)
		w.opt("invoiceDate", v.InvoiceDate)
		w.opt("invoicedAmount", v.InvoicedAmount)
		w.close()
	})
	w.array("emailSequences", r.EmailSequences == nil, len(r.EmailSequences), func(i int) {
		v := &r.EmailSequences[i]
		w.open()
		w.id("sequenceId", v.SequenceID)
		w.str("status", v.Status)
		w.timePtr("nextSendAt", v.NextSendAt)
		w.close()
	})
	w.array("calls", r.Calls == nil, len(r.Calls), func(i int) {
		v := &r.Calls[i]
		w.open()
		w.id("callId", v.CallID)
		w.str("status", v.Status)
		w.time("scheduledAt", v.ScheduledAt)
		w.opt("outcome", v.Outcome)
		w.close()
	})
	w.time("placedAt", r.PlacedAt)
	w.key("revision")
	w.b = strconv.AppendUint(w.b, r.Revision, 10)
	if c := r.ChargesView; c != nil { // its fields are the resource's own
		w.str("costsAmount", c.CostsAmount)
		w.str("costsOpenAmount", c.CostsOpenAmount)
		w.str("interestsAmount", c.InterestsAmount)
		w.str("interestsOpenAmount", c.InterestsOpenAmount)
		w.str("overpaidAmount", c.OverpaidAmount)
		w.array("charges", c.Charges == nil, len(c.Charges), func(i int) {
			v := &c.Charges[i]
			w.open()
			w.str("type", v.Type)
			w.str("number", v.Number)
			w.str("amount", v.Amount)
			w.str("date", v.Date)
			w.opt("description", v.Description)
			w.close()
		})
	}
	w.close()
}
