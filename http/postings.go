package http

import (
	"net/http"
	"net/url"
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
	q, ferr := parseTrialQuery(c.QueryParams(), time.Now())
	if ferr != nil {
		return newError(http.StatusBadRequest, "invalid_query", ferr.Field+" "+ferr.Message, *ferr)
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	creditor := who(c).id
	if who(c).kind == journal.ActorAgency {
		creditor = "" // every creditor's
	}
	tb, err := s.runner.Views.TrialBalance(creditor, q.Currency, q.AsOf, q.Basis)
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

// trialQuery is what a trial balance is asked for, by the API and the
// dashboard alike.
type trialQuery struct {
	Currency string // "" for every currency
	AsOf     string // a date, YYYY-MM-DD
	Basis    string // projections.BasisValue or BasisBooking
}

// parseTrialQuery reads currency, asOf (default today, UTC) and basis
// (default value); a bad one is named in the field error.
func parseTrialQuery(v url.Values, now time.Time) (trialQuery, *domain.FieldError) {
	q := trialQuery{Currency: v.Get("currency"), AsOf: v.Get("asOf"), Basis: v.Get("basis")}
	if _, known := domain.MinorUnits(q.Currency); q.Currency != "" && !known {
		return q, &domain.FieldError{Field: "currency", Message: "must be an ISO 4217 code the ledger accepts, like EUR"}
	}
	if q.AsOf == "" {
		q.AsOf = now.UTC().Format(time.DateOnly)
	} else if _, valid := domain.ParseDate(q.AsOf); !valid {
		return q, &domain.FieldError{Field: "asOf", Message: "must be a date YYYY-MM-DD"}
	}
	switch q.Basis {
	case "":
		q.Basis = projections.BasisValue
	case projections.BasisValue, projections.BasisBooking:
	default:
		return q, &domain.FieldError{Field: "basis", Message: "must be value or booking"}
	}
	return q, nil
}
