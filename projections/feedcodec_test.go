package projections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// codecStream records the commands of a codecWorld as a placement's
// stream, each command's events with the metadata a command writes, at a
// schema version of its own.
type codecStream struct {
	w       *codecWorld
	records []journal.Record
}

// do decides c, folds it into the world and records its events.
func (s *codecStream) do(c domain.Command, schema int) {
	dec := domain.Decide(s.w.p, c)
	s.w.step(c)
	if dec.Repeat != nil || dec.Err != nil && len(dec.Events) == 0 {
		return
	}
	requestID := uuid.NewString()
	if s.w.rng.IntN(4) == 0 {
		requestID = fmt.Sprintf("req-%d", s.w.rng.IntN(1000))
	}
	for i, e := range dec.Events {
		n := len(s.records)
		s.records = append(s.records, journal.Record{ID: s.w.id(), Revision: uint64(n), Position: eventstore.Position(1000 + n), Type: e.EventType(),
			Event: e, Meta: journal.Metadata{RequestID: requestID, SchemaVersion: schema, OccurredAt: s.w.at, Index: i, Count: len(dec.Events),
				Hash: fmt.Sprintf("%016x%016x%016x%016x", s.w.rng.Uint64(), s.w.rng.Uint64(), s.w.rng.Uint64(), s.w.rng.Uint64())}})
	}
}

// planCommand is a random command of the payment plans.
func (w *codecWorld) planCommand() domain.Command {
	open := w.p.TotalOpen()
	switch w.rng.IntN(3) {
	case 0:
		half := open.Div(decimal.NewFromInt(2)).RoundDown(2)
		return domain.AgreePaymentPlan{PlanNumber: w.number("PL"), StartDate: w.at.Format(time.DateOnly), At: w.at,
			Installments: []domain.Installment{{DueDate: "2025-01-01", Amount: half}, {DueDate: "2025-02-01", Amount: open.Sub(half)}}}
	case 1:
		return domain.CancelPaymentPlan{PlanNumber: fmt.Sprintf("PL-%d", w.n), At: w.at}
	default:
		return domain.BreakPaymentPlan{At: w.at.AddDate(1, 0, 0)}
	}
}

// requireFeedItemRoundTrip encodes it, decodes it and requires both to
// render the same JSON, as the API serves it.
func requireFeedItemRoundTrip(t *testing.T, it FeedItem) []byte {
	t.Helper()
	want, err := json.Marshal(it)
	require.NoError(t, err)
	b := encodeFeedItem(nil, &it)
	got, err := feedItemJSON(b, it.SortNumber)
	require.NoError(t, err, "item %s", want)
	require.Equal(t, string(want), string(got))
	again, err := decodeFeedItem(b, it.SortNumber)
	require.NoError(t, err)
	require.Equal(t, b, encodeFeedItem(nil, &again), "the encoding is canonical: %s", want)
	return b
}

// TestFeedCodecRoundTripsFeeds renders the feeds of random claims in EUR,
// JPY and BHD (payments to the creditor and the agency, waivers and their
// cancellations, debits, reversals, pauses with and without their end,
// resumes, payment plans, recalls and write-offs, at every schema version
// and booked in and out of UTC) and requires each item to render after a
// round trip through the stored form exactly as before.
func TestFeedCodecRoundTripsFeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 11)) // fixed: a failure replays
	seen := map[string]int{}
	types := map[string]int{}
	jsonBytes, binBytes := 0, 0
	for run := range 150 {
		at := codecT0
		if run%4 == 1 {
			at = at.In(time.FixedZone("CET", 3600))
		}
		w := &codecWorld{rng: rng, cur: []string{"EUR", "JPY", "BHD"}[run%3], at: at, seen: seen}
		s := &codecStream{w: w}
		schema := 2 + run%(domain.SchemaVersion-1)
		s.do(w.handover(run), schema)
		require.True(t, w.p.Exists(), "run %d: the handover was refused", run)
		for range 10 + rng.IntN(30) {
			c := w.command()
			if rng.IntN(8) == 0 {
				c = w.planCommand()
			}
			s.do(c, schema)
		}
		for _, it := range FeedItems(s.records) {
			types[it.Type]++
			if it.Confirmation != nil {
				types[it.Confirmation.Type]++
			}
			if it.Status != nil {
				types[it.Status.Type]++
			}
			b := requireFeedItemRoundTrip(t, it)
			j, _ := json.Marshal(it)
			jsonBytes, binBytes = jsonBytes+len(j), binBytes+len(b)
		}
	}
	for _, typ := range []string{ItemConfirmation, ItemClosing, ItemAccountingDocument, ItemStatus, ConfirmInvoice, "PARTIAL_RECALL",
		domain.DocDirectPayment, domain.DocAgencyPayments, domain.DocCancellation, ConfirmPaymentPlan, "PAUSED", "RESUMED", "REOPENED"} {
		assert.Positive(t, types[typ], "no item of %s", typ)
	}
	t.Logf("items %v; JSON %d bytes, binary %d bytes (%.1f×)", types, jsonBytes, binBytes, float64(jsonBytes)/float64(binBytes))
}

