package http

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

type remittanceRequest struct {
	CreditorID       string `json:"creditorId"`
	Currency         string `json:"currency"`
	To               string `json:"to"`
	RemittanceNumber string `json:"remittanceNumber"`
}

// issueRemittance is POST /v1/agency/remittances: the agency pays a
// creditor what it collected for it up to a value date, net of the fees on
// those collections; 201 with the remittance, 200 with the first one when
// the number was used before for the same.
func (s *Server) issueRemittance(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r remittanceRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	req, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	start := time.Now()
	rem, replayed, err := s.commands.IssueRemittance(c.Request().Context(), req, boundedSettlements{s.runner.Settlements(), s.minWait},
		command.RemitRequest{CreditorID: r.CreditorID, Currency: r.Currency, To: r.To, RemittanceNumber: r.RemittanceNumber})
	s.observe("issue_remittance", start, err, replayed)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(rem.Position, 10))
	c.Response().Header().Set(echo.HeaderLocation, "/v1/reports/remittances?creditorId="+url.QueryEscape(rem.CreditorID)+
		"&remittanceNumber="+url.QueryEscape(rem.RemittanceNumber))
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	return c.JSON(status, projections.RenderRemittance(rem))
}

// remittances is GET /v1/reports/remittances: a creditor's own remittances;
// the agency's for the creditor it names (?creditorId=), or every
// creditor's without it. ?remittanceNumber= picks one (with a creditor).
func (s *Server) remittances(c echo.Context) error {
	creditor, number := who(c).id, c.QueryParam("remittanceNumber")
	if who(c).kind == journal.ActorAgency {
		creditor = c.QueryParam("creditorId")
	} else if q := c.QueryParam("creditorId"); q != "" && q != creditor {
		return newError(http.StatusBadRequest, "invalid_query", "creditorId is the agency's choice; a creditor sees its own remittances",
			domain.FieldError{Field: "creditorId", Message: "must be your own creditor id, or left out"})
	}
	if number != "" && creditor == "" {
		return newError(http.StatusBadRequest, "invalid_query", "remittanceNumber needs creditorId",
			domain.FieldError{Field: "remittanceNumber", Message: "needs creditorId"})
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	rs, err := s.runner.Views.Remittances(creditor)
	if err != nil {
		return err
	}
	if number != "" {
		picked := []projections.RemittanceResource{}
		for _, r := range rs {
			if r.RemittanceNumber == number {
				picked = append(picked, r)
			}
		}
		rs = picked
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		return projections.WriteRemittancesCSV(c.Response(), rs)
	}
	return c.JSON(http.StatusOK, map[string]any{"remittances": rs})
}

// boundedSettlements bounds how long a remittance waits for the views to
// catch up with the log, as ?minPosition= does.
type boundedSettlements struct {
	projections.Settlements
	wait time.Duration
}

func (b boundedSettlements) WaitFor(ctx context.Context, pos eventstore.Position) error {
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.Settlements.WaitFor(ctx, pos); err != nil {
		return newError(http.StatusServiceUnavailable, "not_caught_up", "the projections have not reached the log's head yet; try again")
	}
	return nil
}
