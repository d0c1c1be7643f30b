package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ParallelWriters makes b.N appends with writers concurrent writers, writer
// w by calling the function writer(w) returns (made before the timer
// starts), and reports events/s and the p50 and p99 latency of one append:
// the engines' benchmarks of durable appends, and the peer's beside them,
// measure alike.
func ParallelWriters(b *testing.B, writers int, writer func(w int) func() error) {
	appendOne := make([]func() error, writers)
	for w := range writers {
		appendOne[w] = writer(w)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				began := time.Now()
				if err := appendOne[w](); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(began))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	}
}
