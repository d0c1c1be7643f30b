package gcbudget

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, budget uint64
		want         int
	}{
		{0, 88 * mib, MaxPercent},         // nothing live yet
		{1 * mib, 88 * mib, MaxPercent},   // (88-1)/1 = 8700%, capped
		{30 * mib, 88 * mib, 193},         // the server on 5,000 placements: (88-30)/30
		{44 * mib, 88 * mib, MinPercent},  // half the budget: Go's default
		{60 * mib, 88 * mib, MinPercent},  // more than half: never below Go's default
		{500 * mib, 88 * mib, MinPercent}, // far over the budget
		{10 * mib, 60 * mib, 500},         // exactly the cap
		{10 * mib, 61 * mib, MaxPercent},  // just over the cap
	} {
		assert.Equal(t, c.want, Percent(c.live, c.budget), "live %d MiB, budget %d MiB", c.live/mib, c.budget/mib)
	}
}

// gogc reads the GOGC in force without changing it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// eventually collects until GOGC is want: the budget is set after a
// collection, by the runtime's cleanup goroutine.
func eventually(t *testing.T, want int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		if gogc() == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GOGC is %d, want %d", gogc(), want)
}

func TestStartFollowsTheLiveHeapAndStopRestores(t *testing.T) {
	before := debug.SetGCPercent(137)
	defer debug.SetGCPercent(before)

	stop := Start(1 << 40) // a budget far above anything live here
	defer stop()
	eventually(t, MaxPercent)
	assert.Equal(t, MaxPercent, Current())

	// A second Start changes the budget; its stop leaves the first running.
	Start(1)() // a budget below anything live
	eventually(t, MinPercent)
	assert.Equal(t, MinPercent, Current())

	stop()
	assert.Equal(t, 137, gogc(), "stop restores GOGC as it was")
	assert.Equal(t, 0, Current())
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	require.Equal(t, 137, gogc(), "a stopped budget changes GOGC no more")
}

func TestZeroBudgetDoesNothing(t *testing.T) {
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	Start(0)()
	runtime.GC()
	assert.Equal(t, 123, gogc())
	assert.Equal(t, 0, Current())
}
