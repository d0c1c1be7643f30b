// Package webhook delivers notifications to each creditor's webhook (the
// types it subscribes to, EventTypes: placement.status_changed by default):
// signed, at least once, in order per placement, with exponential backoff
// and jitter for up to 24 hours, after which a notification is given up and
// the give-up is recorded in the log.
//
// No creditor can delay another. The read side (package projections) queues
// what each event of the log calls for in its creditor's outbox on disk as
// it applies the log (a status change with the status before and after,
// and notices of the other types; one event's go out one after another);
// the reactor reads each creditor's outbox a window at a time (at most Options.MaxQueued held) and delivers a
// few at a time per creditor, each placement's notifications one after
// another, so only a placement's own earlier notification holds a later one
// back. It keeps no state per placement.
//
// Configuration lives in the log (stream webhookconfig-<creditor>: events
// WebhookConfigured and WebhookRemoved), so it is replayed and hash-chained
// like everything else, and a change applies to the next attempt. The secret
// is never returned by the API, but it is part of the history (a raw export
// contains it: rotate it if an export leaves your control). How far each
// creditor's deliveries got is recorded in stream webhookprogress-<creditor>
// (WebhookProgressed, and WebhookDeliveryGivenUp for each give-up), only
// when something was settled, at most once per Options.ProgressEvery (half a
// second by default) and on stop, so an idle ledger writes nothing, an
// instance that takes over after a crash re-sends at most what was
// delivered in the half second before it, and every instance's views drop
// what the records settle.
//
// Webhooks never reach the ledger's own network: see Policy.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// Names on the wire.
const (
	EventStatusChanged = journal.DefaultWebhookEvent
	SignatureHeader    = "Ledger-Signature"
)

// EventTypes are the notification types a webhook may subscribe to; the
// projections package queues each (see projections.Notice).
var EventTypes = []string{
	EventStatusChanged,
	projections.NoticePaymentReceived, projections.NoticePaymentReversed, projections.NoticeCreditWaiverIssued,
	projections.NoticeClaimClosed, projections.NoticeClaimReopened, projections.NoticePersonalDataErased,
	projections.NoticePlanAgreed, projections.NoticePlanCompleted, projections.NoticePlanBroken, projections.NoticePlanCancelled,
}

// EventsError is a refused list of event types: Index is the entry at
// fault (-1: the list as a whole).
type EventsError struct {
	Index   int
	Message string
}

func (e *EventsError) Error() string { return e.Message }

// ValidateEvents checks the event types a webhook subscribes to and returns
// them as recorded: nil for the default (none named, or
// placement.status_changed alone), so such a configuration reads as one
// made before there were other types. An empty list, an unknown type or a
// type named twice is refused.
func ValidateEvents(events []string, present bool) ([]string, error) {
	if !present {
		return nil, nil
	}
	if len(events) == 0 {
		return nil, &EventsError{Index: -1, Message: "must name at least one event type (omit it for placement.status_changed alone)"}
	}
	for i, e := range events {
		if !slices.Contains(EventTypes, e) {
			return nil, &EventsError{Index: i, Message: "is not an event type; one of " + strings.Join(EventTypes, ", ")}
		}
		if slices.Contains(events[:i], e) {
			return nil, &EventsError{Index: i, Message: "names " + e + " a second time"}
		}
	}
	if len(events) == 1 && events[0] == EventStatusChanged {
		return nil, nil
	}
	return slices.Clone(events), nil
}

// Subscribed returns the event types a configuration subscribes to.
func Subscribed(cfg journal.WebhookConfigured) []string {
	if len(cfg.Events) == 0 {
		return []string{EventStatusChanged}
	}
	return slices.Clone(cfg.Events)
}

// Limits and defaults.
const (
	MaxURLLength         = 2048
	MinSecretLength      = 16
	MaxSecretLength      = 256
	DefaultGiveUpAfter   = 24 * time.Hour
	DefaultFirstBackoff  = time.Second
	DefaultMaxBackoff    = time.Hour
	DefaultProgressEvery = 500 * time.Millisecond
	DefaultParallel      = 4
	DefaultMaxQueued     = 10_000
	// MaxPendingRecorded bounds the positions a progress record lists.
	MaxPendingRecorded   = 1000
	deliveryTimeout      = 10 * time.Second
	maxDeliveriesHistory = 200
)

// ValidateURL accepts absolute http and https URLs with a host.
func ValidateURL(raw string) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("is longer than %d characters", MaxURLLength)
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < 0x21 || raw[i] > 0x7e {
			return fmt.Errorf("must be printable ASCII without spaces (percent-encode other characters; write international names in punycode)")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	if u.User != nil {
		return fmt.Errorf("must not carry credentials; the signature authenticates the ledger")
	}
	return nil
}

// ValidateSecret accepts secrets of MinSecretLength to MaxSecretLength
// printable characters.
func ValidateSecret(s string) error {
	if len(s) < MinSecretLength || len(s) > MaxSecretLength {
		return fmt.Errorf("must be %d to %d characters", MinSecretLength, MaxSecretLength)
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("must be printable ASCII without spaces")
		}
	}
	return nil
}

// Sign returns the Ledger-Signature header value for body at time t:
// t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a Ledger-Signature header as a receiver should: the HMAC
// matches and the timestamp is within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp outside the tolerance")
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return fmt.Errorf("signature does not match")
	}
	return nil
}
