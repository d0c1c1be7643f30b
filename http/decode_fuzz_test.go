package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzJSONDepth decodes unit repeated repeat+1 times (so a short input
// reaches 10^4–10^5 levels), as every JSON route does. Invariants: no panic,
// and for valid JSON the refusal for depth agrees with the nesting the
// standard library's tokenizer sees.
func FuzzJSONDepth(f *testing.F) {
	for _, s := range []struct {
		unit   string
		repeat uint16
	}{
		{"[", 30_000}, {`{"a":`, 20_000}, {`[{"claimNumber":`, 10_000}, {"[]", 100}, {`{"a":[`, 4},
		{`{"amount":1}`, 0}, {`"[[[["`, 1000}, {`["\"[",`, 500}, {`{"k":1,"K":2}`, 0}, {`[1,`, 50_000},
	} {
		f.Add([]byte(s.unit), s.repeat)
	}
	f.Fuzz(func(t *testing.T, unit []byte, repeat uint16) {
		body := bytes.Repeat(unit, int(repeat)+1)
		if len(body) > MaxBodyBytes {
			body = body[:MaxBodyBytes]
		}
		var v placeRequest
		err := decodeStrict(body, &v)
		if !json.Valid(body) {
			return // refused somehow; only a panic or a hang would be a failure
		}
		var ae *apiError
		tooDeep := errors.As(err, &ae) && ae.code == "too_deep"
		if depth := tokenDepth(t, body); (depth > MaxJSONDepth) != tooDeep {
			t.Fatalf("nesting %d, refused as too deep: %v (err %v)", depth, tooDeep, err)
		}
	})
}

// tokenDepth is the deepest nesting of valid JSON, by encoding/json's tokens.
func tokenDepth(t *testing.T, body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}
