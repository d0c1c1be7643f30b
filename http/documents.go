package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// The collection API's other accounting documents: what the debtor paid the
// agency, write-offs (both agency routes) and the cancellation of a payment
// or credit waiver (a claims-API route). The rules are the domain's.

// agencyPayment is POST /v1/placements/{id}/agency-payments: the debtor
// paid the agency. Its body and answer are payment-received's.
func (s *Server) agencyPayment(c echo.Context) error {
	var r paymentRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	amount, err := parseAmount(r.Amount, "", "amount")
	if err != nil {
		return err
	}
	res, err := s.execute(c, "agency_payment_received", id, body, func(at time.Time) domain.Command {
		return domain.ReceiveAgencyPayment{PaymentNumber: r.PaymentNumber, Amount: amount, Date: r.Date, At: at}
	})
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

type writeOffRequest struct {
	Reason string `json:"reason"`
}

// writeOff is POST /v1/placements/{id}/write-off: the claim cannot be
// collected. It answers the placement, as a recall does.
func (s *Server) writeOff(c echo.Context) error {
	var r writeOffRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "write_off", id, body, func(at time.Time) domain.Command {
		return domain.WriteOff{Reason: r.Reason, At: at}
	})
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

type cancellationRequest struct {
	ReferenceNumber string          `json:"referenceNumber"`
	Date            string          `json:"date"`
	Amount          json.RawMessage `json:"amount"`
	Currency        string          `json:"currency"`
}

// claimCancellation is POST
// /v1/claims/{claimNumber}/accountingDocuments/cancellations: cancels a
// payment or a credit waiver by its number; 202 with the request id, the
// CANCELLATION in the feed.
func (s *Server) claimCancellation(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r cancellationRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if err := domain.CheckCurrency(r.Currency, "currency"); err != nil {
		return err
	}
	amount, err := parseAmount(r.Amount, r.Currency, "amount")
	if err != nil {
		return err
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "cancel_document", id, body, func(at time.Time) domain.Command {
		return domain.CancelDocument{ReferenceNumber: r.ReferenceNumber, Date: r.Date, Amount: amount, Currency: r.Currency, At: at}
	})
	if err != nil {
		return err
	}
	return accepted(c, res)
}
