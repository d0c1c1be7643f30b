package domain_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

var (
	t0      = time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	seqID   = uuid.MustParse("11111111-1111-4111-8111-111111111111")
	callID  = uuid.MustParse("22222222-2222-4222-8222-222222222222")
	call2ID = uuid.MustParse("33333333-3333-4333-8333-333333333333")
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func place() domain.Place {
	return domain.Place{
		PlacementID: uuid.MustParse("44444444-4444-4444-8444-444444444444"), CreditorID: "acme",
		ClaimNumber: "DE-S242243704005", CustomerNumber: "K508647", Currency: "EUR", FeeRate: d("0.20"),
		Invoices: []domain.Invoice{
			{InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Amount: domain.AmountOf(d("100")), DueDate: "2024-05-01"},
			{InvoiceNumber: "I0417211449", ContractNumber: "166271782837", Amount: domain.AmountOf(d("300")), DueDate: "2024-06-01"},
		},
		At: t0,
	}
}

// MustApply decides c against p, requires success and returns the new state.
func MustApply(tb testing.TB, p domain.Placement, c domain.Command) domain.Placement {
	tb.Helper()
	dec := domain.Decide(p, c)
	require.NoError(tb, dec.Err)
	for _, e := range dec.Events {
		p = domain.Evolve(p, e)
	}
	return p
}

// states builds a placement in each status, with an active sequence, a
// scheduled call and a call in progress where it can have them.
func states(t *testing.T) map[string]domain.Placement {
	active := MustApply(t, domain.Placement{}, place())
	active = MustApply(t, active, domain.StartEmailSequence{SequenceID: seqID, NextSendAt: t0.Add(time.Hour), At: t0})
	active = MustApply(t, active, domain.ScheduleCall{CallID: callID, ScheduledAt: t0.Add(time.Hour), At: t0})
	active = MustApply(t, active, domain.ScheduleCall{CallID: call2ID, ScheduledAt: t0.Add(time.Hour), At: t0})
	active = MustApply(t, active, domain.DialCall{CallID: call2ID, At: t0})
	resume := t0.Add(48 * time.Hour)
	return map[string]domain.Placement{
		"none":        {},
		"active":      active,
		"paused":      MustApply(t, active, domain.Pause{Reason: domain.PauseDispute, ResumeAt: &resume, At: t0}),
		"recalled":    MustApply(t, active, domain.Recall{At: t0}),
		"paid":        MustApply(t, active, domain.ReceivePayment{Amount: d("400"), At: t0}),
		"written_off": MustApply(t, active, domain.WriteOff{Reason: domain.WriteOffUncollectible, At: t0}),
	}
}

func types(events []domain.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventType()
	}
	return out
}

