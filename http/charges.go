package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// claimCharge is one of a handover's costs[] or interests[]: a receivable
// of its own beside the principal.
type claimCharge struct {
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
	Number      string          `json:"number"`
	Date        string          `json:"date"`
	Description string          `json:"description"`
}

// handoverCharges are a handover's costs and interests as the placement
// keeps them, each in the claim's currency.
func handoverCharges(costs, interests []claimCharge, currency string) ([]domain.Charge, error) {
	var out []domain.Charge
	for _, list := range []struct {
		name, typ string
		items     []claimCharge
	}{{"costs", domain.ChargeCosts, costs}, {"interests", domain.ChargeInterests, interests}} {
		for i, ch := range list.items {
			path := fmt.Sprintf("%s[%d]", list.name, i)
			if ch.Currency != currency {
				return nil, domain.Invalid(domain.FieldError{Field: path + ".currency", Message: fmt.Sprintf("must be the claim's currency (%s)", currency)})
			}
			amount, err := parseAmount(ch.Amount, currency, path+".amount")
			if err != nil {
				return nil, err
			}
			out = append(out, domain.Charge{Type: list.typ, Number: ch.Number, Amount: amount, Date: ch.Date, Description: ch.Description})
		}
	}
	return out, nil
}

type debitRequest struct {
	Amount      json.RawMessage `json:"amount"`
	Type        string          `json:"type"`
	Number      string          `json:"number"`
	Date        string          `json:"date"`
	Description string          `json:"description"`
}

// addDebit is POST /v1/placements/{id}/debits (agency key): costs or
// interests charged after the handover, once per number. It answers 201
// with the placement as the debit leaves it (a repeat, as the first left it).
func (s *Server) addDebit(c echo.Context) error {
	var r debitRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	amount, err := parseAmount(r.Amount, "", "amount")
	if err != nil {
		return err
	}
	res, err := s.execute(c, "add_debit", id, body, func(at time.Time) domain.Command {
		return domain.AddDebit{Charge: domain.Charge{Type: r.Type, Number: r.Number, Amount: amount, Date: r.Date, Description: r.Description}, At: at}
	})
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusCreated, projections.Render(res.Placement, res.Revision))
}
