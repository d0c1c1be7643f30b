// Package plainjson is what the ledger's fast JSON decoders share: the
// event data's (domain, with fastjson's parser) and the metadata's
// (journal, with a scanner of its own). Each decodes only JSON in the plain
// form the ledger writes, and leaves anything else to encoding/json, so
// that its result is always encoding/json's. Plain is the check of that
// form both make; Fields, the check of an object's keys, is for fastjson's.
package plainjson

import (
	"bytes"
	"unicode/utf8"

	"github.com/valyala/fastjson"
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

// Fields visits o's keys, each of which must be one of names (at most 64),
// exactly (encoding/json would also take another case) and once (it would
// keep the last); set decodes the value of names[i] and reports whether it
// could. False when a key is not one of names, comes twice, or set refuses
// its value. A key is looked for from the name after the last key's on:
// the ledger writes its fields in the order of names, so a key is found at
// the first comparison.
func Fields(o *fastjson.Object, names []string, set func(i int, v *fastjson.Value) bool) bool {
	var seen uint64
	ok := true
	next := 0 // the name after the last key's
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !ok {
			return
		}
		i := IndexFrom(names, next, k)
		next = i + 1
		if i == len(names) || seen&(1<<i) != 0 {
			ok = false
			return
		}
		seen |= 1 << i
		ok = set(i, v)
	})
	return ok
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
