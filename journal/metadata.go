package journal

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Actor types.
const (
	ActorCreditor = "creditor"
	ActorAgency   = "agency"
	ActorSystem   = "system"
)

// Metadata is written with every event a command appends. Hash and PrevHash
// are the hash chain (see chain.go); they are empty in the core that is
// hashed and filled when stored metadata is decoded.
type Metadata struct {
	// Hash and PrevHash are in hexadecimal once decoded, however stored.
	Hash           string `json:"hash,omitempty"`
	PrevHash       string `json:"prevHash,omitempty"`
	Actor          string `json:"actor"`
	ActorType      string `json:"actorType"`
	RequestID      string `json:"requestId"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	RequestHash    string `json:"requestHash,omitempty"`
	// BulkKey is the Idempotency-Key of the bulk request this command was
	// one item of (IdempotencyKey is then the item's own, derived key).
	BulkKey string `json:"bulkKey,omitempty"`
	// CausationID and CorrelationID are left out of the stored metadata
	// when they equal RequestID (from schema 2 on; schema 1 wrote all three
	// in full); DecodeMetadata fills them in again.
	CausationID   string    `json:"causationId,omitempty"`
	CorrelationID string    `json:"correlationId,omitempty"`
	SchemaVersion int       `json:"schemaVersion"`
	OccurredAt    time.Time `json:"occurredAt"`
	Command       string    `json:"command"`
	// Outcome is the code of the refusal a command answered with although it
	// recorded events (a recall of a closed placement); empty for success.
	Outcome string `json:"outcome,omitempty"`
	// Index and Count place the event within its command's append, so a
	// reader knows where a command's events end.
	Index int `json:"index"`
	Count int `json:"count"`
}

// DecodeMetadata decodes an event's metadata.
func DecodeMetadata(b []byte) (Metadata, error) { return decodeMetadata(b, true) }

// decodeMetadata is DecodeMetadata; without hashes, Hash and PrevHash are
// left empty.
func decodeMetadata(b []byte, hashes bool) (Metadata, error) {
	var m Metadata
	if len(b) == 0 {
		return m, fmt.Errorf("journal: event has no metadata")
	}
	if !decodeMetadataFast(b, &m, hashes) { // which gives the hashes, if asked, in hexadecimal
		// A value of its own for encoding/json: &m given to it would move m
		// to the heap on the fast path too, an allocation for every event.
		slow := new(Metadata)
		err := json.Unmarshal(b, slow)
		m = *slow
		if err != nil {
			return m, fmt.Errorf("journal: decode metadata: %w", err)
		}
		if hashes {
			m.Hash, m.PrevHash = hexHash(m.Hash), hexHash(m.PrevHash)
		} else {
			m.Hash, m.PrevHash = "", ""
		}
	}
	m.expand()
	return m, nil
}

// hexHash gives a chain hash in hexadecimal, as Hash.String does, whether it
// was stored so or in base64url (schema 2); anything else stays as it is.
func hexHash(s string) string {
	if len(s) != base64URLLen {
		return s
	}
	return hexHashOf([]byte(s))
}

// hexHashOf is hexHash of a hash as stored, made into a string once.
func hexHashOf(b []byte) string {
	var h Hash
	if len(b) != base64URLLen {
		return string(b)
	}
	if n, err := base64.RawURLEncoding.Decode(h[:], b); err != nil || n != len(h) {
		return string(b)
	}
	return h.String()
}

// compact leaves out what schema 2 does not store.
func (m *Metadata) compact() {
	if m.CausationID == m.RequestID {
		m.CausationID = ""
	}
	if m.CorrelationID == m.RequestID {
		m.CorrelationID = ""
	}
}

// expand fills in what schema 2 left out.
func (m *Metadata) expand() {
	if m.SchemaVersion < 2 {
		return
	}
	if m.CausationID == "" {
		m.CausationID = m.RequestID
	}
	if m.CorrelationID == "" {
		m.CorrelationID = m.RequestID
	}
}

// ClaimNumberReserved is the one event of a reservation stream.
type ClaimNumberReserved struct {
	PlacementID uuid.UUID `json:"placementId"`
	CreditorID  string    `json:"creditorId"`
	ClaimNumber string    `json:"claimNumber"`
}

// ClaimReservedType is the stored type of ClaimNumberReserved.
const ClaimReservedType = "ClaimNumberReserved"
