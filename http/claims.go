package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

type waiverRequest struct {
	CreditWaiverNumber string          `json:"creditWaiverNumber"`
	InvoiceNumber      string          `json:"invoiceNumber"`
	ContractNumber     string          `json:"contractNumber"`
	Type               string          `json:"type"`
	Date               string          `json:"date"`
	Description        string          `json:"description"`
	Amount             json.RawMessage `json:"amount"`
	Currency           string          `json:"currency"`
}

func (w waiverRequest) toDomain(prefix string) (domain.Waiver, error) {
	f := func(name string) string { return prefix + name }
	if w.Type != "CREDIT_WAIVER" {
		return domain.Waiver{}, domain.Invalid(domain.FieldError{Field: f("type"), Message: `must be "CREDIT_WAIVER"`})
	}
	if _, ok := domain.ParseDate(w.Date); !ok {
		return domain.Waiver{}, domain.Invalid(domain.FieldError{Field: f("date"), Message: "must be a date YYYY-MM-DD"})
	}
	if utf8.RuneCountInString(w.Description) > domain.MaxTextLen {
		return domain.Waiver{}, domain.Invalid(domain.FieldError{Field: f("description"), Message: fmt.Sprintf("at most %d characters", domain.MaxTextLen)})
	}
	if err := domain.CheckCurrency(w.Currency, f("currency")); err != nil {
		return domain.Waiver{}, err
	}
	amount, err := parseAmount(w.Amount, w.Currency, f("amount"))
	if err != nil {
		return domain.Waiver{}, err
	}
	if w.InvoiceNumber == "" {
		return domain.Waiver{}, domain.Invalid(domain.FieldError{Field: f("invoiceNumber"), Message: "is required"})
	}
	return domain.Waiver{CreditWaiverNumber: w.CreditWaiverNumber, InvoiceNumber: w.InvoiceNumber, ContractNumber: w.ContractNumber,
		Date: w.Date, Description: w.Description, Amount: amount, Currency: w.Currency}, nil
}

