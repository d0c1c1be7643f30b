package projections_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

var feedT0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// stream records commands' events as a placement's stream, each command's
// events with the metadata a command writes (request id, index, count) at
// one schema version.
type stream struct {
	schema  int
	records []journal.Record
}

func (s *stream) add(requestID string, events ...domain.Event) {
	for i, e := range events {
		_, data, err := domain.EncodeEvent(e)
		if err != nil {
			panic(err)
		}
		n := len(s.records)
		s.records = append(s.records, journal.Record{
			ID: uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%s/%d", requestID, i)), Revision: uint64(n),
			Position: eventstore.Position(n + 1), Type: e.EventType(), Data: data, Event: e,
			Meta: journal.Metadata{RequestID: requestID, SchemaVersion: s.schema, OccurredAt: feedT0, Index: i, Count: len(events),
				Actor: "acme", ActorType: journal.ActorCreditor},
		})
	}
}

func feedInvoices() []domain.Invoice {
	return []domain.Invoice{
		{InvoiceNumber: "I-1", ContractNumber: "C-1", Amount: domain.AmountOf(decimal.RequireFromString("100")), DueDate: "2024-05-01"},
		{InvoiceNumber: "I-2", ContractNumber: "C-1", Amount: domain.AmountOf(decimal.RequireFromString("300")), DueDate: "2024-06-01"},
	}
}

