package export

import (
	"encoding/json"
	"testing"
)

// FuzzRawJSON: whatever bytes a store holds, rawJSON gives JSON, and gives
// exactly the documents encoding/json accepts back unchanged.
func FuzzRawJSON(f *testing.F) {
	for _, s := range []string{
		`{"hash":"80","prevHash":"9a","actor":"load","schemaVersion":2,"occurredAt":"2026-11-21T16:34:12.027917064Z","index":1}`,
		`{"amount":"-1","lineItems":[{"amount":-1e3,"x":null,"y":true,"z":false}]}`,
		`[]`, `"s"`, `1`, `-0.5E+2`, `null`, ` {} `, `{"a":"\u00e9\n"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1,}`,
		`{"a":"` + "\x01" + `"}`, `[1 2]`, `{"a" 1}`, `nul`, `"\x"`, "", "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := rawJSON(b)
		if !json.Valid(out) {
			t.Fatalf("rawJSON(%q) = %q, not JSON", b, out)
		}
		if valid := string(out) == string(b); valid != json.Valid(b) && len(b) > 0 {
			t.Fatalf("rawJSON(%q) = %q: json.Valid says %v", b, out, json.Valid(b))
		}
	})
}
