package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/webhook"
)

type webhookRequest struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// putWebhook sets where the creditor's placement.status_changed
// notifications go. The secret is kept in the log (for signing) and never
// returned.
func (s *Server) putWebhook(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var r webhookRequest
	if err := decodeStrict(body, &r); err != nil {
		return err
	}
	if err := webhook.ValidateURL(r.URL); err != nil {
		return domain.Invalid(domain.FieldError{Field: "url", Message: err.Error()})
	}
	if err := webhook.ValidateSecret(r.Secret); err != nil {
		return domain.Invalid(domain.FieldError{Field: "secret", Message: err.Error()})
	}
	p := who(c)
	res, err := command.AppendSystem(c.Request().Context(), s.store, journal.WebhookStream(p.id), p.id, p.kind, webhook.ConfiguredType,
		webhook.Configured{CreditorID: p.id, URL: r.URL, Secret: r.Secret}, time.Now())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Ledger-Position", strconv.FormatUint(uint64(res.Position), 10))
	return c.JSON(http.StatusOK, map[string]any{"url": r.URL, "configured": true})
}

// getWebhook shows the configured URL, never the secret.
func (s *Server) getWebhook(c echo.Context) error {
	stream := journal.WebhookStream(who(c).id)
	var last *webhook.Configured
	for from := uint64(0); ; {
		batch, err := s.store.ReadStream(c.Request().Context(), stream, from, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return err
		}
		for _, rec := range batch {
			if rec.Type == webhook.ConfiguredType {
				var cfg webhook.Configured
				if err := json.Unmarshal(rec.Data, &cfg); err != nil {
					return err
				}
				last = &cfg
			}
		}
		if len(batch) < 1000 {
			break
		}
		from = batch[len(batch)-1].Revision + 1
	}
	if last == nil {
		return &domain.Error{Kind: domain.KindNotFound, Code: "webhook_not_configured", Message: "no webhook is configured; PUT /v1/webhook sets one"}
	}
	return c.JSON(http.StatusOK, map[string]any{"url": last.URL, "configured": true})
}

// webhookDeliveries lists the recent delivery attempts (kept in memory by
// the running reactor; given-up deliveries are also recorded in the log).
func (s *Server) webhookDeliveries(c echo.Context) error {
	items := []webhook.Attempt{}
	if s.webhooks != nil {
		items = s.webhooks.Deliveries(who(c).id)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
