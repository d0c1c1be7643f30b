// Package gcbudget lets Go's heap grow to a fixed budget before the garbage
// collector runs, while what is live is small, and never collects more often
// than Go's default.
//
// Go collects when the heap reaches twice what the last collection found live
// (GOGC=100). The ledger's live heap is small and bounded (its caches have
// budgets; the large memories, Pebble's caches and memtables and the views'
// state rings, are outside Go's heap), and it allocates fast: a server taking
// payments on 5,000 placements kept about 30 MB live and collected eleven
// times a second, 8% of its CPU. With the heap allowed to 80 MiB, it
// collected half as often, 4% of its CPU (docs/PERFORMANCE.md).
//
// After every collection the package sets GOGC so that the next one starts
// near the budget: (budget - live) / live, at least 100 (Go's default, for
// when the live heap is half the budget or more: then the heap grows as it
// always would) and at most 500. So the heap peaks at the larger of the
// budget and twice what is live, where Go's default peaks at the latter.
//
// This is the tuner of Uber's "How we saved 70K cores" and of
// github.com/bytedance/gopkg/util/gctuner, reading the live heap from
// runtime/metrics (exact, and without stopping the world as
// runtime.ReadMemStats does) and never going below Go's default.
package gcbudget

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// MinPercent is the least GOGC the package sets: Go's default.
	MinPercent = 100
	// MaxPercent is the most: with a tiny live heap (a process just
	// started), the heap still collects before ten times what is live.
	MaxPercent = 500
)

// Percent is the GOGC that makes the heap goal of a collection that found
// live bytes live about budget: within [MinPercent, MaxPercent].
func Percent(live, budget uint64) int {
	if live == 0 {
		return MaxPercent
	}
	if budget <= 2*live {
		return MinPercent
	}
	p := (budget - live) * 100 / live
	if p > MaxPercent {
		return MaxPercent
	}
	return int(p)
}

// tuner is the one budget of the process.
type tuner struct {
	mu      sync.Mutex
	budget  uint64 // 0: stopped
	before  int    // GOGC when it started, restored by stop
	percent int    // the GOGC last set
	sample  []metrics.Sample
}

var (
	current   *tuner
	currentMu sync.Mutex
)

// sentinel is what each round's cleanup hangs on: it is dropped at once, so
// the next collection finds it unreachable and runs the cleanup. It holds a
// pointer so that it is never batched with other tiny objects (whose
// cleanups may never run).
type sentinel struct{ _ *int }

// Start sets the process's heap budget in bytes and returns what stops it and
// restores GOGC as it was (once, however often it is called). A second Start
// while one runs only changes the budget, and its stop does nothing. A budget
// of 0 does nothing.
func Start(budget uint64) (stop func()) {
	if budget == 0 {
		return func() {}
	}
	currentMu.Lock()
	defer currentMu.Unlock()
	if t := current; t != nil {
		t.mu.Lock()
		t.budget = budget
		t.mu.Unlock()
		return func() {}
	}
	t := &tuner{
		budget: budget,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}},
	}
	t.before = debug.SetGCPercent(MinPercent)
	t.percent = MinPercent
	current = t
	t.adjust()
	t.arm()
	var once sync.Once
	return func() {
		once.Do(func() {
			currentMu.Lock()
			defer currentMu.Unlock()
			t.mu.Lock()
			t.budget = 0
			debug.SetGCPercent(t.before)
			t.mu.Unlock()
			current = nil
		})
	}
}

// arm runs adjust after the next collection, and again after each one, until
// stopped.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets GOGC for the live heap the last collection found, and reports
// whether the tuner still runs.
func (t *tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.budget == 0 {
		return false
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return false // not this runtime's metric: leave Go's default
	}
	if p := Percent(t.sample[0].Value.Uint64(), t.budget); p != t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
	return true
}

// Current is the GOGC the running budget set last, or 0 when none runs.
func Current() int {
	currentMu.Lock()
	defer currentMu.Unlock()
	if current == nil {
		return 0
	}
	current.mu.Lock()
	defer current.mu.Unlock()
	return current.percent
}
