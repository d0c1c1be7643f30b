package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Payment plans (API §15): the debtor agrees to pay what is open in
// instalments. A plan is active until it is completed (all paid, decided
// with the payment that pays the last instalment), broken (an instalment
// more than GraceDays overdue and unpaid, decided by the ledger itself) or
// cancelled. While a plan is active the placement's outreach is paused
// (reason PAYMENT_PLAN); a plan that ends without the claim closing resumes
// it.

// Limits and defaults of a plan.
const (
	MaxInstallments  = 120
	DefaultGraceDays = 14
	MaxGraceDays     = 365
)

// PausePaymentPlan is the reason of the pause an active plan holds. It is
// the ledger's own: no client pauses for it (ValidPauseReason refuses it).
const PausePaymentPlan = "PAYMENT_PLAN"

// Plan statuses.
const (
	PlanActive    = "active"
	PlanCompleted = "completed"
	PlanBroken    = "broken"
	PlanCancelled = "cancelled"
)

// Installment is one instalment of a plan: what is due on DueDate.
type Installment struct {
	DueDate string          `json:"dueDate"`
	Amount  decimal.Decimal `json:"amount"`
}

// PaymentPlanAgreed records a plan; its instalments sum to Total, what was
// open on the claim when it was agreed.
type PaymentPlanAgreed struct {
	PlanNumber   string          `json:"planNumber"`
	Installments []Installment   `json:"installments"`
	StartDate    string          `json:"startDate"`
	GraceDays    int             `json:"graceDays"`
	Total        decimal.Decimal `json:"total"`
	Currency     string          `json:"currency"`
	AgreedAt     time.Time       `json:"agreedAt"`
}

// PaymentPlanCompleted: the payment just before it paid the plan's last
// instalment.
type PaymentPlanCompleted struct {
	PlanNumber  string    `json:"planNumber"`
	CompletedAt time.Time `json:"completedAt"`
}

// PaymentPlanBroken: the instalment due on DueDate was more than the plan's
// grace days overdue with Open of it unpaid.
type PaymentPlanBroken struct {
	PlanNumber string          `json:"planNumber"`
	DueDate    string          `json:"dueDate"`
	Open       decimal.Decimal `json:"open"`
	BrokenAt   time.Time       `json:"brokenAt"`
}

// PaymentPlanCancelled ends a plan at the client's request, or because its
// claim closed (recalled, written off, or paid without the plan).
type PaymentPlanCancelled struct {
	PlanNumber  string    `json:"planNumber"`
	CancelledAt time.Time `json:"cancelledAt"`
}

const (
	TypePaymentPlanAgreed    = "PaymentPlanAgreed"
	TypePaymentPlanCompleted = "PaymentPlanCompleted"
	TypePaymentPlanBroken    = "PaymentPlanBroken"
	TypePaymentPlanCancelled = "PaymentPlanCancelled"
)

func (PaymentPlanAgreed) EventType() string    { return TypePaymentPlanAgreed }
func (PaymentPlanCompleted) EventType() string { return TypePaymentPlanCompleted }
func (PaymentPlanBroken) EventType() string    { return TypePaymentPlanBroken }
func (PaymentPlanCancelled) EventType() string { return TypePaymentPlanCancelled }

func init() {
	register[PaymentPlanAgreed]()
	register[PaymentPlanCompleted]()
	register[PaymentPlanBroken]()
	register[PaymentPlanCancelled]()
}

// PlanEventTypes lists the plan events' type names.
func PlanEventTypes() []string {
	return []string{TypePaymentPlanAgreed, TypePaymentPlanCompleted, TypePaymentPlanBroken, TypePaymentPlanCancelled}
}

// AgreePaymentPlan agrees a plan. GraceDays nil is DefaultGraceDays;
// StartDate empty is the day At falls on (UTC).
type AgreePaymentPlan struct {
	PlanNumber   string
	Installments []Installment
	StartDate    string
	GraceDays    *int
	At           time.Time
}

// CancelPaymentPlan cancels an active plan.
type CancelPaymentPlan struct {
	PlanNumber string
	At         time.Time
}

// BreakPaymentPlan is the ledger's: it breaks the plan when its oldest
// unpaid instalment's grace has passed at At, and is refused with
// ErrPlanNotBreakable otherwise (broken already, paid meanwhile, ended).
type BreakPaymentPlan struct {
	PlanNumber string
	At         time.Time
}