func TestDecideEveryCommandInEveryStatus(t *testing.T) {
	st := states(t)
	closeRecall := []string{"PlacementRecalled", "SequencesPaused", "CallsCancelled", "OutcomeScoreSnapshotted", "AccountingDocumentIssued"}
	type want struct {
		events []string
		code   string // "" = success
	}
	waiver := domain.Waiver{InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Date: "2023-06-23", Description: "goodwill", Amount: d("100"), Currency: "EUR"}
	cmds := map[string]domain.Command{
		"place":    place(),
		"sequence": domain.StartEmailSequence{SequenceID: uuid.New(), NextSendAt: t0, At: t0},
		"schedule": domain.ScheduleCall{CallID: uuid.New(), ScheduledAt: t0, At: t0},
		"dial":     domain.DialCall{CallID: callID, At: t0},
		"complete": domain.CompleteCall{CallID: call2ID, Outcome: "promised to pay", At: t0},
		"recall":   domain.Recall{At: t0},
		"partial":  domain.PartialRecall{Waivers: []domain.Waiver{waiver}, At: t0},
		"payment":  domain.ReceivePayment{Amount: d("120.50"), At: t0},
		"pause":    domain.Pause{Reason: domain.PauseCreditorRequest, At: t0},
		"resume":   domain.Resume{At: t0},
		// The paid state's payoff (its first document's number); the other
		// states have no payment of that number.
		"reverse":  domain.ReversePayment{PaymentNumber: "DE-S242243704005-AD001", Reason: domain.ReversalReturned, At: t0},
		"contact":  domain.ChangeDebtorContact{ChangeID: uuid.New(), PersonalData: &domain.SealedData{KeyID: "k", Context: "c"}, At: t0},
		"agency":   domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("120.50"), Date: "2024-08-01", At: t0},
		"writeoff": domain.WriteOff{Reason: domain.WriteOffUncollectible, At: t0},
		// The paid state's payoff again, cancelled as entered in error.
		"cancel": domain.CancelDocument{ReferenceNumber: "DE-S242243704005-AD001", Amount: d("400"), Currency: "EUR", At: t0},
	}
	contact := want{events: []string{"DebtorContactChanged"}} // whatever the status: a closed claim's debtor still moves house
	writeOff := []string{"PlacementWrittenOff", "SequencesPaused", "CallsCancelled", "OutcomeScoreSnapshotted", "AccountingDocumentIssued"}
	paid := []string{"PaymentReceived", "AccountingDocumentIssued"}
	closed, noDocument := want{code: "placement_closed"}, want{code: "document_not_found"}
	table := map[string]map[string]want{
		"none": {
			"place": {events: []string{"PlacementOpened"}}, "sequence": {code: "not_found"}, "schedule": {code: "not_found"},
			"dial": {code: "not_found"}, "complete": {code: "not_found"}, "recall": {code: "not_found"},
			"partial": {code: "not_found"}, "payment": {code: "not_found"}, "pause": {code: "not_found"}, "resume": {code: "not_found"},
			"reverse": {code: "not_found"}, "contact": {code: "not_found"},
			"agency": {code: "not_found"}, "writeoff": {code: "not_found"}, "cancel": {code: "not_found"},
		},
		"active": {
			"place": {code: "placement_exists"}, "sequence": {events: []string{"EmailSequenceStarted"}},
			"schedule": {events: []string{"CallScheduled"}}, "dial": {events: []string{"CallDialed"}},
			"complete": {events: []string{"CallCompleted"}}, "recall": {events: closeRecall},
			"partial": {events: []string{"CreditWaiverIssued", "AccountingDocumentIssued"}},
			"payment": {events: []string{"PaymentReceived", "AccountingDocumentIssued"}},
			"pause":   {events: []string{"PlacementPaused", "SequencesPaused", "CallsCancelled"}},
			"resume":  {code: "not_paused"},
			"reverse": {code: "payment_not_found"}, "contact": contact,
			"agency": {events: paid}, "writeoff": {events: writeOff}, "cancel": noDocument,
		},
		"paused": {
			"place": {code: "placement_exists"}, "sequence": {code: "placement_paused"}, "schedule": {code: "placement_paused"},
			"dial": {code: "placement_paused"}, "complete": {events: []string{"CallCompleted"}}, "recall": {events: closeRecall},
			"partial": {events: []string{"CreditWaiverIssued", "AccountingDocumentIssued"}},
			"payment": {events: []string{"PaymentReceived", "AccountingDocumentIssued"}},
			"pause":   {code: "already_paused"}, "resume": {events: []string{"PlacementResumed"}},
			"reverse": {code: "payment_not_found"}, "contact": contact,
			"agency": {events: paid}, "writeoff": {events: writeOff}, "cancel": noDocument,
		},
		"recalled": {
			"place": {code: "placement_exists"}, "sequence": {code: "placement_closed"}, "schedule": {code: "placement_closed"},
			"dial": {code: "placement_closed"}, "complete": {events: []string{"CallCompleted"}},
			"recall":  {events: []string{"RecallRejected"}, code: "placement_closed"},
			"partial": {events: []string{"RecallRejected"}, code: "placement_closed"}, "payment": {code: "placement_closed"},
			"pause": {code: "placement_closed"}, "resume": {code: "placement_closed"},
			"reverse": {code: "payment_not_found"}, "contact": contact,
			"agency": closed, "writeoff": closed, "cancel": noDocument,
		},
		"paid": {
			"place": {code: "placement_exists"}, "sequence": {code: "placement_closed"}, "schedule": {code: "placement_closed"},
			"dial": {code: "placement_closed"}, "complete": {events: []string{"CallCompleted"}},
			"recall":  {events: []string{"RecallRejected"}, code: "placement_closed"},
			"partial": {events: []string{"RecallRejected"}, code: "placement_closed"}, "payment": {code: "placement_closed"},
			"pause": {code: "placement_closed"}, "resume": {code: "placement_closed"},
			"reverse": {events: []string{"PaymentReversed", "AccountingDocumentIssued", "PlacementReopened"}}, "contact": contact,
			"agency": closed, "writeoff": closed,
			"cancel": {events: []string{"PaymentReversed", "AccountingDocumentIssued", "PlacementReopened"}},
		},
		"written_off": {
			"place": {code: "placement_exists"}, "sequence": closed, "schedule": closed, "dial": closed,
			"complete": {events: []string{"CallCompleted"}}, // a call in progress finishes
			"recall":   {events: []string{"RecallRejected"}, code: "placement_closed"},
			"partial":  {events: []string{"RecallRejected"}, code: "placement_closed"}, "payment": closed,
			"pause": closed, "resume": closed, "reverse": {code: "payment_not_found"}, "contact": contact,
			"agency": closed, "writeoff": closed, "cancel": noDocument,
		},
	}
	for status, row := range table {
		for name, w := range row {
			prefix := "OK"
			if w.code != "" {
				prefix = "Err"
			}
			t.Run(prefix+"_"+status+"_"+name, func(t *testing.T) {
				dec := domain.Decide(st[status], cmds[name])
				if w.code == "" {
					require.NoError(t, dec.Err)
				} else {
					e, ok := domain.AsError(dec.Err)
					require.True(t, ok, "a domain error, got %v", dec.Err)
					assert.Equal(t, w.code, e.Code)
				}
				if w.events == nil {
					assert.Empty(t, dec.Events, "a refusal records nothing")
				} else {
					assert.Equal(t, w.events, types(dec.Events))
				}
			})
		}
	}
}

// TestReversePaymentInEveryStatus reverses a payment that each status has
// (the table above can only name the paid state's payoff): the placement
// keeps its status, except one paid in full, which is active again.
func TestReversePaymentInEveryStatus(t *testing.T) {
	partly := MustApply(t, states(t)["active"], domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("50"), At: t0})
	reversed := []string{"PaymentReversed", "AccountingDocumentIssued"}
	tests := map[string]struct {
		state  domain.Placement
		events []string
		status domain.Status
	}{
		"active":   {state: partly, events: reversed, status: domain.StatusActive},
		"paused":   {state: MustApply(t, partly, domain.Pause{Reason: domain.PauseDispute, At: t0}), events: reversed, status: domain.StatusPaused},
		"recalled": {state: MustApply(t, partly, domain.Recall{At: t0}), events: reversed, status: domain.StatusRecalled},
		"paid": {state: MustApply(t, partly, domain.ReceivePayment{Amount: d("350"), At: t0}),
			events: append(reversed, "PlacementReopened"), status: domain.StatusActive},
	}
	for name, tc := range tests {
		t.Run("OK_"+name, func(t *testing.T) {
			dec := domain.Decide(tc.state, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
			require.NoError(t, dec.Err)
			assert.Equal(t, tc.events, types(dec.Events))
			p := tc.state
			for _, e := range dec.Events {
				p = domain.Evolve(p, e)
			}
			assert.Equal(t, tc.status, p.Status)
		})
	}
}

