package http

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

type reversalRequest struct {
	Reason string `json:"reason"`
	// Date is the reversal's value date (YYYY-MM-DD), optional: today (UTC)
	// when absent.
	Date string `json:"date"`
}

// reversePayment reverses one of a placement's payments:
// POST /v1/placements/{id}/payments/{paymentNumber}/reversal answers the
// placement, as the other placement commands do.
func (s *Server) reversePayment(c echo.Context) error {
	var r reversalRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	res, err := s.executeReversal(c, id, body, r)
	if err != nil {
		return err
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

// claimReversePayment is its claims-API twin,
// POST /v1/claims/{claimNumber}/payments/{paymentNumber}/reversal: 202 with
// the request id; the REALLOCATION or CANCELLATION is in the feed.
func (s *Server) claimReversePayment(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r reversalRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	res, err := s.executeReversal(c, id, body, r)
	if err != nil {
		return err
	}
	return accepted(c, res)
}

func (s *Server) executeReversal(c echo.Context, id uuid.UUID, body []byte, r reversalRequest) (command.Result, error) {
	number := c.Param("paymentNumber") // unescaped once, as every path parameter (unescapeParams)
	return s.execute(c, "reverse_payment", id, body, func(at time.Time) domain.Command {
		return domain.ReversePayment{PaymentNumber: number, Reason: r.Reason, Date: r.Date, At: at}
	})
}

// accepted answers a claims-API command: 202 with the id of the request
// that did it (the first one's, for a repeat), and any other fields given
// as name, value pairs.
func accepted(c echo.Context, res command.Result, fields ...string) error {
	out := map[string]string{"requestId": res.RequestID}
	if out["requestId"] == "" {
		out["requestId"] = requestID(c)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		out[fields[i]] = fields[i+1]
	}
	return c.JSON(http.StatusAccepted, out)
}

// paymentNumberHeader names the payment a payment command recorded (the
// ledger assigns a number when the request gives none).
const paymentNumberHeader = "Payment-Number"

// setPaymentNumber sets the Payment-Number header from what the command
// recorded, or from the request's number when it was a repeat.
func setPaymentNumber(c echo.Context, given string, res command.Result) {
	number := given
	for _, e := range res.Events {
		if p, ok := e.(domain.PaymentReceived); ok {
			number = p.PaymentNumber
		}
	}
	if number != "" {
		c.Response().Header().Set(paymentNumberHeader, number)
	}
}
