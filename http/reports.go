package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/reconcile"
)

// reconciliation serves the creditor's reconciliation over [from, to): JSON,
// or CSV with Accept: text/csv. It reads the log once.
func (s *Server) reconciliation(c echo.Context) error {
	from, to, err := window(c)
	if err != nil {
		return err
	}
	r, err := reconcile.Build(c.Request().Context(), s.store, who(c).id, from, to)
	if err != nil {
		return err
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv") {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		return r.WriteCSV(c.Response())
	}
	return c.JSON(http.StatusOK, r.View())
}
