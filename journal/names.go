package journal

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Kinds of stream: the part of a name before its first '-'.
const (
	KindPlacement       = "placement"       // a placement's events; part: its id
	KindClaim           = "claim"           // a creditor's claim number reservation; parts: creditor, claim number
	KindWebhook         = "webhookconfig"   // a creditor's webhook configuration; part: creditor
	KindWebhookProgress = "webhookprogress" // how far a creditor's webhook deliveries got; part: creditor
	KindLedger          = "ledger"          // the log's own records; part: what (format)
	KindLease           = "lease"           // who may do a piece of work that must happen once; part: its name
	KindDebtor          = "debtor"          // a debtor's personal data erasures; parts: creditor, customer number
	KindAccess          = "access"          // who was shown a creditor's debtors' personal data; part: creditor
	KindRemittance      = "remittances"     // what the agency remitted to a creditor; part: creditor
)

// Kinds of format 1, read only by the migration.
const (
	LegacyKindClaim   = "claimnumber"
	LegacyKindWebhook = "webhook"
	// LegacyWebhookCheckpoint was the reactor's checkpoint stream, which a
	// creditor named "checkpoint" shared with its webhook configuration.
	LegacyWebhookCheckpoint = "webhook-checkpoint"
)

// PlacementStream is a placement's stream.
func PlacementStream(id uuid.UUID) string { return name(KindPlacement, id.String()) }

// ClaimStream is the reservation stream of a creditor's claim number.
func ClaimStream(creditor, claimNumber string) string { return name(KindClaim, creditor, claimNumber) }

// WebhookStream is a creditor's webhook configuration stream.
func WebhookStream(creditor string) string { return name(KindWebhook, creditor) }

// WebhookProgressStream records how far a creditor's deliveries got.
func WebhookProgressStream(creditor string) string { return name(KindWebhookProgress, creditor) }

// LedgerStream is one of the log's own streams (what: format, webhooks).
func LedgerStream(what string) string { return name(KindLedger, what) }

// LeaseStream is the stream of a lease (see package lease).
func LeaseStream(what string) string { return name(KindLease, what) }

// DebtorStream records the erasures of a creditor's debtor's personal data.
func DebtorStream(creditor, customer string) string { return name(KindDebtor, creditor, customer) }

// AccessStream is the access log of a creditor's debtors' personal data.
func AccessStream(creditor string) string { return name(KindAccess, creditor) }

// RemittanceStream is the stream of the remittances the agency issued to a
// creditor.
func RemittanceStream(creditor string) string { return name(KindRemittance, creditor) }

// FormatStream holds the store's format marker.
var FormatStream = LedgerStream("format")

func name(kind string, parts ...string) string {
	var b strings.Builder
	size := len(kind) + len(parts) // the '-' and the ':'s
	for _, p := range parts {
		size += len(p) // as it is when nothing needs escaping
	}
	b.Grow(size)
	b.WriteString(kind)
	b.WriteByte('-')
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(':')
		}
		escape(&b, p)
	}
	return b.String()
}

// unreserved are the bytes a part keeps as they are (RFC 3986's).
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// ParseStream splits a stream name into its kind and its decoded parts.
// It fails for a name no function of this package builds (a legacy name
// has its kind and its undecoded rest as one part).
func ParseStream(s string) (kind string, parts []string, err error) {
	kind, rest, found := strings.Cut(s, "-")
	if !found || kind == "" {
		return "", nil, fmt.Errorf("journal: %q is not a stream name of the ledger", s)
	}
	if kind == LegacyKindClaim || kind == LegacyKindWebhook {
		return kind, []string{rest}, nil
	}
	escaped := false
	for raw := range strings.SplitSeq(rest, ":") {
		p, err := unescape(raw)
		if err != nil {
			return "", nil, fmt.Errorf("journal: stream %q: %w", s, err)
		}
		escaped = escaped || p != raw
		parts = append(parts, p)
	}
	// A name without escapes is the one name builds of its parts; one with
	// them must be that one too (no byte escaped that need not be, the hex
	// in upper case).
	if want := partsOf(kind); want == 0 || len(parts) != want || escaped && name(kind, parts...) != s {
		return "", nil, fmt.Errorf("journal: %q is not a stream name of the ledger", s)
	}
	return kind, parts, nil
}

// partsOf is how many parts a stream of kind has; 0 for no kind of the
// ledger's.
func partsOf(kind string) int {
	switch kind {
	case KindPlacement, KindWebhook, KindWebhookProgress, KindLedger, KindLease, KindAccess, KindRemittance:
		return 1
	case KindClaim, KindDebtor:
		return 2
	}
	return 0
}

// unescape decodes a part's escapes; a part with none is itself.
func unescape(s string) (string, error) {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = unreserved(s[i])
	}
	if plain {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s):
			hi, lo := unhex(s[i+1]), unhex(s[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("bad escape at byte %d", i)
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		case unreserved(c):
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("byte %q at %d is neither unreserved nor escaped", c, i)
		}
	}
	return b.String(), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// PlacementID returns the placement id of a placement stream's name.
func PlacementID(stream string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(stream, KindPlacement+"-")
	if !ok || len(rest) != 36 {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// PlacementPrefix starts every placement stream's name.
const PlacementPrefix = KindPlacement + "-"
