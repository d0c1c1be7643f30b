package journal

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/collections-ledger/ledger/internal/plainjson"
)

// Metadata is decoded for every event every reader reads (projections,
// verify, replays), so the common case is decoded with fastjson's parser,
// about three times as fast as encoding/json. The fast path takes only what
// the ledger writes: one object whose keys are Metadata's own (exactly, each
// once) with values of their types, no escapes, no control characters and
// valid UTF-8. Anything else goes to encoding/json, so the result, errors
// included, is encoding/json's (FuzzDecodeMetadata checks it). The checks of
// that form are internal/plainjson's, which domain's events share.

var metadataParsers fastjson.ParserPool

// decodeMetadataFast decodes b into m; ok is false when b is not in the
// form the fast path takes, and m is then to be decoded by encoding/json.
func decodeMetadataFast(b []byte, m *Metadata) (ok bool) {
	if !plainjson.Plain(b) {
		return false
	}
	p := metadataParsers.Get()
	defer metadataParsers.Put(p)
	v, err := p.ParseBytes(b)
	if err != nil {
		return false
	}
	o, err := v.Object()
	if err != nil {
		return false
	}
	return plainjson.Fields(o, metadataFields, func(f int, v *fastjson.Value) bool { return setMetadataField(m, uint(f), v) })
}

const (
	fHash = iota
	fPrevHash
	fActor
	fActorType
	fRequestID
	fIdempotencyKey
	fRequestHash
	fBulkKey
	fCausationID
	fCorrelationID
	fSchemaVersion
	fOccurredAt
	fCommand
	fOutcome
	fIndex
	fCount
)

// metadataFields are Metadata's keys, in the order of the constants above.
var metadataFields = []string{"hash", "prevHash", "actor", "actorType", "requestId", "idempotencyKey", "requestHash",
	"bulkKey", "causationId", "correlationId", "schemaVersion", "occurredAt", "command", "outcome", "index", "count"}

func setMetadataField(m *Metadata, f uint, v *fastjson.Value) bool {
	if v.Type() == fastjson.TypeNull {
		return true // encoding/json leaves the field as it is
	}
	switch f {
	case fSchemaVersion, fIndex, fCount:
		if v.Type() != fastjson.TypeNumber {
			return false
		}
		raw := v.MarshalTo(nil)
		if !isJSONInt(raw) {
			return false
		}
		n, err := strconv.ParseInt(string(raw), 10, 0)
		if err != nil {
			return false
		}
		switch f {
		case fSchemaVersion:
			m.SchemaVersion = int(n)
		case fIndex:
			m.Index = int(n)
		default:
			m.Count = int(n)
		}
		return true
	case fOccurredAt:
		if v.Type() != fastjson.TypeString {
			return false
		}
		return m.OccurredAt.UnmarshalJSON(v.MarshalTo(nil)) == nil
	}
	if v.Type() != fastjson.TypeString {
		return false
	}
	s := string(v.GetStringBytes())
	switch f {
	case fHash:
		m.Hash = s
	case fPrevHash:
		m.PrevHash = s
	case fActor:
		m.Actor = s
	case fActorType:
		m.ActorType = s
	case fRequestID:
		m.RequestID = s
	case fIdempotencyKey:
		m.IdempotencyKey = s
	case fRequestHash:
		m.RequestHash = s
	case fBulkKey:
		m.BulkKey = s
	case fCausationID:
		m.CausationID = s
	case fCorrelationID:
		m.CorrelationID = s
	case fCommand:
		m.Command = s
	case fOutcome:
		m.Outcome = s
	}
	return true
}

// isJSONInt reports whether b is an integer as JSON writes one: -?(0|[1-9][0-9]*)
// (fastjson's parser also takes leading zeros and a plus sign).
func isJSONInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
