package http

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/projections"
)

type invoiceRequest struct {
	InvoiceNumber  string          `json:"invoiceNumber"`
	ContractNumber string          `json:"contractNumber"`
	Amount         json.RawMessage `json:"amount"`
	DueDate        string          `json:"dueDate"`
}

type placeRequest struct {
	ClaimNumber    *string          `json:"claimNumber"`
	CustomerNumber string           `json:"customerNumber"`
	Currency       string           `json:"currency"`
	FeeRate        json.RawMessage  `json:"feeRate"`
	Invoices       []invoiceRequest `json:"invoices"`
}

// newClaimNumber assigns a claim number when the client gives none.
func newClaimNumber() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "CL-" + string(b)
}

func (s *Server) place(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r placeRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	cmd := domain.Place{PlacementID: uuid.New(), CreditorID: who(c).id, CustomerNumber: r.CustomerNumber, Currency: r.Currency}
	if r.ClaimNumber != nil {
		cmd.ClaimNumber = *r.ClaimNumber
	} else {
		cmd.ClaimNumber = newClaimNumber()
	}
	if cmd.FeeRate, err = domain.ParseRate(r.FeeRate, "feeRate"); err != nil {
		return err
	}
	if err := domain.CheckInvoiceCount(len(r.Invoices)); err != nil {
		return err
	}
	for i, inv := range r.Invoices {
		amount, err := parseAmount(inv.Amount, r.Currency, fmt.Sprintf("invoices[%d].amount", i))
		if err != nil {
			return err
		}
		cmd.Invoices = append(cmd.Invoices, domain.Invoice{InvoiceNumber: inv.InvoiceNumber, ContractNumber: inv.ContractNumber, Amount: domain.AmountOf(amount), DueDate: inv.DueDate})
	}
	req, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	res, err := s.answer(c, "place", func() (command.Result, error) { return s.commands.Place(c.Request().Context(), req, cmd) })
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/placements/"+res.Placement.ID.String())
	return placementJSON(c, http.StatusCreated, projections.Render(res.Placement, res.Revision))
}

type placementList struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor *string           `json:"nextCursor"`
}

func (s *Server) listPlacements(c echo.Context) error {
	if err := s.waitMinPosition(c); err != nil {
		return err
	}
	if c.QueryParams().Has("updatedSince") {
		return s.listChanged(c)
	}
	status, known := domain.ParseStatus(c.QueryParam("status"))
	if !known && status != "" {
		return newError(http.StatusBadRequest, "invalid_query", "status "+domain.StatusRule(),
			domain.FieldError{Field: "status", Message: domain.StatusRule()})
	}
	after, limit, err := listPage(c)
	if err != nil {
		return err
	}
	items, next, err := s.runner.Views.List(who(c).id, status, after, limit)
	if err != nil {
		return err
	}
	out := placementList{Items: items}
	if next != nil {
		cur := next.String()
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}

// listChanged serves ?updatedSince=<RFC 3339>: the caller's placements whose
// latest change occurred at or after then, oldest change first, paged with
// ?limit= and ?cursor= (a nextCursor of such a list). It reads the change
// index from then on; status is refused alongside it (the index is not by
// status, and filtering it could read every placement to fill a page).
func (s *Server) listChanged(c echo.Context) error {
	raw := c.QueryParam("updatedSince")
	since, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return newError(http.StatusBadRequest, "invalid_query", "updatedSince must be an RFC 3339 time like 2024-08-07T10:00:00Z",
			domain.FieldError{Field: "updatedSince", Message: "must be an RFC 3339 time"})
	}
	if c.QueryParams().Has("status") {
		return newError(http.StatusBadRequest, "invalid_query", "updatedSince cannot be combined with status",
			domain.FieldError{Field: "status", Message: "cannot be combined with updatedSince"})
	}
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	var after *projections.ChangeCursor
	if cur := c.QueryParam("cursor"); cur != "" {
		a, ok := projections.ParseChangeCursor(cur)
		if !ok {
			return newError(http.StatusBadRequest, "invalid_cursor", "cursor is not one this server returned for updatedSince", domain.FieldError{Field: "cursor", Message: "is not valid"})
		}
		after = &a
	}
	items, next, err := s.runner.Views.Changed(who(c).id, since, after, limit)
	if err != nil {
		return err
	}
	out := placementList{Items: items}
	if next != nil {
		cur := next.String()
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}

// listPage reads a placement list's ?limit= (1 to 200, default 50) and
// ?cursor= (a nextCursor this server returned).
func listPage(c echo.Context) (projections.ListCursor, int, error) {
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return 0, 0, err
	}
	var after projections.ListCursor
	if cur := c.QueryParam("cursor"); cur != "" {
		var ok bool
		if after, ok = projections.ParseListCursor(cur); !ok {
			return 0, 0, newError(http.StatusBadRequest, "invalid_cursor", "cursor is not one this server returned", domain.FieldError{Field: "cursor", Message: "is not valid"})
		}
	}
	return after, limit, nil
}

