// Package plainjson is what the ledger's fast JSON decoders share: the
// event data's (domain, with the scanner of scan.go) and the metadata's
// (journal, with a scanner of its own). Each decodes only JSON in the plain
// form the ledger writes, and leaves anything else to encoding/json, so
// that its result is always encoding/json's. Plain is the check of that
// form both make; Fields and Elements read the event data's objects and
// arrays.
package plainjson

import (
	"bytes"
	"unicode/utf8"
)

// Plain reports whether b has no escapes, no control characters (not even
// whitespace between tokens, which the ledger does not write) and is valid
// UTF-8: then every string in it is its bytes as they stand, as
// encoding/json reads them.
func Plain(b []byte) bool {
	if bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return true
}

// IndexFrom is the index of k in names, looked for from names[from] to the
// end and then from the start; len(names) when k is none of them. A decoder
// of keys the ledger writes in the order of names looks for each from the
// one after the last's, and finds it at once.
func IndexFrom(names []string, from int, k []byte) int {
	for n := range len(names) {
		if i := (from + n) % len(names); names[i] == string(k) {
			return i
		}
	}
	return len(names)
}