// edgeFeedItems are items no ledger writes today but the stored form must
// keep: texts of every kind, amounts beyond minor units and beyond an
// int64, unknown currencies and types, dates that are not dates, times
// out of UTC, empty and nil line items.
func edgeFeedItems() []FeedItem {
	resume := time.Date(2026, 3, 1, 12, 30, 0, 5, time.FixedZone("", -5*3600-30*60))
	booked := time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	zero, big := 0, 1<<40
	huge := decimal.RequireFromString("123456789012345678901234567890.123456789")
	return []FeedItem{
		{},
		{SortNumber: 7, ID: uuid.New(), Type: "SOMETHING_NEW", CustomerNumber: "K1", ClaimNumber: "K1", RequestID: "8A6E0804-2BD0-4672-B79D-D97027F99B4B",
			Confirmation: &Confirmation{Date: "2024-02-30", Type: "NEW", Number: "K1", ContractNumber: "", Amount: Exact(huge), Currency: "XXX",
				BookedAt: &booked}},
		{Type: ItemConfirmation, Confirmation: &Confirmation{Date: "0000-01-01", Type: "RECALL", Amount: Exact(decimal.RequireFromString("-0.001")),
			Currency: "EUR", PaymentNumber: "P-1", CreditWaiverNumber: "P-1", PlanNumber: "ü€"}},
		{Type: ItemConfirmation, Confirmation: &Confirmation{Date: "9999-12-31", Amount: Exact(decimal.RequireFromString("12.5")), Currency: "JPY"}},
		{Type: ItemClosing, Closing: &Closing{Date: "", Type: "FULL_PAYMENT"}},
		{Type: ItemRejection, Rejection: &Rejection{Date: "2024-1-1", Type: "RECALL", Description: string(make([]byte, 300)), Number: "N", ContractNumber: "N", Reason: "OTHER"}},
		{Type: ItemAccountingDocument, AccountingDocument: &AccountingDocument{Date: "2026-11-21", Type: "DEBIT", Number: "D-1", Currency: "BHD",
			Amount: Exact(decimal.RequireFromString("1.2345"))}},
		{Type: ItemAccountingDocument, AccountingDocument: &AccountingDocument{Type: "CANCELLATION", LineItems: []LineItem{}, BookedAt: &resume}},
		{Type: ItemAccountingDocument, AccountingDocument: &AccountingDocument{LineItems: []LineItem{
			{InvoiceNumber: "I", ContractNumber: "I", Amount: Exact(decimal.New(-5, 3)), AllocateTo: "CLIENT_COSTS", CreditWaiverNumber: "W"},
			{InvoiceNumber: "I", ContractNumber: "C", Amount: Exact(decimal.New(9223372036854775807, -2))}}, Currency: "EUR", OriginalType: "DIRECT_PAYMENT",
			OriginalNumber: "D-1", PaymentNumber: "D-1"}},
		{Type: ItemStatus, Status: &StatusChange{Date: "2026-11-21", Type: "PAUSED", Status: "paused", Reason: "DISPUTE", ResumeAt: &resume}},
		{Type: ItemStatus, Status: &StatusChange{Type: "REOPENED", Automatic: true, ResumedSequences: &zero, PaymentNumber: "P", PlanNumber: "PL"}},
		{Type: ItemStatus, Status: &StatusChange{ResumedSequences: &big},
			Confirmation: &Confirmation{}, Closing: &Closing{}, Rejection: &Rejection{}, AccountingDocument: &AccountingDocument{}},
	}
}

func TestFeedCodecEdgeCases(t *testing.T) {
	for i, it := range edgeFeedItems() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { requireFeedItemRoundTrip(t, it) })
	}
}

