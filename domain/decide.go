package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Command is something a client asks of a placement. Each carries the time
// it is decided at, so Decide never reads a clock.
type Command interface{ CommandType() string }

type Place struct {
	PlacementID    uuid.UUID
	CreditorID     string
	ClaimNumber    string
	CustomerNumber string
	Currency       string
	FeeRate        decimal.Decimal
	Invoices       []Invoice
	At             time.Time
	// PersonalData is the debtor's personal data, sealed by the caller.
	PersonalData *SealedData
	// Charges are the costs and interests handed over with the claim.
	Charges []Charge
}

type StartEmailSequence struct {
	SequenceID uuid.UUID
	NextSendAt time.Time
	At         time.Time
}

type ScheduleCall struct {
	CallID      uuid.UUID
	ScheduledAt time.Time
	At          time.Time
}

type DialCall struct {
	CallID uuid.UUID
	At     time.Time
}

type CompleteCall struct {
	CallID  uuid.UUID
	Outcome string
	At      time.Time
}

// Recall is a total recall.
type Recall struct{ At time.Time }

// Waiver is one line of a partial recall.
type Waiver struct {
	CreditWaiverNumber string
	InvoiceNumber      string
	ContractNumber     string
	Date               string
	Description        string
	Amount             decimal.Decimal
	Currency           string
}

type PartialRecall struct {
	Waivers []Waiver
	At      time.Time
}

type ReceivePayment struct {
	PaymentNumber string
	Amount        decimal.Decimal
	At            time.Time
	// From the claims API, all optional: the invoice (and its contract) the
	// payment is for, which it is then allocated to alone; the currency it
	// was made in (it must be the claim's); its date (the value date, not
	// after At's day; At's day when empty), description and what it was for.
	InvoiceNumber  string
	ContractNumber string
	Currency       string
	Date           string
	Description    string
	AllocateTo     string
	// Overpay takes what is more than the claim has open as an
	// overpayment (the claims API's payments); without it such a payment
	// is refused (payment-received).
	Overpay bool
	// agency marks the payment an agency payment (ReceiveAgencyPayment
	// decided as a payment).
	agency bool
}

// ReceiveAgencyPayment records that the debtor paid the agency: applied to
// the claim as a payment, which the agency then owes the creditor. Date is
// its value date (today when empty).
type ReceiveAgencyPayment struct {
	PaymentNumber string
	Amount        decimal.Decimal
	Date          string
	At            time.Time
}

// WriteOff closes a claim that cannot be collected, for a reason of
// WriteOffReasons.
type WriteOff struct {
	Reason string
	At     time.Time
}

// CancelDocument cancels a payment (a reversal ENTERED_IN_ERROR) or a
// numbered credit waiver, named by its number; Amount and Currency must be
// the document's.
type CancelDocument struct {
	ReferenceNumber string
	Date            string
	Amount          decimal.Decimal
	Currency        string
	At              time.Time
}

func (ReceiveAgencyPayment) CommandType() string { return "agency_payment_received" }
func (WriteOff) CommandType() string             { return "write_off" }
func (CancelDocument) CommandType() string       { return "cancel_document" }

func (Place) CommandType() string               { return "place" }
func (StartEmailSequence) CommandType() string  { return "start_email_sequence" }
func (ScheduleCall) CommandType() string        { return "schedule_call" }
func (DialCall) CommandType() string            { return "dial_call" }
func (CompleteCall) CommandType() string        { return "complete_call" }
func (Recall) CommandType() string              { return "recall" }
func (PartialRecall) CommandType() string       { return "partial_recall" }
func (ReceivePayment) CommandType() string      { return "payment_received" }
func (Pause) CommandType() string               { return "pause" }
func (ReversePayment) CommandType() string      { return "reverse_payment" }
func (ChangeDebtorContact) CommandType() string { return "change_debtor_contact" }
func (Resume) CommandType() string              { return "resume" }

// ChangeDebtorContact replaces the debtor's personal data, sealed by the
// caller.
type ChangeDebtorContact struct {
	ChangeID     uuid.UUID
	PersonalData *SealedData
	At           time.Time
}

// ReversePayment takes back an earlier payment, named by its number.
type ReversePayment struct {
	PaymentNumber string
	Reason        string
	// Date is the reversal's value date (YYYY-MM-DD), optional: the day At
	// falls on (UTC) when empty.
	Date string
	At   time.Time
}

// Pause puts an active placement on a reversible hold.
type Pause struct {
	Reason   string
	ResumeAt *time.Time
	At       time.Time
}

// Resume ends a hold. When Due is set, it is the ledger's automatic resume
// for the hold that was to end at Due: refused if the placement is no longer
// held, or held with another resumeAt (resumed and paused again meanwhile).
type Resume struct {
	Due *time.Time
	At  time.Time
}

// Limits on what a command may carry.
const (
	MaxInvoices      = 500
	MaxWaivers       = 500
	MaxIdentifierLen = 64
	MaxTextLen       = 1000
)

// CheckInvoiceCount refuses n invoices when they are more than one placement
// holds (MaxInvoices); nil when they are not. Place checks it; the API checks
// it too before it reads any amount, so a request with too many is refused
// whole.
func CheckInvoiceCount(n int) error {
	if f, tooMany := invoiceCount(n); tooMany {
		return Invalid(f)
	}
	return nil
}

// invoiceCount is CheckInvoiceCount's field error, and whether there is one.
func invoiceCount(n int) (FieldError, bool) {
	return FieldError{Field: "invoices", Message: fmt.Sprintf("at most %d invoices", MaxInvoices)}, n > MaxInvoices
}

// RejectedReason is the text of a rejection of a recall of a closed claim.
const RejectedReason = "Das Verfahren ist bereits eingestellt."

