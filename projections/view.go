package projections

import (
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
)

// PlacementResource is the placement resource of API.md section 3: what the
// API serves for a placement (domain.Placement is the aggregate it renders).
// Money is a JSON string with the currency's decimals ("400.00").
type PlacementResource struct {
	PlacementID       uuid.UUID     `json:"placementId"`
	ClaimNumber       string        `json:"claimNumber"`
	CustomerNumber    string        `json:"customerNumber"`
	CreditorID        string        `json:"creditorId"`
	Status            domain.Status `json:"status"`
	Currency          string        `json:"currency"`
	FeeRate           string        `json:"feeRate"`
	OriginalAmount    string        `json:"originalAmount"`
	WaivedAmount      string        `json:"waivedAmount"`
	RecoveredAmount   string        `json:"recoveredAmount"`
	OutstandingAmount string        `json:"outstandingAmount"`
	FeeAmount         string        `json:"feeAmount"`
	// AgencyPaidAmount is what the debtor paid to the agency (whatever it
	// went to: principal, costs, interests or the overpayment),
	// WrittenOffAmount what was written off and RecalledAmount what a
	// recall took back (principal, costs and interests; with what was
	// taken back on the closed claim since): each present only when not
	// zero, so resources of placements without them read as before.
	AgencyPaidAmount *string        `json:"agencyPaidAmount,omitempty"`
	WrittenOffAmount *string        `json:"writtenOffAmount,omitempty"`
	RecalledAmount   *string        `json:"recalledAmount,omitempty"`
	ResolvedAt       *time.Time     `json:"resolvedAt"`
	OutcomeScore     *string        `json:"outcomeScore"`
	Invoices         []InvoiceView  `json:"invoices"`
	EmailSequences   []SequenceView `json:"emailSequences"`
	Calls            []CallView     `json:"calls"`
	PlacedAt         time.Time      `json:"placedAt"`
	Revision         uint64         `json:"revision"`
	// Costs, interests and the overpayment, when the claim has any.
	*ChargesView
}

type InvoiceView struct {
	InvoiceNumber  string `json:"invoiceNumber"`
	ContractNumber string `json:"contractNumber"`
	DueDate        string `json:"dueDate"`
	Amount         string `json:"amount"`
	WaivedAmount   string `json:"waivedAmount"`
	PaidAmount     string `json:"paidAmount"`
	OpenAmount     string `json:"openAmount"`
	// WrittenOffAmount is present when something of the invoice was
	// written off, RecalledAmount when a recall took something of it.
	WrittenOffAmount *string `json:"writtenOffAmount,omitempty"`
	RecalledAmount   *string `json:"recalledAmount,omitempty"`
	// From a claims-API handover.
	InvoiceDate    string `json:"invoiceDate,omitempty"`
	InvoicedAmount string `json:"invoicedAmount,omitempty"`
}

type SequenceView struct {
	SequenceID uuid.UUID  `json:"sequenceId"`
	Status     string     `json:"status"`
	NextSendAt *time.Time `json:"nextSendAt"`
}

type CallView struct {
	CallID      uuid.UUID `json:"callId"`
	Status      string    `json:"status"`
	ScheduledAt time.Time `json:"scheduledAt"`
	Outcome     string    `json:"outcome,omitempty"`
}

// Render renders a placement's state at a stream revision. Every money
// figure is a balance of the claim's accounts (p.Books, kept by the posting
// rule; docs/API.md has the table), not the write side's folded figures:
// outstandingAmount is what the principal accounts hold, so it is 0 on a
// recalled claim, whose recall took what was open (recalledAmount).
func Render(p domain.Placement, revision uint64) PlacementResource {
	money := func(m int64) string { return domain.FormatMinor(m, p.Currency) }
	nonZero := func(m int64) *string {
		if m == 0 {
			return nil
		}
		s := money(m)
		return &s
	}
	b := p.Books
	principal := b.Principal()
	v := PlacementResource{
		PlacementID: p.ID, ClaimNumber: p.ClaimNumber, CustomerNumber: p.CustomerNumber, CreditorID: p.CreditorID,
		Status: p.Status, Currency: p.Currency, FeeRate: p.FeeRate.StringFixed(max(2, -p.FeeRate.Exponent())),
		OriginalAmount: money(principal.Placed), WaivedAmount: money(b.Waived), RecoveredAmount: money(principal.Paid),
		OutstandingAmount: money(principal.Open()), FeeAmount: money(b.Fees), ResolvedAt: p.ResolvedAt,
		AgencyPaidAmount: nonZero(b.AgencyPayable), WrittenOffAmount: nonZero(b.WrittenOff), RecalledAmount: nonZero(b.Recalled),
		Invoices: make([]InvoiceView, len(p.Invoices)), EmailSequences: make([]SequenceView, len(p.Sequences)),
		Calls: make([]CallView, len(p.Calls)), PlacedAt: p.OpenedAt, Revision: revision, ChargesView: renderCharges(p),
	}
	if p.OutcomeScore != nil {
		s := p.OutcomeScore.StringFixed(4)
		v.OutcomeScore = &s
	}
	for i, inv := range p.Invoices {
		var r domain.Receivable
		if i < len(b.Invoices) {
			r = b.Invoices[i]
		}
		v.Invoices[i] = InvoiceView{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, DueDate: inv.DueDate,
			Amount: money(r.Placed), WaivedAmount: money(r.Waived), PaidAmount: money(r.Paid), OpenAmount: money(r.Open()),
			InvoiceDate: inv.InvoiceDate, WrittenOffAmount: nonZero(r.WrittenOff), RecalledAmount: nonZero(r.Recalled)}
		if inv.InvoicedAmount != nil {
			v.Invoices[i].InvoicedAmount = domain.FormatMoney(inv.InvoicedAmount.Decimal(), p.Currency)
		}
	}
	for i, s := range p.Sequences {
		v.EmailSequences[i] = SequenceView{SequenceID: s.ID, Status: s.Status, NextSendAt: s.NextSendAt}
	}
	for i, c := range p.Calls {
		v.Calls[i] = CallView{CallID: c.ID, Status: c.Status, ScheduledAt: c.ScheduledAt, Outcome: c.Outcome}
	}
	return v
}
