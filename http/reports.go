package http

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/reconcile"
)

// reconciliation serves the creditor's reconciliation over [from, to): JSON,
// or CSV with Accept: text/csv, from the creditor's entries in the window
// by value date (?basis=value, the default) or by booking time
// (?basis=booking); with ?currency=, only that currency's.
func (s *Server) reconciliation(c echo.Context) error {
	from, to, err := window(c)
	if err != nil {
		return err
	}
	basis := c.QueryParam("basis")
	if basis == "" {
		basis = reconcile.BasisValue
	}
	if !reconcile.ValidBasis(basis) {
		return newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("basis %q is neither value nor booking", basis),
			domain.FieldError{Field: "basis", Message: "must be value or booking"})
	}
	currency := c.QueryParam("currency")
	if _, known := domain.MinorUnits(currency); currency != "" && !known {
		return newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("currency %q is not an ISO 4217 code the ledger accepts", currency),
			domain.FieldError{Field: "currency", Message: "must be an ISO 4217 code the ledger accepts, like EUR"})
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	r, err := s.runner.Views.Reconciliation(who(c).id, basis, from, to)
	if err != nil {
		return err
	}
	if currency != "" {
		r = r.InCurrency(currency)
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		return r.WriteCSV(c.Response())
	}
	return c.JSON(http.StatusOK, r.View())
}
