// Package webhook delivers placement.status_changed notifications to each
// creditor's webhook: signed, at least once, in order per placement, with
// exponential backoff and jitter for up to 24 hours, after which a delivery
// is given up and the give-up is recorded in the log.
//
// Configuration lives in the log (stream webhookconfig-<creditor>, events
// WebhookConfigured), so it is replayed and hash-chained like everything
// else; the secret is never returned by the API, but it is part of the
// history (a raw export contains it: rotate it if an export leaves your
// control). The reactor follows $all from its own checkpoint, stored in the
// log too (stream ledger-webhooks), which moves only past events whose
// notifications were delivered or given up, so a restart re-delivers and
// never loses one.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/collections-ledger/ledger/journal"
)

// Stream names and event types of the webhook's own streams.
const (
	ConfiguredType       = "WebhookConfigured"
	GivenUpType          = "WebhookDeliveryGivenUp"
	CheckpointType       = "WebhookCheckpointed"
	EventStatusChanged   = "placement.status_changed"
	SignatureHeader      = "Ledger-Signature"
	MaxURLLength         = 2048
	MinSecretLength      = 16
	MaxSecretLength      = 256
	DefaultGiveUpAfter   = 24 * time.Hour
	DefaultFirstBackoff  = time.Second
	DefaultMaxBackoff    = time.Hour
	deliveryTimeout      = 10 * time.Second
	maxDeliveriesHistory = 200
)

// CheckpointStream holds the reactor's checkpoint.
var CheckpointStream = journal.LedgerStream("webhooks")

// Configured is the event that sets (or, with an empty URL, removes) a
// creditor's webhook.
type Configured struct {
	CreditorID string `json:"creditorId"`
	URL        string `json:"url"`
	Secret     string `json:"secret"`
}

// GivenUp records a notification that could not be delivered in time.
type GivenUp struct {
	CreditorID string    `json:"creditorId"`
	EventID    string    `json:"eventId"`
	Position   uint64    `json:"position"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lastError"`
	GivenUpAt  time.Time `json:"givenUpAt"`
}

// Checkpointed records how far the reactor has delivered.
type Checkpointed struct {
	Position uint64 `json:"position"`
}

// ValidateURL accepts absolute http and https URLs with a host.
func ValidateURL(raw string) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("is longer than %d characters", MaxURLLength)
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
