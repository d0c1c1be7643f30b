// Package bincodec reads and writes the compact binary values the ledger
// keeps beside its log (the views' records, verify's scratch entries):
// varints and strings prefixed with their length.
package bincodec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AppendString appends s to b, its length first as a uvarint.
func AppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// ErrShort is a value that ends before what is read from it.
var ErrShort = errors.New("value too short")

// Reader reads a value; the first thing out of bounds sets its error, and
// every read after it returns zero.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) Reader { return Reader{b: b} }

// Err is the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Rest is what is left unread.
func (r *Reader) Rest() []byte { return r.b }

// Done is Err, or an error when bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.b))
	}
	return r.err
}

func (r *Reader) Uvarint() uint64 {
	n, w := binary.Uvarint(r.b)
	if w <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[w:]
	return n
}

func (r *Reader) Varint() int64 {
	n, w := binary.Varint(r.b)
	if w <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[w:]
	return n
}

func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// String reads a string written by AppendString.
func (r *Reader) String() string {
	n := r.Uvarint()
	if uint64(len(r.b)) < n {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Bytes reads bytes written by AppendString, without copying them: the
// slice is the reader's memory (nil when there are none).
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if uint64(len(r.b)) < n {
		r.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *Reader) fail() {
	if r.err == nil {
		r.err = ErrShort
	}
	r.b = nil
}