func (AgreePaymentPlan) CommandType() string  { return "agree_payment_plan" }
func (CancelPaymentPlan) CommandType() string { return "cancel_payment_plan" }
func (BreakPaymentPlan) CommandType() string  { return "break_payment_plan" }

// Errors of payment plans.
var (
	ErrPlanActive        = &Error{Kind: KindConflict, Code: "payment_plan_active", Message: "the claim has an active payment plan already"}
	ErrPlanNumberReused  = &Error{Kind: KindConflict, Code: "plan_number_reused", Message: "this planNumber was used before for another payment plan of this claim"}
	ErrPlanNotFound      = &Error{Kind: KindNotFound, Code: "payment_plan_not_found", Message: "the claim has no payment plan with this number"}
	ErrPlanNotActive     = &Error{Kind: KindConflict, Code: "payment_plan_not_active", Message: "the payment plan is not active"}
	ErrPausedForPlan     = &Error{Kind: KindConflict, Code: "paused_for_payment_plan", Message: "the placement is paused while its payment plan is active: cancel the plan to resume collection"}
	ErrPlanNotBreakable  = &Error{Kind: KindConflict, Code: "payment_plan_not_breakable", Message: "the payment plan is not active or none of its instalments is past its grace"}
	errPlanSumMismatches = "installments_mismatch"
)

// PlanState is a plan as the placement knows it: the agreement, its
// status, and what was paid towards it since it was agreed (capped at its
// total). Revision is its agreement's, EndRevision the event's that ended
// it (0 while active).
type PlanState struct {
	PaymentPlanAgreed
	Status      string
	Paid        decimal.Decimal
	Revision    uint64
	EndRevision uint64 `json:",omitempty"`
}

// InstallmentState is an instalment with what of it is paid and open
// (Paid + Open = Amount).
type InstallmentState struct {
	Installment
	Paid decimal.Decimal
	Open decimal.Decimal
}

// Schedule is the plan's instalments with what is paid of each: payments
// go to the oldest unpaid instalment first, so the paid total fills them in
// order.
func (s PlanState) Schedule() []InstallmentState {
	left := s.Paid
	out := make([]InstallmentState, len(s.Installments))
	for i, in := range s.Installments {
		paid := decimal.Max(decimal.Zero, decimal.Min(left, in.Amount))
		left = left.Sub(paid)
		out[i] = InstallmentState{Installment: in, Paid: paid, Open: in.Amount.Sub(paid)}
	}
	return out
}

// Open is what is still to be paid under the plan.
func (s PlanState) Open() decimal.Decimal { return s.Total.Sub(s.Paid) }

// BreaksAt is when an active plan breaks unless paid: the start of the day
// after its oldest unpaid instalment's due date plus its grace days (UTC).
// false when the plan is not active or nothing of it is open.
func (s PlanState) BreaksAt() (time.Time, bool) {
	if s.Status != PlanActive {
		return time.Time{}, false
	}
	for _, in := range s.Schedule() {
		if in.Open.IsPositive() {
			due, _ := ParseDate(in.DueDate)
			return due.AddDate(0, 0, s.GraceDays+1), true
		}
	}
	return time.Time{}, false
}

// ActivePlan returns the claim's active plan, if it has one.
func (p *Placement) ActivePlan() (*PlanState, bool) {
	if n := len(p.Plans); n > 0 && p.Plans[n-1].Status == PlanActive {
		return &p.Plans[n-1], true
	}
	return nil, false
}

// Plan returns the claim's plan with the number, if it has one.
func (p *Placement) Plan(number string) (*PlanState, bool) {
	for i := range p.Plans {
		if p.Plans[i].PlanNumber == number {
			return &p.Plans[i], true
		}
	}
	return nil, false
}

// evolvePlan applies a plan event recorded at revision.
func evolvePlan(p Placement, e Event, revision uint64) Placement {
	p.Plans = slices.Clone(p.Plans)
	end := func(number, status string) {
		if s, found := p.Plan(number); found {
			s.Status, s.EndRevision = status, revision
		}
	}
	switch e := e.(type) {
	case PaymentPlanAgreed:
		p.Plans = append(p.Plans, PlanState{PaymentPlanAgreed: e, Status: PlanActive, Paid: decimal.Zero, Revision: revision})
	case PaymentPlanCompleted:
		end(e.PlanNumber, PlanCompleted)
	case PaymentPlanBroken:
		end(e.PlanNumber, PlanBroken)
	case PaymentPlanCancelled:
		end(e.PlanNumber, PlanCancelled)
	default:
		panic(noRule("evolvePlan", e))
	}
	return p
}

