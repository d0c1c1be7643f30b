package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

var idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// commandRequest builds the command.Request of an HTTP request: who asks,
// its id, its Idempotency-Key with the hash of method, path and body (see
// requestHash), and If-Match.
func (s *Server) commandRequest(c echo.Context, body []byte) (command.Request, error) {
	p := who(c)
	req := command.Request{Actor: p.id, ActorType: p.kind, RequestID: requestID(c)}
	if p.kind == journal.ActorCreditor {
		req.Creditor = p.id
	}
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		if !idempotencyKeyPattern.MatchString(key) {
			return req, newError(http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters")
		}
		hash, err := s.requestHash(c, req.Actor, key, body, nil)
		if err != nil {
			return req, err
		}
		req.IdempotencyKey, req.RequestHash = key, hash
	}
	if im := c.Request().Header.Get("If-Match"); im != "" {
		v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(im), "W/"), `"`)
		if rev, state, ok := strings.Cut(v, "-"); ok && (state == PersonalErased || state == PersonalDamaged) {
			v = rev // a claim read's ETag may say "3-erased"
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return req, newError(http.StatusBadRequest, "invalid_if_match", `If-Match must be a placement's ETag, its revision in quotes, like "3"`)
		}
		req.IfMatch = &n
	}
	return req, nil
}

// run is the one way the server runs a command: the API's routes, each
// item of a bulk request and the dashboard's actions all call it. do runs
// the command (one command.Handler method); run counts it in the metrics,
// by name and outcome, and times it. A refusal that nevertheless recorded
// events comes out as a *command.Refused, with the Result of what it
// recorded. A key store that fails is logged here.
func (s *Server) run(name string, do func() (command.Result, error)) (command.Result, error) {
	start := time.Now()
	res, err := do()
	s.observe(name, start, err, res.Replayed)
	return res, err
}

// observe counts one change of the ledger, made through the command
// handler, in the metrics (ledger_commands_total by name and outcome, and
// its duration): the placements' commands through run, and the others (a
// webhook's configuration, an erasure, the record of a read of personal
// data) right after their call. A key store's own error is logged here,
// never shown.
func (s *Server) observe(name string, start time.Time, err error, replayed bool) {
	if e, ok := domain.AsError(err); ok && e.Kind == domain.KindUnavailable {
		s.logger.Error("command failed", "command", name, "err", err.Error())
	}
	outcome := "ok"
	switch {
	case err != nil:
		p, _ := problemFor(err)
		outcome = p.Code
	case replayed:
		outcome = "replayed"
	}
	s.metrics.commands.WithLabelValues(name, outcome).Inc()
	s.metrics.append.Observe(time.Since(start).Seconds())
}

// answer runs a command of the API (see run) and writes its outcome
// headers: Ledger-Position, ETag and Idempotent-Replayed.
func (s *Server) answer(c echo.Context, name string, do func() (command.Result, error)) (command.Result, error) {
	res, err := s.run(name, do)
	s.setPosition(c, res, err)
	if res.Placement.Exists() {
		c.Response().Header().Set("ETag", fmt.Sprintf(`"%d"`, res.Revision))
	}
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	return res, err
}

// setPosition sets Ledger-Position to where the command left the log: its
// last event, or the head of the log when it recorded nothing.
func (s *Server) setPosition(c echo.Context, res command.Result, err error) {
	pos := res.Position
	if _, recorded := command.AsRefused(err); (err != nil && !recorded) || pos == 0 {
		if head, herr := s.commands.Head(c.Request().Context()); herr == nil {
			pos = head
		}
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(uint64(pos), 10))
}

// execute runs one command of the API on placement id.
func (s *Server) execute(c echo.Context, name string, id uuid.UUID, body []byte, build func(at time.Time) domain.Command) (command.Result, error) {
	req, err := s.commandRequest(c, body)
	if err != nil {
		return command.Result{}, err
	}
	return s.answer(c, name, func() (command.Result, error) {
		return s.commands.Execute(c.Request().Context(), id, req, build)
	})
}

// recordedIsDone answers a refusal that recorded its rejection as done: on
// the claims API a recall or credit waiver of a closed claim is accepted,
// and its REJECTION is in the feed.
func recordedIsDone(err error) error {
	if _, recorded := command.AsRefused(err); recorded {
		return nil
	}
	return err
}

// placementCommand reads what every command on a placement starts with: the
// placement id from the path and the body. When v is not nil the body is
// decoded strictly into it; otherwise it must be empty or {}.
func placementCommand(c echo.Context, v any) (uuid.UUID, []byte, error) {
	id, err := pathUUID(c, "id")
	if err != nil {
		return uuid.Nil, nil, err
	}
	body, err := readBody(c)
	if err != nil {
		return uuid.Nil, nil, err
	}
	if v != nil {
		return id, body, decodeStrict(body, v)
	}
	if empty, err := emptyOrEmptyObject(body); err != nil {
		return uuid.Nil, nil, err
	} else if !empty {
		return uuid.Nil, nil, newError(http.StatusBadRequest, "unexpected_body", "this command takes no body")
	}
	return id, body, nil
}

func pathUUID(c echo.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil || len(c.Param(name)) != 36 {
		return uuid.Nil, newError(http.StatusBadRequest, "invalid_id", fmt.Sprintf("%s must be a UUID", name),
			domain.FieldError{Field: name, Message: "must be a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6"})
	}
	return id, nil
}

func parseTime(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, domain.Invalid(domain.FieldError{Field: field, Message: "is required"})
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, domain.Invalid(domain.FieldError{Field: field, Message: fmt.Sprintf("%q is not an RFC 3339 time like 2024-08-07T10:00:00Z", s)})
	}
	return t.UTC(), nil
}

// emptyOrEmptyObject reports whether a body is empty or {}.
func emptyOrEmptyObject(body []byte) (bool, error) {
	b := strings.TrimSpace(string(body))
	if b == "" {
		return true, nil
	}
	if b[0] != '{' {
		return false, nil
	}
	var m map[string]json.RawMessage
	if err := decodeStrict(body, &m); err != nil {
		return false, err
	}
	return len(m) == 0, nil
}
