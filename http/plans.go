package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// Payment plans (API §15) on /v1/claims/{claimNumber}/payment-plans: a
// creditor key for its own claims, the agency key for the creditor it names
// with ?creditorId=.

type planRequest struct {
	PlanNumber   string               `json:"planNumber"`
	Installments []installmentRequest `json:"installments"`
	StartDate    string               `json:"startDate"`
	GraceDays    *int                 `json:"graceDays"`
}

type installmentRequest struct {
	DueDate string          `json:"dueDate"`
	Amount  json.RawMessage `json:"amount"`
}

// PlanResource is a payment plan as the API shows it; amounts are strings
// with the currency's decimals, as in the placement resource.
type PlanResource struct {
	PlanNumber   string                `json:"planNumber"`
	Status       string                `json:"status"`
	StartDate    string                `json:"startDate"`
	GraceDays    int                   `json:"graceDays"`
	Currency     string                `json:"currency"`
	TotalAmount  string                `json:"totalAmount"`
	PaidAmount   string                `json:"paidAmount"`
	OpenAmount   string                `json:"openAmount"`
	AgreedAt     time.Time             `json:"agreedAt"`
	BreaksOn     *string               `json:"breaksOn"`
	Installments []InstallmentResource `json:"installments"`
}

// InstallmentResource is one instalment: due, paid and open.
type InstallmentResource struct {
	DueDate    string `json:"dueDate"`
	Amount     string `json:"amount"`
	PaidAmount string `json:"paidAmount"`
	OpenAmount string `json:"openAmount"`
}

func planResource(s domain.PlanState) PlanResource {
	cur := s.Currency
	r := PlanResource{PlanNumber: s.PlanNumber, Status: s.Status, StartDate: s.StartDate, GraceDays: s.GraceDays, Currency: cur,
		TotalAmount: domain.FormatMoney(s.Total, cur), PaidAmount: domain.FormatMoney(s.Paid, cur), OpenAmount: domain.FormatMoney(s.Open(), cur),
		AgreedAt: s.AgreedAt, Installments: []InstallmentResource{}}
	if at, breaks := s.BreaksAt(); breaks {
		day := at.Format(time.DateOnly)
		r.BreaksOn = &day
	}
	for _, in := range s.Schedule() {
		r.Installments = append(r.Installments, InstallmentResource{DueDate: in.DueDate, Amount: domain.FormatMoney(in.Amount, cur),
			PaidAmount: domain.FormatMoney(in.Paid, cur), OpenAmount: domain.FormatMoney(in.Open, cur)})
	}
	return r
}

// planCreditor is the creditor whose claim a plan route names: the
// creditor key's own, or the one the agency names with ?creditorId=.
func planCreditor(c echo.Context) (string, error) {
	p := who(c)
	if p.kind != journal.ActorAgency {
		if q := c.QueryParam("creditorId"); q != "" && q != p.id {
			return "", domain.ErrNotFound // a creditor sees only its own claims
		}
		return p.id, nil
	}
	creditor := c.QueryParam("creditorId")
	if !domain.ValidCreditorID(creditor) {
		return "", domain.Invalid(domain.FieldError{Field: "creditorId", Message: "the agency names the creditor whose claim it is: ?creditorId="})
	}
	return creditor, nil
}

// planPlacement is the placement of the claim in the path.
func (s *Server) planPlacement(c echo.Context) (uuid.UUID, error) {
	creditor, err := planCreditor(c)
	if err != nil {
		return uuid.Nil, err
	}
	id, found, err := s.commands.ClaimOwner(c.Request().Context(), creditor, c.Param("claimNumber"))
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	return id, err
}

// agreePaymentPlan is POST /v1/claims/{claimNumber}/payment-plans: 201
// with the plan (a repeat of a plan number with the same content answers
// as the first did).
func (s *Server) agreePaymentPlan(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r planRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if len(r.Installments) > domain.MaxInstallments { // before any amount is read
		return domain.Invalid(domain.FieldError{Field: "installments", Message: "at most 120 instalments"})
	}
	installments := make([]domain.Installment, len(r.Installments))
	for i, in := range r.Installments {
		amount, err := parseAmount(in.Amount, "", "installments["+strconv.Itoa(i)+"].amount")
		if err != nil {
			return err
		}
		installments[i] = domain.Installment{DueDate: in.DueDate, Amount: amount}
	}
	id, err := s.planPlacement(c)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "agree_payment_plan", id, body, func(at time.Time) domain.Command {
		return domain.AgreePaymentPlan{PlanNumber: r.PlanNumber, Installments: installments, StartDate: r.StartDate, GraceDays: r.GraceDays, At: at}
	})
	if err != nil {
		return err
	}
	plan, found := res.Placement.Plan(r.PlanNumber)
	if !found {
		return accepted(c, res, "planNumber", r.PlanNumber)
	}
	out := planResource(*plan)
	return c.JSON(http.StatusCreated, struct {
		PlanResource
		RequestID string `json:"requestId"`
	}{out, resultRequestID(c, res.RequestID)})
}

// resultRequestID is the request a command's answer names: the first one's
// for a repeat, else this one's.
func resultRequestID(c echo.Context, first string) string {
	if first != "" {
		return first
	}
	return requestID(c)
}

// paymentPlans is GET /v1/claims/{claimNumber}/payment-plans.
func (s *Server) paymentPlans(c echo.Context) error {
	if err := s.waitFresh(c); err != nil {
		return err
	}
	creditor, err := planCreditor(c)
	if err != nil {
		return err
	}
	id, found, err := s.runner.Views.ClaimPlacement(creditor, c.Param("claimNumber"))
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return err
	}
	plans, found, err := s.runner.Views.PaymentPlans(creditor, id)
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	if err != nil {
		return err
	}
	items := make([]PlanResource, 0, len(plans))
	for _, p := range plans {
		items = append(items, planResource(p))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// cancelPaymentPlan is POST
// /v1/claims/{claimNumber}/payment-plans/{planNumber}/cancellation (no
// body): 202; a repeat answers as the first did.
func (s *Server) cancelPaymentPlan(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if empty, err := emptyOrEmptyObject(body); err != nil {
		return err
	} else if !empty {
		return newError(http.StatusBadRequest, "unexpected_body", "this command takes no body")
	}
	id, err := s.planPlacement(c)
	if err != nil {
		return err
	}
	number := c.Param("planNumber")
	res, err := s.execute(c, "cancel_payment_plan", id, body, func(at time.Time) domain.Command {
		return domain.CancelPaymentPlan{PlanNumber: number, At: at}
	})
	if err != nil {
		return err
	}
	return accepted(c, res, "planNumber", number)
}
