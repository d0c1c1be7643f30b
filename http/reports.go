package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// reconciliation serves the creditor's reconciliation over [from, to): JSON,
// or CSV with Accept: text/csv, from the creditor's entries in the window.
func (s *Server) reconciliation(c echo.Context) error {
	from, to, err := window(c)
	if err != nil {
		return err
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	r, err := s.runner.Views.Reconciliation(who(c).id, from, to)
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
