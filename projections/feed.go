package projections

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/plainjson"
	"github.com/collections-ledger/ledger/journal"
)

// Exact is an amount written as a JSON number, exactly ("400", "100.5").
type Exact decimal.Decimal

func (e Exact) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(e).String()), nil }

func (e *Exact) UnmarshalJSON(b []byte) error {
	d, err := decimal.NewFromString(string(b))
	*e = Exact(d)
	return err
}

// Feed item types.
const (
	ItemConfirmation       = "CONFIRMATION"
	ItemClosing            = "CLOSING"
	ItemRejection          = "REJECTION"
	ItemAccountingDocument = "ACCOUNTING_DOCUMENT"
	ItemStatus             = "STATUS"
)

// FeedItem is one item of a transaction feed, in the shape of the claim
// recalls document.
type FeedItem struct {
	SortNumber     uint64    `json:"sortNumber"`
	ID             uuid.UUID `json:"id"`
	Type           string    `json:"type"`
	CustomerNumber string    `json:"customerNumber"`
	ClaimNumber    string    `json:"claimNumber"`
	// RequestID is the requestId of the command the item comes from, as its
	// answer (a 202's body) and the audit trail give it (events of schema 4
	// on).
	RequestID          string              `json:"requestId,omitempty"`
	Confirmation       *Confirmation       `json:"confirmation,omitempty"`
	Closing            *Closing            `json:"closing,omitempty"`
	Rejection          *Rejection          `json:"rejection,omitempty"`
	AccountingDocument *AccountingDocument `json:"accountingDocument,omitempty"`
	Status             *StatusChange       `json:"status,omitempty"`

	// Position and OccurredAt place the item in the global feed:
	// CommandPosition is the position of the last event of the command the
	// item comes from, so a command's items stay together, in sortNumber
	// order, in the creditor-wide feed too.
	Position        eventstore.Position `json:"-"`
	CommandPosition eventstore.Position `json:"-"`
	OccurredAt      time.Time           `json:"-"`
}

type Confirmation struct {
	Date           string `json:"date"`
	Type           string `json:"type"`
	Number         string `json:"number"`
	ContractNumber string `json:"contractNumber"`
	Amount         Exact  `json:"amount"`
	Currency       string `json:"currency,omitempty"`
	// PaymentNumber names a DIRECT_PAYMENT's or AGENCY_PAYMENTS' payment
	// (events of schema 3 on), as a reversal names it.
	PaymentNumber string `json:"paymentNumber,omitempty"`
	// CreditWaiverNumber is a PARTIAL_RECALL's client-chosen number, when it
	// gave one (events of schema 4 on), and the waiver a CANCELLATION
	// cancels.
	CreditWaiverNumber string `json:"creditWaiverNumber,omitempty"`
	// BookedAt is when the ledger processed it; Date is then its value date
	// (events of schema 5 on; before, Date is the day it was booked).
	BookedAt *time.Time `json:"bookedAt,omitempty"`
	// PlanNumber names the payment plan a PAYMENT_PLAN confirms.
	PlanNumber string `json:"planNumber,omitempty"`
}

type Closing struct {
	Date string `json:"date"`
	Type string `json:"type"`
}

type Rejection struct {
	Date           string `json:"date"`
	Type           string `json:"type"`
	Description    string `json:"description"`
	Number         string `json:"number"`
	ContractNumber string `json:"contractNumber"`
	Reason         string `json:"reason"`
}

type AccountingDocument struct {
	Date      string     `json:"date"`
	Type      string     `json:"type"`
	Number    string     `json:"number"`
	Amount    Exact      `json:"amount"`
	Currency  string     `json:"currency"`
	LineItems []LineItem `json:"lineItems"`
	// OriginalType and OriginalNumber name the document a reversal's
	// REALLOCATION or CANCELLATION takes back.
	OriginalType   string `json:"originalType,omitempty"`
	OriginalNumber string `json:"originalNumber,omitempty"`
	// PaymentNumber names the payment of a DIRECT_PAYMENT document, or the
	// one a reversal takes back (documents of schema 4 on).
	PaymentNumber string `json:"paymentNumber,omitempty"`
	// BookedAt is when the ledger processed the document; Date is its value
	// date (documents of schema 5 on; before, Date is the day it was booked).
	BookedAt *time.Time `json:"bookedAt,omitempty"`
}

