package bincodec

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRoundTrip(t *testing.T) {
	b := AppendString(nil, "acme")
	b = binary.AppendVarint(binary.AppendUvarint(append(b, 7), 1<<40), -15000)
	b = AppendString(b, "")
	r := NewReader(b)
	assert.Equal(t, "acme", r.String())
	assert.Equal(t, byte(7), r.Byte())
	assert.Equal(t, uint64(1<<40), r.Uvarint())
	assert.Equal(t, int64(-15000), r.Varint())
	assert.Equal(t, "", r.String())
	assert.NoError(t, r.Done())
}

func TestShortAndLeftOver(t *testing.T) {
	r := NewReader(AppendString(nil, "acme")[:3])
	assert.Equal(t, "", r.String())
	assert.ErrorIs(t, r.Err(), ErrShort)
	assert.Zero(t, r.Varint(), "every read after the first error is zero")
	assert.ErrorIs(t, r.Done(), ErrShort)

	r = NewReader([]byte{1, 2})
	assert.Equal(t, byte(1), r.Byte())
	assert.EqualError(t, r.Done(), "1 bytes left over")
}

func TestBytesShareTheReadersMemory(t *testing.T) {
	b := AppendString(AppendString(AppendString(nil, "data"), ""), "more")
	r := NewReader(b)
	got := r.Bytes()
	assert.Equal(t, []byte("data"), got)
	assert.Nil(t, r.Bytes(), "no bytes are nil")
	assert.Equal(t, []byte("more"), r.Bytes())
	assert.NoError(t, r.Done())
	b[1] = 'D'
	assert.Equal(t, []byte("Data"), got, "not a copy")
	assert.Len(t, append(got, '!'), 5)
	assert.Equal(t, byte(0), b[5], "appending to what Bytes returned does not write over what follows it")

	r = NewReader(AppendString(nil, "data")[:3])
	assert.Nil(t, r.Bytes())
	assert.ErrorIs(t, r.Err(), ErrShort)
}