var (
	identifierPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)
	creditorPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// identifierRule is what ValidIdentifier asks, as a refusal says it.
const identifierRule = "must be 1 to 64 letters, digits, '.', '_', '/' or '-'"

// ValidIdentifier reports whether s may be a claim, invoice, contract,
// payment or waiver number.
func ValidIdentifier(s string) bool { return identifierPattern.MatchString(s) }

// ValidCreditorID reports whether s may be a creditor id.
func ValidCreditorID(s string) bool { return creditorPattern.MatchString(s) }

// ParseDate parses a YYYY-MM-DD date: exactly what time.Parse takes with
// time.DateOnly and writes back the same (a day of the month it names, four
// digits of year, two of month and day), at midnight UTC, as it gives it.
// It reads the digits itself: every event with money in it has a value date,
// and time.Parse with the check of its Format cost an allocation each.
// TestParseDateIsTimeParse holds it to the standard library's answer.
func ParseDate(s string) (time.Time, bool) {
	if len(s) != len(time.DateOnly) || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	num := func(d string) int {
		n := 0
		for i := 0; i < len(d); i++ {
			if d[i] < '0' || d[i] > '9' {
				return -1
			}
			n = n*10 + int(d[i]-'0')
		}
		return n
	}
	year, month, day := num(s[:4]), num(s[5:7]), num(s[8:])
	if year < 0 || month < 1 || month > 12 || day < 1 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day { // past the month's last day: time.Date went on into the next
		return time.Time{}, false
	}
	return t, true
}

// Decision is what Decide returns: the events to append and, when the command
// is refused, the error to answer with. A refusal usually appends nothing;
// a recall of a closed placement appends its RecallRejected and still answers
// with ErrClosed.
type Decision struct {
	Events []Event
	Err    error
	// Repeat, when set, says the command was processed before (a payment or
	// credit waivers whose numbers the placement has seen, with the same
	// content): nothing is recorded, and the answer is the first one's.
	Repeat *Repeat
}

// Repeat names the first execution of a repeated command by the revision of
// one of its events.
type Repeat struct{ Revision uint64 }

// paymentContent and waiverContent are what must match for a numbered
// payment or waiver to be a repeat rather than a reuse of its number.
func paymentContent(receivedBy string, amount decimal.Decimal, invoice, date, description, allocateTo string) string {
	if receivedBy != "" { // never the same content as a payment to the creditor
		return strings.Join([]string{receivedBy, amount.String(), date}, "\x00")
	}
	if invoice == "" && date == "" && description == "" && allocateTo == "" {
		return amount.String() // what payment-received says of a payment
	}
	return strings.Join([]string{amount.String(), invoice, date, description, allocateTo}, "\x00")
}

func waiverContent(invoice, contract, date, description string, amount decimal.Decimal, currency string) string {
	return strings.Join([]string{invoice, contract, date, description, amount.String(), currency}, "\x00")
}

func ok(events ...Event) Decision { return Decision{Events: events} }
func refuse(err error) Decision   { return Decision{Err: err} }

// NumbersNamed lists the payment and credit waiver numbers a command names.
// Decide consults a placement's processed numbers (PaymentNumbers,
// WaiverNumbers) for these and no others, so a placement whose numbers hold
// just these, as far as they were processed, is decided exactly as the fully
// folded one (the command handler relies on it to decide from a snapshot).
func NumbersNamed(c Command) (payments, waivers []string) {
	switch c := c.(type) {
	case ReceivePayment:
		if c.PaymentNumber != "" {
			payments = []string{c.PaymentNumber}
		}
	case ReceiveAgencyPayment:
		payments = []string{c.PaymentNumber}
	case ReversePayment:
		payments = []string{c.PaymentNumber}
	case CancelDocument:
		payments, waivers = []string{c.ReferenceNumber}, []string{c.ReferenceNumber}
	case PartialRecall:
		for _, w := range c.Waivers {
			if w.CreditWaiverNumber != "" {
				waivers = append(waivers, w.CreditWaiverNumber)
			}
		}
	}
	return payments, waivers
}

// Decide decides a command against a placement's state. The events it
// decides are checked before anything is appended: their postings balance
// and the claim's money is conserved (CheckPostings); a decision that would
// break either is refused with ErrPostingsInvariant and records nothing.
func Decide(p Placement, c Command) Decision {
	d := decide(p, c)
	if len(d.Events) > 0 {
		if err := CheckPostings(p, d.Events, commandTime(c)); err != nil {
			return refuse(err)
		}
	}
	return d
}

// commandTime is when a command is decided, the booking time of its events.
func commandTime(c Command) time.Time {
	switch c := c.(type) {
	case Place:
		return c.At
	case StartEmailSequence:
		return c.At
	case ScheduleCall:
		return c.At
	case DialCall:
		return c.At
	case CompleteCall:
		return c.At
	case Recall:
		return c.At
	case PartialRecall:
		return c.At
	case ReceivePayment:
		return c.At
	case Pause:
		return c.At
	case Resume:
		return c.At
	case ReversePayment:
		return c.At
	case ChangeDebtorContact:
		return c.At
	case AgreePaymentPlan:
		return c.At
	case CancelPaymentPlan:
		return c.At
	case BreakPaymentPlan:
		return c.At
	}
	return time.Time{}
}

