package projections

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimeKeysOrderAndClamp: time keys sort like the times, and the ends of
// open windows (year 1 and 9999, beyond int64 nanoseconds) clamp instead of
// wrapping around.
func TestTimeKeysOrderAndClamp(t *testing.T) {
	times := []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Unix(0, 0).UTC(), time.Date(2024, 5, 1, 0, 0, 0, 1, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := key(nil, 'x').time(times[i-1]), key(nil, 'x').time(times[i])
		assert.LessOrEqual(t, bytes.Compare(a, b), 0, "%s sorts before %s", times[i-1], times[i])
	}
	mid := time.Date(2024, 5, 1, 12, 30, 0, 123, time.UTC)
	assert.Equal(t, mid, timeFromKey(timeKey(mid)))
}

// TestKeysDoNotShareArrays: two keys built from one prefix (a range's ends)
// must not overwrite each other.
func TestKeysDoNotShareArrays(t *testing.T) {
	prefix := key(nil, 'x').str("acme")
	lower, upper := prefix.u64(1), prefix.u64(2)
	assert.Equal(t, -1, bytes.Compare(lower, upper))
	assert.Equal(t, key(nil, 'x').str("acme"), prefix, "the prefix is unchanged")
	a, b := prefix.time(time.Unix(1, 0)), prefix.time(time.Unix(2, 0))
	assert.NotEqual(t, a, b)
}

// A trial-balance key built in one allocation is the key keyBuf's methods
// build, and a row's key is it and the position.
func TestTrialKeyIsKeyBuf(t *testing.T) {
	gens := &generations{}
	gens[tTrial] = 3
	for _, k := range []trialKey{{}, {"creditor-1", 'v', "2026-12-05", "claim/0b8f6a52-3d0e-4f57-9c0a-8f5b1f4d2e61/principal", "EUR"},
		{strings.Repeat("c", 300), 'b', "2026-12-05", strings.Repeat("a", 200), "JPY"}} {
		want := key(gens, tTrial).str(k.creditor).b(k.basis).str(k.date).str(k.account).str(k.currency)
		assert.Equal(t, want, k.key(gens))
		assert.Equal(t, want.pos(77), k.rowKey(gens, 77))
	}
}

// A claim account's row says it counts for both bases only under the
// booking basis, with rowBothBases as its one byte after the sums; any
// other byte there, or more of them, is a malformed row.
func TestDecodeTrialRowBothBases(t *testing.T) {
	k := trialKey{"acme", 'b', "2026-12-05", "claim/C-1/principal/A", "EUR"}
	row := func(k trialKey) []byte { return k.rowKey(nil, 9)[5:] }
	sums := binary.AppendVarint(binary.AppendVarint(nil, 1250), 0)
	sums = sums[:len(sums):len(sums)] // every append below copies
	tk, debit, credit, both, err := decodeTrialRow(row(k), sums)
	require.NoError(t, err)
	assert.Equal(t, k, tk)
	assert.Equal(t, [2]int64{1250, 0}, [2]int64{debit, credit})
	assert.False(t, both)
	_, debit, _, both, err = decodeTrialRow(row(k), append(sums, rowBothBases))
	require.NoError(t, err)
	assert.True(t, both)
	assert.Equal(t, int64(1250), debit)
	v := k
	v.basis = 'v'
	for name, c := range map[string]struct {
		k   trialKey
		val []byte
	}{
		"flag under the value basis": {v, append(sums, rowBothBases)},
		"another byte":               {k, append(sums, 2)},
		"two bytes":                  {k, append(sums, rowBothBases, rowBothBases)},
		"sums cut short":             {k, sums[:1]},
	} {
		_, _, _, _, err := decodeTrialRow(row(c.k), c.val)
		assert.Error(t, err, name)
	}
}
