package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/reconcile"
)

// reconciliation serves the creditor's reconciliation over [from, to): JSON,
// or CSV with Accept: text/csv. It reads the log once.
func (s *Server) reconciliation(c echo.Context) error {
	from, to := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	var err error
	if raw := c.QueryParam("from"); raw != "" {
		if from, err = parseWhen(raw, "from"); err != nil {
			return err
		}
	}
	if raw := c.QueryParam("to"); raw != "" {
		if to, err = parseWhen(raw, "to"); err != nil {
			return err
		}
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
