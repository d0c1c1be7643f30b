package http

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
)

// The placement page's payment plans: each plan with its instalments, a
// form to agree one (an instalment a line, "YYYY-MM-DD amount") and a
// button to cancel the active one. The commands are the API's.

// dashPlans are the placement's plans as its page shows them.
func (s *Server) dashPlans(creditor string, id uuid.UUID) ([]PlanResource, error) {
	plans, _, err := s.runner.Views.PaymentPlans(creditor, id)
	out := make([]PlanResource, 0, len(plans))
	for _, p := range plans {
		out = append(out, planResource(p))
	}
	return out, err
}

// dashPlanCommand reads the plan form (action "plan") or the cancel button
// ("cancel-plan").
func dashPlanCommand(action string, form url.Values) (func(at time.Time) domain.Command, string, error) {
	number := strings.TrimSpace(form.Get("planNumber"))
	if action == "cancel-plan" {
		return func(at time.Time) domain.Command { return domain.CancelPaymentPlan{PlanNumber: number, At: at} },
			"The payment plan " + number + " is cancelled; collection resumes.", nil
	}
	installments, err := planLines(form.Get("installments"))
	if err != nil {
		return nil, "", err
	}
	var grace *int
	if raw := strings.TrimSpace(form.Get("graceDays")); raw != "" {
		g, err := strconv.Atoi(raw)
		if err != nil {
			return nil, "", domain.Invalid(domain.FieldError{Field: "graceDays", Message: "must be a whole number of days"})
		}
		grace = &g
	}
	start := strings.TrimSpace(form.Get("startDate"))
	return func(at time.Time) domain.Command {
		return domain.AgreePaymentPlan{PlanNumber: number, Installments: installments, StartDate: start, GraceDays: grace, At: at}
	}, "The payment plan " + number + " is agreed; collection is paused while it runs.", nil
}

// planLines reads the instalments of the plan form: one a line, its due
// date and amount separated by a space; blank lines are skipped.
func planLines(text string) ([]domain.Installment, error) {
	var out []domain.Installment
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(out) == domain.MaxInstallments {
			return nil, domain.Invalid(domain.FieldError{Field: "installments", Message: fmt.Sprintf("at most %d instalments", domain.MaxInstallments)})
		}
		if len(fields) != 2 {
			return nil, domain.Invalid(domain.FieldError{Field: "installments", Message: fmt.Sprintf("line %d must be a due date and an amount, like 2025-01-31 100.00", i+1)})
		}
		amount, err := domain.ParseAmount([]byte(fields[1]), "", fmt.Sprintf("the amount on line %d", i+1))
		if err != nil {
			return nil, err
		}
		out = append(out, domain.Installment{DueDate: fields[0], Amount: amount})
	}
	return out, nil
}
