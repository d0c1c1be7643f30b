package http

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// Reading one's own writes (docs/API.md, "Reading what you just wrote"): a
// read of one placement or claim never answers older than a command this
// server acknowledged before the read began. The server keeps the highest
// log position it has acknowledged; such a read waits (bounded, as
// ?minPosition= does) until the views have applied it. It waits only when
// the views are behind that position: otherwise the check is one lock.

// acknowledge raises the acknowledged position to the one a command's 2xx
// answer carries in Ledger-Position. It runs just before the status line is
// written, so no client can hold the answer before the position counts.
func (s *Server) acknowledge(c echo.Context) {
	if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
		return
	}
	res := c.Response()
	if res.Status < 200 || res.Status > 299 {
		return
	}
	raw := res.Header().Get("Ledger-Position")
	if raw == "" {
		return
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return
	}
	for {
		cur := s.acknowledged.Load()
		if n <= cur || s.acknowledged.CompareAndSwap(cur, n) {
			return
		}
	}
}

// waitOwnWrites waits (bounded) until the views have applied every command
// this server acknowledged before now.
func (s *Server) waitOwnWrites(c echo.Context) error {
	pos := eventstore.Position(s.acknowledged.Load())
	if pos == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.minWait)
	defer cancel()
	if err := s.runner.WaitFor(ctx, pos); err != nil {
		return newError(http.StatusServiceUnavailable, "not_caught_up",
			"the projections have not reached this server's last acknowledged command yet; try again")
	}
	return nil
}

// waitMinPosition honours ?minPosition=N on reads: a position the views
// have applied answers at once; one the log has not reached is 400 at once
// (waiting could not help); one in between is waited for, bounded, then 503.
func (s *Server) waitMinPosition(c echo.Context) error {
	raw := c.QueryParam("minPosition")
	if raw == "" {
		return nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return newError(http.StatusBadRequest, "invalid_query", "minPosition must be a non-negative integer",
			minPositionField("must be a non-negative integer"))
	}
	pos := eventstore.Position(n)
	if s.runner.Position() >= pos {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.minWait)
	defer cancel()
	head, err := s.runner.Head(ctx)
	if err != nil {
		return err
	}
	if pos > head {
		return newError(http.StatusBadRequest, "invalid_query",
			"minPosition "+raw+" is beyond the log's head ("+strconv.FormatUint(uint64(head), 10)+"): no command answered it",
			minPositionField("is beyond the log's head"))
	}
	if err := s.runner.WaitFor(ctx, pos); err != nil {
		return newError(http.StatusServiceUnavailable, "not_caught_up",
			"the projections have not reached position "+raw+" yet; try again")
	}
	return nil
}

func minPositionField(msg string) domain.FieldError {
	return domain.FieldError{Field: "minPosition", Message: msg}
}