// StatusChange is a STATUS item: the placement was paused, resumed, or
// reopened after a payment reversal. Type is PAUSED, RESUMED or REOPENED;
// Status the placement's status after it; Reason the pause's reason
// (DISPUTE, CREDITOR_REQUEST, OTHER) or the reopening's (PAYMENT_REVERSED,
// CREDIT_WAIVER_CANCELLED);
// ResumeAt when a pause ends by itself; Automatic when the ledger resumed
// it at resumeAt; PaymentNumber the reversed payment that reopened it;
// ResumedSequences how many email sequences a reopening made active again
// (those the payoff had paused; events of schema 4 on).
type StatusChange struct {
	Date             string     `json:"date"`
	Type             string     `json:"type"`
	Status           string     `json:"status"`
	Reason           string     `json:"reason,omitempty"`
	ResumeAt         *time.Time `json:"resumeAt,omitempty"`
	Automatic        bool       `json:"automatic,omitempty"`
	PaymentNumber    string     `json:"paymentNumber,omitempty"`
	ResumedSequences *int       `json:"resumedSequences,omitempty"`
	// PlanNumber names the payment plan a PAYMENT_PLAN_* item is about.
	PlanNumber string `json:"planNumber,omitempty"`
}

// statusItemsSince is the schema version from which pauses and resumes have
// STATUS items: earlier events keep the items they had, so no sortNumber of
// an existing feed moves.
const statusItemsSince = 3

// tracedSince is the schema version from which items name the request that
// caused them, a waiver's number and a partial recall's REJECTION type, and
// a recall of nothing outstanding has no CONFIRMATION of 0: earlier events
// keep the items they had, byte for byte.
const tracedSince = 4

// valueDatedSince is the schema version from which CONFIRMATION and
// ACCOUNTING_DOCUMENT items carry the value date as date and the booking
// time as bookedAt, and a handover confirms each of its invoices with a
// CONFIRMATION of type INVOICE: earlier events keep the items they had,
// byte for byte, so no sortNumber of an existing feed moves.
const valueDatedSince = 5

// ConfirmInvoice is the confirmation type of an invoice a handover placed.
const ConfirmInvoice = "INVOICE"

type LineItem struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	Amount         Exact  `json:"amount"`
	AllocateTo     string `json:"allocateTo,omitempty"`
	// CreditWaiverNumber is the number of the waiver a CREDIT_WAIVER line
	// comes from, when the client gave one.
	CreditWaiverNumber string `json:"creditWaiverNumber,omitempty"`
}

var itemNamespace = uuid.MustParse("0b8f6a52-3d0e-4f57-9c0a-8f5b1f4d2e61")

// itemID derives an item's id from the event it comes from: the name-based
// (SHA-1, version 5) UUID of "<event>/<k>" in itemNamespace, as
// uuid.NewSHA1 makes it, built in a buffer on the stack (every event's items
// are named this way, by the views and by every feed rendered).
func itemID(event uuid.UUID, k int) uuid.UUID {
	var buf [16 + 36 + 1 + 20]byte
	b := append(buf[:0], itemNamespace[:]...)
	b = append(plainjson.AppendUUID(b, event), '/')
	sum := sha1.Sum(strconv.AppendInt(b, int64(k), 10))
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x50 // version 5
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	return id
}

// FeedItems renders a placement's events as its transaction feed, sortNumber
// from 0 with no gaps. Within one command its CLOSING item comes last.
func FeedItems(events []journal.Record) []FeedItem {
	var items []FeedItem
	var p domain.Placement
	var cmd commandItems
	for _, se := range events {
		p = domain.Evolve(p, se.Event)
		cmd.add(p, se)
		if endsCommand(se.Meta) {
			items = cmd.end(items, se.Position)
		}
	}
	if !cmd.empty() { // a command whose metadata lacked its end
		items = cmd.end(items, events[len(events)-1].Position)
	}
	return items
}