// TestEvolveKnowsEveryEventType applies every registered event type: a type
// added to the registry without a rule in Evolve panics here.
func TestEvolveKnowsEveryEventType(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			e, err := domain.DecodeEvent(typ, []byte(`{}`))
			require.NoError(t, err)
			assert.NotPanics(t, func() { domain.Evolve(domain.Placement{}, e) })
		})
	}
}

type unregistered struct{}

func (unregistered) EventType() string { return "Unregistered" }

func TestEvolvePanicsOnAnEventWithoutARule(t *testing.T) {
	assert.PanicsWithValue(t, "domain: Evolve has no rule for event type Unregistered (domain_test.unregistered)", func() {
		domain.Evolve(domain.Placement{}, unregistered{})
	})
}

func TestRecallStopsOutreach(t *testing.T) {
	p := states(t)["active"]
	dec := domain.Decide(p, domain.Recall{At: t0})
	require.NoError(t, dec.Err)
	r := dec.Events[0].(domain.PlacementRecalled)
	assert.Equal(t, 1, r.SequencesPaused)
	assert.Equal(t, 1, r.CallsCancelled, "only the scheduled call; the one in progress finishes")
	assert.True(t, d("400").Equal(r.OutstandingAmount))
	after := p
	for _, e := range dec.Events {
		after = domain.Evolve(after, e)
	}
	assert.Equal(t, domain.StatusRecalled, after.Status)
	require.NotNil(t, after.ResolvedAt)
	assert.Equal(t, domain.SequencePaused, after.Sequences[0].Status)
	assert.Nil(t, after.Sequences[0].NextSendAt)
	assert.Equal(t, domain.CallFailedStatus, after.Calls[0].Status)
	assert.Equal(t, domain.CallInProgressStatus, after.Calls[1].Status)
	doc := dec.Events[4].(domain.AccountingDocumentIssued)
	assert.Equal(t, domain.DocCancellation, doc.Type)
	assert.True(t, d("-400").Equal(doc.Amount.Decimal()))
	assert.Len(t, doc.LineItems, 2)
	require.NotNil(t, after.OutcomeScore)
	assert.Equal(t, "0", after.OutcomeScore.String())
}

func TestPaymentFeeAndPaid(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	// Fee is recomputed from the total: 0.20 × 0.03 = 0.006 → 0.01 (half-up),
	// then 0.20 × 0.06 = 0.012 → 0.01, not 0.01 + 0.01.
	p = MustApply(t, p, domain.ReceivePayment{Amount: d("0.03"), At: t0})
	assert.Equal(t, "0.01", domain.FormatMoney(p.Fee.Decimal(), "EUR"))
	p = MustApply(t, p, domain.ReceivePayment{Amount: d("0.03"), At: t0})
	assert.Equal(t, "0.01", domain.FormatMoney(p.Fee.Decimal(), "EUR"), "fee from the total, never a sum of rounded parts")
	p = MustApply(t, p, domain.ReceivePayment{Amount: d("0.02"), At: t0})
	assert.Equal(t, "0.02", domain.FormatMoney(p.Fee.Decimal(), "EUR"), "0.20 × 0.08 = 0.016 rounds half-up to 0.02")

	t.Run("ErrAmountExceedsOutstanding", func(t *testing.T) {
		dec := domain.Decide(p, domain.ReceivePayment{Amount: d("399.93"), At: t0})
		assert.ErrorIs(t, dec.Err, domain.ErrAmountExceeds)
		assert.Empty(t, dec.Events)
	})
	t.Run("ErrTooManyDecimals", func(t *testing.T) {
		dec := domain.Decide(p, domain.ReceivePayment{Amount: d("1.001"), At: t0})
		require.Error(t, dec.Err)
		assert.Empty(t, dec.Events)
	})
	t.Run("OKPaidInFull", func(t *testing.T) {
		dec := domain.Decide(p, domain.ReceivePayment{Amount: d("399.92"), At: t0})
		require.NoError(t, dec.Err)
		assert.Equal(t, []string{"PaymentReceived", "AccountingDocumentIssued", "PlacementPaid", "SequencesPaused", "CallsCancelled", "OutcomeScoreSnapshotted"}, types(dec.Events))
		paid := p
		for _, e := range dec.Events {
			paid = domain.Evolve(paid, e)
		}
		assert.Equal(t, domain.StatusPaid, paid.Status)
		assert.True(t, paid.Outstanding().IsZero())
		assert.Equal(t, "80.00", domain.FormatMoney(paid.Fee.Decimal(), "EUR"))
		assert.Equal(t, "1", paid.OutcomeScore.String())
		for _, inv := range paid.Invoices {
			assert.True(t, inv.Open.IsZero(), "invoice %s fully paid", inv.InvoiceNumber)
		}
	})
}

func TestPaymentNumberProcessedOnce(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("10"), At: t0})
	dec := domain.Decide(p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("10.00"), At: t0})
	require.NoError(t, dec.Err)
	assert.Empty(t, dec.Events)
	require.NotNil(t, dec.Repeat, "a repeat names the first execution")
	assert.Equal(t, uint64(1), dec.Repeat.Revision, "the PaymentReceived event after PlacementOpened")
	assert.Equal(t, "10", p.Recovered.String())

	dec = domain.Decide(p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("11"), At: t0})
	assert.ErrorIs(t, dec.Err, domain.ErrPaymentNumberReused, "the number with another amount")
	assert.Empty(t, dec.Events)

	// A payment that paid the claim in full is still a repeat, not a payment on a closed claim.
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-2", Amount: d("390"), At: t0})
	require.Equal(t, domain.StatusPaid, p.Status)
	dec = domain.Decide(p, domain.ReceivePayment{PaymentNumber: "P-2", Amount: d("390"), At: t0})
	require.NoError(t, dec.Err)
	require.NotNil(t, dec.Repeat)
	assert.Equal(t, uint64(3), dec.Repeat.Revision)
	assert.ErrorIs(t, domain.Decide(p, domain.ReceivePayment{PaymentNumber: "P-3", Amount: d("1"), At: t0}).Err, domain.ErrClosed)
}

