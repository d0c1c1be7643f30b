package bincodec

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestParseCanonicalUUIDIsParseAndString: ParseCanonicalUUID accepts exactly
// the strings uuid.Parse reads and uuid.UUID.String writes back the same, and
// gives their bytes, on uuids and on strings one, two or three bytes from
// one, so that a text kept as 16 bytes is given back as it was.
func TestParseCanonicalUUIDIsParseAndString(t *testing.T) {
	byParse := func(s string) ([16]byte, bool) {
		u, err := uuid.Parse(s)
		return u, err == nil && u.String() == s
	}
	check := func(s string) {
		want, wantOK := byParse(s)
		got, ok := ParseCanonicalUUID(s)
		require.Equal(t, wantOK, ok, "%q", s)
		if ok {
			require.Equal(t, want, got, "%q", s)
		}
	}
	rng := rand.New(rand.NewPCG(3, 22))
	alphabet := "0123456789abcdefABCDEFg-{}:xz "
	for range 200000 {
		b := []byte(uuid.New().String())
		for range rng.IntN(4) {
			b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
		}
		check(string(b))
	}
	for _, s := range []string{"", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
		"6ba7b8109dad11d180b400c04fd430c8", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		uuid.Nil.String(), "ffffffff-ffff-ffff-ffff-ffffffffffff"} {
		check(s)
	}
}
