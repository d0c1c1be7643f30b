package webhook_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/webhook"
)

func TestValidateEvents(t *testing.T) {
	cases := map[string]struct {
		events  []string
		present bool
		want    []string
		index   int // of the refused entry; -2: accepted
	}{
		"absent is the default":                        {present: false, want: nil, index: -2},
		"status changes alone recorded as the default": {events: []string{"placement.status_changed"}, present: true, want: nil, index: -2},
		"several":    {events: []string{"payment.received", "claim.closed"}, present: true, want: []string{"payment.received", "claim.closed"}, index: -2},
		"every type": {events: webhook.EventTypes, present: true, want: webhook.EventTypes, index: -2},
		"empty":      {events: []string{}, present: true, index: -1},
		"unknown":    {events: []string{"payment.received", "payment.refunded"}, present: true, index: 1},
		"wrong case": {events: []string{"Payment.Received"}, present: true, index: 0},
		"duplicate":  {events: []string{"claim.closed", "payment.received", "claim.closed"}, present: true, index: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := webhook.ValidateEvents(tc.events, tc.present)
			if tc.index == -2 {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var ee *webhook.EventsError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tc.index, ee.Index)
		})
	}
}

func (l *ledger) configureEvents(t *testing.T, url string, events ...string) {
	_, err := journal.AppendSystem(context.Background(), l.store, journal.WebhookStream("acme"), "acme", journal.ActorCreditor,
		journal.WebhookConfiguredType, journal.WebhookConfigured{CreditorID: "acme", URL: url, Secret: secret, Events: events}, time.Now())
	require.NoError(t, err)
}

// placeAndPay places a claim of 100.00 EUR and pays it in the amounts
// given, and returns the document each payment was booked on.
func (l *ledger) placeAndPay(t *testing.T, claim string, amounts ...string) (uuid.UUID, []string) {
	ctx := context.Background()
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	res, err := l.h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: claim,
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	id := res.Placement.ID
	for i, a := range amounts {
		number := claim + "-P" + string(rune('1'+i))
		_, err := l.h.Execute(ctx, id, req, func(at time.Time) domain.Command {
			return domain.ReceivePayment{PaymentNumber: number, Amount: decimal.RequireFromString(a), At: at}
		})
		require.NoError(t, err)
	}
	recs, err := l.store.ReadStream(ctx, journal.PlacementStream(id), 0, 100)
	require.NoError(t, err)
	var docs []string
	for _, rec := range recs {
		if rec.Type == domain.TypeAccountingDocumentIssued {
			var d domain.AccountingDocumentIssued
			require.NoError(t, json.Unmarshal(rec.Data, &d))
			if d.PaymentNumber != "" {
				docs = append(docs, d.DocumentNumber)
			}
		}
	}
	require.Len(t, docs, len(amounts))
	return id, docs
}

// A subscription to payments and closings gets one delivery per payment,
// with its amount and document, then the status change and the closing the
// last one caused, in log order.
func TestEventTypesDeliveredInLogOrder(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 1) // the first attempt fails: a retry keeps the order
	l.configureEvents(t, rcv.URL, "payment.received", "placement.status_changed", "claim.closed")
	id, docs := l.placeAndPay(t, "CL-9", "30", "70")
	start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) >= 4 }, wait, 5*time.Millisecond)
	got := rcv.payloads()
	require.Len(t, got, 4)
	type seen struct{ typ, amount, doc, fee, status, reason string }
	var summary []seen
	for _, p := range got {
		assert.Equal(t, id.String(), p.Data.PlacementID)
		assert.Equal(t, "CL-9", p.Data.ClaimNumber)
		summary = append(summary, seen{p.Type, p.Data.Amount, p.Data.DocumentNumber, p.Data.FeeAmount, p.Data.Status, p.Data.Reason})
	}
	assert.Equal(t, []seen{
		{"payment.received", "30.00", docs[0], "6.00", "", ""},
		{"payment.received", "70.00", docs[1], "20.00", "", ""},
		{"placement.status_changed", "", "", "", "paid", ""},
		{"claim.closed", "", "", "20.00", "", "paid"},
	}, summary)
	assert.Less(t, got[0].Position, got[1].Position)
	assert.Less(t, got[1].Position, got[2].Position)
	assert.Equal(t, got[2].Position, got[3].Position, "the status change and the closing are one event's")
	ids := map[string]bool{}
	for _, p := range got {
		ids[p.ID] = true
	}
	assert.Len(t, ids, 4, "each payload has its own id")
	assert.Zero(t, rcv.badSig.Load())
}

