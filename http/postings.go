package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// claimPostings serves a claim's postings in log order.
func (s *Server) claimPostings(c echo.Context) error {
	if err := s.waitFresh(c); err != nil {
		return err
	}
	items, found, err := s.runner.Views.ClaimPostings(who(c).id, c.Param("claimNumber"))
	if err != nil {
		return err
	}
	if !found {
		return domain.ErrNotFound
	}
	return c.JSON(http.StatusOK, items)
}

// trialBalance serves every account's debit, credit and balance as of a
// date (asOf, default today, UTC) by value date or booking day (basis,
// default value): a creditor's own accounts, or every creditor's with the
// agency key. JSON, or CSV with Accept: text/csv.
func (s *Server) trialBalance(c echo.Context) error {
	bad := func(field, msg string) error {
		return newError(http.StatusBadRequest, "invalid_query", field+" "+msg, domain.FieldError{Field: field, Message: msg})
	}
	currency := c.QueryParam("currency")
	if _, known := domain.MinorUnits(currency); currency != "" && !known {
		return bad("currency", "must be an ISO 4217 code the ledger accepts, like EUR")
	}
	asOf := c.QueryParam("asOf")
	if asOf == "" {
		asOf = time.Now().UTC().Format(time.DateOnly)
	} else if _, valid := domain.ParseDate(asOf); !valid {
		return bad("asOf", "must be a date YYYY-MM-DD")
	}
	basis := c.QueryParam("basis")
	switch basis {
	case "":
		basis = projections.BasisValue
	case projections.BasisValue, projections.BasisBooking:
	default:
		return bad("basis", "must be value or booking")
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	creditor := who(c).id
	if who(c).kind == journal.ActorAgency {
		creditor = "" // every creditor's
	}
	tb, err := s.runner.Views.TrialBalance(creditor, currency, asOf, basis)
	if err != nil {
		return err
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		return tb.WriteCSV(c.Response())
	}
	return c.JSON(http.StatusOK, tb)
}
