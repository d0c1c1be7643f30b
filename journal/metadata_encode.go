package journal

import (
	"encoding/json"

	"github.com/collections-ledger/ledger/internal/plainjson"
)

// marshalMetadata is json.Marshal(m), written without reflection: every
// event a command appends has its metadata encoded, and its bytes are the
// core that is hashed into the chain, so they are encoding/json's byte for
// byte (TestMarshalMetadataIsJSONMarshal, FuzzMarshalMetadata). A time
// json.Marshal refuses goes to json.Marshal, for its error.
func marshalMetadata(m *Metadata) ([]byte, error) {
	w := plainjson.Writer{B: make([]byte, 0, 256)}
	w.Open()
	w.OptString("hash", m.Hash)
	w.OptString("prevHash", m.PrevHash)
	w.String("actor", m.Actor)
	w.String("actorType", m.ActorType)
	w.String("requestId", m.RequestID)
	w.OptString("idempotencyKey", m.IdempotencyKey)
	w.OptString("requestHash", m.RequestHash)
	w.OptString("bulkKey", m.BulkKey)
	w.OptString("causationId", m.CausationID)
	w.OptString("correlationId", m.CorrelationID)
	w.Int("schemaVersion", int64(m.SchemaVersion))
	w.Time("occurredAt", m.OccurredAt)
	w.String("command", m.Command)
	w.OptString("outcome", m.Outcome)
	w.Int("index", int64(m.Index))
	w.Int("count", int64(m.Count))
	w.Close()
	if w.Refused {
		return json.Marshal(m)
	}
	return w.B, nil
}
