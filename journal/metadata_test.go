package journal

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
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

// FuzzDecodeMetadata: the fast path decodes exactly what encoding/json
// decodes, errors included.
func FuzzDecodeMetadata(f *testing.F) {
	for _, s := range []string{
		`{"hash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg","prevHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","actor":"acme"}`,
		`{"hash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCg!","prevHash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgh"}`,
		`{"hash":"ab","prevHash":"cd","actor":"acme","actorType":"creditor","requestId":"r","schemaVersion":2,"occurredAt":"2026-11-21T16:34:12.027917064Z","command":"payment_received","index":1,"count":2}`,
		`{"actor":"system","actorType":"system","requestId":"r-1","causationId":"","correlationId":"","schemaVersion":1,"occurredAt":"2026-11-21T09:00:00Z","command":"x","index":0,"count":1,"outcome":"placement_closed","idempotencyKey":"k","requestHash":"h","bulkKey":"b"}`,
		`{"index":1.0}`, `{"index":01}`, `{"index":1e2}`, `{"index":-0}`, `{"index":99999999999999999999}`, `{"count":null,"actor":null}`,
		`{"index":999999999999999999}`, `{"count":-999999999999999999}`, `{"index":9223372036854775807}`, `{"index":9223372036854775808}`,
		`{"schemaVersion":-9223372036854775808}`, `{"count":-9223372036854775809}`,
		`{"Actor":"x"}`, `{"actor":"x","actor":"y"}`, `{"other":1}`, `{"actor":1}`, `{"occurredAt":"2026-13-01T00:00:00Z"}`,
		`{"occurredAt":"2026-11-21 09:00:00Z"}`, `{"occurredAt":5}`, `[]`, `"s"`, `{"actor":"\u00e9"}`, `{"actor":"é"}`, `{}`, ` {} `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, bare Metadata
		ok := decodeMetadataFast(b, &fast, true)
		// Without the hashes the fast path takes the same metadata, and
		// gives all of it but the hashes.
		if bareOK := decodeMetadataFast(b, &bare, false); bareOK != ok {
			t.Fatalf("%q: the fast path takes it with the hashes: %v, without: %v", b, ok, bareOK)
		} else if ok {
			withHashes := fast
			withHashes.Hash, withHashes.PrevHash = "", ""
			if !reflect.DeepEqual(bare, withHashes) {
				t.Fatalf("%q: without the hashes %+v, with them %+v", b, bare, fast)
			}
		}
		var std Metadata
		err := json.Unmarshal(b, &std)
		if !ok {
			return // encoding/json decides
		}
		if err != nil {
			t.Fatalf("%q: fast path decoded it, encoding/json says %v", b, err)
		}
		// The fast path gives the chain hashes in hexadecimal, as
		// DecodeMetadata does after encoding/json.
		std.Hash, std.PrevHash = hexHash(std.Hash), hexHash(std.PrevHash)
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: fast path %+v, encoding/json %+v", b, fast, std)
		}
	})
}

// BenchmarkDecodeMetadata decodes the metadata of a payment as the ledger
// writes it (schema 2: chain hashes in base64url, causation and correlation
// left out).
func BenchmarkDecodeMetadata(b *testing.B) {
	stored := []byte(`{"hash":"q0Jb3xv2mYhB3oEo6kXQ5p0o1x1iWq3qv6m4Yz0K9nA","prevHash":"Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5","actor":"acme","actorType":"creditor","requestId":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","schemaVersion":2,"occurredAt":"2026-11-21T16:34:12.027917064Z","command":"payment_received","index":0,"count":2}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMetadata(stored); err != nil {
			b.Fatal(err)
		}
	}
}

// DecodeWithoutHashes decodes what Decode does but the two hashes, on the
// fast path and on encoding/json's (metadata with spaces in it).
func TestDecodeWithoutHashesIsDecodeButTheHashes(t *testing.T) {
	data := []byte(`{"placementId":"3f8a3b2e-6d0e-4c38-9a57-2f3f0c1d1e11","amount":"12.50","currency":"EUR","receivedAt":"2026-11-21T09:00:00Z"}`)
	for _, meta := range []string{
		`{"hash":"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg","prevHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","actor":"acme","actorType":"creditor","requestId":"r-1","schemaVersion":2,"occurredAt":"2026-11-21T09:00:00Z","command":"payment_received","index":0,"count":1}`,
		`{ "hash": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg", "prevHash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "actor": "acme", "requestId": "r-1", "schemaVersion": 2 }`,
	} {
		rec := eventstore.RecordedEvent{Stream: "placement-3f8a3b2e-6d0e-4c38-9a57-2f3f0c1d1e11", Type: "PaymentReceived", Data: data, Metadata: []byte(meta)}
		full, err := Decode(rec)
		require.NoError(t, err)
		require.Len(t, full.Meta.Hash, 64, "Decode gives the hash in hexadecimal")
		require.Len(t, full.Meta.PrevHash, 64)
		bare, err := DecodeWithoutHashes(rec)
		require.NoError(t, err)
		assert.Empty(t, bare.Meta.Hash)
		assert.Empty(t, bare.Meta.PrevHash)
		full.Meta.Hash, full.Meta.PrevHash = "", ""
		assert.Equal(t, full, bare, meta)
	}
}

// The metadata of a payment as the ledger writes it decodes, without its
// hashes, in one allocation: the copy its strings are cut from.
func TestDecodeMetadataWithoutHashesAllocatesOnce(t *testing.T) {
	stored := []byte(`{"hash":"q0Jb3xv2mYhB3oEo6kXQ5p0o1x1iWq3qv6m4Yz0K9nA","prevHash":"Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5","actor":"acme","actorType":"creditor","requestId":"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","schemaVersion":2,"occurredAt":"2026-11-21T16:34:12.027917064Z","command":"payment_received","index":0,"count":2}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeMetadata(stored, false); err != nil {
			t.Fatal(err)
		}
	})
	assert.Equal(t, 1.0, allocs)
}