// planPaid moves the active plan's paid total by a payment (+) or the
// reversal of a payment recorded since the plan was agreed (−), within 0
// and its total.
func planPaid(p Placement, e Event) Placement {
	s, active := p.ActivePlan()
	if !active {
		return p
	}
	var change decimal.Decimal
	switch e := e.(type) {
	case PaymentReceived:
		change = e.Amount.Decimal()
	case PaymentReversed:
		if e.PaymentRevision < s.Revision {
			return p
		}
		change = e.Amount.Neg().Decimal()
	default:
		return p
	}
	p.Plans = slices.Clone(p.Plans)
	s = &p.Plans[len(p.Plans)-1]
	s.Paid = decimal.Min(s.Total, decimal.Max(decimal.Zero, s.Paid.Add(change)))
	return p
}

// planContent is what must match for a plan to be a repeat of an earlier
// one with its number.
func planContent(installments []Installment, startDate string, graceDays int) string {
	parts := []string{startDate, fmt.Sprint(graceDays)}
	for _, in := range installments {
		parts = append(parts, in.DueDate, in.Amount.String())
	}
	return strings.Join(parts, "\x00")
}

func graceDaysOf(g *int) int {
	if g == nil {
		return DefaultGraceDays
	}
	return *g
}

func decideAgreePlan(p Placement, c AgreePaymentPlan) Decision {
	if !ValidIdentifier(c.PlanNumber) {
		return refuse(Invalid(FieldError{Field: "planNumber", Message: identifierRule}))
	}
	grace := graceDaysOf(c.GraceDays)
	if c.StartDate == "" {
		c.StartDate = c.At.UTC().Format(time.DateOnly) // today
	}
	if s, found := p.Plan(c.PlanNumber); found {
		if planContent(s.Installments, s.StartDate, s.GraceDays) != planContent(c.Installments, c.StartDate, grace) {
			return refuse(ErrPlanNumberReused)
		}
		return Decision{Repeat: &Repeat{Revision: s.Revision}}
	}
	if p.Status.Closed() {
		return refuse(ErrClosed)
	}
	if _, active := p.ActivePlan(); active {
		return refuse(ErrPlanActive)
	}
	at := c.At.UTC()
	total, err := checkSchedule(p, c, grace, at)
	if err != nil {
		return refuse(err)
	}
	events := []Event{PaymentPlanAgreed{PlanNumber: c.PlanNumber, Installments: slices.Clone(c.Installments), StartDate: c.StartDate,
		GraceDays: grace, Total: total, Currency: p.Currency, AgreedAt: at}}
	if p.Status == StatusActive {
		events = append(events, pauseEvents(p, PausePaymentPlan, at, nil)...)
	}
	return ok(events...)
}