func decide(p Placement, c Command) Decision {
	if _, isPlace := c.(Place); !isPlace && !p.Exists() {
		return refuse(ErrNotFound)
	}
	switch c := c.(type) {
	case Place:
		return decidePlace(p, c)
	case StartEmailSequence:
		return decideStartSequence(p, c)
	case ScheduleCall:
		return decideScheduleCall(p, c)
	case DialCall:
		return decideDial(p, c)
	case CompleteCall:
		return decideCompleteCall(p, c)
	case Recall:
		if p.Status.Closed() {
			return Decision{Events: []Event{rejected(p, RecallTotal, c.At)}, Err: ErrClosed}
		}
		return ok(closeOut(p, c.At, true)...)
	case PartialRecall:
		return decidePartialRecall(p, c)
	case ReceivePayment:
		return decidePayment(p, c)
	case Pause:
		return decidePause(p, c)
	case Resume:
		return decideResume(p, c)
	case ReversePayment:
		return decideReversal(p, c)
	case AddDebit:
		return decideDebit(p, c)
	case ReceiveAgencyPayment:
		return decideAgencyPayment(p, c)
	case WriteOff:
		return decideWriteOff(p, c)
	case CancelDocument:
		return decideCancellation(p, c)
	case AgreePaymentPlan:
		return decideAgreePlan(p, c)
	case CancelPaymentPlan:
		return decideCancelPlan(p, c)
	case BreakPaymentPlan:
		return decideBreakPlan(p, c)
	case ChangeDebtorContact:
		if c.ChangeID == uuid.Nil || c.PersonalData == nil {
			return refuse(Invalid(FieldError{Field: "customer", Message: "personal data is required"}))
		}
		// Allowed whatever the status: a closed claim's debtor still moves house.
		return ok(DebtorContactChanged{ChangeID: c.ChangeID, PersonalData: c.PersonalData, ChangedAt: c.At.UTC()})
	default:
		return refuse(fmt.Errorf("domain: unknown command %T", c))
	}
}

// outreachRefusal refuses new outreach (a sequence, a call scheduled or
// dialed) on a closed or paused placement; nil when it may start.
func outreachRefusal(p Placement) error {
	if p.Status.Closed() {
		return ErrClosed
	}
	if p.Status == StatusPaused {
		return ErrPaused
	}
	return nil
}

func decideStartSequence(p Placement, c StartEmailSequence) Decision {
	if err := outreachRefusal(p); err != nil {
		return refuse(err)
	}
	if c.SequenceID == uuid.Nil || c.NextSendAt.IsZero() {
		return refuse(Invalid(FieldError{Field: "nextSendAt", Message: "is required"}))
	}
	return ok(EmailSequenceStarted{SequenceID: c.SequenceID, NextSendAt: c.NextSendAt.UTC()})
}

func decideScheduleCall(p Placement, c ScheduleCall) Decision {
	if err := outreachRefusal(p); err != nil {
		return refuse(err)
	}
	if c.CallID == uuid.Nil || c.ScheduledAt.IsZero() {
		return refuse(Invalid(FieldError{Field: "scheduledAt", Message: "is required"}))
	}
	return ok(CallScheduled{CallID: c.CallID, ScheduledAt: c.ScheduledAt.UTC()})
}

func decideDial(p Placement, c DialCall) Decision {
	if err := outreachRefusal(p); err != nil {
		return refuse(err)
	}
	call := p.call(c.CallID)
	if call == nil {
		return refuse(&Error{Kind: KindNotFound, Code: "call_not_found", Message: "the placement has no such call"})
	}
	if call.Status != CallScheduledStatus {
		return refuse(&Error{Kind: KindConflict, Code: "invalid_transition", Message: fmt.Sprintf("the call is %s; only a scheduled call can be dialed", call.Status)})
	}
	return ok(CallDialed{CallID: c.CallID})
}

func decideCompleteCall(p Placement, c CompleteCall) Decision {
	call := p.call(c.CallID)
	if call == nil {
		return refuse(&Error{Kind: KindNotFound, Code: "call_not_found", Message: "the placement has no such call"})
	}
	if call.Status != CallInProgressStatus {
		if p.Status.Closed() && call.Status == CallScheduledStatus {
			return refuse(ErrClosed)
		}
		return refuse(&Error{Kind: KindConflict, Code: "invalid_transition", Message: fmt.Sprintf("the call is %s; only a call in progress can be completed", call.Status)})
	}
	if c.Outcome == "" || utf8.RuneCountInString(c.Outcome) > MaxTextLen {
		return refuse(Invalid(FieldError{Field: "outcome", Message: fmt.Sprintf("is required, at most %d characters", MaxTextLen)}))
	}
	if !validText(c.Outcome) {
		return refuse(Invalid(FieldError{Field: "outcome", Message: textRule}))
	}
	// Allowed after a recall: an in-flight call finishes naturally.
	return ok(CallCompleted{CallID: c.CallID, Outcome: c.Outcome})
}

func rejected(p Placement, kind string, at time.Time) RecallRejected {
	return RecallRejected{Kind: kind, Status: p.Status, Reason: RejectedReason, RejectedAt: at.UTC()}
}

