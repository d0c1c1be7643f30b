package domain

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// SchemaVersion is the version of the events written by this code, payload
// and metadata; it goes into every event's metadata (schemaVersion), and
// every earlier version is still decoded:
//
//   - 1: metadata in full: causationId and correlationId always present
//     (equal to requestId for commands, "" for system events).
//   - 2: causationId and correlationId are left out when they equal
//     requestId, as every command's do (about 110 bytes an event); readers
//     fill them in again. The hash chain's prefix gives its two hashes in
//     base64url rather than hexadecimal (42 bytes; journal/chain.go).
//     Payloads are unchanged.
//   - 3: every PaymentReceived carries its paymentNumber (the ledger assigns
//     its accounting document's number when the client gives none; earlier
//     unnumbered payments are named the same way when they are read), and
//     the feeds show pause, resume and reopening as STATUS items and a
//     payment's number in its CONFIRMATION (only for events of schema 3 on,
//     so the items of earlier events never change). PaymentReversed and
//     PlacementReopened are new; AccountingDocumentIssued may name the
//     document it reverses (originalType, originalNumber).
//   - 4: the feeds trace each item to its command: every item carries the
//     requestId of the command that caused it, a waiver's CONFIRMATION its
//     creditWaiverNumber, a REJECTION of a partial recall the type
//     PARTIAL_RECALL, and a recall that found nothing outstanding (waivers
//     that cleared the claim) gives no CONFIRMATION of 0 (only for events
//     of schema 4 on, so the items of earlier events never change).
//     AccountingDocumentIssued names the payment of a DIRECT_PAYMENT or
//     reversal document (paymentNumber) and each credit waiver line its
//     creditWaiverNumber; a recall with nothing outstanding issues no
//     CANCELLATION document. PlacementReopened carries the sequences it
//     resumes (those the payoff paused), as PlacementResumed does.
//   - 5: value dates. A payment's, waiver's or reversal's document is dated
//     with its value date (the date the client gave, else the day it was
//     booked), and PaymentReversed carries the reversal's own valueDate when
//     the client gave one. The feeds give every CONFIRMATION and
//     ACCOUNTING_DOCUMENT the value date as date and the booking time as
//     bookedAt, and a handover confirms each invoice with a CONFIRMATION of
//     type INVOICE before any other item of the claim (only for events of
//     schema 5 on, so the items of earlier events never change).
const SchemaVersion = 5

// Event is a fact about a placement. Each has a stable type name that is
// written to the store.
type Event interface{ EventType() string }

// Invoice is one invoice of a placement as placed.
type Invoice struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	Amount         Amount `json:"amount"`
	DueDate        string `json:"dueDate"`
	// From a claims-API handover: the invoice's date and its amount as
	// invoiced (Amount is what was still due when it was handed over).
	InvoiceDate    string  `json:"invoiceDate,omitempty"`
	InvoicedAmount *Amount `json:"invoicedAmount,omitempty"`
}

// LineItem is one line of an accounting document.
type LineItem struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	Amount         Amount `json:"amount"`
	// AllocateTo is what a claims-API payment was for (PRINCIPAL_CLAIM,
	// CLIENT_COSTS, CLIENT_INTERESTS).
	AllocateTo string `json:"allocateTo,omitempty"`
	// CreditWaiverNumber is the client's number of the waiver a
	// CREDIT_WAIVER line comes from (schema 4 on, when it gave one).
	CreditWaiverNumber string `json:"creditWaiverNumber,omitempty"`
}

// What a claims-API payment is allocated to.
const (
	AllocatePrincipal = "PRINCIPAL_CLAIM"
	AllocateCosts     = "CLIENT_COSTS"
	AllocateInterests = "CLIENT_INTERESTS"
)

// Allocation is the part of a payment applied to one invoice.
type Allocation struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	Amount         Amount `json:"amount"`
}

