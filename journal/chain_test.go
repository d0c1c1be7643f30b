package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChainSealsInBothEncodings: the chain's prefix is written in base64url
// (schema 2) and read in it and in the hexadecimal that schema 1 wrote, with
// the same hashes; a changed character or a wrong length is caught.
func TestChainSealsInBothEncodings(t *testing.T) {
	id := uuid.New()
	data := []byte(`{"amount":"1.00"}`)
	m := Metadata{Actor: "acme", ActorType: ActorCreditor, RequestID: "r-1", OccurredAt: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Command: "c", Count: 1}
	prev := Hash{1, 2, 3}
	ev, hash, err := Chain(prev, "placement-x", 4, id, "PaymentReceived", data, m)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(ev.Metadata, []byte(`{"hash":"`)))
	assert.Equal(t, byte('"'), ev.Metadata[len(`{"hash":"`)+base64URLLen], "the hash is 43 base64url characters")

	check := func(meta []byte) Seal {
		return CheckSeal("placement-x", 4, id, "PaymentReceived", data, meta)
	}
	s := check(ev.Metadata)
	require.NoError(t, s.Err)
	assert.Equal(t, hash, s.Hash)
	assert.Equal(t, prev, s.Prev)
	assert.Equal(t, hash, LastHash(ev.Metadata))

	// The same event as schema 1's prefix would have carried it.
	_, _, core, err := Unseal(ev.Metadata)
	require.NoError(t, err)
	old := []byte(`{"hash":"` + hex.EncodeToString(hash[:]) + `","prevHash":"` + hex.EncodeToString(prev[:]) + `",`)
	old = append(old, core[1:]...)
	s = check(old)
	require.NoError(t, s.Err)
	assert.Equal(t, hash, s.Hash)
	assert.Equal(t, prev, s.Prev)
	got, err := DecodeMetadata(ev.Metadata)
	require.NoError(t, err)
	gotOld, err := DecodeMetadata(old)
	require.NoError(t, err)
	assert.Equal(t, gotOld, got, "decoded alike: hashes in hexadecimal")
	assert.Equal(t, hash.String(), got.Hash)

	// Another spelling of the same hash is a change too: base64url's unused
	// low bits set, hexadecimal in capitals.
	at := len(`{"hash":"`)
	respelled := bytes.Clone(ev.Metadata)
	last := respelled[at+base64URLLen-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	respelled[at+base64URLLen-1] = alphabet[strings.IndexByte(alphabet, last)^1] // same top 4 bits, another low bit
	assert.Equal(t, "metadata", check(respelled).Field, "a non-canonical base64url hash")
	upper := bytes.Clone(old)
	copy(upper[at:], bytes.ToUpper(upper[at:at+64]))
	if !bytes.Equal(upper, old) {
		assert.Equal(t, "metadata", check(upper).Field, "a hash in capitals")
	}

	for name, meta := range map[string][]byte{"base64url": ev.Metadata, "hexadecimal": old} {
		bad := bytes.Clone(meta)
		i := len(`{"hash":"`) + 5
		bad[i] ^= 1 // outside the alphabet: malformed; inside it: another hash; an error either way
		if s := check(bad); s.Err == nil {
			t.Errorf("%s: a changed hash character went unnoticed", name)
		}
		short := append(bytes.Clone(meta[:len(`{"hash":"`)+10]), meta[len(`{"hash":"`)+11:]...)
		if s := check(short); s.Field != "metadata" {
			t.Errorf("%s: a hash one character short is not named as malformed metadata: %+v", name, s)
		}
	}
}

// eventHashFmt is EventHash as it was first written, with a hash.Hash and
// fmt: the chain's definition that EventHash must keep.
func eventHashFmt(prev Hash, stream string, revision uint64, id uuid.UUID, eventType string, data, core []byte) Hash {
	h := sha256.New()
	h.Write([]byte("collections-ledger/event/v1\n"))
	h.Write(prev[:])
	fmt.Fprintf(h, "%s\n%d\n%s\n%s\n%d\n", stream, revision, id, eventType, len(data))
	h.Write(data)
	h.Write(core)
	var out Hash
	h.Sum(out[:0])
	return out
}

// TestEventHashIsTheChainsDefinition compares EventHash with the hash as
// first written on random events, small ones and ones too large for its
// buffer on the stack.
func TestEventHashIsTheChainsDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 5000 {
		var prev Hash
		for j := range prev {
			prev[j] = byte(rng.UintN(256))
		}
		var id uuid.UUID
		for j := range id {
			id[j] = byte(rng.UintN(256))
		}
		data := make([]byte, rng.IntN([]int{200, 3000, 10000}[i%3]))
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		core := []byte(fmt.Sprintf(`{"occurredAt":"2026-12-0%dT00:00:00Z"}`, 1+rng.IntN(9)))
		stream := fmt.Sprintf("placement-%s", uuid.New())
		revision := rng.Uint64() >> rng.UintN(64)
		typ := []string{"PlacementOpened", "PaymentReceived", "X"}[rng.IntN(3)]
		require.Equal(t, eventHashFmt(prev, stream, revision, id, typ, data, core), EventHash(prev, stream, revision, id, typ, data, core),
			"revision %d, %d bytes of data", revision, len(data))
	}
}
