package plainjson

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Writer writes a JSON object's fields in order, as encoding/json writes a
// struct's (the fast encoders of event data, metadata and the placement
// resource each write their fields with one). B is what was written;
// Refused is set when a value could not be written as json.Marshal would
// (see AppendTime), and the caller then gives the value to json.Marshal.
type Writer struct {
	B       []byte
	Refused bool
	more    bool // a field or element was written at this level: the next needs a comma
}

// Open starts an object: the whole value, a field's (after Key) or an
// array's element (after Elem).
func (w *Writer) Open() { w.B, w.more = append(w.B, '{'), false }

// Close ends an object.
func (w *Writer) Close() { w.B, w.more = append(w.B, '}'), true }

// Key writes a field's key (and the comma before it, unless it is the
// object's first); its value follows.
func (w *Writer) Key(k string) {
	if w.more {
		w.B = append(w.B, ',')
	}
	w.more = true
	w.B = append(append(append(w.B, '"'), k...), `":`...)
}

// String writes a string field.
func (w *Writer) String(k, s string) { w.Key(k); w.B = AppendString(w.B, s) }

// OptString writes a string field tagged omitempty: nothing when s is empty.
func (w *Writer) OptString(k, s string) {
	if s != "" {
		w.String(k, s)
	}
}

// Int and Uint write number fields.
func (w *Writer) Int(k string, n int64)   { w.Key(k); w.B = strconv.AppendInt(w.B, n, 10) }
func (w *Writer) Uint(k string, n uint64) { w.Key(k); w.B = strconv.AppendUint(w.B, n, 10) }

// Null writes a field whose value is null (a nil pointer or slice).
func (w *Writer) Null(k string) { w.Key(k); w.B = append(w.B, "null"...) }

// UUID writes a uuid.UUID field, as its MarshalText writes it.
func (w *Writer) UUID(k string, id uuid.UUID) {
	w.Key(k)
	w.B = append(AppendUUID(append(w.B, '"'), id), '"')
}

// Time writes a time.Time field (see AppendTime; a time it cannot write
// sets Refused).
func (w *Writer) Time(k string, t time.Time) {
	w.Key(k)
	var ok bool
	if w.B, ok = AppendTime(w.B, t); !ok {
		w.Refused = true
	}
}

// Array writes a slice field of n objects, each written by elem between its
// own Open and Close: null when the slice is nil, as encoding/json writes
// it.
func (w *Writer) Array(k string, isNil bool, n int, elem func(i int)) {
	if isNil {
		w.Null(k)
		return
	}
	w.Key(k)
	w.B, w.more = append(w.B, '['), false
	for i := 0; i < n; i++ {
		if w.more {
			w.B = append(w.B, ',')
		}
		w.Open()
		elem(i)
		w.Close()
	}
	w.B, w.more = append(w.B, ']'), true
}

// AppendUUID appends id in its canonical form, as id.String() writes it.
func AppendUUID(b []byte, id uuid.UUID) []byte {
	const digits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}
