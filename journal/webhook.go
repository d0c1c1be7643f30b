package journal

import "time"

// The events of a creditor's webhook streams: its configuration
// (WebhookStream) and how far its deliveries got (WebhookProgressStream).
const (
	WebhookConfiguredType = "WebhookConfigured"
	WebhookRemovedType    = "WebhookRemoved"
	WebhookGivenUpType    = "WebhookDeliveryGivenUp"
	WebhookProgressedType = "WebhookProgressed"
	// LegacyWebhookCheckpointType is the reactor's single checkpoint of log
	// format 1, read only by the migration.
	LegacyWebhookCheckpointType = "WebhookCheckpointed"
)

// WebhookConfigured sets a creditor's webhook. Events are the notification
// types it subscribes to (webhook.EventTypes), absent for the default,
// placement.status_changed alone (so records made before there were other
// types read the same).
type WebhookConfigured struct {
	CreditorID string   `json:"creditorId"`
	URL        string   `json:"url"`
	Secret     string   `json:"secret"`
	Events     []string `json:"events,omitempty"`
}

// Subscribes reports whether the configuration subscribes to notification
// type typ.
func (c WebhookConfigured) Subscribes(typ string) bool {
	if len(c.Events) == 0 {
		return typ == DefaultWebhookEvent
	}
	for _, e := range c.Events {
		if e == typ {
			return true
		}
	}
	return false
}

// DefaultWebhookEvent is what a configuration without Events subscribes to.
const DefaultWebhookEvent = "placement.status_changed"

// WebhookRemoved removes a creditor's webhook: no more deliveries, and those
// pending are dropped.
type WebhookRemoved struct {
	CreditorID string `json:"creditorId"`
}

// WebhookGivenUp records a notification that could not be delivered in time.
type WebhookGivenUp struct {
	CreditorID string    `json:"creditorId"`
	EventID    string    `json:"eventId"`
	Position   uint64    `json:"position"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lastError"`
	GivenUpAt  time.Time `json:"givenUpAt"`
}

// WebhookProgressed records how far a creditor's deliveries got: every
// notification at a position up to Through was delivered, given up or
// dropped, except those at the positions in Pending.
type WebhookProgressed struct {
	CreditorID string   `json:"creditorId"`
	Through    uint64   `json:"through"`
	Pending    []uint64 `json:"pending"`
}

// LegacyWebhookCheckpointed is the format 1 checkpoint.
type LegacyWebhookCheckpointed struct {
	Position uint64 `json:"position"`
}