func TestWaiverNumbersProcessedOnce(t *testing.T) {
	w := func(number, inv, amount string) domain.Waiver {
		return domain.Waiver{CreditWaiverNumber: number, InvoiceNumber: inv, ContractNumber: "166271782837", Date: "2023-06-23",
			Description: "x", Amount: d(amount), Currency: "EUR"}
	}
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.PartialRecall{Waivers: []domain.Waiver{w("W-1", "I0417211448", "100"), w("W-2", "I0417211449", "300")}, At: t0})
	require.Equal(t, domain.StatusRecalled, p.Status, "the waivers closed the claim")
	dec := domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{w("W-2", "I0417211449", "300.00"), w("W-1", "I0417211448", "100")}, At: t0})
	require.NoError(t, dec.Err, "all processed before: a repeat, no REJECTION")
	assert.Empty(t, dec.Events)
	require.NotNil(t, dec.Repeat)
	assert.Equal(t, uint64(2), dec.Repeat.Revision, "the latest of the waivers' events")
	dec = domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{w("W-1", "I0417211449", "100")}, At: t0})
	assert.ErrorIs(t, dec.Err, domain.ErrWaiverNumberReused, "the number for another invoice")
	assert.Empty(t, dec.Events)
	dec = domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{w("W-1", "I0417211448", "100"), w("W-3", "I0417211449", "1")}, At: t0})
	assert.ErrorIs(t, dec.Err, domain.ErrClosed, "a new waiver on a closed claim is a rejection")
	assert.Equal(t, []string{"RecallRejected"}, types(dec.Events))
}

func TestPartialRecall(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	w := func(inv, contract, amount, currency string) domain.Waiver {
		return domain.Waiver{InvoiceNumber: inv, ContractNumber: contract, Date: "2023-06-23", Description: "x", Amount: d(amount), Currency: currency}
	}
	refusals := map[string]struct {
		waivers []domain.Waiver
		code    string
		field   string
	}{
		"ErrUnknownInvoice": {[]domain.Waiver{w("NOPE", "166271782837", "10", "EUR")}, "unknown_invoice", "invoiceNumber"},
		"ErrWrongCurrency":  {[]domain.Waiver{w("I0417211448", "166271782837", "10", "USD")}, "currency_mismatch", "currency"},
		// Zero and negative amounts are one refusal: validation_failed, as
		// the amount parser answers for a negative one.
		"ErrZeroAmount":        {[]domain.Waiver{w("I0417211448", "166271782837", "0", "EUR")}, "validation_failed", "amount"},
		"ErrNegativeAmount":    {[]domain.Waiver{w("I0417211448", "166271782837", "-1", "EUR")}, "validation_failed", "amount"},
		"ErrAboveOpen":         {[]domain.Waiver{w("I0417211448", "166271782837", "100.01", "EUR")}, "amount_exceeds_open", "amount"},
		"ErrAboveOpenTogether": {[]domain.Waiver{w("I0417211448", "166271782837", "60", "EUR"), w("I0417211448", "166271782837", "60", "EUR")}, "amount_exceeds_open", "[1].amount"},
		"ErrWrongContract":     {[]domain.Waiver{w("I0417211448", "999", "10", "EUR")}, "contract_mismatch", "contractNumber"},
		// A missing contract number is a missing field, not another contract.
		"ErrMissingContract": {[]domain.Waiver{w("I0417211448", "", "10", "EUR")}, "validation_failed", "contractNumber"},
		"ErrNoWaivers":       {nil, "validation_failed", "waivers"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			dec := domain.Decide(p, domain.PartialRecall{Waivers: tc.waivers, At: t0})
			e, ok := domain.AsError(dec.Err)
			require.True(t, ok, "%v", dec.Err)
			assert.Equal(t, tc.code, e.Code)
			require.NotEmpty(t, e.Fields)
			assert.Equal(t, tc.field, e.Fields[0].Field)
			assert.Empty(t, dec.Events, "nothing recorded")
		})
	}
	t.Run("OKLowersOpenAmount", func(t *testing.T) {
		after := MustApply(t, p, domain.PartialRecall{Waivers: []domain.Waiver{w("I0417211448", "166271782837", "100", "EUR")}, At: t0})
		assert.Equal(t, "0", after.Invoices[0].Open.String())
		assert.Equal(t, "300", after.Outstanding().String())
		assert.Equal(t, "100", after.Waived.String())
		assert.Equal(t, domain.StatusActive, after.Status)
	})
	t.Run("OKWaivingEverythingRecalls", func(t *testing.T) {
		dec := domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{
			w("I0417211448", "166271782837", "100", "EUR"), w("I0417211449", "166271782837", "300", "EUR"),
		}, At: t0})
		require.NoError(t, dec.Err)
		// The waivers' CREDIT_WAIVER document, and no CANCELLATION of 0
		// after the recall: nothing was outstanding to cancel.
		assert.Equal(t, []string{"CreditWaiverIssued", "CreditWaiverIssued", "AccountingDocumentIssued",
			"PlacementRecalled", "SequencesPaused", "CallsCancelled", "OutcomeScoreSnapshotted"}, types(dec.Events))
		assert.True(t, dec.Events[3].(domain.PlacementRecalled).OutstandingAmount.IsZero())
		for _, e := range dec.Events {
			if doc, isDoc := e.(domain.AccountingDocumentIssued); isDoc {
				assert.False(t, doc.Amount.IsZero(), "no document of 0: %+v", doc)
			}
		}
	})
	t.Run("OKTotalRecallCancelsWhatIsOutstanding", func(t *testing.T) {
		after := MustApply(t, p, domain.PartialRecall{Waivers: []domain.Waiver{w("I0417211448", "166271782837", "100", "EUR")}, At: t0})
		dec := domain.Decide(after, domain.Recall{At: t0})
		require.NoError(t, dec.Err)
		doc := dec.Events[len(dec.Events)-1].(domain.AccountingDocumentIssued)
		assert.Equal(t, domain.DocCancellation, doc.Type)
		assert.Equal(t, "-300", doc.Amount.String())
		assert.NotEqual(t, after.ClaimNumber+"-AD001", doc.DocumentNumber, "document numbers are never reused")
	})
	t.Run("OKWaiverNumberProcessedOnce", func(t *testing.T) {
		ww := w("I0417211449", "166271782837", "50", "EUR")
		ww.CreditWaiverNumber = "CW-1"
		after := MustApply(t, p, domain.PartialRecall{Waivers: []domain.Waiver{ww}, At: t0})
		dec := domain.Decide(after, domain.PartialRecall{Waivers: []domain.Waiver{ww}, At: t0})
		require.NoError(t, dec.Err)
		assert.Empty(t, dec.Events)
	})
}