func decidePlace(p Placement, c Place) Decision {
	if p.Exists() {
		return refuse(ErrPlacementExists)
	}
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	if c.PlacementID == uuid.Nil {
		add("placementId", "is required")
	}
	if !ValidCreditorID(c.CreditorID) {
		add("creditorId", "is not a valid creditor id")
	}
	if !ValidClaimNumber(c.ClaimNumber) {
		add("claimNumber", claimNumberRule)
	}
	switch {
	case strings.TrimSpace(c.CustomerNumber) == "" || utf8.RuneCountInString(c.CustomerNumber) > MaxIdentifierLen:
		add("customerNumber", fmt.Sprintf("is required, at most %d characters", MaxIdentifierLen))
	case !validName(c.CustomerNumber):
		add("customerNumber", "must not contain control characters, invisible formatting (such as bidirectional overrides) or line separators")
	}
	if _, known := MinorUnits(c.Currency); !known {
		add("currency", unknownCurrency(c.Currency))
	}
	if c.FeeRate.IsNegative() || c.FeeRate.GreaterThan(decimal.NewFromInt(1)) || c.FeeRate.Exponent() < -4 {
		add("feeRate", "must be between 0 and 1 with at most 4 decimals")
	}
	if len(c.Invoices) == 0 {
		add("invoices", "at least one invoice is required")
	} else if f, tooMany := invoiceCount(len(c.Invoices)); tooMany {
		errs = append(errs, f)
	}
	seen := map[string]bool{}
	for i, inv := range c.Invoices {
		f := fmt.Sprintf("invoices[%d]", i)
		if !ValidIdentifier(inv.InvoiceNumber) {
			add(f+".invoiceNumber", identifierRule)
		} else if seen[inv.InvoiceNumber] {
			add(f+".invoiceNumber", "appears twice")
		}
		seen[inv.InvoiceNumber] = true
		if inv.ContractNumber != "" && !ValidIdentifier(inv.ContractNumber) {
			add(f+".contractNumber", identifierRule)
		}
		if !inv.Amount.IsPositive() {
			add(f+".amount", "must be positive")
		}
		if _, valid := ParseDate(inv.DueDate); !valid {
			add(f+".dueDate", "must be a date YYYY-MM-DD")
		}
		if _, valid := ParseDate(inv.InvoiceDate); inv.InvoiceDate != "" && !valid {
			add(f+".invoiceDate", "must be a date YYYY-MM-DD")
		}
		if inv.InvoicedAmount != nil && inv.InvoicedAmount.Cmp(inv.Amount) < 0 {
			add(f+".originalAmount", "must not be less than what remains of it")
		}
	}
	errs = append(errs, handoverCharges(c)...)
	if len(errs) > 0 {
		return refuse(Invalid(errs...))
	}
	return ok(PlacementOpened{
		PlacementID: c.PlacementID, CreditorID: c.CreditorID, ClaimNumber: c.ClaimNumber,
		CustomerNumber: c.CustomerNumber, Currency: c.Currency, FeeRate: c.FeeRate,
		Invoices: slices.Clone(c.Invoices), OpenedAt: c.At.UTC(), PersonalData: c.PersonalData, Charges: slices.Clone(c.Charges),
	})
}

// closeOut returns the events that stop all outreach and close the placement:
// for a recall PlacementRecalled first, for a full payment PlacementPaid.
// Active sequences are paused and scheduled calls cancelled; a call in
// progress is left to finish. A recall's CANCELLATION document cancels what
// was outstanding, costs and interests included; when nothing was (waivers
// cleared the claim), there is none rather than one of 0.
func closeOut(p Placement, at time.Time, recall bool) []Event {
	at = at.UTC()
	seqs, calls := outreachToStop(p)
	var events []Event
	outstanding := p.Outstanding()
	if recall {
		events = append(events, PlacementRecalled{RecalledAt: at, OutstandingAmount: outstanding, SequencesPaused: len(seqs), CallsCancelled: len(calls),
			Charges: openCharges(p)})
	} else {
		events = append(events, PlacementPaid{PaidAt: at})
	}
	events = append(events,
		SequencesPaused{SequenceIDs: orEmpty(seqs)},
		CallsCancelled{CallIDs: orEmpty(calls)},
		OutcomeScoreSnapshotted{Score: OutcomeScore(p.Recovered.Decimal(), p.Original.Decimal()), RecoveredAmount: p.Recovered.Decimal(), OriginalAmount: p.Original.Decimal()},
	)
	if doc, issued := RecallDocument(p, at); recall && issued {
		events = append(events, doc)
	}
	return append(events, planEndsWithClaim(p, at)...)
}

// RecallDocument is the CANCELLATION document a recall of p at time at issues
// (the recall's postings are its lines): what is open on each invoice, and
// the open costs and interests. issued is false when nothing is open
// (waivers cleared it): there is no document of 0.
func RecallDocument(p Placement, at time.Time) (doc AccountingDocumentIssued, issued bool) {
	if !p.TotalOpen().IsPositive() {
		return AccountingDocumentIssued{}, false
	}
	doc = AccountingDocumentIssued{
		DocumentNumber: documentNumber(p, 0), Type: DocCancellation, Date: DateOnly(at),
		Amount: AmountOf(p.TotalOpen().Neg()), Currency: p.Currency, LineItems: []LineItem{},
	}
	for _, inv := range p.Invoices {
		if inv.Open.IsPositive() {
			doc.LineItems = append(doc.LineItems, LineItem{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: inv.Open.Neg()})
		}
	}
	doc.LineItems = append(doc.LineItems, chargeLines(openCharges(p))...)
	return doc, true
}

// outreachToStop lists the outreach a closing stops: the active sequences
// and the scheduled calls (a call in progress is left to finish).
func outreachToStop(p Placement) (seqs, calls []uuid.UUID) {
	for _, s := range p.Sequences {
		if s.Status == SequenceActive {
			seqs = append(seqs, s.ID)
		}
	}
	for _, c := range p.Calls {
		if c.Status == CallScheduledStatus {
			calls = append(calls, c.ID)
		}
	}
	return seqs, calls
}

func orEmpty(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}

// documentNumber numbers a placement's accounting documents: the claim
// number is unique within the creditor and the sequence never repeats within
// the placement, so numbers are unique within the creditor and never reused.
// extra counts documents issued earlier in the same decision.
func documentNumber(p Placement, extra int) string {
	var buf [64]byte
	b := append(append(buf[:0], p.ClaimNumber...), "-AD"...)
	n := p.Documents + extra + 1
	if n >= 0 && n < 100 { // %03d
		b = append(b, '0')
		if n < 10 {
			b = append(b, '0')
		}
	}
	return string(strconv.AppendInt(b, int64(n), 10))
}

