package http

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/webhook"
)

type webhookRequest struct {
	URL    string    `json:"url"`
	Secret string    `json:"secret"`
	Events *[]string `json:"events"`
}

// putWebhook sets where the creditor's notifications go and which types it
// subscribes to (events; placement.status_changed alone when absent). The URL must lead to a public address (unless the
// server allows private ones); the secret is kept in the log (for signing)
// and never returned.
func (s *Server) putWebhook(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r webhookRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if err := webhook.CheckURL(c.Request().Context(), r.URL, s.webhookPolicy); err != nil {
		return domain.Invalid(domain.FieldError{Field: "url", Message: err.Error()})
	}
	if err := webhook.ValidateSecret(r.Secret); err != nil {
		return domain.Invalid(domain.FieldError{Field: "secret", Message: err.Error()})
	}
	var named []string
	if r.Events != nil {
		named = *r.Events
	}
	events, err := webhook.ValidateEvents(named, r.Events != nil)
	if err != nil {
		var ee *webhook.EventsError
		if errors.As(err, &ee) && ee.Index >= 0 {
			return domain.Invalid(domain.FieldError{Field: fmt.Sprintf("events[%d]", ee.Index), Message: ee.Message})
		}
		return domain.Invalid(domain.FieldError{Field: "events", Message: err.Error()})
	}
	req, err := s.commandRequest(c, body)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := s.commands.ConfigureWebhook(c.Request().Context(), req, r.URL, r.Secret, events...)
	s.observe("configure_webhook", start, err, false)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(uint64(res.Position), 10))
	return c.JSON(http.StatusOK, map[string]any{"url": r.URL, "configured": true, "events": webhook.Subscribed(journal.WebhookConfigured{Events: events})})
}

// getWebhook shows the configured URL and the event types subscribed to,
// never the secret.
func (s *Server) getWebhook(c echo.Context) error {
	if err := s.waitFresh(c); err != nil {
		return err
	}
	cfg, configured, err := s.runner.Views.WebhookOf(who(c).id)
	if err != nil {
		return err
	}
	if !configured {
		return command.ErrNoWebhook
	}
	return c.JSON(http.StatusOK, map[string]any{"url": cfg.URL, "configured": true, "events": webhook.Subscribed(cfg)})
}

// deleteWebhook removes the creditor's webhook: nothing more is delivered,
// notifications still pending are dropped, and the removal is recorded.
func (s *Server) deleteWebhook(c echo.Context) error {
	req, err := s.commandRequest(c, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := s.commands.RemoveWebhook(c.Request().Context(), req)
	s.observe("remove_webhook", start, err, false)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(uint64(res.Position), 10))
	return c.NoContent(http.StatusNoContent)
}

// webhookDeliveries lists the recent delivery attempts (kept in memory by
// the running reactor; given-up deliveries are also recorded in the log).
func (s *Server) webhookDeliveries(c echo.Context) error {
	items := []webhook.Attempt{}
	if s.webhooks != nil {
		items = append(items, s.webhooks.Deliveries(who(c).id)...)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
