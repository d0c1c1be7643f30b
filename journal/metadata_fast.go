package journal

import (
	"bytes"
	"strconv"

	"github.com/collections-ledger/ledger/internal/plainjson"
)

// Metadata is decoded for every event every reader reads (projections,
// verify, replays), so the common case is decoded by a scanner of its own:
// fastjson's parser, which decoded it before, took 1.6 to 1.8 times as long
// (BenchmarkDecodeMetadata), and encoding/json three times that. The fast
// path takes only what the ledger writes: one object without whitespace
// whose keys are Metadata's own (exactly, each once) with values of their
// types, no escapes, no control characters and valid UTF-8. Anything else
// goes to encoding/json, so the result, errors included, is encoding/json's
// (FuzzDecodeMetadata checks it). The check of that plain form is
// internal/plainjson's, which domain's events share.

// decodeMetadataFast decodes b into m; ok is false when b is not in the
// form the fast path takes, and m is then to be decoded by encoding/json.
// Without hashes, m's Hash and PrevHash are left empty.
func decodeMetadataFast(b []byte, m *Metadata, hashes bool) (ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' || !plainjson.Plain(b) {
		return false
	}
	if len(b) == 2 {
		return true // {}
	}
	var seen uint64
	after := 0 // the field after the last key's (see plainjson.IndexFrom)
	// text is b as a string, made at the first string field: every string
	// field is a part of it, one allocation for them all.
	var text string
	for i := 1; ; {
		// b is plain: a string is what lies between two quotes.
		key, next, ok := quoted(b, i)
		if !ok || next >= len(b) || b[next] != ':' {
			return false
		}
		f := plainjson.IndexFrom(metadataFields, after, key)
		if f == len(metadataFields) || seen&(1<<f) != 0 {
			return false
		}
		seen, after = seen|1<<f, f+1
		if i, ok = metadataValue(b, next+1, m, uint(f), hashes, &text); !ok || i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i == len(b)-1
		default:
			return false
		}
	}
}

// quoted returns the string that starts with the quote at b[i] and the
// index after its closing quote (b is plain: no escapes).
func quoted(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	n := bytes.IndexByte(b[i+1:], '"')
	if n < 0 {
		return nil, 0, false
	}
	return b[i+1 : i+1+n], i + n + 2, true
}

// metadataValue decodes the value at b[i] into m's field f, and returns the
// index after it; false when it is not of the field's type (encoding/json
// then decides). Without hashes, the two hashes are skipped. A string
// field is a part of *text, b as a string (made here when empty).
func metadataValue(b []byte, i int, m *Metadata, f uint, hashes bool, text *string) (next int, ok bool) {
	if i >= len(b) {
		return 0, false
	}
	if b[i] == 'n' {
		if !bytes.HasPrefix(b[i:], []byte("null")) {
			return 0, false
		}
		return i + 4, true // encoding/json leaves the field as it is
	}
	switch f {
	case fSchemaVersion, fIndex, fCount:
		end := i
		for end < len(b) && b[end] != ',' && b[end] != '}' {
			end++
		}
		if !isJSONInt(b[i:end]) {
			return 0, false
		}
		n, ok := jsonInt(b[i:end])
		if !ok {
			return 0, false
		}
		switch f {
		case fSchemaVersion:
			m.SchemaVersion = n
		case fIndex:
			m.Index = n
		default:
			m.Count = n
		}
		return end, true
	}
	v, next, ok := quoted(b, i)
	if !ok {
		return 0, false
	}
	if f == fOccurredAt {
		return next, m.OccurredAt.UnmarshalJSON(b[i:next]) == nil
	}
	if *text == "" {
		*text = string(b)
	}
	str := (*text)[i+1 : next-1] // v's bytes
	switch f {
	case fHash:
		if hashes {
			m.Hash = hexHashOf(v)
		}
	case fPrevHash:
		if hashes {
			m.PrevHash = hexHashOf(v)
		}
	case fActor:
		m.Actor = str
	case fActorType:
		m.ActorType = str
	case fRequestID:
		m.RequestID = str
	case fIdempotencyKey:
		m.IdempotencyKey = str
	case fRequestHash:
		m.RequestHash = str
	case fBulkKey:
		m.BulkKey = str
	case fCausationID:
		m.CausationID = str
	case fCorrelationID:
		m.CorrelationID = str
	case fCommand:
		m.Command = str
	case fOutcome:
		m.Outcome = str
	}
	return next, true
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

// jsonInt is the integer b is, which isJSONInt accepted; false when it does
// not fit an int (encoding/json then reports it). Up to 18 digits it is
// read without strconv.ParseInt, whose error keeps a copy of its input and
// so makes every call allocate one.
func jsonInt(b []byte) (int, bool) {
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) > 18 || strconv.IntSize < 64 && len(digits) > 9 {
		n, err := strconv.ParseInt(string(b), 10, 0)
		return int(n), err == nil
	}
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// isJSONInt reports whether b is an integer as JSON writes one:
// -?(0|[1-9][0-9]*). Leading zeros, a plus sign, a fraction or an exponent
// are left to encoding/json.
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