// checkSchedule checks a plan's schedule against the claim and the day it
// is agreed on (at): the total of its instalments, or the refusal.
func checkSchedule(p Placement, c AgreePaymentPlan, grace int, at time.Time) (decimal.Decimal, error) {
	today := at.Format(time.DateOnly)
	start, valid := ParseDate(c.StartDate)
	switch {
	case !valid:
		return decimal.Zero, Invalid(FieldError{Field: "startDate", Message: "must be a date YYYY-MM-DD"})
	case c.StartDate < today:
		return decimal.Zero, Unprocessable("past_due", "startDate", "must not be before today ("+today+")")
	case grace < 0 || grace > MaxGraceDays:
		return decimal.Zero, Invalid(FieldError{Field: "graceDays", Message: fmt.Sprintf("must be between 0 and %d", MaxGraceDays)})
	case len(c.Installments) == 0 || len(c.Installments) > MaxInstallments:
		return decimal.Zero, Invalid(FieldError{Field: "installments", Message: fmt.Sprintf("1 to %d instalments", MaxInstallments)})
	}
	units, _ := MinorUnits(p.Currency)
	total, previous := decimal.Zero, start.AddDate(0, 0, -1)
	for i, in := range c.Installments {
		f := func(name string) string { return fmt.Sprintf("installments[%d].%s", i, name) }
		due, valid := ParseDate(in.DueDate)
		switch {
		case !valid:
			return decimal.Zero, Invalid(FieldError{Field: f("dueDate"), Message: "must be a date YYYY-MM-DD"})
		case due.Before(start):
			return decimal.Zero, Unprocessable("past_due", f("dueDate"), "must not be before startDate ("+c.StartDate+")")
		case !due.After(previous):
			return decimal.Zero, Unprocessable("installments_not_ascending", f("dueDate"), "must be after the previous instalment's due date")
		case !in.Amount.IsPositive():
			return decimal.Zero, Invalid(FieldError{Field: f("amount"), Message: "must be positive"})
		case !in.Amount.Equal(in.Amount.Truncate(units)):
			return decimal.Zero, Invalid(FieldError{Field: f("amount"), Message: fmt.Sprintf("has more decimals than %s allows (%d)", p.Currency, units)})
		}
		previous, total = due, total.Add(in.Amount)
	}
	if open := p.TotalOpen(); !total.Equal(open) {
		return decimal.Zero, Unprocessable(errPlanSumMismatches, "installments",
			fmt.Sprintf("the instalments sum to %s, but %s is open", FormatMoney(total, p.Currency), FormatMoney(open, p.Currency)))
	}
	return total, nil
}

func decideCancelPlan(p Placement, c CancelPaymentPlan) Decision {
	s, found := p.Plan(c.PlanNumber)
	switch {
	case !found:
		return refuse(ErrPlanNotFound)
	case s.Status == PlanCancelled:
		return Decision{Repeat: &Repeat{Revision: s.EndRevision}}
	case s.Status != PlanActive:
		e := *ErrPlanNotActive
		e.Message = fmt.Sprintf("the payment plan is %s", s.Status)
		return refuse(&e)
	}
	at := c.At.UTC()
	return ok(append([]Event{PaymentPlanCancelled{PlanNumber: c.PlanNumber, CancelledAt: at}}, planResume(p, at)...)...)
}

func decideBreakPlan(p Placement, c BreakPaymentPlan) Decision {
	s, found := p.Plan(c.PlanNumber)
	if !found {
		return refuse(ErrPlanNotFound)
	}
	breaks, open := s.BreaksAt()
	if !open || c.At.Before(breaks) || p.Status.Closed() {
		return refuse(ErrPlanNotBreakable)
	}
	at := c.At.UTC()
	var broken PaymentPlanBroken
	for _, in := range s.Schedule() {
		if in.Open.IsPositive() {
			broken = PaymentPlanBroken{PlanNumber: s.PlanNumber, DueDate: in.DueDate, Open: in.Open, BrokenAt: at}
			break
		}
	}
	return ok(append([]Event{broken}, planResume(p, at)...)...)
}

// planResume resumes the outreach a plan paused, when the placement is
// still held for it.
func planResume(p Placement, at time.Time) []Event {
	if p.Status != StatusPaused || p.Pause == nil || p.Pause.Reason != PausePaymentPlan {
		return nil
	}
	return []Event{PlacementResumed{ResumedAt: at, Automatic: true, Sequences: resumed(p.Pause.Sequences, at)}}
}

// planEndsWithClaim ends the active plan of a claim that closes (a recall,
// a write-off, or a payoff that leaves the plan unpaid, as waivers can): it
// is cancelled, so that no plan of a closed claim stays active.
func planEndsWithClaim(p Placement, at time.Time) []Event {
	if s, active := p.ActivePlan(); active {
		return []Event{PaymentPlanCancelled{PlanNumber: s.PlanNumber, CancelledAt: at}}
	}
	return nil
}

// planCompletion is what a payment adds when it pays the active plan in
// full (after is the state it leaves): the completion, and the resume of the
// outreach the plan paused when the claim stays open (a payoff stops it).
func planCompletion(after Placement, at time.Time) []Event {
	s, active := after.ActivePlan()
	if !active || s.Paid.LessThan(s.Total) {
		return nil
	}
	events := []Event{PaymentPlanCompleted{PlanNumber: s.PlanNumber, CompletedAt: at}}
	if after.TotalOpen().IsPositive() {
		events = append(events, planResume(after, at)...)
	}
	return events
}