func TestPlaceValidation(t *testing.T) {
	mut := map[string]func(*domain.Place){
		"ErrClaimNumber":    func(c *domain.Place) { c.ClaimNumber = "has space" },
		"ErrCustomerNumber": func(c *domain.Place) { c.CustomerNumber = "" },
		"ErrCurrency":       func(c *domain.Place) { c.Currency = "XXX" },
		"ErrFeeRate":        func(c *domain.Place) { c.FeeRate = d("1.5") },
		"ErrNoInvoices":     func(c *domain.Place) { c.Invoices = nil },
		"ErrDueDate":        func(c *domain.Place) { c.Invoices[0].DueDate = "2024-02-30" },
		"ErrDuplicate":      func(c *domain.Place) { c.Invoices[1].InvoiceNumber = c.Invoices[0].InvoiceNumber },
		"ErrAmount":         func(c *domain.Place) { c.Invoices[0].Amount = domain.AmountOf(d("0")) },
	}
	for name, m := range mut {
		t.Run(name, func(t *testing.T) {
			c := place()
			c.Invoices = append([]domain.Invoice(nil), c.Invoices...)
			m(&c)
			dec := domain.Decide(domain.Placement{}, c)
			e, ok := domain.AsError(dec.Err)
			require.True(t, ok)
			assert.Equal(t, domain.KindInvalid, e.Kind)
			assert.NotEmpty(t, e.Fields)
			assert.Empty(t, dec.Events)
		})
	}
}

func TestParseAmount(t *testing.T) {
	ok := map[string]struct{ in, currency, want string }{
		"OKNumber":               {`100`, "EUR", "100"},
		"OKDecimals":             {`100.5`, "EUR", "100.5"},
		"OKString":               {`"100.50"`, "EUR", "100.5"},
		"OKCent":                 {`0.01`, "EUR", "0.01"},
		"OKTrailingZeros":        {`100.500`, "EUR", "100.5"},
		"OKExponent":             {`1e2`, "EUR", "100"},
		"OKExponentUpper":        {`1.2345E2`, "EUR", "123.45"},
		"OKExponentPlus":         {`5E+1`, "JPY", "50"},
		"OKNegativeExponent":     {`12345e-2`, "EUR", "123.45"},
		"OKExponentInString":     {`"1e2"`, "EUR", "100"},
		"OKExponentToTheMax":     {`1e12`, "EUR", "1000000000000"},
		"OKZerosBeforeExponent":  {`100.000e-2`, "EUR", "1"},
		"OKZero":                 {`0e5`, "EUR", "0"}, // the command refuses it as not positive
		"OKNoCurrencyDecimals":   {`1.5e-11`, "", "0.000000000015"},
		"OKThreeDecimalCurrency": {`1.234`, "BHD", "1.234"},
	}
	for name, tc := range ok {
		t.Run(name, func(t *testing.T) {
			v, err := domain.ParseAmount([]byte(tc.in), tc.currency, "amount")
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.String())
		})
	}
	refused := map[string]struct{ in, currency, message string }{
		"ErrNegative":         {`-1`, "EUR", "must be positive"},
		"ErrNotANumber":       {`"abc"`, "EUR", `"abc" is not an amount`},
		"ErrTooManyDecimals":  {`100.001`, "EUR", "has more decimals than EUR allows (2)"},
		"ErrExponentScale":    {`1e-3`, "EUR", "has more decimals than EUR allows (2)"},
		"ErrJPYDecimals":      {`100.5`, "JPY", "has more decimals than JPY allows (0)"},
		"ErrNull":             {`null`, "EUR", "is required"},
		"ErrEmpty":            {`""`, "EUR", "is required"},
		"ErrAboveMax":         {`1000000000001`, "EUR", "is above the largest amount the ledger accepts (1000000000000)"},
		"ErrFourteenDigits":   {`10000000000001`, "EUR", "is above the largest amount the ledger accepts (1000000000000)"},
		"ErrHugeExponent":     {`1e400`, "EUR", "is above the largest amount the ledger accepts (1000000000000)"},
		"ErrIntOverflowExp":   {`1e99999999999999999999`, "EUR", "is above the largest amount the ledger accepts (1000000000000)"},
		"ErrTinyExponent":     {`1e-400`, "", "has more decimals than the ledger accepts (12)"},
		"ErrTooLong":          {`1.00000000000000000000000000000000000000000`, "EUR", "an amount has at most 40"},
		"ErrBoolean":          {`true`, "EUR", "is not an amount"},
		"ErrTwoPoints":        {`"1.5.2"`, "EUR", "is not an amount"},
		"ErrPointWithoutDigs": {`1.`, "EUR", "is not an amount"},
		"ErrExponentNoDigits": {`1e`, "EUR", "is not an amount"},
		"ErrPlus":             {`+1`, "EUR", "is not an amount"},
	}
	for name, tc := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := domain.ParseAmount([]byte(tc.in), tc.currency, "amount")
			e, isDomain := domain.AsError(err)
			require.True(t, isDomain, "%v", err)
			assert.Equal(t, "validation_failed", e.Code)
			require.Len(t, e.Fields, 1)
			assert.Equal(t, "amount", e.Fields[0].Field)
			assert.Contains(t, e.Fields[0].Message, tc.message)
		})
	}
}

