package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// decided decides c against p, requires success and returns the events and
// the state they fold to.
func decided(t *testing.T, p domain.Placement, c domain.Command) ([]domain.Event, domain.Placement) {
	t.Helper()
	dec := domain.Decide(p, c)
	require.NoError(t, dec.Err)
	require.Nil(t, dec.Repeat)
	for _, e := range dec.Events {
		p = domain.Evolve(p, e)
	}
	return dec.Events, p
}

// refused decides c against p and requires the refusal code, with nothing
// recorded.
func refused(t *testing.T, p domain.Placement, c domain.Command, code string) {
	t.Helper()
	dec := domain.Decide(p, c)
	e, ok := domain.AsError(dec.Err)
	require.True(t, ok, "a domain error, got %v", dec.Err)
	assert.Equal(t, code, e.Code)
	assert.Empty(t, dec.Events, "a refusal records nothing")
	assert.Nil(t, dec.Repeat)
}

func document(t *testing.T, events []domain.Event) domain.AccountingDocumentIssued {
	t.Helper()
	for _, e := range events {
		if doc, ok := e.(domain.AccountingDocumentIssued); ok {
			return doc
		}
	}
	require.FailNow(t, "no accounting document")
	return domain.AccountingDocumentIssued{}
}

func TestAgencyPayment(t *testing.T) {
	active := states(t)["active"]
	agency := domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("150"), Date: "2024-08-01", At: t0}
	t.Run("OK allocated as a payment, shown as paid to the agency", func(t *testing.T) {
		events, p := decided(t, active, agency)
		pay := events[0].(domain.PaymentReceived)
		assert.Equal(t, domain.ReceivedByAgency, pay.ReceivedBy)
		assert.Equal(t, "2024-08-01", pay.Date)
		require.Len(t, pay.Allocations, 2) // oldest due first, as a payment
		assert.True(t, pay.Allocations[0].Amount.Equal(domain.AmountOf(d("100"))))
		assert.True(t, pay.Allocations[1].Amount.Equal(domain.AmountOf(d("50"))))
		assert.True(t, pay.FeeAmount.Equal(domain.AmountOf(d("30"))))
		doc := document(t, events)
		assert.Equal(t, domain.DocAgencyPayments, doc.Type)
		assert.True(t, doc.Amount.Equal(domain.AmountOf(d("-150"))))
		assert.Equal(t, "AG-1", doc.PaymentNumber)
		assert.True(t, p.AgencyPaid.Equal(domain.AmountOf(d("150"))))
		assert.True(t, p.Recovered.Equal(domain.AmountOf(d("150"))))
		assert.True(t, p.Outstanding().Equal(d("250")))
		assert.Equal(t, domain.StatusActive, p.Status)
	})
	t.Run("OK date defaults to today", func(t *testing.T) {
		events, _ := decided(t, active, domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("1"), At: t0})
		assert.Equal(t, "2024-08-07", events[0].(domain.PaymentReceived).Date)
	})
	t.Run("OK paying everything closes the claim paid", func(t *testing.T) {
		_, p := decided(t, active, domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("400"), At: t0})
		assert.Equal(t, domain.StatusPaid, p.Status)
		assert.True(t, p.AgencyPaid.Equal(domain.AmountOf(d("400"))))
	})
	t.Run("OK more than is open is an overpayment, not refused", func(t *testing.T) {
		events, p := decided(t, active, domain.ReceiveAgencyPayment{PaymentNumber: "AG-2", Amount: d("400.01"), At: t0})
		b := postedBalances(active, events, nil)
		pay := events[0].(domain.PaymentReceived)
		require.NotNil(t, pay.Split)
		assert.True(t, pay.Split.Overpaid.Equal(d("0.01")))
		assert.True(t, pay.RecoveredAmount.Equal(domain.AmountOf(d("400"))), "the overpayment earns no fee")
		assert.Equal(t, domain.AllocateOverpayment, document(t, events).LineItems[len(document(t, events).LineItems)-1].AllocateTo)
		assert.Equal(t, domain.StatusPaid, p.Status)
		assert.True(t, p.Overpaid().Equal(d("0.01")))
		assert.True(t, p.AgencyPaid.Equal(domain.AmountOf(d("400.01"))))
		assert.Equal(t, int64(40001), b[domain.AccountAgencyPayable])
		assert.Equal(t, int64(-1), b[domain.OverpaymentAccount(p.ClaimNumber)])
	})
	t.Run("OK a repeat answers as the first", func(t *testing.T) {
		_, p := decided(t, active, agency)
		dec := domain.Decide(p, agency)
		require.NoError(t, dec.Err)
		assert.Empty(t, dec.Events)
		require.NotNil(t, dec.Repeat)
		assert.Equal(t, active.Version, dec.Repeat.Revision)
	})
	_, after := decided(t, active, agency)
	other := agency
	other.Amount = d("151")
	refusals := map[string]struct {
		state domain.Placement
		cmd   domain.Command
		code  string
	}{
		"ErrOtherContent":         {state: after, cmd: other, code: "payment_number_reused"},
		"ErrDirectPaymentOfIt":    {state: after, cmd: domain.ReceivePayment{PaymentNumber: "AG-1", Amount: d("150"), Date: "2024-08-01", At: t0}, code: "payment_number_reused"},
		"ErrClosed":               {state: states(t)["recalled"], cmd: agency, code: "placement_closed"},
		"ErrWrittenOff":           {state: states(t)["written_off"], cmd: agency, code: "placement_closed"},
		"ErrNoNumber":             {state: active, cmd: domain.ReceiveAgencyPayment{Amount: d("1"), At: t0}, code: "validation_failed"},
		"ErrFutureDate":           {state: active, cmd: domain.ReceiveAgencyPayment{PaymentNumber: "AG-2", Amount: d("1"), Date: "2024-08-08", At: t0}, code: "future_value_date"},
		"ErrBadDate":              {state: active, cmd: domain.ReceiveAgencyPayment{PaymentNumber: "AG-2", Amount: d("1"), Date: "2024-8-1", At: t0}, code: "validation_failed"},
		"ErrZero":                 {state: active, cmd: domain.ReceiveAgencyPayment{PaymentNumber: "AG-2", Amount: d("0"), At: t0}, code: "validation_failed"},
		"ErrMoreDecimalsThanEuro": {state: active, cmd: domain.ReceiveAgencyPayment{PaymentNumber: "AG-2", Amount: d("1.001"), At: t0}, code: "validation_failed"},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) { refused(t, tc.state, tc.cmd, tc.code) })
	}
}

