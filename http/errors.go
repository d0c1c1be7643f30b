package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// Problem is an RFC 9457 problem document with the ledger's stable code.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      string              `json:"code"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"requestId,omitempty"`
}

// apiError is an error the HTTP layer itself raises (decoding, auth, limits).
type apiError struct {
	status int
	code   string
	detail string
	fields []domain.FieldError
}

func (e *apiError) Error() string { return e.detail }

func newError(status int, code, detail string, fields ...domain.FieldError) *apiError {
	return &apiError{status: status, code: code, detail: detail, fields: fields}
}

// kindStatus is the one table from domain error kinds to HTTP statuses.
var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:            http.StatusUnprocessableEntity,
	domain.KindUnprocessable:      http.StatusUnprocessableEntity,
	domain.KindNotFound:           http.StatusNotFound,
	domain.KindConflict:           http.StatusConflict,
	domain.KindClosed:             http.StatusConflict,
	domain.KindPreconditionFailed: http.StatusPreconditionFailed,
	domain.KindContention:         http.StatusServiceUnavailable,
	domain.KindUnavailable:        http.StatusServiceUnavailable,
}

// problemType is the URL of a problem code's documentation: a problem
// document's type.
func problemType(code string) string { return "https://collections-ledger.dev/problems/" + code }

// problemFor maps any error to its problem document (all but its request
// id), and says whether the error is internal. Internal errors are logged by
// the caller with the request id and never shown.
func problemFor(err error) (Problem, bool) {
	p, internal := problemOf(err)
	p.Type, p.Title = problemType(p.Code), http.StatusText(p.Status)
	return p, internal
}

// problemOf maps an error to its problem document's status, code, detail
// and fields.
func problemOf(err error) (Problem, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return Problem{Status: ae.status, Code: ae.code, Detail: ae.detail, Errors: ae.fields}, false
	}
	if de, ok := domain.AsError(err); ok {
		status, known := kindStatus[de.Kind]
		if !known {
			status = http.StatusInternalServerError
		}
		return Problem{Status: status, Code: de.Code, Detail: de.Message, Errors: de.Fields}, status >= 500 && status != http.StatusServiceUnavailable
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := map[int]string{http.StatusNotFound: "route_not_found", http.StatusMethodNotAllowed: "method_not_allowed",
			http.StatusRequestEntityTooLarge: "body_too_large", http.StatusUnsupportedMediaType: "unsupported_media_type"}[he.Code]
		if code == "" {
			code = "http_error"
		}
		return Problem{Status: he.Code, Code: code, Detail: fmt.Sprint(he.Message)}, false
	}
	switch {
	case errors.Is(err, eventstore.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return Problem{Status: http.StatusServiceUnavailable, Code: "store_unavailable", Detail: "the event store cannot take this request now; try again"}, true
	case errors.Is(err, eventstore.ErrInvalidArgument):
		return Problem{Status: http.StatusUnprocessableEntity, Code: "limit_exceeded", Detail: err.Error()}, false
	}
	return Problem{Status: http.StatusInternalServerError, Code: "internal_error", Detail: "an internal error occurred; quote the request id when reporting it"}, true
}

// errorHandler writes every error as application/problem+json.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p, internal := problemFor(err)
	p.RequestID = requestID(c)
	if internal {
		s.logger.Error("request failed", "requestId", p.RequestID, "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	if p.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", strconv.Itoa(1))
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	_ = jsonEncode(c.Response(), p)
}