func opened() domain.PlacementOpened {
	return domain.PlacementOpened{PlacementID: uuid.MustParse("44444444-4444-4444-8444-444444444444"), CreditorID: "acme",
		ClaimNumber: "FEED-1", CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"), Invoices: feedInvoices(), OpenedAt: feedT0}
}

func feedJSON(t *testing.T, records []journal.Record) string {
	t.Helper()
	b, err := json.Marshal(projections.FeedItems(records))
	require.NoError(t, err)
	return string(b)
}

// schema3WaiversThatClearTheClaim are the events the ledger of schema 3
// recorded for waivers that cleared a claim (with a CANCELLATION of 0),
// then a partial recall of the closed claim.
func schema3WaiversThatClearTheClaim() *stream {
	s := &stream{schema: 3}
	amt := decimal.RequireFromString
	s.add("r-open", opened())
	s.add("r-waive",
		domain.CreditWaiverIssued{CreditWaiverNumber: "CW-1", InvoiceNumber: "I-1", ContractNumber: "C-1", Date: "2026-11-20", Amount: domain.AmountOf(amt("100")), Currency: "EUR"},
		domain.CreditWaiverIssued{CreditWaiverNumber: "CW-2", InvoiceNumber: "I-2", ContractNumber: "C-1", Date: "2026-11-20", Amount: domain.AmountOf(amt("300")), Currency: "EUR"},
		domain.AccountingDocumentIssued{DocumentNumber: "FEED-1-AD001", Type: domain.DocCreditWaiver, Date: "2026-11-21", Amount: domain.AmountOf(amt("-400")), Currency: "EUR",
			LineItems: []domain.LineItem{{InvoiceNumber: "I-1", ContractNumber: "C-1", Amount: domain.AmountOf(amt("-100"))}, {InvoiceNumber: "I-2", ContractNumber: "C-1", Amount: domain.AmountOf(amt("-300"))}}},
		domain.PlacementRecalled{RecalledAt: feedT0, OutstandingAmount: decimal.Zero},
		domain.SequencesPaused{SequenceIDs: []uuid.UUID{}},
		domain.CallsCancelled{CallIDs: []uuid.UUID{}},
		domain.OutcomeScoreSnapshotted{Score: decimal.Zero, RecoveredAmount: decimal.Zero, OriginalAmount: amt("400")},
		domain.AccountingDocumentIssued{DocumentNumber: "FEED-1-AD002", Type: domain.DocCancellation, Date: "2026-11-21", Amount: domain.AmountOf(decimal.Zero), Currency: "EUR", LineItems: []domain.LineItem{}},
	)
	s.add("r-late", domain.RecallRejected{Kind: domain.RecallPartial, Status: domain.StatusRecalled, Reason: domain.RejectedReason, RejectedAt: feedT0})
	return s
}

// What the ledger of schema 3 (commit 531ccec) rendered for them, byte for
// byte: a CONFIRMATION and a CANCELLATION of 0, a REJECTION typed RECALL.
const schema3WaiversFeed = `[{"sortNumber":0,"id":"ITEM0","type":"CONFIRMATION","customerNumber":"K1","claimNumber":"FEED-1","confirmation":{"date":"2026-11-21","type":"PARTIAL_RECALL","number":"K1","contractNumber":"C-1","amount":100,"currency":"EUR"}},` +
	`{"sortNumber":1,"id":"ITEM1","type":"CONFIRMATION","customerNumber":"K1","claimNumber":"FEED-1","confirmation":{"date":"2026-11-21","type":"PARTIAL_RECALL","number":"K1","contractNumber":"C-1","amount":300,"currency":"EUR"}},` +
	`{"sortNumber":2,"id":"ITEM2","type":"ACCOUNTING_DOCUMENT","customerNumber":"K1","claimNumber":"FEED-1","accountingDocument":{"date":"2026-11-21","type":"CREDIT_WAIVER","number":"FEED-1-AD001","amount":-400,"currency":"EUR","lineItems":[{"invoiceNumber":"I-1","contractNumber":"C-1","amount":-100},{"invoiceNumber":"I-2","contractNumber":"C-1","amount":-300}]}},` +
	`{"sortNumber":3,"id":"ITEM3","type":"CONFIRMATION","customerNumber":"K1","claimNumber":"FEED-1","confirmation":{"date":"2026-11-21","type":"RECALL","number":"K1","contractNumber":"","amount":0}},` +
	`{"sortNumber":4,"id":"ITEM4","type":"ACCOUNTING_DOCUMENT","customerNumber":"K1","claimNumber":"FEED-1","accountingDocument":{"date":"2026-11-21","type":"CANCELLATION","number":"FEED-1-AD002","amount":0,"currency":"EUR","lineItems":[]}},` +
	`{"sortNumber":5,"id":"ITEM5","type":"CLOSING","customerNumber":"K1","claimNumber":"FEED-1","closing":{"date":"2026-11-21","type":"RECALLED_BY_CLIENT"}},` +
	`{"sortNumber":6,"id":"ITEM6","type":"REJECTION","customerNumber":"K1","claimNumber":"FEED-1","rejection":{"date":"2026-11-21","type":"RECALL","description":"Das Verfahren ist bereits eingestellt.","number":"K1","contractNumber":"","reason":"OTHER"}}]`

// TestFeedOfSchema3EventsIsUnchanged: events recorded before schema 4 keep
// their items byte for byte: no requestId, no creditWaiverNumber, their
// CONFIRMATION and CANCELLATION of 0, a partial recall's REJECTION typed
// RECALL.
func TestFeedOfSchema3EventsIsUnchanged(t *testing.T) {
	s := schema3WaiversThatClearTheClaim()
	items := projections.FeedItems(s.records)
	want := schema3WaiversFeed
	for i, it := range items {
		want = replaceOnce(want, fmt.Sprintf(`"ITEM%d"`, i), fmt.Sprintf("%q", it.ID.String()))
	}
	assert.Equal(t, want, feedJSON(t, s.records))
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

// TestFeedTracesItemsToTheirCommands: from schema 4 on, every item names
// the request that caused it; a waiver's CONFIRMATION and document line its
// creditWaiverNumber; a payment's and a reversal's document the payment; a
// partial recall rejected on a closed claim is a PARTIAL_RECALL REJECTION;
// waivers that clear the claim give no item of 0; a reopening says how many
// sequences it resumed.
func TestFeedTracesItemsToTheirCommands(t *testing.T) {
	s := &stream{schema: domain.SchemaVersion}
	var p domain.Placement
	decide := func(requestID string, c domain.Command) {
		t.Helper()
		dec := domain.Decide(p, c)
		require.NotEmpty(t, dec.Events, "%T: %v", c, dec.Err)
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
		}
		s.add(requestID, dec.Events...)
	}
	amt := decimal.RequireFromString
	decide("r-open", domain.Place{PlacementID: opened().PlacementID, CreditorID: "acme", ClaimNumber: "FEED-1", CustomerNumber: "K1",
		Currency: "EUR", FeeRate: amt("0.2"), Invoices: feedInvoices(), At: feedT0})
	decide("r-seq", domain.StartEmailSequence{SequenceID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), NextSendAt: feedT0.Add(time.Hour), At: feedT0})
	decide("r-pay", domain.ReceivePayment{PaymentNumber: "P-1", Amount: amt("400"), At: feedT0})
	decide("r-reverse", domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: feedT0})
	decide("r-waive", domain.PartialRecall{Waivers: []domain.Waiver{
		{CreditWaiverNumber: "CW-1", InvoiceNumber: "I-1", ContractNumber: "C-1", Date: "2026-11-20", Amount: amt("100"), Currency: "EUR"},
		{CreditWaiverNumber: "CW-2", InvoiceNumber: "I-2", ContractNumber: "C-1", Date: "2026-11-20", Amount: amt("300"), Currency: "EUR"},
	}, At: feedT0})
	decide("r-late", domain.PartialRecall{Waivers: []domain.Waiver{
		{CreditWaiverNumber: "CW-3", InvoiceNumber: "I-1", ContractNumber: "C-1", Date: "2026-11-20", Amount: amt("1"), Currency: "EUR"},
	}, At: feedT0})

	items := projections.FeedItems(s.records)
	var got []string
	for _, it := range items {
		var what string
		switch {
		case it.Confirmation != nil:
			what = fmt.Sprintf("%s %s %s pay=%s cw=%s", it.Type, it.Confirmation.Type, decimal.Decimal(it.Confirmation.Amount), it.Confirmation.PaymentNumber, it.Confirmation.CreditWaiverNumber)
		case it.AccountingDocument != nil:
			doc := it.AccountingDocument
			what = fmt.Sprintf("%s %s %s pay=%s", it.Type, doc.Type, decimal.Decimal(doc.Amount), doc.PaymentNumber)
			for _, l := range doc.LineItems {
				if doc.Type == domain.DocCreditWaiver {
					what += " line=" + l.CreditWaiverNumber
				}
			}
		case it.Closing != nil:
			what = it.Type + " " + it.Closing.Type
		case it.Rejection != nil:
			what = it.Type + " " + it.Rejection.Type
		case it.Status != nil:
			require.NotNil(t, it.Status.ResumedSequences)
			what = fmt.Sprintf("%s %s resumed=%d", it.Type, it.Status.Type, *it.Status.ResumedSequences)
		}
		got = append(got, it.RequestID+": "+what)
	}
	assert.Equal(t, []string{
		"r-open: CONFIRMATION INVOICE 100 pay= cw=", // schema 5 on: the handover confirms its invoices
		"r-open: CONFIRMATION INVOICE 300 pay= cw=",
		"r-pay: CONFIRMATION DIRECT_PAYMENT 400 pay=P-1 cw=",
		"r-pay: ACCOUNTING_DOCUMENT DIRECT_PAYMENT -400 pay=P-1",
		"r-pay: CLOSING FULL_PAYMENT",
		"r-reverse: ACCOUNTING_DOCUMENT REALLOCATION 400 pay=P-1",
		"r-reverse: STATUS REOPENED resumed=1",
		"r-waive: CONFIRMATION PARTIAL_RECALL 100 pay= cw=CW-1",
		"r-waive: CONFIRMATION PARTIAL_RECALL 300 pay= cw=CW-2",
		"r-waive: ACCOUNTING_DOCUMENT CREDIT_WAIVER -400 pay= line=CW-1 line=CW-2",
		"r-waive: CLOSING RECALLED_BY_CLIENT",
		"r-late: REJECTION PARTIAL_RECALL",
	}, got)
	b, err := json.Marshal(items[6])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"requestId":"r-reverse"`)
	assert.Contains(t, string(b), `"resumedSequences":1`)
}

// valueDatedStream decides a handover, a dated payment, its dated reversal
// and a dated waiver, recorded at the given schema version.
func valueDatedStream(t *testing.T, schema int) []journal.Record {
	t.Helper()
	s := &stream{schema: schema}
	var p domain.Placement
	amt := decimal.RequireFromString
	for _, c := range []struct {
		id  string
		cmd domain.Command
	}{
		{"r-open", domain.Place{PlacementID: opened().PlacementID, CreditorID: "acme", ClaimNumber: "FEED-1", CustomerNumber: "K1",
			Currency: "EUR", FeeRate: amt("0.2"), Invoices: feedInvoices(), At: feedT0}},
		{"r-pay", domain.ReceivePayment{PaymentNumber: "P-1", Amount: amt("50"), Date: "2026-11-01", At: feedT0}},
		{"r-reverse", domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, Date: "2026-11-15", At: feedT0}},
		{"r-waive", domain.PartialRecall{Waivers: []domain.Waiver{
			{CreditWaiverNumber: "CW-1", InvoiceNumber: "I-2", ContractNumber: "C-1", Date: "2026-11-20", Amount: amt("10"), Currency: "EUR"}}, At: feedT0}},
	} {
		dec := domain.Decide(p, c.cmd)
		require.NoError(t, dec.Err, c.id)
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
		}
		s.add(c.id, dec.Events...)
	}
	return s.records
}

// TestFeedIsValueDatedFromSchema5: a handover of schema 5 confirms each
// invoice (INVOICE, its number, remaining amount, currency and contract)
// before anything else of the claim; confirmations and documents carry the
// value date as date and the booking time as bookedAt. Events of schema 4
// have neither INVOICE items nor bookedAt.
func TestFeedIsValueDatedFromSchema5(t *testing.T) {
	items := projections.FeedItems(valueDatedStream(t, domain.SchemaVersion))
	type row struct {
		Sort                         uint64
		Type, Kind, Number, Contract string
		Amount, Currency, Date       string
		BookedAt                     *time.Time
	}
	var got []row
	for _, it := range items {
		r := row{Sort: it.SortNumber, Type: it.Type}
		switch {
		case it.Confirmation != nil:
			cf := it.Confirmation
			r.Kind, r.Number, r.Contract, r.Amount, r.Currency, r.Date, r.BookedAt = cf.Type, cf.Number, cf.ContractNumber, decimal.Decimal(cf.Amount).String(), cf.Currency, cf.Date, cf.BookedAt
		case it.AccountingDocument != nil:
			doc := it.AccountingDocument
			r.Kind, r.Number, r.Amount, r.Currency, r.Date, r.BookedAt = doc.Type, doc.Number, decimal.Decimal(doc.Amount).String(), doc.Currency, doc.Date, doc.BookedAt
		default:
			continue
		}
		got = append(got, r)
	}
	at := feedT0
	assert.Equal(t, []row{
		{0, "CONFIRMATION", "INVOICE", "I-1", "C-1", "100", "EUR", "2026-11-21", &at},
		{1, "CONFIRMATION", "INVOICE", "I-2", "C-1", "300", "EUR", "2026-11-21", &at},
		{2, "CONFIRMATION", "DIRECT_PAYMENT", "K1", "", "50", "EUR", "2026-11-01", &at},
		{3, "ACCOUNTING_DOCUMENT", "DIRECT_PAYMENT", "FEED-1-AD001", "", "-50", "EUR", "2026-11-01", &at},
		{4, "ACCOUNTING_DOCUMENT", "REALLOCATION", "FEED-1-AD002", "", "50", "EUR", "2026-11-15", &at},
		{5, "CONFIRMATION", "PARTIAL_RECALL", "K1", "C-1", "10", "EUR", "2026-11-20", &at},
		{6, "ACCOUNTING_DOCUMENT", "CREDIT_WAIVER", "FEED-1-AD003", "", "-10", "EUR", "2026-11-20", &at},
	}, got)
	b, err := json.Marshal(items[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"bookedAt":"2026-11-21T09:00:00Z"`)

	old, err := json.Marshal(projections.FeedItems(valueDatedStream(t, 4)))
	require.NoError(t, err)
	assert.NotContains(t, string(old), "bookedAt", "items of schema 4 events stay as they were")
	assert.NotContains(t, string(old), `"INVOICE"`)
}