// parseRecallBody: empty or {} is a total recall (nil); a credit waiver
// object, or an array of them, is a partial recall.
func parseRecallBody(body []byte) ([]domain.Waiver, error) {
	total, err := emptyOrEmptyObject(body)
	if err != nil {
		return nil, err
	}
	if total {
		return nil, nil
	}
	trimmed := strings.TrimSpace(string(body))
	var reqs []waiverRequest
	prefix := func(i int) string { return "" }
	if trimmed[0] == '[' {
		if err := decodeStrict(body, &reqs); err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			return nil, domain.Invalid(domain.FieldError{Field: "(body)", Message: "an empty array recalls nothing; send {} for a total recall"})
		}
		if len(reqs) > domain.MaxWaivers {
			return nil, domain.Invalid(domain.FieldError{Field: "(body)", Message: fmt.Sprintf("at most %d credit waivers", domain.MaxWaivers)})
		}
		prefix = func(i int) string { return fmt.Sprintf("[%d].", i) }
	} else {
		var one waiverRequest
		if err := decodeStrict(body, &one); err != nil {
			return nil, err
		}
		reqs = []waiverRequest{one}
	}
	out := make([]domain.Waiver, len(reqs))
	for i, r := range reqs {
		w, err := r.toDomain(prefix(i))
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

// claimPlacement finds the placement of the caller's claim in the path.
func (s *Server) claimPlacement(c echo.Context) (uuid.UUID, error) {
	id, found, err := s.commands.ClaimOwner(c.Request().Context(), who(c).id, c.Param("claimNumber"))
	if err == nil && !found {
		err = domain.ErrNotFound
	}
	return id, err
}

func (s *Server) claimRecall(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	waivers, err := parseRecallBody(body)
	if err != nil {
		return err
	}
	id, err := s.claimPlacement(c)
	if err != nil {
		return err
	}
	name := "recall"
	if waivers != nil {
		name = "partial_recall"
	}
	res, err := s.execute(c, name, id, body, func(at time.Time) domain.Command {
		if waivers == nil {
			return domain.Recall{At: at}
		}
		return domain.PartialRecall{Waivers: waivers, At: at}
	})
	if err := recordedIsDone(err); err != nil {
		return err
	}
	// A recall of a closed claim is accepted too: its REJECTION is in the feed.
	return accepted(c, res)
}

func (s *Server) claimTransactions(c echo.Context) error {
	from, err := queryInt(c, "fromSortNumber", 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	cut, err := parseCut(c)
	if err != nil {
		return err
	}
	if err := s.waitFresh(c); err != nil {
		return err
	}
	creditor, claim := who(c).id, c.Param("claimNumber")
	if cut.IsZero() {
		items, found, err := s.runner.Views.ClaimFeed(creditor, claim, uint64(from), limit)
		if err != nil {
			return err
		}
		if !found {
			return domain.ErrNotFound
		}
		return rawJSON(c, http.StatusOK, jsonArray(items))
	}
	// The feed as it stood then, folded from the claim's events.
	id, found, err := s.runner.Views.ClaimPlacement(creditor, claim)
	if err != nil {
		return err
	}
	if !found {
		return domain.ErrNotFound
	}
	events, err := s.runner.History(c.Request().Context(), creditor, id)
	if err != nil {
		return err
	}
	items := projections.FeedItems(projections.Until(events, cut))
	if from >= len(items) {
		items = nil
	} else {
		items = items[from:min(len(items), from+limit)]
	}
	if items == nil {
		items = []projections.FeedItem{}
	}
	return c.JSON(http.StatusOK, items)
}

// jsonArray joins JSON values into an array, as encoding/json writes one.
func jsonArray(items []json.RawMessage) []byte {
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// parseWhen accepts an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func parseWhen(raw, field string) (time.Time, error) {
	if t, ok := domain.ParseDate(raw); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, newError(http.StatusBadRequest, "invalid_query", fmt.Sprintf("%s must be an RFC 3339 time or a YYYY-MM-DD date", field),
			domain.FieldError{Field: field, Message: "must be an RFC 3339 time or a YYYY-MM-DD date"})
	}
	return t, nil
}

// window reads ?from= and ?to= (an RFC 3339 time or a YYYY-MM-DD date):
// [from, to), everything when absent; from must come before to.
func window(c echo.Context) (from, to time.Time, err error) {
	to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if raw := c.QueryParam("from"); raw != "" {
		if from, err = parseWhen(raw, "from"); err != nil {
			return from, to, err
		}
	}
	if raw := c.QueryParam("to"); raw != "" {
		if to, err = parseWhen(raw, "to"); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) { // a bad query parameter, 400 as every other
		return from, to, newError(http.StatusBadRequest, "invalid_query", "to must be after from", domain.FieldError{Field: "to", Message: "must be after from"})
	}
	return from, to, nil
}

type feedPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor *string           `json:"nextCursor"`
}

// transactions is the creditor's feed across claims within [from, to), a
// page at a time: nothing is ever cut without a cursor to the rest.
func (s *Server) transactions(c echo.Context) error {
	if err := s.waitFresh(c); err != nil {
		return err
	}
	from, to, err := window(c)
	if err != nil {
		return err
	}
	typ, known := projections.FeedTypes[c.QueryParam("type")]
	if raw := c.QueryParam("type"); raw != "" && !known {
		return newError(http.StatusBadRequest, "invalid_query", "type must be confirmation, closing, rejection, accountingDocument or status",
			domain.FieldError{Field: "type", Message: "must be confirmation, closing, rejection, accountingDocument or status"})
	}
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	var after *projections.FeedCursor
	if raw := c.QueryParam("cursor"); raw != "" {
		k, ok := projections.ParseFeedCursor(raw)
		if !ok {
			return newError(http.StatusBadRequest, "invalid_cursor", "cursor is not one this server returned", domain.FieldError{Field: "cursor", Message: "is not valid"})
		}
		after = &k
	}
	items, next, err := s.runner.Views.CreditorFeed(who(c).id, from, to, typ, after, limit)
	if err != nil {
		return err
	}
	page := feedPage{Items: items}
	if next != nil {
		cur := next.String()
		page.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, page)
}
