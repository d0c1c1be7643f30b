package domain_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// parseDateByTime is what ParseDate was: time.Parse, and its Format the
// same string.
func parseDateByTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil && t.Format(time.DateOnly) == s
}

func sameParseDate(t *testing.T, s string) {
	t.Helper()
	want, wantOK := parseDateByTime(s)
	got, gotOK := domain.ParseDate(s)
	require.Equal(t, wantOK, gotOK, "%q", s)
	if wantOK {
		require.True(t, want.Equal(got) && got.Location() == time.UTC, "%q: %v, want %v", s, got, want)
	}
}

// TestParseDateIsTimeParse: ParseDate accepts exactly the dates time.Parse
// takes and writes back the same, with the same time: every day of years at
// the calendar's edges and around leap years, every string of the right
// shape with digits swapped at random, and malformed ones.
func TestParseDateIsTimeParse(t *testing.T) {
	for _, y := range []int{0, 1, 4, 100, 400, 1900, 1970, 2000, 2023, 2024, 2100, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				sameParseDate(t, string([]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
					byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d/10), byte('0' + d%10)}))
			}
		}
	}
	for _, s := range []string{"", "2024-1-01", "2024-01-1", "2024/01/01", "24-01-01", "2024-01-01T", " 2024-01-01",
		"2024-01-01 ", "+024-01-01", "-024-01-01", "2024-+1-01", "2024-01-+1", "2024-02-30", "2023-02-29", "2024-02-29",
		"２０２４-01-01", "2024-00-10", "2024-13-01", "2024-12-31", "0000-01-01", "10000-01-01"} {
		sameParseDate(t, s)
	}
	rng := rand.New(rand.NewPCG(2, 21))
	alphabet := "0123456789-+ aZ"
	for range 100000 {
		b := []byte("2024-02-29")
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
		}
		sameParseDate(t, string(b))
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = domain.ParseDate("2024-02-29") }))
}
