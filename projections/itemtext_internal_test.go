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
