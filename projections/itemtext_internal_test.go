package projections

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestCanonicalUUIDIsParseAndString: canonicalUUID holds for exactly the
// strings the item encoder stored as 16 bytes before it (those uuid.Parse
// reads and uuid.UUID.String writes back the same), on uuids and on strings
// one, two or three bytes from one, so that an item decodes to the text it
// was given.
func TestCanonicalUUIDIsParseAndString(t *testing.T) {
	byParse := func(s string) bool {
		u, err := uuid.Parse(s)
		return err == nil && u.String() == s
	}
	rng := rand.New(rand.NewPCG(3, 22))
	alphabet := "0123456789abcdefABCDEFg-{}:xz "
	for range 200000 {
		b := []byte(uuid.New().String())
		for range rng.IntN(4) {
			b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		require.Equal(t, byParse(s), canonicalUUID(s), "%q", s)
	}
	for _, s := range []string{"", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
		"6ba7b8109dad11d180b400c04fd430c8", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"} {
		require.Equal(t, byParse(s), canonicalUUID(s), "%q", s)
	}
}

// TestItemTextsPastTheEighth: an item's texts are referred to by their
// order, the first eight kept in the encoder itself and any after in a
// slice; with twenty distinct texts (uuids among them), each written again
// later, every one reads back, and a text written again is a reference.
func TestItemTextsPastTheEighth(t *testing.T) {
	var texts []string
	for i := range 20 {
		if i%5 == 0 {
			texts = append(texts, uuid.NewString())
		} else {
			texts = append(texts, "text "+string(rune('a'+i)))
		}
	}
	e := &itemEncoder{}
	b := []byte{0} // the decoder starts after the format byte
	var sizes []int
	for range 2 {
		for _, s := range texts {
			before := len(b)
			b = e.text(b, s)
			sizes = append(sizes, len(b)-before)
		}
	}
	d := newItemDecoder(b)
	for round := range 2 {
		for i, s := range texts {
			require.Equal(t, s, d.text(), "round %d, text %d", round, i)
		}
	}
	require.NoError(t, d.err)
	for i, n := range sizes[len(texts):] {
		require.LessOrEqual(t, n, 2, "text %d written again is a reference", i)
	}
}