func queryInt(c echo.Context, name string, def, min, max int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		return 0, newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("%s must be a whole number from %d to %d", name, min, max),
			domain.FieldError{Field: name, Message: fmt.Sprintf("must be a whole number from %d to %d", min, max)})
	}
	return n, nil
}

// parseCut reads ?asOf=<RFC 3339> and ?atPosition=N.
func parseCut(c echo.Context) (projections.Cut, error) {
	var cut projections.Cut
	if raw := c.QueryParam("atPosition"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || n == 0 {
			return cut, newError(http.StatusBadRequest, "invalid_query", "atPosition must be a positive log position",
				domain.FieldError{Field: "atPosition", Message: "must be a positive integer"})
		}
		cut.Position = eventstore.Position(n)
	}
	if raw := c.QueryParam("asOf"); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return cut, newError(http.StatusBadRequest, "invalid_query", "asOf must be an RFC 3339 time like 2024-08-07T10:00:00Z",
				domain.FieldError{Field: "asOf", Message: "must be an RFC 3339 time"})
		}
		cut.Time = t
	}
	return cut, nil
}

func (s *Server) getPlacement(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	cut, err := parseCut(c)
	if err != nil {
		return err
	}
	if !cut.IsZero() {
		// The placement as it stood then, folded from its events.
		events, err := s.runner.History(c.Request().Context(), who(c).id, id)
		if err != nil {
			return err
		}
		p, existed := projections.RenderEvents(projections.Until(events, cut))
		if !existed {
			return &domain.Error{Kind: domain.KindNotFound, Code: "not_found", Message: "the placement did not exist yet at that point"}
		}
		c.Response().Header().Set("ETag", fmt.Sprintf(`"%d"`, p.Revision))
		return c.JSON(http.StatusOK, p)
	}
	if err := s.waitMinPosition(c); err != nil {
		return err
	}
	if err := s.waitOwnWrites(c); err != nil {
		return err
	}
	resource, revision, found, err := s.runner.Views.PlacementJSON(who(c).id, id)
	if err != nil {
		return err
	}
	if !found {
		return domain.ErrNotFound
	}
	c.Response().Header().Set("ETag", fmt.Sprintf(`"%d"`, revision))
	return rawJSON(c, http.StatusOK, resource)
}

// rawJSON writes JSON the views keep as it is served, as c.JSON would have
// encoded it (with a trailing newline).
func rawJSON(c echo.Context, status int, b []byte) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	if _, err := c.Response().Write(b); err != nil {
		return err
	}
	_, err := c.Response().Write([]byte("\n"))
	return err
}

func (s *Server) recallPlacement(c echo.Context) error {
	id, body, err := placementCommand(c, nil)
	if err != nil {
		return err
	}
	res, err := s.execute(c, "recall", id, body, func(at time.Time) domain.Command { return domain.Recall{At: at} })
	if err != nil {
		return err // a rejection is recorded (a *command.Refused); the answer is still 409
	}
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

type paymentRequest struct {
	Amount        json.RawMessage `json:"amount"`
	PaymentNumber string          `json:"paymentNumber"`
	// Date is the value date (YYYY-MM-DD), optional: today (UTC) when absent.
	Date string `json:"date"`
}

func (s *Server) paymentReceived(c echo.Context) error {
	var r paymentRequest
	id, body, err := placementCommand(c, &r)
	if err != nil {
		return err
	}
	amount, err := parseAmount(r.Amount, "", "amount")
	if err != nil {
		return err
	}
	res, err := s.execute(c, "payment_received", id, body, func(at time.Time) domain.Command {
		return domain.ReceivePayment{PaymentNumber: r.PaymentNumber, Amount: amount, Date: r.Date, At: at}
	})
	if err != nil {
		return err
	}
	setPaymentNumber(c, r.PaymentNumber, res)
	return placementJSON(c, http.StatusOK, projections.Render(res.Placement, res.Revision))
}

func (s *Server) audit(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	cut, err := parseCut(c)
	if err != nil {
		return err
	}
	from, err := queryInt(c, "fromPosition", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", DefaultAuditLimit, 1, MaxAuditLimit)
	if err != nil {
		return err
	}
	events, next, err := s.runner.AuditPage(c.Request().Context(), who(c).id, id, cut, eventstore.Position(from), limit)
	if err != nil {
		return err
	}
	if next != 0 {
		q := c.QueryParams()
		q.Set("fromPosition", strconv.FormatUint(uint64(next), 10))
		q.Set("limit", strconv.Itoa(limit))
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, c.Request().URL.EscapedPath(), q.Encode()))
	}
	return c.JSON(http.StatusOK, projections.AuditItems(events))
}

// The audit trail's pages: ?limit= events from ?fromPosition= on; a page
// that is not the last gives the next one's URL in a Link header (rel=next).
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)