func decidePartialRecall(p Placement, c PartialRecall) Decision {
	if len(c.Waivers) == 0 {
		return refuse(Invalid(FieldError{Field: "waivers", Message: "at least one credit waiver is required"}))
	}
	if len(c.Waivers) > MaxWaivers {
		return refuse(Invalid(FieldError{Field: "waivers", Message: fmt.Sprintf("at most %d credit waivers", MaxWaivers)}))
	}
	field := func(i int, name string) string {
		if len(c.Waivers) == 1 {
			return name
		}
		return fmt.Sprintf("[%d].%s", i, name)
	}
	// Numbers first: waivers that were all processed before are answered as
	// they were first, even if they closed the claim (no REJECTION).
	repeat, err := waiverRepeat(p, c.Waivers, field)
	if err != nil {
		return refuse(err)
	}
	if repeat != nil {
		return Decision{Repeat: repeat}
	}
	if p.Status.Closed() {
		return Decision{Events: []Event{rejected(p, RecallPartial, c.At)}, Err: ErrClosed}
	}
	at := c.At.UTC()
	events, err := waiverEvents(p, c, field)
	if err != nil {
		return refuse(err)
	}
	after := p
	for _, e := range events {
		after = EvolveFigures(after, e)
	}
	if paidInFull(after) {
		events = append(events, closeOut(after, at, true)...)
	}
	return ok(events...)
}

// waiverRepeat checks the numbers of a partial recall's waivers: a waiver
// whose number was processed with the same content is processed once; with
// other content, the number is reused (an error). When every waiver was
// processed before, it returns the Repeat to answer with.
func waiverRepeat(p Placement, waivers []Waiver, field func(i int, name string) string) (*Repeat, error) {
	repeats, latest := 0, uint64(0)
	seenNumbers := map[string]bool{}
	for i, w := range waivers {
		if w.CreditWaiverNumber == "" {
			continue
		}
		if !ValidIdentifier(w.CreditWaiverNumber) {
			return nil, Invalid(FieldError{Field: field(i, "creditWaiverNumber"), Message: identifierRule})
		}
		if seenNumbers[w.CreditWaiverNumber] {
			return nil, Invalid(FieldError{Field: field(i, "creditWaiverNumber"), Message: "appears twice in the request"})
		}
		seenNumbers[w.CreditWaiverNumber] = true
		done, processed := p.WaiverNumbers.Get(w.CreditWaiverNumber)
		if !processed {
			continue
		}
		if done.Content != waiverContent(w.InvoiceNumber, w.ContractNumber, w.Date, w.Description, w.Amount, w.Currency) {
			e := *ErrWaiverNumberReused
			e.Fields = []FieldError{{Field: field(i, "creditWaiverNumber"), Message: "was used before for another credit waiver of this claim"}}
			return nil, &e
		}
		repeats++
		latest = max(latest, done.Revision)
	}
	if repeats == len(waivers) {
		return &Repeat{Revision: latest}, nil
	}
	return nil, nil
}

// waiverEvents issues the waivers of a partial recall not processed before,
// each checked against what the ones before it left open, and the credit
// waiver document that sums them, dated with the latest of their value
// dates.
func waiverEvents(p Placement, c PartialRecall, field func(i int, name string) string) ([]Event, error) {
	at := c.At.UTC()
	open := map[string]decimal.Decimal{}
	for _, inv := range p.Invoices {
		open[inv.InvoiceNumber] = inv.Open.Decimal()
	}
	var events []Event
	var lines []LineItem
	total := decimal.Zero
	date := "" // the document's: its latest waiver's value date
	for i, w := range c.Waivers {
		f := func(name string) string { return field(i, name) }
		if _, processed := p.WaiverNumbers.Get(w.CreditWaiverNumber); processed && w.CreditWaiverNumber != "" {
			continue // processed before: processed once
		}
		inv := p.invoice(w.InvoiceNumber)
		if err := waiverRefusal(p, inv, w, open[w.InvoiceNumber], at, f); err != nil {
			return nil, err
		}
		open[w.InvoiceNumber] = open[w.InvoiceNumber].Sub(w.Amount)
		events = append(events, CreditWaiverIssued{
			CreditWaiverNumber: w.CreditWaiverNumber, InvoiceNumber: w.InvoiceNumber, ContractNumber: inv.ContractNumber,
			Date: w.Date, Description: w.Description, Amount: AmountOf(w.Amount), Currency: w.Currency,
		})
		lines = append(lines, LineItem{InvoiceNumber: w.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: AmountOf(w.Amount.Neg()), CreditWaiverNumber: w.CreditWaiverNumber})
		total = total.Add(w.Amount)
		date = max(date, valueDateOr(w.Date, at))
	}
	events = append(events, AccountingDocumentIssued{
		DocumentNumber: documentNumber(p, 0), Type: DocCreditWaiver, Date: date,
		Amount: AmountOf(total.Neg()), Currency: p.Currency, LineItems: lines,
	})
	return events, nil
}

