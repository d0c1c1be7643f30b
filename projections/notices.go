package projections

import (
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// The notification types beside placement.status_changed (the webhook
// package lists them all, webhook.EventTypes).
const (
	NoticePaymentReceived    = "payment.received"
	NoticePaymentReversed    = "payment.reversed"
	NoticeCreditWaiverIssued = "credit_waiver.issued"
	NoticeClaimClosed        = "claim.closed"
	NoticeClaimReopened      = "claim.reopened"
	NoticePersonalDataErased = "personal_data.erased"
	NoticePlanAgreed         = "payment_plan.agreed"
	NoticePlanCompleted      = "payment_plan.completed"
	NoticePlanBroken         = "payment_plan.broken"
	NoticePlanCancelled      = "payment_plan.cancelled"
)

// Notice is a notification of a type other than placement.status_changed:
// what an event did, with the document it is booked on and its amounts as
// exact decimals with the currency's decimals (never floats). ID is derived
// from the event's id and the type, so a redelivery carries the same one.
type Notice struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	NoticeData
}

// NoticeData is what a notice says beyond its type and id (the webhook
// payload's data carries it as it is).
type NoticeData struct {
	DocumentNumber     string `json:"documentNumber,omitempty"`
	PaymentNumber      string `json:"paymentNumber,omitempty"`
	CreditWaiverNumber string `json:"creditWaiverNumber,omitempty"`
	PlanNumber         string `json:"planNumber,omitempty"`
	Reason             string `json:"reason,omitempty"`
	Currency           string `json:"currency,omitempty"`
	Amount             string `json:"amount,omitempty"`
	RecoveredAmount    string `json:"recoveredAmount,omitempty"`
	FeeAmount          string `json:"feeAmount,omitempty"`
	OutstandingAmount  string `json:"outstandingAmount,omitempty"`
	DueDate            string `json:"dueDate,omitempty"`
}

// noticeID is a notice's id: the event's, and the type.
func noticeID(event uuid.UUID, typ string) string {
	return uuid.NewSHA1(payloadNamespace, append(event[:len(event):len(event)], typ...)).String()
}

// notices are the notices an event of a placement calls for, before and
// after being the placement's state around it; those the webhook w does
// not subscribe to are left out.
func notices(w journal.WebhookConfigured, before, after domain.Placement, rec journal.Record) []Notice {
	if len(w.Events) == 0 {
		return nil // the default: status changes alone
	}
	cur := after.Currency
	money := func(d decimal.Decimal) string { return domain.FormatMoney(d, cur) }
	doc := domain.PostingDocument(before, rec.Event)
	var out []Notice
	add := func(n Notice) {
		if w.Subscribes(n.Type) {
			n.ID, n.DocumentNumber, n.Currency = noticeID(rec.ID, n.Type), doc, cur
			out = append(out, n)
		}
	}
	closed := func(reason string, outstanding *decimal.Decimal) {
		n := Notice{Type: NoticeClaimClosed, NoticeData: NoticeData{Reason: reason, RecoveredAmount: money(after.Recovered.Decimal()), FeeAmount: money(after.Fee.Decimal())}}
		if outstanding != nil {
			n.OutstandingAmount = money(*outstanding)
		}
		add(n)
	}
	switch e := rec.Event.(type) {
	case domain.PaymentReceived:
		add(Notice{Type: NoticePaymentReceived, NoticeData: NoticeData{PaymentNumber: e.PaymentNumber, Amount: money(e.Amount.Decimal()),
			RecoveredAmount: money(e.RecoveredAmount.Decimal()), FeeAmount: money(e.FeeAmount.Decimal())}})
	case domain.PaymentReversed:
		add(Notice{Type: NoticePaymentReversed, NoticeData: NoticeData{PaymentNumber: e.PaymentNumber, Reason: e.Reason, Amount: money(e.Amount.Decimal()),
			RecoveredAmount: money(e.RecoveredAmount.Decimal()), FeeAmount: money(e.FeeAmount.Decimal())}})
	case domain.CreditWaiverIssued:
		add(Notice{Type: NoticeCreditWaiverIssued, NoticeData: NoticeData{CreditWaiverNumber: e.CreditWaiverNumber, Amount: money(e.Amount.Decimal())}})
	case domain.PlacementRecalled:
		closed(string(domain.StatusRecalled), &e.OutstandingAmount)
	case domain.PlacementWrittenOff:
		closed(string(domain.StatusWrittenOff), &e.OutstandingAmount)
	case domain.PlacementPaid:
		closed(string(domain.StatusPaid), nil)
	case domain.PlacementReopened:
		add(Notice{Type: NoticeClaimReopened, NoticeData: NoticeData{Reason: e.Reason, PaymentNumber: e.PaymentNumber,
			RecoveredAmount: money(after.Recovered.Decimal()), FeeAmount: money(after.Fee.Decimal())}})
	case domain.PaymentPlanAgreed:
		add(Notice{Type: NoticePlanAgreed, NoticeData: NoticeData{PlanNumber: e.PlanNumber, Amount: money(e.Total)}})
	case domain.PaymentPlanCompleted:
		add(Notice{Type: NoticePlanCompleted, NoticeData: NoticeData{PlanNumber: e.PlanNumber}})
	case domain.PaymentPlanBroken:
		add(Notice{Type: NoticePlanBroken, NoticeData: NoticeData{PlanNumber: e.PlanNumber, DueDate: e.DueDate, OutstandingAmount: money(e.Open)}})
	case domain.PaymentPlanCancelled:
		add(Notice{Type: NoticePlanCancelled, NoticeData: NoticeData{PlanNumber: e.PlanNumber}})
	}
	return out
}
