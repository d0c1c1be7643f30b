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
	"encoding/binary"
	"unicode/utf8"
)

// Plain reports whether b has no escapes, no control characters (not even
// whitespace between tokens, which the ledger does not write) and is valid
// UTF-8: then every string in it is its bytes as they stand, as
// encoding/json reads them. Every event and its metadata is checked, so
// eight bytes are looked at a time: a word of printable ASCII without a
// backslash, the ledger's usual text, is plain at once; a word with any
// other byte sends the whole of b to the check byte by byte (plainBytes).
func Plain(b []byte) bool {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		spaces = 0x20 * ones // a byte below it is a control character
		slashs = '\\' * ones // a byte equal to it is a backslash
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ slashs // a zero byte where x has a backslash
		// (v - n*ones) &^ v has a byte's high bit set where one of v's
		// bytes is below n (n at most 0x80), and at no other byte when
		// none is: the classic test for a zero byte, generalised.
		if ((x-spaces)&^x|(y-ones)&^y|x)&highs != 0 {
			return plainBytes(b)
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '\\' || c >= 0x80 {
			return plainBytes(b)
		}
	}
	return true
}

// plainBytes is Plain, byte by byte, for any text.
func plainBytes(b []byte) bool {
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