func TestEventsRoundTrip(t *testing.T) {
	st := states(t)
	dec := domain.Decide(st["active"], domain.Recall{At: t0})
	for _, e := range dec.Events {
		typ, data, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		back, err := domain.DecodeEvent(typ, data)
		require.NoError(t, err)
		_, data2, _ := domain.EncodeEvent(back)
		assert.JSONEq(t, string(data), string(data2))
	}
	_, err := domain.DecodeEvent("NoSuchEvent", []byte(`{}`))
	assert.Error(t, err, "an unknown type is an error, not a silent skip")
}

// TestDomainImportsNoInfrastructure keeps the domain pure: no engine, no
// HTTP, no client library.
func TestDomainImportsNoInfrastructure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"/eventstore", "/http", "/projections", "labstack/echo", "EventStore-Client-Go", "cockroachdb/pebble", "net/http"} {
			assert.NotContains(t, dep, banned, "domain must not depend on %s", banned)
		}
	}
}

func TestPauseAndResume(t *testing.T) {
	st := states(t)
	paused := st["paused"]
	assert.Equal(t, domain.StatusPaused, paused.Status)
	assert.Equal(t, domain.SequencePaused, paused.Sequences[0].Status)
	assert.Nil(t, paused.Sequences[0].NextSendAt)
	assert.Equal(t, domain.CallFailedStatus, paused.Calls[0].Status, "the scheduled call is cancelled")
	assert.Equal(t, domain.CallInProgressStatus, paused.Calls[1].Status, "the call in progress goes on")

	t.Run("OKResumeRestoresSequences", func(t *testing.T) {
		later := t0.Add(72 * time.Hour) // after the sequence was due
		resumed := MustApply(t, paused, domain.Resume{At: later})
		assert.Equal(t, domain.StatusActive, resumed.Status)
		assert.Equal(t, domain.SequenceActive, resumed.Sequences[0].Status)
		require.NotNil(t, resumed.Sequences[0].NextSendAt)
		assert.Equal(t, later, *resumed.Sequences[0].NextSendAt, "overdue while held: due now")
		early := MustApply(t, paused, domain.Resume{At: t0.Add(time.Minute)})
		assert.Equal(t, t0.Add(time.Hour), *early.Sequences[0].NextSendAt, "not yet due: keeps its time")
	})
	t.Run("OKAutomaticResume", func(t *testing.T) {
		due := t0.Add(48 * time.Hour)
		dec := domain.Decide(paused, domain.Resume{Due: &due, At: due})
		require.NoError(t, dec.Err)
		assert.True(t, dec.Events[0].(domain.PlacementResumed).Automatic)
	})
	t.Run("ErrAutomaticResumeOfAnotherHold", func(t *testing.T) {
		other := t0.Add(24 * time.Hour)
		dec := domain.Decide(paused, domain.Resume{Due: &other, At: other})
		assert.ErrorIs(t, dec.Err, domain.ErrNotPaused)
		assert.Empty(t, dec.Events)
	})
	t.Run("ErrBadPause", func(t *testing.T) {
		past := t0.Add(-time.Hour)
		for name, c := range map[string]domain.Pause{
			"reason":   {Reason: "BORED", At: t0},
			"resumeAt": {Reason: domain.PauseOther, ResumeAt: &past, At: t0},
		} {
			dec := domain.Decide(st["active"], c)
			e, ok := domain.AsError(dec.Err)
			require.True(t, ok, name)
			assert.Equal(t, name, e.Fields[0].Field)
			assert.Empty(t, dec.Events)
		}
	})
	t.Run("OKRecallWhilePaused", func(t *testing.T) {
		recalled := MustApply(t, paused, domain.Recall{At: t0})
		assert.Equal(t, domain.StatusRecalled, recalled.Status)
		assert.Nil(t, recalled.Pause)
	})
}

// TestEvolveLeavesEarlierStatesAlone: numbers live in a persistent map; a
// state evolved further (or a decision's simulation) never changes the one
// it came from, which the command handler's cache relies on.
func TestEvolveLeavesEarlierStatesAlone(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	p1 := MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("1"), At: t0})
	p2 := MustApply(t, p1, domain.ReceivePayment{PaymentNumber: "P-2", Amount: d("1"), At: t0})
	_, in1 := p1.PaymentNumbers.Get("P-2")
	assert.False(t, in1, "p1 does not see p2's number")
	_, in0 := p.PaymentNumbers.Get("P-1")
	assert.False(t, in0)
	assert.Equal(t, 1, p1.PaymentNumbers.Len())
	assert.Equal(t, 2, p2.PaymentNumbers.Len())
	_ = domain.Decide(p2, domain.ReceivePayment{PaymentNumber: "P-3", Amount: d("398"), At: t0}) // simulates a closing
	_, in2 := p2.PaymentNumbers.Get("P-3")
	assert.False(t, in2, "deciding changes nothing")
}

