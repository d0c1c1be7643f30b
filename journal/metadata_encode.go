package journal

import (
	"encoding/json"
	"strconv"

	"github.com/collections-ledger/ledger/internal/plainjson"
)

// marshalMetadata is json.Marshal(m), written without reflection: every
// event a command appends has its metadata encoded, and its bytes are the
// core that is hashed into the chain, so they are encoding/json's byte for
// byte (TestMarshalMetadataIsJSONMarshal, FuzzMarshalMetadata). A time
// json.Marshal refuses goes to json.Marshal, for its error.
func marshalMetadata(m *Metadata) ([]byte, error) {
	w := metaWriter{b: make([]byte, 0, 256)}
	w.b = append(w.b, '{')
	w.opt("hash", m.Hash)
	w.opt("prevHash", m.PrevHash)
	w.str("actor", m.Actor)
	w.str("actorType", m.ActorType)
	w.str("requestId", m.RequestID)
	w.opt("idempotencyKey", m.IdempotencyKey)
	w.opt("requestHash", m.RequestHash)
	w.opt("bulkKey", m.BulkKey)
	w.opt("causationId", m.CausationID)
	w.opt("correlationId", m.CorrelationID)
	w.int("schemaVersion", m.SchemaVersion)
	w.key("occurredAt")
	var ok bool
	if w.b, ok = plainjson.AppendTime(w.b, m.OccurredAt); !ok {
		return json.Marshal(m)
	}
	w.str("command", m.Command)
	w.opt("outcome", m.Outcome)
	w.int("index", m.Index)
	w.int("count", m.Count)
	return append(w.b, '}'), nil
}

// metaWriter writes an object's fields in order.
type metaWriter struct {
	b    []byte
	more bool // a field was written: the next one needs a comma
}

func (w *metaWriter) key(k string) {
	if w.more {
		w.b = append(w.b, ',')
	}
	w.more = true
	w.b = append(append(append(w.b, '"'), k...), `":`...)
}

func (w *metaWriter) str(k, s string) { w.key(k); w.b = plainjson.AppendString(w.b, s) }

// opt writes an omitempty string.
func (w *metaWriter) opt(k, s string) {
	if s != "" {
		w.str(k, s)
	}
}

func (w *metaWriter) int(k string, n int) { w.key(k); w.b = strconv.AppendInt(w.b, int64(n), 10) }