// TestFeedCodecServesJSONItems: items an older feed unit stored as JSON
// are served as they are.
func TestFeedCodecServesJSONItems(t *testing.T) {
	stored := `{"sortNumber":3,"id":"00000000-0000-0000-0000-000000000000","type":"CLOSING","customerNumber":"K1","claimNumber":"C","closing":{"date":"2026-11-21","type":"FULL_PAYMENT"}}`
	got, err := feedItemJSON([]byte(stored), 3)
	require.NoError(t, err)
	assert.Equal(t, stored, string(got))
	it, err := decodeFeedItem([]byte(stored), 3)
	require.NoError(t, err)
	assert.Equal(t, "FULL_PAYMENT", it.Closing.Type)
}

func TestFeedCodecRefuses(t *testing.T) {
	good := encodeFeedItem(nil, &edgeFeedItems()[1])
	for name, b := range map[string][]byte{
		"empty":           {},
		"unknown format":  {0x7f},
		"cut short":       good[:len(good)-1],
		"trailing bytes":  append(append([]byte(nil), good...), 0),
		"unknown type":    {feedFormat1, 'z'},
		"unknown parts":   append(encodeFeedItem(nil, &FeedItem{Type: ItemClosing})[:20], 0x80),
		"bad text tag":    {feedFormat1, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3},
		"bad text ref":    {feedFormat1, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x7f},
		"bad uuid text":   {feedFormat1, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6},
		"text cut short":  {feedFormat1, 'c', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 'a'},
		"day beyond date": append(encodeFeedItem(nil, &FeedItem{})[:21], partClosing, 0xff, 0xff, 0xff, 0x7f, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeFeedItem(b, 0)
			require.Error(t, err)
			_, err = feedItemJSON(b, 0)
			require.Error(t, err)
		})
	}
}

// FuzzDecodeFeedItem: decoding arbitrary bytes never panics, and what
// decodes encodes again to bytes that decode to the same item.
func FuzzDecodeFeedItem(f *testing.F) {
	for _, it := range edgeFeedItems() {
		f.Add(encodeFeedItem(nil, &it))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	w := &codecWorld{rng: rng, cur: "BHD", at: codecT0, seen: map[string]int{}}
	s := &codecStream{w: w}
	s.do(w.handover(2), domain.SchemaVersion)
	for range 20 {
		s.do(w.command(), domain.SchemaVersion)
	}
	for _, it := range FeedItems(s.records) {
		f.Add(encodeFeedItem(nil, &it))
	}
	f.Add([]byte{})
	f.Add([]byte{feedFormat1})
	f.Add([]byte(`{"sortNumber":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeFeedItem(b, 9)
		_, _ = feedItemJSON(b, 9)
		if err != nil || b[0] != feedFormat1 {
			return
		}
		again, err := decodeFeedItem(encodeFeedItem(nil, &it), 9)
		require.NoError(t, err)
		want, errWant := json.Marshal(it)
		got, errGot := json.Marshal(again)
		require.Equal(t, errWant == nil, errGot == nil)
		require.Equal(t, string(want), string(got))
	})
}

// TestFeedRowsRoundTrip: a row of several items gives each back with its
// sortNumber, from the row's first on, as the items alone would; a row
// whose lengths run past it, or that holds an empty item, is refused.
func TestFeedRowsRoundTrip(t *testing.T) {
	items := edgeFeedItems()
	for n := 2; n <= len(items); n++ {
		row, _ := appendFeedRow([]byte("kept"), nil, items[:n])
		require.Equal(t, "kept", string(row[:4]))
		var got []uint64
		require.NoError(t, eachStoredItem(row[4:], 40, func(b []byte, sort uint64) (bool, error) {
			i := int(sort - 40)
			assert.Equal(t, encodeFeedItem(nil, &items[i]), b, "item %d of %d", i, n)
			got = append(got, sort)
			return true, nil
		}))
		require.Len(t, got, n)
		for i := range n {
			alone, err := feedItemJSON(encodeFeedItem(nil, &items[i]), 40+uint64(i))
			require.NoError(t, err)
			fromRow, err := storedItemJSON(row[4:], 40, 40+uint64(i))
			require.NoError(t, err)
			assert.Equal(t, string(alone), string(fromRow))
		}
		_, err := storedItemJSON(row[4:], 40, 40+uint64(n))
		assert.Error(t, err, "no item past the row's last")
	}
	row, _ := appendFeedRow(nil, nil, items[:3])
	for name, b := range map[string][]byte{
		"cut short":  row[:len(row)-1],
		"past it":    {feedRowFormat, 5, feedFormat1},
		"empty item": {feedRowFormat, 0},
		"bad length": {feedRowFormat, 0xff},
	} {
		t.Run(name, func(t *testing.T) {
			err := eachStoredItem(b, 0, func([]byte, uint64) (bool, error) { return true, nil })
			require.Error(t, err)
		})
	}
}