func TestReversalOfAPaymentRecordedWithoutANumber(t *testing.T) {
	// Before schema 3 a payment without a number was recorded without one:
	// it is named after its accounting document when read.
	p := domain.Evolve(domain.Placement{}, domain.PlacementOpened{PlacementID: place().PlacementID, CreditorID: "acme",
		ClaimNumber: "DE-S242243704005", CustomerNumber: "K508647", Currency: "EUR", FeeRate: d("0.20"), Invoices: place().Invoices, OpenedAt: t0})
	legacy := domain.PaymentReceived{Amount: domain.AmountOf(d("50")), Currency: "EUR", RecoveredAmount: domain.AmountOf(d("50")), FeeAmount: domain.AmountOf(d("10")), ReceivedAt: t0,
		Allocations: []domain.Allocation{{InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Amount: domain.AmountOf(d("50"))}}}
	p = domain.Evolve(p, legacy)
	p = domain.Evolve(p, domain.AccountingDocumentIssued{DocumentNumber: "DE-S242243704005-AD001", Type: domain.DocDirectPayment, Amount: domain.AmountOf(d("-50")), Currency: "EUR"})
	dec := domain.Decide(p, domain.ReversePayment{PaymentNumber: "DE-S242243704005-AD001", Reason: domain.ReversalReturned, At: t0})
	require.NoError(t, dec.Err)
	rev := dec.Events[0].(domain.PaymentReversed)
	assert.Equal(t, "DE-S242243704005-AD001", rev.OriginalDocument)
	assert.Equal(t, uint64(1), rev.PaymentRevision)
	assert.True(t, rev.RecoveredAmount.IsZero())
	doc := dec.Events[1].(domain.AccountingDocumentIssued)
	assert.Equal(t, "DE-S242243704005-AD002", doc.DocumentNumber, "the next document number")
	assert.Equal(t, domain.DocReallocation, doc.Type)
	assert.Len(t, dec.Events, 2, "an active placement is not reopened")

	// A new payment without a number gets one: its document's.
	dec = domain.Decide(p, domain.ReceivePayment{Amount: d("10"), At: t0})
	require.NoError(t, dec.Err)
	assert.Equal(t, "DE-S242243704005-AD002", dec.Events[0].(domain.PaymentReceived).PaymentNumber)
	assert.Equal(t, "DE-S242243704005-AD002", dec.Events[1].(domain.AccountingDocumentIssued).DocumentNumber)
}

func TestReversalOnAPausedPlacementKeepsItPaused(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("30"), At: t0})
	p = MustApply(t, p, domain.Pause{Reason: domain.PauseDispute, At: t0})
	p = MustApply(t, p, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalOther, At: t0})
	assert.Equal(t, domain.StatusPaused, p.Status)
	assert.True(t, p.Recovered.IsZero())
	assert.True(t, p.Invoices[0].Paid.IsZero())
	assert.True(t, p.Invoices[0].Open.Equal(domain.AmountOf(d("100"))))
	// A payment is not found by a waiver's or document's number that was no payment.
	dec := domain.Decide(p, domain.ReversePayment{PaymentNumber: "DE-S242243704005-AD002", Reason: domain.ReversalOther, At: t0})
	assert.ErrorIs(t, dec.Err, domain.ErrPaymentNotFound)
	assert.Empty(t, dec.Events)
}

// TestReopeningResumesWhatThePayoffPaused: a reversal that reopens a paid
// placement makes the sequences the payoff paused active again, as a resume
// does (due when they were, overdue ones at once); a sequence that a hold
// had paused before the payoff is not the payoff's and stays paused.
func TestReopeningResumesWhatThePayoffPaused(t *testing.T) {
	seq2 := uuid.MustParse("55555555-5555-4555-8555-555555555555")
	later, overdue := t0.Add(72*time.Hour), t0.Add(time.Hour)
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.StartEmailSequence{SequenceID: seqID, NextSendAt: overdue, At: t0})
	p = MustApply(t, p, domain.StartEmailSequence{SequenceID: seq2, NextSendAt: later, At: t0})
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("400"), At: t0})
	require.Equal(t, domain.StatusPaid, p.Status)
	for _, s := range p.Sequences {
		require.Equal(t, domain.SequencePaused, s.Status)
		require.Nil(t, s.NextSendAt)
	}

	reversedAt := t0.Add(24 * time.Hour)
	dec := domain.Decide(p, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: reversedAt})
	require.NoError(t, dec.Err)
	require.Equal(t, []string{"PaymentReversed", "AccountingDocumentIssued", "PlacementReopened"}, types(dec.Events))
	reopened := dec.Events[2].(domain.PlacementReopened)
	assert.Equal(t, []domain.PausedSequence{{SequenceID: seqID, NextSendAt: reversedAt}, {SequenceID: seq2, NextSendAt: later}}, reopened.Sequences,
		"what a resume emits: the overdue one due at once, the other when it was")
	for _, e := range dec.Events {
		p = domain.Evolve(p, e)
	}
	assert.Equal(t, domain.StatusActive, p.Status)
	require.Len(t, p.Sequences, 2)
	for _, s := range p.Sequences {
		assert.Equal(t, domain.SequenceActive, s.Status, "sequence %s", s.ID)
		require.NotNil(t, s.NextSendAt)
	}
	assert.Equal(t, reversedAt, *p.Sequences[0].NextSendAt)
	assert.Equal(t, later, *p.Sequences[1].NextSendAt)
	assert.Empty(t, p.PaidPaused, "remembered only while paid")

	t.Run("OKOldReopeningFoldsAsBefore", func(t *testing.T) {
		// A PlacementReopened of schema 3 names no sequences: they stay paused.
		q := MustApply(t, domain.Placement{}, place())
		q = MustApply(t, q, domain.StartEmailSequence{SequenceID: seqID, NextSendAt: later, At: t0})
		q = MustApply(t, q, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("400"), At: t0})
		dec := domain.Decide(q, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: reversedAt})
		require.NoError(t, dec.Err)
		old := dec.Events[2].(domain.PlacementReopened)
		old.Sequences = nil
		_, payload, err := domain.EncodeEvent(old)
		require.NoError(t, err)
		assert.NotContains(t, string(payload), "sequences")
		decoded, err := domain.DecodeEvent(domain.TypePlacementReopened, payload)
		require.NoError(t, err)
		for _, e := range append(dec.Events[:2:2], decoded) {
			q = domain.Evolve(q, e)
		}
		assert.Equal(t, domain.StatusActive, q.Status)
		assert.Equal(t, domain.SequencePaused, q.Sequences[0].Status)
		assert.Nil(t, q.Sequences[0].NextSendAt)
	})
	t.Run("OKHeldSequenceIsNotThePayoffs", func(t *testing.T) {
		q := MustApply(t, domain.Placement{}, place())
		q = MustApply(t, q, domain.StartEmailSequence{SequenceID: seqID, NextSendAt: later, At: t0})
		q = MustApply(t, q, domain.Pause{Reason: domain.PauseDispute, At: t0})
		q = MustApply(t, q, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("400"), At: t0})
		dec := domain.Decide(q, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: reversedAt})
		require.NoError(t, dec.Err)
		assert.Empty(t, dec.Events[2].(domain.PlacementReopened).Sequences)
	})
}

