package command

import (
	"context"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// ErrNoWebhook: the creditor has no webhook to remove.
var ErrNoWebhook = &domain.Error{Kind: domain.KindNotFound, Code: "webhook_not_configured", Message: "no webhook is configured; PUT /v1/webhook sets one"}

// ConfigureWebhook records where a creditor's notifications go and which
// types it subscribes to (none named: the default). The caller checks the
// URL, the secret and the types.
func (h *Handler) ConfigureWebhook(ctx context.Context, req Request, url, secret string, events ...string) (eventstore.AppendResult, error) {
	return journal.AppendSystem(ctx, h.store, journal.WebhookStream(req.Actor), req.Actor, req.ActorType, journal.WebhookConfiguredType,
		journal.WebhookConfigured{CreditorID: req.Actor, URL: url, Secret: secret, Events: events}, h.now())
}

// RemoveWebhook records that a creditor's webhook is removed: nothing more
// is delivered and what is pending is dropped. ErrNoWebhook when there is
// none.
func (h *Handler) RemoveWebhook(ctx context.Context, req Request) (eventstore.AppendResult, error) {
	stream := journal.WebhookStream(req.Actor)
	last, found, err := journal.LastEvent(ctx, h.store, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if !found || last.Type != journal.WebhookConfiguredType {
		return eventstore.AppendResult{}, ErrNoWebhook
	}
	return journal.AppendSystem(ctx, h.store, stream, req.Actor, req.ActorType, journal.WebhookRemovedType,
		journal.WebhookRemoved{CreditorID: req.Actor}, h.now())
}

// Head returns the log's head: the position a refused command reports.
func (h *Handler) Head(ctx context.Context) (eventstore.Position, error) { return h.store.Head(ctx) }
