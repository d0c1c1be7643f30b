package domain_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// DateOnly is Format(time.DateOnly) in UTC, whatever the zone of the time
// given, on either side of 1970 and of midnight, and from several
// goroutines at once, each on days of its own.
func TestDateOnlyIsTheUTCDay(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("east", 14*3600), time.FixedZone("west", -12*3600)}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			base := time.Date(1969, 12, 25, 0, 0, 0, 0, time.UTC).Unix()
			for i := 0; i < 20000; i++ {
				var sec int64
				switch i % 3 {
				case 0: // around midnights near 1970
					sec = base + int64(r.IntN(20))*86400 + int64(r.IntN(3)) - 1
				case 1: // anywhere in 0001..9999
					sec = r.Int64N(253402300799+62135596800) - 62135596800
				default: // runs of one day
					sec = 1764547200 + int64(i/100)*86400 + int64(r.IntN(86400))
				}
				at := time.Unix(sec, int64(r.IntN(1e9))).In(zones[r.IntN(len(zones))])
				if got, want := domain.DateOnly(at), at.UTC().Format(time.DateOnly); got != want {
					t.Errorf("DateOnly(%s) = %s, want %s", at, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestDateOnlyAllocatesOncePerDay(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	domain.DateOnly(at)
	require.Zero(t, testing.AllocsPerRun(100, func() { domain.DateOnly(at.Add(time.Hour)) }))
}