// The default subscription (no events recorded, as every configuration
// made before there were types) still gets the status changes alone, with
// the payload it always had.
func TestDefaultSubscriptionStatusChangesOnly(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 0)
	l.configure(t, rcv.URL)
	id, _ := l.placeAndPay(t, "CL-8", "40", "60")
	start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) >= 1 }, wait, 5*time.Millisecond)
	// A recall after it, to know everything before was offered.
	p2, _ := l.placeAndRecall(t, "CL-7")
	require.Eventually(t, func() bool { return len(rcv.payloads()) >= 2 }, wait, 5*time.Millisecond)
	got := rcv.payloads()
	require.Len(t, got, 2)
	assert.Equal(t, webhook.EventStatusChanged, got[0].Type)
	assert.Equal(t, id.String(), got[0].Data.PlacementID)
	assert.Equal(t, "active→paid", got[0].Data.PreviousStatus+"→"+got[0].Data.Status)
	assert.Equal(t, p2.String(), got[1].Data.PlacementID)
	assert.Empty(t, got[0].Data.Amount)
}

// A status_changed payload is byte for byte what it was before there were
// other types.
func TestStatusPayloadUnchanged(t *testing.T) {
	p := webhook.Payload{ID: "e", Type: webhook.EventStatusChanged, OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Position: 7}
	p.Data.PlacementID, p.Data.ClaimNumber, p.Data.CustomerNumber, p.Data.PreviousStatus, p.Data.Status = "pl", "CL-1", "K1", "active", "recalled"
	b, err := json.Marshal(p)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"e","type":"placement.status_changed","occurredAt":"2026-01-02T03:04:05Z","position":7,`+
		`"data":{"placementId":"pl","claimNumber":"CL-1","customerNumber":"K1","previousStatus":"active","status":"recalled"}}`, string(b))
	assert.Equal(t, `{"id":"e","type":"placement.status_changed","occurredAt":"2026-01-02T03:04:05Z","position":7,`+
		`"data":{"placementId":"pl","claimNumber":"CL-1","customerNumber":"K1","previousStatus":"active","status":"recalled"}}`, string(b))
}

// Waivers, reversals, reopenings and erasures each get their notice, with
// the amounts and documents the log recorded.
func TestEventTypesWaiverReversalErasure(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 0)
	l.configureEvents(t, rcv.URL, "credit_waiver.issued", "payment.reversed", "claim.reopened", "personal_data.erased")
	ctx := context.Background()
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	id, _ := l.placeAndPay(t, "CL-6")
	_, err := l.h.Execute(ctx, id, req, func(at time.Time) domain.Command {
		return domain.PartialRecall{At: at, Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1", InvoiceNumber: "I1", ContractNumber: "C1",
			Date: "2024-02-01", Amount: decimal.RequireFromString("10"), Currency: "EUR"}}}
	})
	require.NoError(t, err)
	for _, c := range []func(time.Time) domain.Command{
		func(at time.Time) domain.Command {
			return domain.ReceivePayment{PaymentNumber: "P-9", Amount: decimal.RequireFromString("90"), At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReversePayment{PaymentNumber: "P-9", Reason: domain.ReversalReturned, At: at}
		},
	} {
		_, err := l.h.Execute(ctx, id, req, c)
		require.NoError(t, err)
	}
	_, err = journal.AppendSystem(ctx, l.store, journal.DebtorStream("acme", "K1"), "acme", journal.ActorCreditor,
		journal.DebtorPersonalDataErasedType, journal.DebtorPersonalDataErased{CreditorID: "acme", CustomerNumber: "K1", Reason: journal.ErasureDataSubjectRequest}, time.Now())
	require.NoError(t, err)
	start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) >= 4 }, wait, 5*time.Millisecond)
	// In log order per placement; the erasure (a debtor's) goes out beside them.
	var got []webhook.Payload
	var erased *webhook.Payload
	for _, p := range rcv.payloads() {
		if p.Type == "personal_data.erased" {
			erased = &p
			continue
		}
		got = append(got, p)
	}
	require.Len(t, got, 3)
	require.NotNil(t, erased)
	assert.Equal(t, "credit_waiver.issued", got[0].Type)
	assert.Equal(t, "W-1", got[0].Data.CreditWaiverNumber)
	assert.Equal(t, "10.00", got[0].Data.Amount)
	assert.NotEmpty(t, got[0].Data.DocumentNumber)
	assert.Equal(t, "payment.reversed", got[1].Type)
	assert.Equal(t, "90.00", got[1].Data.Amount)
	assert.Equal(t, "0.00", got[1].Data.FeeAmount, "the fee after the reversal")
	assert.Equal(t, domain.ReversalReturned, got[1].Data.Reason)
	assert.NotEmpty(t, got[1].Data.DocumentNumber)
	assert.NotEqual(t, got[0].Data.DocumentNumber, got[1].Data.DocumentNumber)
	assert.Equal(t, "claim.reopened", got[2].Type)
	assert.Equal(t, "P-9", got[2].Data.PaymentNumber)
	for _, p := range got[:3] {
		assert.Equal(t, id.String(), p.Data.PlacementID)
		assert.Equal(t, "CL-6", p.Data.ClaimNumber)
	}
	assert.Equal(t, "K1", erased.Data.CustomerNumber)
	assert.Empty(t, erased.Data.PlacementID, "an erasure concerns a debtor, not a placement")
	assert.Empty(t, erased.Data.ClaimNumber)
	assert.Equal(t, journal.ErasureDataSubjectRequest, erased.Data.Reason)
}
