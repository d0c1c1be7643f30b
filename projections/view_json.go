package projections

import (
	"encoding/json"
	"time"

	"github.com/collections-ledger/ledger/internal/plainjson"
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
	w := plainjson.Writer{B: b}
	writeResource(&w, r)
	if w.Refused {
		return b, false
	}
	return w.B, true
}

// optPtr writes an omitempty *string: absent when nil.
func optPtr(w *plainjson.Writer, k string, s *string) {
	if s != nil {
		w.String(k, *s)
	}
}

// ptr writes a *string, null when nil.
func ptr(w *plainjson.Writer, k string, s *string) {
	if s == nil {
		w.Null(k)
		return
	}
	w.String(k, *s)
}

// timePtr writes a *time.Time, null when nil.
func timePtr(w *plainjson.Writer, k string, t *time.Time) {
	if t == nil {
		w.Null(k)
		return
	}
	w.Time(k, *t)
}

func writeResource(w *plainjson.Writer, r *PlacementResource) {
	w.Open()
	w.UUID("placementId", r.PlacementID)
	w.String("claimNumber", r.ClaimNumber)
	w.String("customerNumber", r.CustomerNumber)
	w.String("creditorId", r.CreditorID)
	w.String("status", string(r.Status))
	w.String("currency", r.Currency)
	w.String("feeRate", r.FeeRate)
	w.String("originalAmount", r.OriginalAmount)
	w.String("waivedAmount", r.WaivedAmount)
	w.String("recoveredAmount", r.RecoveredAmount)
	w.String("outstandingAmount", r.OutstandingAmount)
	w.String("feeAmount", r.FeeAmount)
	optPtr(w, "agencyPaidAmount", r.AgencyPaidAmount)
	optPtr(w, "writtenOffAmount", r.WrittenOffAmount)
	optPtr(w, "recalledAmount", r.RecalledAmount)
	timePtr(w, "resolvedAt", r.ResolvedAt)
	ptr(w, "outcomeScore", r.OutcomeScore)
	w.Array("invoices", r.Invoices == nil, len(r.Invoices), func(i int) {
		v := &r.Invoices[i]
		w.String("invoiceNumber", v.InvoiceNumber)
		w.String("contractNumber", v.ContractNumber)
		w.String("dueDate", v.DueDate)
		w.String("amount", v.Amount)
		w.String("waivedAmount", v.WaivedAmount)
		w.String("paidAmount", v.PaidAmount)
		w.String("openAmount", v.OpenAmount)
		optPtr(w, "writtenOffAmount", v.WrittenOffAmount)
		optPtr(w, "recalledAmount", v.RecalledAmount)
		w.OptString("invoiceDate", v.InvoiceDate)
		w.OptString("invoicedAmount", v.InvoicedAmount)
	})
	w.Array("emailSequences", r.EmailSequences == nil, len(r.EmailSequences), func(i int) {
		v := &r.EmailSequences[i]
		w.UUID("sequenceId", v.SequenceID)
		w.String("status", v.Status)
		timePtr(w, "nextSendAt", v.NextSendAt)
	})
	w.Array("calls", r.Calls == nil, len(r.Calls), func(i int) {
		v := &r.Calls[i]
		w.UUID("callId", v.CallID)
		w.String("status", v.Status)
		w.Time("scheduledAt", v.ScheduledAt)
		w.OptString("outcome", v.Outcome)
	})
	w.Time("placedAt", r.PlacedAt)
	w.Uint("revision", r.Revision)
	if c := r.ChargesView; c != nil { // its fields are the resource's own
		w.String("costsAmount", c.CostsAmount)
		w.String("costsOpenAmount", c.CostsOpenAmount)
		w.String("interestsAmount", c.InterestsAmount)
		w.String("interestsOpenAmount", c.InterestsOpenAmount)
		w.String("overpaidAmount", c.OverpaidAmount)
		w.Array("charges", c.Charges == nil, len(c.Charges), func(i int) {
			v := &c.Charges[i]
			w.String("type", v.Type)
			w.String("number", v.Number)
			w.String("amount", v.Amount)
			w.String("date", v.Date)
			w.OptString("description", v.Description)
		})
	}
	w.Close()
}