// endsCommand reports whether an event is the last of its command's append.
func endsCommand(m journal.Metadata) bool { return m.Index >= m.Count-1 }

// commandItems collects one command's feed items while its events are
// applied: its CLOSING items are held back until the command ends, so they
// come last.
type commandItems struct {
	items, closing []FeedItem
}

func (c *commandItems) empty() bool { return len(c.items)+len(c.closing) == 0 }

// bookedAtOf is when an event was booked, for the items of events of
// schema 5 on, which are value-dated and say when they were booked; nil
// before.
func bookedAtOf(se journal.Record) *time.Time {
	if se.Meta.SchemaVersion < valueDatedSince {
		return nil
	}
	at := se.Meta.OccurredAt.UTC()
	return &at
}

// itemsOf renders the items of one event: p is the placement after it.
type itemsOf struct {
	c        *commandItems
	p        domain.Placement
	se       journal.Record
	date     string     // the day it was booked
	traced   bool       // schema 4 on: items carry the request id and the client's numbers
	bookedAt *time.Time // schema 5 on: items are value-dated and say when they were booked
}

func (r itemsOf) base(k int, typ string) FeedItem {
	it := FeedItem{ID: itemID(r.se.ID, k), Type: typ, CustomerNumber: r.p.CustomerNumber, ClaimNumber: r.p.ClaimNumber,
		Position: r.se.Position, OccurredAt: r.se.Meta.OccurredAt}
	if r.traced {
		it.RequestID = r.se.Meta.RequestID
	}
	return it
}

func (r itemsOf) confirm(k int, cf *Confirmation) {
	it := r.base(k, ItemConfirmation)
	if r.bookedAt != nil {
		cf.Date, cf.BookedAt = domain.ValueDate(r.se.Event, *r.bookedAt), r.bookedAt
	}
	it.Confirmation = cf
	r.c.items = append(r.c.items, it)
}

func (r itemsOf) closing(k int, typ string) {
	cl := r.base(k, ItemClosing)
	cl.Closing = &Closing{Date: r.date, Type: typ}
	r.c.closing = append(r.c.closing, cl)
}

// opened confirms a handover's invoices (schema 5 on) and its charges.
func (r itemsOf) opened(e domain.PlacementOpened) {
	if r.bookedAt != nil {
		for k, inv := range e.Invoices {
			r.confirm(k, &Confirmation{Date: r.date, Type: ConfirmInvoice, Number: inv.InvoiceNumber, ContractNumber: inv.ContractNumber,
				Amount: Exact(inv.Amount.Decimal()), Currency: e.Currency})
		}
	}
	for _, it := range chargeConfirmations(e, r.date, r.base) {
		if r.bookedAt != nil {
			it.Confirmation.BookedAt = r.bookedAt
		}
		r.c.items = append(r.c.items, it)
	}
}