// waiverRefusal checks one new waiver against the claim: inv is the invoice
// it names (nil when the claim has none), open what the waivers before it in
// the command left open on it, at when the command is decided (its value
// date may not be after that day). nil when the waiver may be issued.
func waiverRefusal(p Placement, inv *InvoiceState, w Waiver, open decimal.Decimal, at time.Time, f func(string) string) error {
	if err := valueDateRefusal(w.Date, f("date"), at); err != nil {
		return err
	}
	switch {
	case !validText(w.Description):
		return Invalid(FieldError{Field: f("description"), Message: textRule})
	case inv == nil:
		return Unprocessable("unknown_invoice", f("invoiceNumber"), fmt.Sprintf("the claim has no invoice %q", w.InvoiceNumber))
	case w.ContractNumber == "" && inv.ContractNumber != "": // missing, not another contract
		return Invalid(FieldError{Field: f("contractNumber"), Message: fmt.Sprintf("is required (invoice %q belongs to contract %q)", w.InvoiceNumber, inv.ContractNumber)})
	case w.ContractNumber != inv.ContractNumber:
		return Unprocessable("contract_mismatch", f("contractNumber"), fmt.Sprintf("invoice %q belongs to contract %q", w.InvoiceNumber, inv.ContractNumber))
	case w.Currency != p.Currency:
		return Unprocessable("currency_mismatch", f("currency"), fmt.Sprintf("the claim is in %s", p.Currency))
	case !w.Amount.IsPositive(): // zero or negative: one refusal, as the amount parser's for a sign
		return Invalid(FieldError{Field: f("amount"), Message: "must be positive"})
	case w.Amount.GreaterThan(open):
		return Unprocessable("amount_exceeds_open", f("amount"),
			fmt.Sprintf("%s is more than the %s still open on invoice %q", w.Amount, FormatMoney(open, p.Currency), w.InvoiceNumber))
	}
	return nil
}

func decidePayment(p Placement, c ReceivePayment) Decision {
	// A number processed before: the same payment is answered as it was
	// first, even if it paid the claim in full; another payment under the
	// same number is refused.
	if c.PaymentNumber != "" {
		if !ValidIdentifier(c.PaymentNumber) {
			return refuse(Invalid(FieldError{Field: "paymentNumber", Message: identifierRule}))
		}
		if done, processed := p.PaymentNumbers.Get(c.PaymentNumber); processed {
			if done.Content != paymentContent(receivedBy(c), c.Amount, c.InvoiceNumber, c.Date, c.Description, c.AllocateTo) {
				e := *ErrPaymentNumberReused
				e.Fields = []FieldError{{Field: "paymentNumber", Message: "was used before for another payment of this claim" + paymentDifference(done.Payment, c)}}
				return refuse(&e)
			}
			return Decision{Repeat: &Repeat{Revision: done.Revision}}
		}
	}
	if p.Status.Closed() {
		return refuse(ErrClosed)
	}
	if !c.Amount.IsPositive() {
		return refuse(Invalid(FieldError{Field: "amount", Message: "must be positive"}))
	}
	if units, _ := MinorUnits(p.Currency); !c.Amount.Equal(c.Amount.Truncate(units)) {
		return refuse(Invalid(FieldError{Field: "amount", Message: fmt.Sprintf("has more decimals than %s allows (%d)", p.Currency, units)}))
	}
	if d := decidePaymentDetails(p, c); d != nil {
		return *d
	}
	if !c.Overpay && exceedsOpen(p, c.Amount) {
		outstanding := p.TotalOpen()
		e := *ErrAmountExceeds
		e.Message = fmt.Sprintf("the payment of %s is more than the %s still owed", FormatMoney(c.Amount, p.Currency), FormatMoney(outstanding, p.Currency))
		e.Fields = []FieldError{{Field: "amount", Message: e.Message}}
		return refuse(&e)
	}
	at := c.At.UTC()
	allocs, lines, split := allocatePayment(p, c)
	principal := c.Amount // what earns a fee
	if split != nil {
		principal = principal.Sub(split.Total())
	}
	recovered := p.Recovered.AddDecimal(principal).Decimal()
	document := documentNumber(p, 0)
	number := c.PaymentNumber
	if number == "" {
		number = document // every payment can be named, to reverse it
	}
	docType := DocDirectPayment
	if c.agency {
		docType = DocAgencyPayments
	}
	events := []Event{
		PaymentReceived{
			PaymentNumber: number, InvoiceNumber: c.InvoiceNumber, Date: c.Date, Description: c.Description, AllocateTo: c.AllocateTo, Amount: AmountOf(c.Amount), Currency: p.Currency, Allocations: allocs,
			RecoveredAmount: AmountOf(recovered), FeeAmount: AmountOf(Fee(recovered, p.FeeRate, p.Currency)), ReceivedAt: at, Split: split, ReceivedBy: receivedBy(c),
		},
		AccountingDocumentIssued{
			DocumentNumber: document, Type: docType, Date: valueDateOr(c.Date, at),
			Amount: AmountOf(c.Amount.Neg()), Currency: p.Currency, LineItems: lines, PaymentNumber: number,
		},
	}
	after := p
	for _, e := range events {
		after = EvolveFigures(after, e)
	}
	for _, e := range planCompletion(after, at) {
		events, after = append(events, e), EvolveFigures(after, e)
	}
	if paidInFull(after) { // close it, from the state the payment leaves
		events = append(events, closeOut(after, at, false)...)
	}
	return ok(events...)
}

// exceedsOpen reports whether amount is more than everything the claim has
// open, in minor units when its figures are exact at the currency's scale.
func exceedsOpen(p Placement, amount decimal.Decimal) bool {
	if o := p.open(); o.exact {
		if a, exact := minor(amount, o.units); exact {
			return a > o.total()
		}
	}
	return amount.GreaterThan(p.TotalOpen())
}

// paidInFull reports whether nothing is open on the claim.
func paidInFull(p Placement) bool {
	if o := p.open(); o.exact {
		return o.total() == 0
	}
	return p.TotalOpen().IsZero()
}