func TestWriteOff(t *testing.T) {
	partly := MustApply(t, states(t)["active"], domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("150"), At: t0})
	t.Run("OK what is open is written off, outreach stopped", func(t *testing.T) {
		events, p := decided(t, partly, domain.WriteOff{Reason: domain.WriteOffInsolvency, At: t0})
		w := events[0].(domain.PlacementWrittenOff)
		assert.Equal(t, domain.WriteOffInsolvency, w.Reason)
		assert.True(t, w.OutstandingAmount.Equal(d("250")))
		require.Len(t, w.Allocations, 1)
		assert.Equal(t, "I0417211449", w.Allocations[0].InvoiceNumber)
		assert.True(t, w.Allocations[0].Amount.Equal(domain.AmountOf(d("250"))))
		assert.Equal(t, 1, w.SequencesPaused)
		assert.Equal(t, 1, w.CallsCancelled)
		doc := document(t, events)
		assert.Equal(t, domain.DocWriteOff, doc.Type)
		assert.True(t, doc.Amount.Equal(domain.AmountOf(d("-250"))))
		require.Len(t, doc.LineItems, 1)
		assert.True(t, doc.LineItems[0].Amount.Equal(domain.AmountOf(d("-250"))))
		assert.Equal(t, domain.StatusWrittenOff, p.Status)
		assert.True(t, p.Status.Closed())
		assert.True(t, p.WrittenOff.Equal(domain.AmountOf(d("250"))))
		assert.True(t, p.Outstanding().IsZero())
		assert.True(t, p.Invoices[1].Open.IsZero())
		assert.True(t, p.Invoices[1].WrittenOff.Equal(domain.AmountOf(d("250"))))
		assert.Equal(t, domain.SequencePaused, p.Sequences[0].Status)
		assert.Equal(t, domain.CallFailedStatus, p.Calls[0].Status)
		assert.Equal(t, domain.CallInProgressStatus, p.Calls[1].Status, "a call in progress finishes")
		assert.NotNil(t, p.ResolvedAt)
	})
	for _, reason := range domain.WriteOffReasons() {
		t.Run("OK "+reason, func(t *testing.T) { decided(t, partly, domain.WriteOff{Reason: reason, At: t0}) })
	}
	for name, reason := range map[string]string{"ErrEmptyReason": "", "ErrLowerCase": "insolvency", "ErrOther": "BORED"} {
		t.Run(name, func(t *testing.T) { refused(t, partly, domain.WriteOff{Reason: reason, At: t0}, "validation_failed") })
	}
	for _, status := range []string{"recalled", "paid", "written_off"} {
		t.Run("ErrClosed "+status, func(t *testing.T) {
			refused(t, states(t)[status], domain.WriteOff{Reason: domain.WriteOffOther, At: t0}, "placement_closed")
		})
	}
}