// add renders the items one event calls for; p is the placement after it.
func (c *commandItems) add(p domain.Placement, se journal.Record) {
	r := itemsOf{c: c, p: p, se: se, date: domain.DateOnly(se.Meta.OccurredAt),
		traced: se.Meta.SchemaVersion >= tracedSince, bookedAt: bookedAtOf(se)}
	date := r.date
	switch e := se.Event.(type) {
	case domain.PlacementOpened:
		r.opened(e)
	case domain.CreditWaiverIssued:
		cf := &Confirmation{Date: date, Type: "PARTIAL_RECALL", Number: p.CustomerNumber,
			ContractNumber: e.ContractNumber, Amount: Exact(e.Amount.Decimal()), Currency: e.Currency}
		if r.traced {
			cf.CreditWaiverNumber = e.CreditWaiverNumber
		}
		r.confirm(0, cf)
	case domain.PlacementRecalled:
		recalled := e.OutstandingAmount.Add(e.Charges.Total()) // the costs and interests it cancelled too
		if !r.traced || !recalled.IsZero() {                   // waivers that cleared the claim confirm no recall of 0
			r.confirm(0, &Confirmation{Date: date, Type: "RECALL", Number: p.CustomerNumber, ContractNumber: "", Amount: Exact(recalled)})
		}
		r.closing(1, "RECALLED_BY_CLIENT")
	case domain.RecallRejected:
		it := r.base(0, ItemRejection)
		kind := domain.RecallTotal
		if r.traced && e.Kind != "" {
			kind = e.Kind // which recall was rejected: RECALL or PARTIAL_RECALL
		}
		it.Rejection = &Rejection{Date: date, Type: kind, Description: e.Reason, Number: p.CustomerNumber, ContractNumber: "", Reason: "OTHER"}
		c.items = append(c.items, it)
	case domain.PaymentReceived:
		typ := domain.DocDirectPayment
		if e.ReceivedBy == domain.ReceivedByAgency {
			typ = domain.DocAgencyPayments
		}
		cf := &Confirmation{Date: date, Type: typ, Number: p.CustomerNumber, ContractNumber: "", Amount: Exact(e.Amount.Decimal()), Currency: e.Currency}
		if se.Meta.SchemaVersion >= statusItemsSince {
			cf.PaymentNumber = e.PaymentNumber
		}
		r.confirm(0, cf)
	case domain.PlacementPaused, domain.PlacementResumed, domain.PlacementReopened:
		if st := statusChange(e, date, se.Meta.SchemaVersion); st != nil {
			it := r.base(0, ItemStatus)
			it.Status = st
			c.items = append(c.items, it)
		}
	case domain.AccountingDocumentIssued:
		it := r.base(0, ItemAccountingDocument)
		it.AccountingDocument = accountingDocument(e)
		it.AccountingDocument.BookedAt = r.bookedAt
		c.items = append(c.items, it)
	case domain.PlacementPaid:
		r.closing(0, "FULL_PAYMENT")
	case domain.PlacementWrittenOff:
		r.closing(0, "WRITTEN_OFF")
	case domain.PaymentPlanAgreed, domain.PaymentPlanCompleted, domain.PaymentPlanBroken, domain.PaymentPlanCancelled:
		r.plan(e)
	case domain.CreditWaiverCancelled:
		r.confirm(0, &Confirmation{Date: date, Type: domain.DocCancellation, Number: p.CustomerNumber, ContractNumber: e.ContractNumber,
			Amount: Exact(e.Amount.Decimal()), Currency: e.Currency, CreditWaiverNumber: e.CreditWaiverNumber})
	case domain.EmailSequenceStarted, domain.CallScheduled, domain.CallDialed, domain.CallCompleted,
		domain.SequencesPaused, domain.CallsCancelled, domain.OutcomeScoreSnapshotted, domain.PaymentReversed, domain.DebtorContactChanged,
		domain.DebitAdded:
		// No item of their own (see FeedEvents).
	default:
		panic(fmt.Sprintf("projections: the feed has no rule for event type %s", se.Event.EventType()))
	}
}

// FeedEvents sorts the event types for the transaction feed. Outreach,
// scores and contact changes are not the creditor's business in the feed;
// a reversal (the cancellation of a payment included) shows as its document
// (and a REOPENED item), not by itself, and so does a debit (its DEBIT
// document); the cancellation of a credit waiver has a CONFIRMATION of type
// CANCELLATION; a handover shows as its INVOICE confirmations (schema 5 on)
// and a CLIENT_COSTS or CLIENT_INTERESTS CONFIRMATION per charge it carries
// (chargeConfirmations).
var FeedEvents = domain.EventClasses{
	Handled: []string{domain.TypePlacementOpened, domain.TypeCreditWaiverIssued, domain.TypePlacementRecalled, domain.TypeRecallRejected, domain.TypePaymentReceived,
		domain.TypePlacementPaused, domain.TypePlacementResumed, domain.TypePlacementReopened, domain.TypeAccountingDocumentIssued,
		domain.TypePlacementPaid, domain.TypePlacementWrittenOff, domain.TypeCreditWaiverCancelled,
		domain.TypePaymentPlanAgreed, domain.TypePaymentPlanCompleted, domain.TypePaymentPlanBroken, domain.TypePaymentPlanCancelled},
	Ignored: []string{domain.TypeEmailSequenceStarted, domain.TypeCallScheduled, domain.TypeCallDialed,
		domain.TypeCallCompleted, domain.TypeSequencesPaused, domain.TypeCallsCancelled, domain.TypeOutcomeScoreSnapshotted,
		domain.TypePaymentReversed, domain.TypeDebtorContactChanged, domain.TypeDebitAdded},
}