// allocate spreads a payment over the open invoices, oldest due date first,
// or over the invoice it names alone: the allocations, and the payment
// document's lines.
func allocate(p Placement, c ReceivePayment) ([]Allocation, []LineItem) {
	order := p.Invoices // read only
	byDueDate := func(a, b InvoiceState) int { return strings.Compare(a.DueDate, b.DueDate) }
	if !slices.IsSortedFunc(order, byDueDate) {
		order = slices.Clone(order)
		slices.SortStableFunc(order, byDueDate)
	}
	if c.InvoiceNumber != "" { // the invoice it names, alone
		order = []InvoiceState{*p.invoice(c.InvoiceNumber)}
	}
	left := c.Amount
	var allocs []Allocation
	var lines []LineItem
	for _, inv := range order {
		if left.IsZero() {
			break
		}
		if !inv.Open.IsPositive() {
			continue
		}
		a := decimal.Min(left, inv.Open.Decimal())
		allocs = append(allocs, Allocation{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: AmountOf(a)})
		lines = append(lines, LineItem{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: AmountOf(a.Neg()), AllocateTo: principalLine(c.AllocateTo)})
		left = left.Sub(a)
	}
	return allocs, lines
}

// principalLine is the allocateTo of a principal line of a payment that
// named allocateTo: PRINCIPAL_CLAIM whatever it named (the part went to the
// principal), "" when it named none (payment-received), as before.
func principalLine(allocateTo string) string {
	if allocateTo == "" {
		return ""
	}
	return AllocatePrincipal
}

// paymentDifference names what of a payment differs from the one first
// processed under its number, for the message of a reused number.
func paymentDifference(first *PaymentRecord, c ReceivePayment) string {
	if first == nil {
		return ""
	}
	var differ []string
	for _, d := range []struct {
		field string
		same  bool
	}{
		{"amount", first.Amount.Equal(c.Amount)}, {"invoiceNumber", first.InvoiceNumber == c.InvoiceNumber},
		{"date", first.Date == c.Date}, {"description", first.Description == c.Description}, {"allocateTo", first.AllocateTo == c.AllocateTo},
	} {
		if !d.same {
			differ = append(differ, d.field)
		}
	}
	if len(differ) == 0 {
		return ""
	}
	return " (its " + strings.Join(differ, ", ") + " differed)"
}

// decidePaymentDetails checks what a claims-API payment says beyond its
// amount: the invoice it names (and that invoice's contract), its currency,
// date, description and allocation. nil when all is well.
func decidePaymentDetails(p Placement, c ReceivePayment) *Decision {
	fail := func(err error) *Decision { d := refuse(err); return &d }
	if c.Currency != "" && c.Currency != p.Currency {
		return fail(Unprocessable("currency_mismatch", "currency", fmt.Sprintf("the claim is in %s", p.Currency)))
	}
	if err := valueDateRefusal(c.Date, "date", c.At); err != nil {
		return fail(err)
	}
	if utf8.RuneCountInString(c.Description) > MaxTextLen || !validText(c.Description) {
		return fail(Invalid(FieldError{Field: "description", Message: fmt.Sprintf("at most %d characters; it %s", MaxTextLen, textRule)}))
	}
	switch c.AllocateTo {
	case "", AllocatePrincipal, AllocateCosts, AllocateInterests:
	default:
		return fail(Invalid(FieldError{Field: "allocateTo", Message: "must be PRINCIPAL_CLAIM, CLIENT_COSTS or CLIENT_INTERESTS"}))
	}
	if c.InvoiceNumber == "" {
		if c.ContractNumber != "" {
			return fail(Invalid(FieldError{Field: "invoiceNumber", Message: "is required with contractNumber"}))
		}
		return nil
	}
	inv := p.invoice(c.InvoiceNumber)
	if inv == nil {
		return fail(Unprocessable("unknown_invoice", "invoiceNumber", fmt.Sprintf("the claim has no invoice %q", c.InvoiceNumber)))
	}
	if c.ContractNumber != "" && c.ContractNumber != inv.ContractNumber {
		return fail(Unprocessable("contract_mismatch", "contractNumber", fmt.Sprintf("invoice %q belongs to contract %q", c.InvoiceNumber, inv.ContractNumber)))
	}
	if c.Amount.GreaterThan(inv.Open.Decimal()) {
		return fail(Unprocessable("amount_exceeds_open", "amount",
			fmt.Sprintf("%s is more than the %s still open on invoice %q", c.Amount, FormatMoney(inv.Open.Decimal(), p.Currency), c.InvoiceNumber)))
	}
	return nil
}

