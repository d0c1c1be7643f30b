package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/webhook"
)

type webhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// putWebhook sets where the creditor's placement.status_changed
// notifications go. The URL must lead to a public address (unless the
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
	p := who(c)
	res, err := journal.AppendSystem(c.Request().Context(), s.store, journal.WebhookStream(p.id), p.id, p.kind, journal.WebhookConfiguredType,
		journal.WebhookConfigured{CreditorID: p.id, URL: r.URL, Secret: r.Secret}, time.Now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(uint64(res.Position), 10))
	return c.JSON(http.StatusOK, map[string]any{"url": r.URL, "configured": true})
}

var errNoWebhook = &domain.Error{Kind: domain.KindNotFound, Code: "webhook_not_configured", Message: "no webhook is configured; PUT /v1/webhook sets one"}

// currentWebhook returns the creditor's webhook as its configuration
// stream's last event leaves it; errNoWebhook when there is none.
func (s *Server) currentWebhook(c echo.Context) (journal.WebhookConfigured, error) {
	last, found, err := journal.LastEvent(c.Request().Context(), s.store, journal.WebhookStream(who(c).id))
	if err != nil {
		return journal.WebhookConfigured{}, err
	}
	if !found || last.Type != journal.WebhookConfiguredType {
		return journal.WebhookConfigured{}, errNoWebhook
	}
	var cfg journal.WebhookConfigured
	err = json.Unmarshal(last.Data, &cfg)
	return cfg, err
}

// getWebhook shows the configured URL, never the secret.
func (s *Server) getWebhook(c echo.Context) error {
	cfg, err := s.currentWebhook(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"url": cfg.URL, "configured": true})
}

// deleteWebhook removes the creditor's webhook: nothing more is delivered,
// notifications still pending are dropped, and the removal is recorded.
func (s *Server) deleteWebhook(c echo.Context) error {
	if _, err := s.currentWebhook(c); err != nil {
		return err
	}
	p := who(c)
	res, err := journal.AppendSystem(c.Request().Context(), s.store, journal.WebhookStream(p.id), p.id, p.kind, journal.WebhookRemovedType,
		journal.WebhookRemoved{CreditorID: p.id}, time.Now())
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
