package http

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/verify"
)

// adminVerify runs verify on the live store and compares the live views
// with views rebuilt from 0. It reads the whole log: for large stores prefer
// the ledger verify command on a stopped ledger.
func (s *Server) adminVerify(c echo.Context) error {
	if s.verify == nil {
		return newError(http.StatusServiceUnavailable, "not_available", "verification is not available on this server")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 25*time.Second)
	defer cancel()
	head, err := s.runner.Head(ctx)
	if err != nil {
		return err
	}
	if err := s.runner.WaitFor(ctx, head); err != nil {
		return newError(http.StatusServiceUnavailable, "not_caught_up", "the projections have not reached the log's head; try again")
	}
	report, err := s.verify(ctx, s.runner.Views)
	if err != nil {
		return err
	}
	if report.Findings == nil {
		report.Findings = []verify.Finding{}
	}
	status := http.StatusOK
	if !report.OK() {
		status = http.StatusConflict
	}
	return c.JSON(status, map[string]any{"ok": report.OK(), "report": report})
}
