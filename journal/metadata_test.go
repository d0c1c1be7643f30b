package journal

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestMetadataSchemas: schema 2 leaves out causationId and correlationId
// when they equal requestId, keeps them when they differ, and decodes to the
// same Metadata as schema 1 wrote in full; schema 1 decodes as written.
func TestMetadataSchemas(t *testing.T) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	req := "2c07f902-b721-4d13-ab94-ecd0759fe02b"
	m := Metadata{Actor: "acme", ActorType: ActorCreditor, RequestID: req, CausationID: req, CorrelationID: req,
		OccurredAt: at, Command: "payment_received", Count: 2}
	ev, hash, err := Chain(Hash{}, "placement-x", 0, uuid.New(), "PaymentReceived", []byte(`{}`), m)
	require.NoError(t, err)
	assert.NotContains(t, string(ev.Metadata), "causationId")
	assert.NotContains(t, string(ev.Metadata), "correlationId")
	assert.Equal(t, 1, strings.Count(string(ev.Metadata), req), "the request id is stored once")
	got, err := DecodeMetadata(ev.Metadata)
	require.NoError(t, err)
	want := m
	want.SchemaVersion = domain.SchemaVersion
	want.Hash, want.PrevHash = hash.String(), Hash{}.String()
	assert.Equal(t, want, got)
	s := CheckSeal("placement-x", 0, ev.ID, "PaymentReceived", []byte(`{}`), ev.Metadata)
	assert.NoError(t, s.Err)

	other := m
	other.CorrelationID = "a-saga"
	ev, _, err = Chain(Hash{}, "placement-x", 0, uuid.New(), "PaymentReceived", []byte(`{}`), other)
	require.NoError(t, err)
	assert.Contains(t, string(ev.Metadata), `"correlationId":"a-saga"`, "an id that differs is kept")
	got, err = DecodeMetadata(ev.Metadata)
	require.NoError(t, err)
	assert.Equal(t, "a-saga", got.CorrelationID)
	assert.Equal(t, req, got.CausationID)

	// Schema 1, as every event before it was written (testdata/store-v2 holds
	// a store of them): the fields as they stand, "" included.
	v1 := `{"actor":"system","actorType":"system","requestId":"r-1","causationId":"","correlationId":"","schemaVersion":1,` +
		`"occurredAt":"2026-11-21T09:00:00Z","command":"WebhookConfigured","index":0,"count":1}`
	got, err = DecodeMetadata([]byte(v1))
	require.NoError(t, err)
	assert.Equal(t, "", got.CausationID)
	assert.Equal(t, "", got.CorrelationID)
	v1 = strings.ReplaceAll(strings.Replace(v1, `"causationId":""`, `"causationId":"r-1"`, 1), `"correlationId":""`, `"correlationId":"r-1"`)
	got, err = DecodeMetadata([]byte(v1))
	require.NoError(t, err)
	assert.Equal(t, "r-1", got.CausationID)
	assert.Equal(t, "r-1", got.CorrelationID)
}