// SealedData is personal data sealed (AES-256-GCM) under a debtor's data
// key, which lives outside the log (package pii): only the ciphertext is in
// the event, so destroying the key erases the data wherever the event is.
type SealedData struct {
	KeyID      string `json:"keyId"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
	// Context names the event the data was sealed for (its type, and for a
	// contact change its id), which the associated data binds it to.
	Context string `json:"context"`
}

// DebtorContactChanged replaces a placement's debtor's personal data (a new
// address, phone, e-mail or bank account), sealed like the handover's.
type DebtorContactChanged struct {
	ChangeID     uuid.UUID   `json:"changeId"`
	PersonalData *SealedData `json:"personalData"`
	ChangedAt    time.Time   `json:"changedAt"`
}

type PlacementOpened struct {
	PlacementID    uuid.UUID       `json:"placementId"`
	CreditorID     string          `json:"creditorId"`
	ClaimNumber    string          `json:"claimNumber"`
	CustomerNumber string          `json:"customerNumber"`
	Currency       string          `json:"currency"`
	FeeRate        decimal.Decimal `json:"feeRate"`
	Invoices       []Invoice       `json:"invoices"`
	OpenedAt       time.Time       `json:"openedAt"`
	// PersonalData is the debtor's personal data from a claims-API
	// handover, sealed (see package pii); absent when none was given.
	PersonalData *SealedData `json:"personalData,omitempty"`
	// Charges are the costs and interests handed over with the claim,
	// receivables of their own (absent when none were).
	Charges []Charge `json:"charges,omitempty"`
}

type EmailSequenceStarted struct {
	SequenceID uuid.UUID `json:"sequenceId"`
	NextSendAt time.Time `json:"nextSendAt"`
}

type CallScheduled struct {
	CallID      uuid.UUID `json:"callId"`
	ScheduledAt time.Time `json:"scheduledAt"`
}

type CallDialed struct {
	CallID uuid.UUID `json:"callId"`
}

type CallCompleted struct {
	CallID  uuid.UUID `json:"callId"`
	Outcome string    `json:"outcome"`
}

// PlacementRecalled closes the placement for good.
type PlacementRecalled struct {
	RecalledAt        time.Time       `json:"recalledAt"`
	OutstandingAmount decimal.Decimal `json:"outstandingAmount"`
	SequencesPaused   int             `json:"sequencesPaused"`
	CallsCancelled    int             `json:"callsCancelled"`
	// Charges are the costs and interests the recall cancelled beside the
	// principal (OutstandingAmount); absent when none were open.
	Charges *Split `json:"charges,omitempty"`
}

type SequencesPaused struct {
	SequenceIDs []uuid.UUID `json:"sequenceIds"`
}

type CallsCancelled struct {
	CallIDs []uuid.UUID `json:"callIds"`
}

type OutcomeScoreSnapshotted struct {
	Score           decimal.Decimal `json:"score"`
	RecoveredAmount decimal.Decimal `json:"recoveredAmount"`
	OriginalAmount  decimal.Decimal `json:"originalAmount"`
}

// Accounting document types.
const (
	DocCreditWaiver  = "CREDIT_WAIVER"
	DocCancellation  = "CANCELLATION"
	DocDirectPayment = "DIRECT_PAYMENT"
	// DocReallocation takes a payment that was real back off the claim (it
	// was returned, or reversed for another reason): its amount is open again.
	DocReallocation = "REALLOCATION"
	// DocAgencyPayments is a payment the debtor made to the agency, which
	// the agency then owes the creditor.
	DocAgencyPayments = "AGENCY_PAYMENTS"
	// DocWriteOff takes what is open off a claim that cannot be collected.
	DocWriteOff = "WRITE_OFF"
)

// ReceivedByAgency marks a payment the debtor made to the agency (an
// AGENCY_PAYMENTS document) rather than to the creditor.
const ReceivedByAgency = "AGENCY"

// Where money taken back on a closed claim goes (PaymentReversed's and
// CreditWaiverCancelled's ReturnedTo): the bucket that closed the claim.
// Empty: it is open again.
const (
	ReturnedToRecalled   = "RECALLED"
	ReturnedToWrittenOff = "WRITTEN_OFF"
)

// AccountingDocumentIssued records a document; its amount is negative (it
// lowers the claim) and equals the sum of its lines.
type AccountingDocumentIssued struct {
	DocumentNumber string     `json:"documentNumber"`
	Type           string     `json:"type"`
	Date           string     `json:"date"`
	Amount         Amount     `json:"amount"`
	Currency       string     `json:"currency"`
	LineItems      []LineItem `json:"lineItems"`
	// OriginalType and OriginalNumber name the document this one reverses
	// (a payment reversal's REALLOCATION or CANCELLATION).
	OriginalType   string `json:"originalType,omitempty"`
	OriginalNumber string `json:"originalNumber,omitempty"`
	// PaymentNumber names the payment of a DIRECT_PAYMENT document, or the
	// one a reversal's document takes back (schema 4 on).
	PaymentNumber string `json:"paymentNumber,omitempty"`
}

type CreditWaiverIssued struct {
	CreditWaiverNumber string `json:"creditWaiverNumber,omitempty"`
	InvoiceNumber      string `json:"invoiceNumber"`
	ContractNumber     string `json:"contractNumber"`
	Date               string `json:"date"`
	Description        string `json:"description"`
	Amount             Amount `json:"amount"`
	Currency           string `json:"currency"`
}

type PaymentReceived struct {
	PaymentNumber string `json:"paymentNumber,omitempty"`
	// From the claims API: the invoice the payment names (it is then
	// allocated to that invoice alone), the payment's own date (its value
	// date; payment-received gives one too, schema 5 on) and description,
	// and what it was for.
	InvoiceNumber   string       `json:"invoiceNumber,omitempty"`
	Date            string       `json:"date,omitempty"`
	Description     string       `json:"description,omitempty"`
	AllocateTo      string       `json:"allocateTo,omitempty"`
	Amount          Amount       `json:"amount"`
	Currency        string       `json:"currency"`
	Allocations     []Allocation `json:"allocations"`
	RecoveredAmount Amount       `json:"recoveredAmount"`
	FeeAmount       Amount       `json:"feeAmount"`
	ReceivedAt      time.Time    `json:"receivedAt"`
	// Split is what of Amount went to costs, interests and the overpayment
	// (the rest is principal, in Allocations); absent when nothing did.
	// RecoveredAmount and FeeAmount count the principal alone.
	Split *Split `json:"split,omitempty"`
	// ReceivedBy is ReceivedByAgency when the debtor paid the agency;
	// empty when it paid the creditor (every payment before it existed).
	ReceivedBy string `json:"receivedBy,omitempty"`
}

// Reasons a payment is reversed.
const (
	ReversalReturned       = "RETURNED"         // the money came back (a bounced transfer, a chargeback)
	ReversalEnteredInError = "ENTERED_IN_ERROR" // it should never have been recorded (a typo, the wrong claim)
	ReversalOther          = "OTHER"
)

// PaymentReversed takes an earlier payment back: its allocations are open
// again on their invoices (and its split on the costs, interests and
// overpayment), the recovered amount goes down by its principal part and
// the fee is recomputed from the new total. It carries what the placement
// remembers of the payment, so a reader that did not see the payment (a
// state started from a snapshot) knows it as well as one that did.
type PaymentReversed struct {
	PaymentNumber string       `json:"paymentNumber"`
	Reason        string       `json:"reason"`
	Amount        Amount       `json:"amount"`
	Currency      string       `json:"currency"`
	Allocations   []Allocation `json:"allocations"`
	// OriginalDocument is the payment's DIRECT_PAYMENT document;
	// PaymentRevision the revision of its PaymentReceived.
	OriginalDocument string `json:"originalDocument"`
	PaymentRevision  uint64 `json:"paymentRevision"`
	// What the payment said beyond its amount (claims-API payments).
	InvoiceNumber   string    `json:"invoiceNumber,omitempty"`
	Date            string    `json:"date,omitempty"`
	Description     string    `json:"description,omitempty"`
	AllocateTo      string    `json:"allocateTo,omitempty"`
	RecoveredAmount Amount    `json:"recoveredAmount"`
	FeeAmount       Amount    `json:"feeAmount"`
	ReversedAt      time.Time `json:"reversedAt"`
	// ValueDate is the reversal's own value date (YYYY-MM-DD), when the
	// client gave one (schema 5 on); Date above is the payment's.
	ValueDate string `json:"valueDate,omitempty"`
	// Split is the payment's split, taken back with it (absent when it had
	// none).
	Split *Split `json:"split,omitempty"`
	// ReceivedBy is the payment's (ReceivedByAgency for an agency payment).
	ReceivedBy string `json:"receivedBy,omitempty"`
	// ReturnedTo is the bucket that closed the claim, when it was closed
	// (recalled, written off): the money goes back there, not to open.
	ReturnedTo string `json:"returnedTo,omitempty"`
}

// Reasons a claim is written off.
const (
	WriteOffUncollectible = "UNCOLLECTIBLE"
	WriteOffInsolvency    = "INSOLVENCY"
	WriteOffDeceased      = "DECEASED"
	WriteOffOther         = "OTHER"
)

// PlacementWrittenOff closes a claim that cannot be collected: what was
// open on each invoice (Allocations, summing to OutstandingAmount) is
// written off, and the costs and interests open (Charges; absent when none
// were, and on write-offs recorded before they were written off too).
type PlacementWrittenOff struct {
	Reason            string          `json:"reason"`
	OutstandingAmount decimal.Decimal `json:"outstandingAmount"`
	Currency          string          `json:"currency"`
	Allocations       []Allocation    `json:"allocations"`
	SequencesPaused   int             `json:"sequencesPaused"`
	CallsCancelled    int             `json:"callsCancelled"`
	WrittenOffAt      time.Time       `json:"writtenOffAt"`
	Charges           *Split          `json:"charges,omitempty"`
}

// CreditWaiverCancelled takes a numbered credit waiver back: its amount is
// owed again on its invoice (open, or on a closed claim the bucket that
// closed it, ReturnedTo). It carries what the placement remembers of the
// waiver, as PaymentReversed does of a payment.
type CreditWaiverCancelled struct {
	CreditWaiverNumber string `json:"creditWaiverNumber"`
	InvoiceNumber      string `json:"invoiceNumber"`
	ContractNumber     string `json:"contractNumber"`
	Amount             Amount `json:"amount"`
	Currency           string `json:"currency"`
	// Date is the cancellation's date; OriginalDocument the waiver's
	// CREDIT_WAIVER document, WaiverRevision the revision of its event
	// and WaiverContent what it said (to answer a repeat of the waiver).
	Date             string    `json:"date"`
	OriginalDocument string    `json:"originalDocument"`
	WaiverRevision   uint64    `json:"waiverRevision"`
	WaiverContent    string    `json:"waiverContent"`
	ReturnedTo       string    `json:"returnedTo,omitempty"`
	CancelledAt      time.Time `json:"cancelledAt"`
}

// ReopenedPaymentReversed is why a placement paid in full is active again.
const ReopenedPaymentReversed = "PAYMENT_REVERSED"

// ReopenedWaiverCancelled: a credit waiver of a placement paid in full was
// cancelled, so its amount is owed again.
const ReopenedWaiverCancelled = "CREDIT_WAIVER_CANCELLED"

// PlacementReopened makes a placement that was paid in full active again,
// because a payment was reversed. The sequences the payoff paused are active
// again, as a resume makes them (Sequences, with when each is due; overdue
// ones at once). Events of schema 3 have no Sequences: their outreach stayed
// stopped, and they fold so still.
type PlacementReopened struct {
	Reason        string           `json:"reason"`
	PaymentNumber string           `json:"paymentNumber"`
	ReopenedAt    time.Time        `json:"reopenedAt"`
	Sequences     []PausedSequence `json:"sequences,omitempty"`
}

type PlacementPaid struct {
	PaidAt time.Time `json:"paidAt"`
}

// Recall kinds, as they appear in rejections.
const (
	RecallTotal   = "RECALL"
	RecallPartial = "PARTIAL_RECALL"
)

// RecallRejected records a recall of a closed placement, so that auditors see
// the attempt; it changes nothing else.
type RecallRejected struct {
	Kind       string    `json:"kind"`
	Status     Status    `json:"status"`
	Reason     string    `json:"reason"`
	RejectedAt time.Time `json:"rejectedAt"`
}

// Pause reasons.
const (
	PauseDispute         = "DISPUTE"
	PauseCreditorRequest = "CREDITOR_REQUEST"
	PauseOther           = "OTHER"
)

// PausedSequence remembers when a sequence was due, to resume it.
type PausedSequence struct {
	SequenceID uuid.UUID `json:"sequenceId"`
	NextSendAt time.Time `json:"nextSendAt"`
}

// PlacementPaused is a reversible hold.
type PlacementPaused struct {
	Reason          string           `json:"reason"`
	PausedAt        time.Time        `json:"pausedAt"`
	ResumeAt        *time.Time       `json:"resumeAt,omitempty"`
	Sequences       []PausedSequence `json:"sequences"`
	SequencesPaused int              `json:"sequencesPaused"`
	CallsCancelled  int              `json:"callsCancelled"`
}

// PlacementResumed ends a hold; Automatic when the ledger did it at resumeAt.
type PlacementResumed struct {
	ResumedAt time.Time        `json:"resumedAt"`
	Automatic bool             `json:"automatic"`
	Sequences []PausedSequence `json:"sequences"`
}

// The stored type names of the events: the one place they are written.
const (
	TypePlacementOpened          = "PlacementOpened"
	TypeEmailSequenceStarted     = "EmailSequenceStarted"
	TypeCallScheduled            = "CallScheduled"
	TypeCallDialed               = "CallDialed"
	TypeCallCompleted            = "CallCompleted"
	TypePlacementRecalled        = "PlacementRecalled"
	TypeSequencesPaused          = "SequencesPaused"
	TypeCallsCancelled           = "CallsCancelled"
	TypeOutcomeScoreSnapshotted  = "OutcomeScoreSnapshotted"
	TypeAccountingDocumentIssued = "AccountingDocumentIssued"
	TypeCreditWaiverIssued       = "CreditWaiverIssued"
	TypePaymentReceived          = "PaymentReceived"
	TypePlacementPaid            = "PlacementPaid"
	TypeRecallRejected           = "RecallRejected"
	TypePlacementPaused          = "PlacementPaused"
	TypePlacementResumed         = "PlacementResumed"
	TypePaymentReversed          = "PaymentReversed"
	TypePlacementReopened        = "PlacementReopened"
	TypeDebtorContactChanged     = "DebtorContactChanged"
	TypePlacementWrittenOff      = "PlacementWrittenOff"
	TypeCreditWaiverCancelled    = "CreditWaiverCancelled"
)

func (PlacementPaused) EventType() string  { return TypePlacementPaused }
func (PlacementResumed) EventType() string { return TypePlacementResumed }

func (PlacementOpened) EventType() string          { return TypePlacementOpened }
func (EmailSequenceStarted) EventType() string     { return TypeEmailSequenceStarted }
func (CallScheduled) EventType() string            { return TypeCallScheduled }
func (CallDialed) EventType() string               { return TypeCallDialed }
func (CallCompleted) EventType() string            { return TypeCallCompleted }
func (PlacementRecalled) EventType() string        { return TypePlacementRecalled }
func (SequencesPaused) EventType() string          { return TypeSequencesPaused }
func (CallsCancelled) EventType() string           { return TypeCallsCancelled }
func (OutcomeScoreSnapshotted) EventType() string  { return TypeOutcomeScoreSnapshotted }
func (AccountingDocumentIssued) EventType() string { return TypeAccountingDocumentIssued }
func (CreditWaiverIssued) EventType() string       { return TypeCreditWaiverIssued }
func (PaymentReceived) EventType() string          { return TypePaymentReceived }
func (PlacementPaid) EventType() string            { return TypePlacementPaid }
func (RecallRejected) EventType() string           { return TypeRecallRejected }
func (PaymentReversed) EventType() string          { return TypePaymentReversed }
func (PlacementReopened) EventType() string        { return TypePlacementReopened }
func (DebtorContactChanged) EventType() string     { return TypeDebtorContactChanged }
func (PlacementWrittenOff) EventType() string      { return TypePlacementWrittenOff }
func (CreditWaiverCancelled) EventType() string    { return TypeCreditWaiverCancelled }

// registry maps each stored type name to a decoder. An unknown type is an
// error, never a silent skip. Unknown fields inside a known type are
// ignored, so that events written by a later schema version that only added
// fields still replay.
var registry = map[string]func([]byte) (Event, error){}

func register[E Event]() {
	var zero E
	registry[zero.EventType()] = func(b []byte) (Event, error) {
		var e E
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, err
		}
		return e, nil
	}
}

func init() {
	register[PlacementOpened]()
	register[EmailSequenceStarted]()
	register[CallScheduled]()
	register[CallDialed]()
	register[CallCompleted]()
	register[PlacementRecalled]()
	register[SequencesPaused]()
	register[CallsCancelled]()
	register[OutcomeScoreSnapshotted]()
	register[AccountingDocumentIssued]()
	register[CreditWaiverIssued]()
	register[PaymentReceived]()
	register[PlacementPaid]()
	register[RecallRejected]()
	register[PlacementPaused]()
	register[PlacementResumed]()
	register[PaymentReversed]()
	register[PlacementReopened]()
	register[DebtorContactChanged]()
	register[PlacementWrittenOff]()
	register[CreditWaiverCancelled]()
}

// EventClasses is how one reader of the log (the feed, reconciliation,
// verify, the status changes) sorts the event types: those it acts on and
// those it passes over on purpose. Every reader's switch over event types
// lists both and fails loudly on any other type, and a test checks each
// reader's classes against the registry, so a type added to the registry
// cannot be passed over silently.
type EventClasses struct {
	Handled []string
	Ignored []string
}

// Check reports a registered type the classes leave out, a type they name
// that is not registered, and a type they name twice.
func (c EventClasses) Check() error {
	seen := map[string]int{}
	for _, t := range append(slices.Clone(c.Handled), c.Ignored...) {
		seen[t]++
	}
	var problems []string
	for _, t := range slices.Sorted(maps.Keys(registry)) {
		if seen[t] == 0 {
			problems = append(problems, fmt.Sprintf("%s is neither handled nor ignored", t))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(seen)) {
		if _, ok := registry[t]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not a registered event type", t))
		}
		if seen[t] > 1 {
			problems = append(problems, fmt.Sprintf("%s is named %d times", t, seen[t]))
		}
	}
	if problems != nil {
		return fmt.Errorf("domain: event classes: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Handles reports whether the classes have the type among those handled.
func (c EventClasses) Handles(eventType string) bool { return slices.Contains(c.Handled, eventType) }

// EncodeEvent returns an event's stored type name and payload.
func EncodeEvent(e Event) (string, []byte, error) {
	if b, ok := encodeFast(e); ok {
		return e.EventType(), b, nil
	}
	b, err := json.Marshal(e)
	return e.EventType(), b, err
}

// DecodeEvent decodes a stored event. An unknown type or a payload that does
// not decode is an error.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	dec, ok := registry[eventType]
	if !ok {
		return nil, fmt.Errorf("domain: unknown event type %q", eventType)
	}
	if e, ok := decodeFast(eventType, data); ok {
		return e, nil
	}
	e, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("domain: decode %s: %w", eventType, err)
	}
	return atCurrencyScale(e), nil
}

// EventTypes lists the registered type names.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}
