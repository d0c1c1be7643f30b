package plainjson

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// The encoders' side: what the fast encoders of event data (domain),
// metadata (journal) and the placement resource (projections) share, with
// Writer. Each writes bytes as encoding/json writes them, so that an
// event's stored bytes, which are hashed into the chain, do not depend on
// which encoder wrote them.

// AppendString appends s quoted as json.Marshal writes it (HTML-safe): a
// string of printable ASCII without '"', '\\', '<', '>' and '&' as it is,
// any other through encoding/json itself.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// AppendTime appends t quoted as time.Time's MarshalJSON writes it (RFC 3339
// with nanoseconds), for a time whose year is 0–9999 and whose zone is whole
// minutes within a day: what RFC 3339 can say. It reports false, and
// appends nothing, for any other: the years json.Marshal refuses, and zones
// of seconds, which it writes to the minute (left to it, to be safe).
func AppendTime(b []byte, t time.Time) ([]byte, bool) {
	_, offset := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || offset%60 != 0 || offset <= -24*60*60 || offset >= 24*60*60 {
		return b, false
	}
	b = append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	return b, true
}
