package plainjson

import "bytes"

// Value is one value of a plain document (see Plain), as its bytes: a
// string, null, an object or an array. The scanner behind Fields and
// Elements takes only what the ledger writes of its events: no whitespace
// between tokens, and no numbers, true or false (none of the fast
// decoders' fields has those types). For anything else it reports false,
// and the decoder leaves the document to encoding/json; so it needs to
// judge only the form it takes, never the rest of JSON. It replaced
// fastjson's parser, which built a tree of every document's values before
// the decoder read them (BenchmarkDecodeEvent).
type Value []byte

// IsString reports whether v is a string.
func (v Value) IsString() bool { return len(v) >= 2 && v[0] == '"' }

// Str is the string v holds, its bytes as they stand (v is plain: no
// escapes); v must be a string (IsString).
func (v Value) Str() []byte { return v[1 : len(v)-1] }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return len(v) == 4 && v[0] == 'n' }

// IsObject reports whether v is an object (its keys and values are judged
// by Fields).
func (v Value) IsObject() bool { return len(v) >= 2 && v[0] == '{' && v[len(v)-1] == '}' }

// IsArray reports whether v is an array (its values are judged by
// Elements).
func (v Value) IsArray() bool { return len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' }

var null = []byte("null")

// end returns the index after the value that starts at b[i]: a string, null,
// or an object or array, found by its closing bracket (strings skipped); an
// object's or array's own form is judged when it is read (Fields,
// Elements). False for anything else.
func end(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		n := bytes.IndexByte(b[i+1:], '"')
		if n < 0 {
			return 0, false
		}
		return i + n + 2, true
	case 'n':
		if !bytes.HasPrefix(b[i:], null) {
			return 0, false
		}
		return i + 4, true
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				n := bytes.IndexByte(b[j+1:], '"')
				if n < 0 {
					return 0, false
				}
				j += n + 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
	}
	return 0, false
}

// Fields visits the object o's keys, each of which must be one of names
// (at most 64), exactly (encoding/json would also take another case) and
// once (it would keep the last); set decodes the value of names[i] and
// reports whether it could. False when o is not an object of that form, a
// key is not one of names, comes twice, or set refuses its value. A key is
// looked for from the name after the last key's on: the ledger writes its
// fields in the order of names, so a key is found at the first comparison.
func Fields(o Value, names []string, set func(i int, v Value) bool) bool {
	if !o.IsObject() {
		return false
	}
	if len(o) == 2 {
		return true // {}
	}
	var seen uint64
	next := 0 // the name after the last key's
	for i := 1; ; {
		k, ok := end(o, i)
		if !ok || o[i] != '"' || k >= len(o) || o[k] != ':' {
			return false
		}
		f := IndexFrom(names, next, o[i+1:k-1])
		if f == len(names) || seen&(1<<f) != 0 {
			return false
		}
		seen, next = seen|1<<f, f+1
		e, ok := end(o, k+1)
		if !ok || e >= len(o) || !set(f, o[k+1:e]) {
			return false
		}
		switch {
		case o[e] == ',':
			i = e + 1
		case e == len(o)-1: // o[e] is its closing '}'
			return true
		default:
			return false
		}
	}
}

// Elements returns the values of the array a, appended to buf[:0]; an
// empty array gives an empty slice. False when a is not an array of
// values the scanner takes.
func Elements(a Value, buf []Value) ([]Value, bool) {
	if !a.IsArray() {
		return nil, false
	}
	out := buf[:0]
	if len(a) == 2 {
		return out, true // []
	}
	for i := 1; ; {
		e, ok := end(a, i)
		if !ok || e >= len(a) {
			return nil, false
		}
		out = append(out, a[i:e])
		switch {
		case a[e] == ',':
			i = e + 1
		case e == len(a)-1: // a[e] is its closing ']'
			return out, true
		default:
			return nil, false
		}
	}
}