// statusChange is the STATUS item of a pause, a resume or a reopening of
// the given schema version; nil for a pause or resume before
// statusItemsSince, which had none.
func statusChange(e domain.Event, date string, schema int) *StatusChange {
	switch e := e.(type) {
	case domain.PlacementPaused:
		if schema >= statusItemsSince {
			return &StatusChange{Date: date, Type: "PAUSED", Status: string(domain.StatusPaused), Reason: e.Reason, ResumeAt: e.ResumeAt}
		}
	case domain.PlacementResumed:
		if schema >= statusItemsSince {
			return &StatusChange{Date: date, Type: "RESUMED", Status: string(domain.StatusActive), Automatic: e.Automatic}
		}
	case domain.PlacementReopened:
		st := &StatusChange{Date: date, Type: "REOPENED", Status: string(domain.StatusActive), Reason: e.Reason, PaymentNumber: e.PaymentNumber}
		if schema >= tracedSince {
			n := len(e.Sequences)
			st.ResumedSequences = &n
		}
		return st
	default:
		panic(fmt.Sprintf("projections: a STATUS item has no rule for event type %s", e.EventType()))
	}
	return nil
}

// accountingDocument renders a document as its ACCOUNTING_DOCUMENT item
// shows it.
func accountingDocument(e domain.AccountingDocumentIssued) *AccountingDocument {
	doc := &AccountingDocument{Date: e.Date, Type: e.Type, Number: e.DocumentNumber, Amount: Exact(e.Amount.Decimal()), Currency: e.Currency, LineItems: []LineItem{},
		OriginalType: e.OriginalType, OriginalNumber: e.OriginalNumber, PaymentNumber: e.PaymentNumber}
	for _, l := range e.LineItems {
		doc.LineItems = append(doc.LineItems, LineItem{InvoiceNumber: l.InvoiceNumber, ContractNumber: l.ContractNumber, Amount: Exact(l.Amount.Decimal()),
			AllocateTo: l.AllocateTo, CreditWaiverNumber: l.CreditWaiverNumber})
	}
	return doc
}

// end appends the command's items, closings last, to feed with their
// sortNumbers and the command's position (its last event's), and empties c.
func (c *commandItems) end(feed []FeedItem, at eventstore.Position) []FeedItem {
	for _, it := range append(c.items, c.closing...) {
		it.SortNumber = uint64(len(feed))
		it.CommandPosition = at
		feed = append(feed, it)
	}
	c.items, c.closing = c.items[:0], c.closing[:0]
	return feed
}

// AuditItem is one entry of a placement's audit trail: the event itself.
type AuditItem struct {
	Position   eventstore.Position `json:"position"`
	Revision   uint64              `json:"revision"`
	EventID    uuid.UUID           `json:"eventId"`
	Type       string              `json:"type"`
	OccurredAt time.Time           `json:"occurredAt"`
	Actor      string              `json:"actor"`
	ActorType  string              `json:"actorType"`
	RequestID  string              `json:"requestId"`
	Data       json.RawMessage     `json:"data"`
}

// AuditItems renders a placement's events as its audit trail.
func AuditItems(events []journal.Record) []AuditItem {
	out := make([]AuditItem, len(events))
	for i, se := range events {
		out[i] = AuditItem{Position: se.Position, Revision: se.Revision, EventID: se.ID, Type: se.Type, OccurredAt: se.Meta.OccurredAt,
			Actor: se.Meta.Actor, ActorType: se.Meta.ActorType, RequestID: se.Meta.RequestID, Data: se.Data}
	}
	return out
}

// CreditorOf returns the creditor a placement's events belong to.
func CreditorOf(events []journal.Record) string {
	if len(events) == 0 {
		return ""
	}
	if o, ok := events[0].Event.(domain.PlacementOpened); ok {
		return o.CreditorID
	}
	return ""
}
