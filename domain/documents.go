package domain

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// The collection API's other accounting documents: payments the debtor
// made to the agency (AGENCY_PAYMENTS), write-offs (WRITE_OFF) and the
// cancellation of a payment or a credit waiver by its number
// (CANCELLATION).

// receivedBy is who a payment was made to, as its event says it.
func receivedBy(c ReceivePayment) string {
	if c.agency {
		return ReceivedByAgency
	}
	return ""
}

// valueDate checks a document's value date as every value date is checked
// (valueDateRefusal: a date YYYY-MM-DD not after the day of at) and gives
// the day of at when it is empty.
func valueDate(date string, at time.Time) (string, error) {
	if err := valueDateRefusal(date, "date", at); err != nil {
		return "", err
	}
	return valueDateOr(date, at), nil
}

// decideAgencyPayment decides a payment to the agency as a payment (the
// same allocation, fee and closing), numbered, with its AGENCY_PAYMENTS
// document. The number is the claim's payment number: a repeat with the same
// content answers as the first, other content (or a direct payment of the
// number) is refused. What it brings beyond everything open is an
// overpayment, as a claims-API payment's is: the agency holds the money, so
// refusing it would leave money the books do not show.
func decideAgencyPayment(p Placement, c ReceiveAgencyPayment) Decision {
	if c.PaymentNumber == "" {
		return refuse(Invalid(FieldError{Field: "paymentNumber", Message: "is required"}))
	}
	date, err := valueDate(c.Date, c.At)
	if err != nil {
		return refuse(err)
	}
	return decidePayment(p, ReceivePayment{PaymentNumber: c.PaymentNumber, Amount: c.Amount, Date: date, At: c.At, Overpay: true, agency: true})
}

// decideWriteOff closes an open claim for good: what is open on each invoice,
// and of the costs and interests, is written off (PlacementWrittenOff), its
// outreach stopped as a recall stops it, and a WRITE_OFF document lowers the
// claim by it (a line per invoice, and per charge with its allocateTo).
func decideWriteOff(p Placement, c WriteOff) Decision {
	if p.Status.Closed() {
		return refuse(ErrClosed)
	}
	if err := ValidWriteOffReason(c.Reason); err != nil {
		return refuse(err)
	}
	at := c.At.UTC()
	seqs, calls := outreachToStop(p)
	var allocs []Allocation
	lines := []LineItem{}
	for _, inv := range p.Invoices {
		if inv.Open.IsPositive() {
			allocs = append(allocs, Allocation{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: inv.Open})
			lines = append(lines, LineItem{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: inv.Open.Neg()})
		}
	}
	charges := openCharges(p)
	lines = append(lines, chargeLines(charges)...)
	outstanding := p.Outstanding()
	events := []Event{
		PlacementWrittenOff{Reason: c.Reason, OutstandingAmount: outstanding, Currency: p.Currency, Allocations: orNone(allocs),
			SequencesPaused: len(seqs), CallsCancelled: len(calls), WrittenOffAt: at, Charges: charges},
		SequencesPaused{SequenceIDs: orEmpty(seqs)},
		CallsCancelled{CallIDs: orEmpty(calls)},
		OutcomeScoreSnapshotted{Score: OutcomeScore(p.Recovered.Decimal(), p.Original.Decimal()), RecoveredAmount: p.Recovered.Decimal(), OriginalAmount: p.Original.Decimal()},
	}
	if total := outstanding.Add(charges.Total()); total.IsPositive() {
		events = append(events, AccountingDocumentIssued{
			DocumentNumber: documentNumber(p, 0), Type: DocWriteOff, Date: at.Format(time.DateOnly),
			Amount: AmountOf(total.Neg()), Currency: p.Currency, LineItems: lines,
		})
	}
	return ok(append(events, planEndsWithClaim(p, at)...)...)
}

func orNone(a []Allocation) []Allocation {
	if a == nil {
		return []Allocation{}
	}
	return a
}

// decideCancellation cancels the payment or numbered credit waiver named by
// the reference number (a payment first, when a waiver has the same number).
// Its amount and currency must be the document's; a repeat is answered as the
// first cancellation was.
func decideCancellation(p Placement, c CancelDocument) Decision {
	if !ValidIdentifier(c.ReferenceNumber) {
		return refuse(Invalid(FieldError{Field: "referenceNumber", Message: identifierRule}))
	}
	if _, err := valueDate(c.Date, c.At); err != nil {
		return refuse(err)
	}
	mismatch := func(amount decimal.Decimal, currency string) error {
		if c.Currency != currency {
			return Unprocessable("cancellation_mismatch", "currency", fmt.Sprintf("document %q is in %s", c.ReferenceNumber, currency))
		}
		if !c.Amount.Equal(amount) {
			return Unprocessable("cancellation_mismatch", "amount", fmt.Sprintf("document %q is of %s", c.ReferenceNumber, FormatMoney(amount, currency)))
		}
		return nil
	}
	if done, found := p.PaymentNumbers.Get(c.ReferenceNumber); found && done.Payment != nil {
		if err := mismatch(done.Payment.Amount, p.Currency); err != nil {
			return refuse(err)
		}
		return decideReversal(p, ReversePayment{PaymentNumber: c.ReferenceNumber, Reason: ReversalEnteredInError, At: c.At})
	}
	done, found := p.WaiverNumbers.Get(c.ReferenceNumber)
	if !found || done.Waiver == nil {
		return refuse(ErrDocumentNotFound)
	}
	w := done.Waiver
	if err := mismatch(w.Amount, w.Currency); err != nil {
		return refuse(err)
	}
	if w.CancelRevision != 0 {
		return Decision{Repeat: &Repeat{Revision: w.CancelRevision}}
	}
	return ok(waiverCancellation(p, c, done)...)
}

// waiverCancellation is the events of a credit waiver's cancellation: the
// waiver taken back, its CANCELLATION document, and on a claim paid in full
// the reopening (the waived amount is owed again).
func waiverCancellation(p Placement, c CancelDocument, done Processed) []Event {
	at := c.At.UTC()
	w := done.Waiver
	date, _ := valueDate(c.Date, c.At)
	events := []Event{
		CreditWaiverCancelled{
			CreditWaiverNumber: c.ReferenceNumber, InvoiceNumber: w.InvoiceNumber, ContractNumber: w.ContractNumber,
			Amount: AmountOf(w.Amount), Currency: w.Currency, Date: date, OriginalDocument: w.Document, WaiverRevision: done.Revision,
			WaiverContent: done.Content, ReturnedTo: returnedTo(p.Status), CancelledAt: at,
		},
		AccountingDocumentIssued{
			DocumentNumber: documentNumber(p, 0), Type: DocCancellation, Date: date, Amount: AmountOf(w.Amount), Currency: w.Currency,
			LineItems:    []LineItem{{InvoiceNumber: w.InvoiceNumber, ContractNumber: w.ContractNumber, Amount: AmountOf(w.Amount), CreditWaiverNumber: c.ReferenceNumber}},
			OriginalType: DocCreditWaiver, OriginalNumber: w.Document,
		},
	}
	if p.Status == StatusPaid {
		events = append(events, PlacementReopened{Reason: ReopenedWaiverCancelled, ReopenedAt: at, Sequences: resumed(p.PaidPaused, at)})
	}
	return events
}