// decideReversal reverses a payment once. A repeat for the same reason is
// answered as the first reversal was; another reason is a conflict. A
// recalled, written-off or paused placement keeps its status (on a closed
// one the money goes back to the bucket that closed it: ReturnedTo); one
// paid in full is active again (PlacementReopened), with the sequences its
// payoff paused resumed.
func decideReversal(p Placement, c ReversePayment) Decision {
	switch c.Reason {
	case ReversalReturned, ReversalEnteredInError, ReversalOther:
	default:
		return refuse(Invalid(FieldError{Field: "reason", Message: "must be RETURNED, ENTERED_IN_ERROR or OTHER"}))
	}
	done, found := p.PaymentNumbers.Get(c.PaymentNumber)
	if !found || done.Payment == nil {
		return refuse(ErrPaymentNotFound)
	}
	pay := done.Payment
	if pay.Reversal != "" {
		if pay.Reversal == c.Reason {
			return Decision{Repeat: &Repeat{Revision: pay.ReversalRevision}}
		}
		e := *ErrPaymentAlreadyReversed
		e.Message = fmt.Sprintf("payment %q was reversed already (%s)", c.PaymentNumber, pay.Reversal)
		return refuse(&e)
	}
	if err := valueDateRefusal(c.Date, "date", c.At); err != nil {
		return refuse(err)
	}
	at := c.At.UTC()
	recovered := p.Recovered.SubDecimal(pay.Amount.Sub(pay.Split.Total())).Decimal()
	originalType := DocDirectPayment
	if pay.ReceivedBy == ReceivedByAgency {
		originalType = DocAgencyPayments
	}
	docType := DocReallocation
	if c.Reason == ReversalEnteredInError {
		docType = DocCancellation
	}
	lines := make([]LineItem, 0, len(pay.Allocations))
	for _, a := range pay.Allocations {
		lines = append(lines, LineItem{InvoiceNumber: a.InvoiceNumber, ContractNumber: a.ContractNumber, Amount: a.Amount, AllocateTo: pay.AllocateTo})
	}
	if pay.Split != nil {
		for i := range lines {
			lines[i].AllocateTo = AllocatePrincipal
		}
		for _, l := range chargeLines(pay.Split) {
			lines = append(lines, LineItem{Amount: l.Amount.Neg(), AllocateTo: l.AllocateTo})
		}
	}
	events := []Event{
		PaymentReversed{
			PaymentNumber: c.PaymentNumber, Reason: c.Reason, Amount: AmountOf(pay.Amount), Currency: p.Currency,
			Allocations: slices.Clone(pay.Allocations), OriginalDocument: pay.Document, PaymentRevision: done.Revision,
			InvoiceNumber: pay.InvoiceNumber, Date: pay.Date, Description: pay.Description, AllocateTo: pay.AllocateTo,
			RecoveredAmount: AmountOf(recovered), FeeAmount: AmountOf(Fee(recovered, p.FeeRate, p.Currency)), ReversedAt: at, ValueDate: c.Date, Split: pay.Split,
			ReceivedBy: pay.ReceivedBy, ReturnedTo: returnedTo(p.Status),
		},
		AccountingDocumentIssued{
			DocumentNumber: documentNumber(p, 0), Type: docType, Date: valueDateOr(c.Date, at),
			Amount: AmountOf(pay.Amount), Currency: p.Currency, LineItems: lines,
			OriginalType: originalType, OriginalNumber: pay.Document, PaymentNumber: c.PaymentNumber,
		},
	}
	// Active again, and so is the outreach the payoff stopped; unless all
	// the reversal takes back is an overpayment (the claim stays settled).
	if p.Status == StatusPaid && pay.Amount.GreaterThan(pay.Split.overpaid()) {
		events = append(events, PlacementReopened{Reason: ReopenedPaymentReversed, PaymentNumber: c.PaymentNumber, ReopenedAt: at,
			Sequences: resumed(p.PaidPaused, at)})
	}
	return ok(events...)
}

func decidePause(p Placement, c Pause) Decision {
	switch {
	case p.Status.Closed():
		return refuse(ErrClosed)
	case p.Status == StatusPaused:
		return refuse(ErrAlreadyPaused)
	}
	if err := ValidPauseReason(c.Reason); err != nil {
		return refuse(err)
	}
	at := c.At.UTC()
	var resumeAt *time.Time
	if c.ResumeAt != nil {
		if !c.ResumeAt.After(at) {
			return refuse(Invalid(FieldError{Field: "resumeAt", Message: "must be in the future"}))
		}
		r := c.ResumeAt.UTC()
		resumeAt = &r
	}
	return ok(pauseEvents(p, c.Reason, at, resumeAt)...)
}

// pauseEvents hold an active placement for reason (a client's pause, or an
// agreed payment plan's): its active sequences paused, remembered with when
// each was due, and its scheduled calls cancelled.
func pauseEvents(p Placement, reason string, at time.Time, resumeAt *time.Time) []Event {
	var seqs []PausedSequence
	var seqIDs, calls []uuid.UUID
	for _, s := range p.Sequences {
		if s.Status == SequenceActive && s.NextSendAt != nil {
			seqs = append(seqs, PausedSequence{SequenceID: s.ID, NextSendAt: *s.NextSendAt})
			seqIDs = append(seqIDs, s.ID)
		}
	}
	for _, cl := range p.Calls {
		if cl.Status == CallScheduledStatus {
			calls = append(calls, cl.ID)
		}
	}
	if seqs == nil {
		seqs = []PausedSequence{}
	}
	return []Event{
		PlacementPaused{Reason: reason, PausedAt: at, ResumeAt: resumeAt, Sequences: seqs, SequencesPaused: len(seqs), CallsCancelled: len(calls)},
		SequencesPaused{SequenceIDs: orEmpty(seqIDs)},
		CallsCancelled{CallIDs: orEmpty(calls)},
	}
}

func decideResume(p Placement, c Resume) Decision {
	switch {
	case p.Status.Closed():
		return refuse(ErrClosed)
	case p.Status != StatusPaused || p.Pause == nil:
		return refuse(ErrNotPaused)
	}
	if c.Due != nil && (p.Pause.ResumeAt == nil || !p.Pause.ResumeAt.Equal(*c.Due)) {
		return refuse(ErrNotPaused) // resumed and paused again since: not this hold
	}
	if c.Due == nil && p.Pause.Reason == PausePaymentPlan {
		return refuse(ErrPausedForPlan) // the plan's hold ends with the plan
	}
	at := c.At.UTC()
	return ok(PlacementResumed{ResumedAt: at, Automatic: c.Due != nil, Sequences: resumed(p.Pause.Sequences, at)})
}

// resumed is what a resume makes of paused sequences: each due when it was,
// or at once (at) when that has passed while it was paused.
func resumed(paused []PausedSequence, at time.Time) []PausedSequence {
	seqs := make([]PausedSequence, 0, len(paused))
	for _, s := range paused {
		next := s.NextSendAt
		if next.Before(at) {
			next = at // overdue while paused: send now
		}
		seqs = append(seqs, PausedSequence{SequenceID: s.SequenceID, NextSendAt: next})
	}
	return seqs
}