// TestCommandsNameTheirNumbersInTheirDocuments: a payment's and a
// reversal's documents name the payment; a waiver document's lines name
// their waivers.
func TestCommandsNameTheirNumbersInTheirDocuments(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	dec := domain.Decide(p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("30"), At: t0})
	require.NoError(t, dec.Err)
	assert.Equal(t, "P-1", dec.Events[1].(domain.AccountingDocumentIssued).PaymentNumber)
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("30"), At: t0})
	dec = domain.Decide(p, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
	require.NoError(t, dec.Err)
	assert.Equal(t, "P-1", dec.Events[1].(domain.AccountingDocumentIssued).PaymentNumber)
	dec = domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{
		{CreditWaiverNumber: "CW-1", InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Date: "2024-08-01", Amount: d("5"), Currency: "EUR"},
		{InvoiceNumber: "I0417211449", ContractNumber: "166271782837", Date: "2024-08-01", Amount: d("6"), Currency: "EUR"},
	}, At: t0})
	require.NoError(t, dec.Err)
	doc := dec.Events[2].(domain.AccountingDocumentIssued)
	assert.Equal(t, "CW-1", doc.LineItems[0].CreditWaiverNumber)
	assert.Empty(t, doc.LineItems[1].CreditWaiverNumber, "a waiver sent without a number")
}

// TestReusedPaymentNumberSaysWhatDiffered: a number reused for a payment of
// the same amount does not say "another amount"; it names what differed.
func TestReusedPaymentNumberSaysWhatDiffered(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("10"), Date: "2024-08-01", Description: "bank", At: t0})
	cases := map[string]struct {
		cmd  domain.ReceivePayment
		want string
	}{
		"ErrSameAmountOtherDate":     {domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("10.00"), Date: "2024-08-02", Description: "bank", At: t0}, "(its date differed)"},
		"ErrOtherAmount":             {domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("11"), Date: "2024-08-01", Description: "bank", At: t0}, "(its amount differed)"},
		"ErrOtherAmountAndNoDetails": {domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("12"), At: t0}, "(its amount, date, description differed)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dec := domain.Decide(p, tc.cmd)
			require.ErrorIs(t, dec.Err, domain.ErrPaymentNumberReused)
			assert.Empty(t, dec.Events)
			e, _ := domain.AsError(dec.Err)
			require.Len(t, e.Fields, 1)
			assert.Equal(t, "was used before for another payment of this claim "+tc.want, e.Fields[0].Message)
			assert.NotContains(t, e.Message, "another amount")
		})
	}
}

func TestEventClassesCheck(t *testing.T) {
	all := domain.EventTypes()
	tests := map[string]struct {
		classes domain.EventClasses
		problem string // "" = OK
	}{
		"OK_all_handled":  {classes: domain.EventClasses{Handled: all}},
		"OK_all_ignored":  {classes: domain.EventClasses{Ignored: all}},
		"Err_left_out":    {classes: domain.EventClasses{Handled: without(all, domain.TypePaymentReversed)}, problem: "PaymentReversed is neither handled nor ignored"},
		"Err_unknown":     {classes: domain.EventClasses{Handled: all, Ignored: []string{"NoSuchEvent"}}, problem: "NoSuchEvent is not a registered event type"},
		"Err_in_both":     {classes: domain.EventClasses{Handled: all, Ignored: []string{domain.TypeCallDialed}}, problem: "CallDialed is named 2 times"},
		"Err_named_twice": {classes: domain.EventClasses{Handled: append(all, domain.TypeCallDialed)}, problem: "CallDialed is named 2 times"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.classes.Check()
			if tc.problem == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.problem)
		})
	}
}

func without(types []string, drop string) []string {
	var out []string
	for _, t := range types {
		if t != drop {
			out = append(out, t)
		}
	}
	return out
}