// waived is the active placement with credit waiver W-1 of 40 on the first
// invoice.
func waived(t *testing.T) domain.Placement {
	return MustApply(t, states(t)["active"], domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1",
		InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Date: "2024-08-01", Description: "goodwill", Amount: d("40"), Currency: "EUR"}}, At: t0})
}

func TestCancelPayment(t *testing.T) {
	partly := MustApply(t, states(t)["active"], domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("150"), At: t0})
	cancel := domain.CancelDocument{ReferenceNumber: "P-1", Date: "2024-08-07", Amount: d("150"), Currency: "EUR", At: t0}
	t.Run("OK a reversal entered in error", func(t *testing.T) {
		events, p := decided(t, partly, cancel)
		rev := events[0].(domain.PaymentReversed)
		assert.Equal(t, domain.ReversalEnteredInError, rev.Reason)
		assert.Empty(t, rev.ReturnedTo)
		doc := document(t, events)
		assert.Equal(t, domain.DocCancellation, doc.Type)
		assert.Equal(t, domain.DocDirectPayment, doc.OriginalType)
		assert.True(t, p.Outstanding().Equal(d("400")))
		dec := domain.Decide(p, cancel)
		require.NoError(t, dec.Err)
		require.NotNil(t, dec.Repeat, "at most once: a repeat answers as the first")
		assert.Empty(t, dec.Events)
	})
	t.Run("OK an agency payment", func(t *testing.T) {
		p := MustApply(t, partly, domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("50"), At: t0})
		events, p := decided(t, p, domain.CancelDocument{ReferenceNumber: "AG-1", Amount: d("50"), Currency: "EUR", At: t0})
		assert.Equal(t, domain.ReceivedByAgency, events[0].(domain.PaymentReversed).ReceivedBy)
		assert.Equal(t, domain.DocAgencyPayments, document(t, events).OriginalType)
		assert.True(t, p.AgencyPaid.IsZero())
		assert.True(t, p.Recovered.Equal(domain.AmountOf(d("150"))))
	})
	t.Run("OK on a written-off claim it stays written off", func(t *testing.T) {
		p := MustApply(t, partly, domain.WriteOff{Reason: domain.WriteOffDeceased, At: t0})
		events, p := decided(t, p, cancel)
		assert.Equal(t, domain.ReturnedToWrittenOff, events[0].(domain.PaymentReversed).ReturnedTo)
		assert.Equal(t, domain.StatusWrittenOff, p.Status)
		assert.True(t, p.WrittenOff.Equal(domain.AmountOf(d("400"))))
		assert.True(t, p.Outstanding().IsZero())
		assert.True(t, p.Invoices[0].WrittenOff.Equal(domain.AmountOf(d("100"))))
		assert.True(t, p.Invoices[0].Open.IsZero())
	})
	t.Run("OK on a recalled claim it stays recalled", func(t *testing.T) {
		p := MustApply(t, partly, domain.Recall{At: t0})
		events, p := decided(t, p, cancel)
		assert.Equal(t, domain.ReturnedToRecalled, events[0].(domain.PaymentReversed).ReturnedTo)
		assert.Equal(t, domain.StatusRecalled, p.Status)
	})
	returned := MustApply(t, partly, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
	other := cancel
	other.Amount = d("149")
	euroless := cancel
	euroless.Currency = "USD"
	for name, tc := range map[string]struct {
		state domain.Placement
		cmd   domain.Command
		code  string
	}{
		"ErrUnknownNumber":     {state: partly, cmd: domain.CancelDocument{ReferenceNumber: "P-9", Amount: d("150"), Currency: "EUR", At: t0}, code: "document_not_found"},
		"ErrOtherAmount":       {state: partly, cmd: other, code: "cancellation_mismatch"},
		"ErrOtherCurrency":     {state: partly, cmd: euroless, code: "cancellation_mismatch"},
		"ErrReversedOtherwise": {state: returned, cmd: cancel, code: "payment_already_reversed"},
		"ErrFutureDate":        {state: partly, cmd: domain.CancelDocument{ReferenceNumber: "P-1", Date: "2024-08-08", Amount: d("150"), Currency: "EUR", At: t0}, code: "future_value_date"},
		"ErrBadNumber":         {state: partly, cmd: domain.CancelDocument{ReferenceNumber: "", Amount: d("150"), Currency: "EUR", At: t0}, code: "validation_failed"},
	} {
		t.Run(name, func(t *testing.T) { refused(t, tc.state, tc.cmd, tc.code) })
	}
}

func TestCancelCreditWaiver(t *testing.T) {
	cancel := domain.CancelDocument{ReferenceNumber: "W-1", Date: "2024-08-07", Amount: d("40"), Currency: "EUR", At: t0}
	t.Run("OK the waived amount is owed again on its invoice", func(t *testing.T) {
		before := waived(t)
		events, p := decided(t, before, cancel)
		c := events[0].(domain.CreditWaiverCancelled)
		assert.Equal(t, "I0417211448", c.InvoiceNumber)
		assert.True(t, c.Amount.Equal(domain.AmountOf(d("40"))))
		assert.Empty(t, c.ReturnedTo)
		doc := document(t, events)
		assert.Equal(t, domain.DocCancellation, doc.Type)
		assert.Equal(t, domain.DocCreditWaiver, doc.OriginalType)
		assert.Equal(t, "DE-S242243704005-AD001", doc.OriginalNumber)
		assert.Equal(t, "DE-S242243704005-AD002", doc.DocumentNumber)
		assert.True(t, doc.Amount.Equal(domain.AmountOf(d("40"))))
		assert.Equal(t, "W-1", doc.LineItems[0].CreditWaiverNumber)
		assert.True(t, p.Waived.IsZero())
		assert.True(t, p.Invoices[0].Open.Equal(domain.AmountOf(d("100"))))
		assert.True(t, p.Invoices[0].Waived.IsZero())
		assert.True(t, p.Outstanding().Equal(d("400")))
		dec := domain.Decide(p, cancel)
		require.NoError(t, dec.Err)
		require.NotNil(t, dec.Repeat, "at most once: a repeat answers as the first")
		assert.Equal(t, before.Version, dec.Repeat.Revision)
		assert.Empty(t, dec.Events)
		// The waiver itself, repeated, is still answered as it was first.
		rep := domain.Decide(p, domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1",
			InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Date: "2024-08-01", Description: "goodwill", Amount: d("40"), Currency: "EUR"}}, At: t0})
		require.NoError(t, rep.Err)
		assert.NotNil(t, rep.Repeat)
	})
	t.Run("OK on a paid claim it reopens it", func(t *testing.T) {
		p := MustApply(t, waived(t), domain.ReceivePayment{Amount: d("360"), At: t0})
		require.Equal(t, domain.StatusPaid, p.Status)
		events, p := decided(t, p, cancel)
		assert.Equal(t, []string{"CreditWaiverCancelled", "AccountingDocumentIssued", "PlacementReopened"}, types(events))
		assert.Equal(t, domain.ReopenedWaiverCancelled, events[2].(domain.PlacementReopened).Reason)
		assert.Equal(t, domain.StatusActive, p.Status)
		assert.True(t, p.Outstanding().Equal(d("40")))
	})
	t.Run("OK on a written-off claim it stays written off", func(t *testing.T) {
		p := MustApply(t, waived(t), domain.WriteOff{Reason: domain.WriteOffUncollectible, At: t0})
		events, p := decided(t, p, cancel)
		assert.Equal(t, domain.ReturnedToWrittenOff, events[0].(domain.CreditWaiverCancelled).ReturnedTo)
		assert.Equal(t, domain.StatusWrittenOff, p.Status)
		assert.True(t, p.WrittenOff.Equal(domain.AmountOf(d("400"))))
		assert.True(t, p.Outstanding().IsZero())
	})
	t.Run("OK on a recalled claim it stays recalled", func(t *testing.T) {
		p := MustApply(t, waived(t), domain.Recall{At: t0})
		events, p := decided(t, p, cancel)
		assert.Equal(t, domain.ReturnedToRecalled, events[0].(domain.CreditWaiverCancelled).ReturnedTo)
		assert.Equal(t, domain.StatusRecalled, p.Status)
	})
	other := cancel
	other.Amount = d("40.01")
	for name, tc := range map[string]struct {
		cmd  domain.Command
		code string
	}{
		"ErrOtherAmount":   {cmd: other, code: "cancellation_mismatch"},
		"ErrOtherCurrency": {cmd: domain.CancelDocument{ReferenceNumber: "W-1", Amount: d("40"), Currency: "CHF", At: t0}, code: "cancellation_mismatch"},
		"ErrUnknown":       {cmd: domain.CancelDocument{ReferenceNumber: "W-2", Amount: d("40"), Currency: "EUR", At: t0}, code: "document_not_found"},
	} {
		t.Run(name, func(t *testing.T) { refused(t, waived(t), tc.cmd, tc.code) })
	}
}

func TestCancellationNamesItsNumbers(t *testing.T) {
	payments, waivers := domain.NumbersNamed(domain.CancelDocument{ReferenceNumber: "X-1"})
	assert.Equal(t, []string{"X-1"}, payments)
	assert.Equal(t, []string{"X-1"}, waivers)
	payments, _ = domain.NumbersNamed(domain.ReceiveAgencyPayment{PaymentNumber: "AG-1"})
	assert.Equal(t, []string{"AG-1"}, payments)
}
