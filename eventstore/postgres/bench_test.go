package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// BenchmarkAppendParallel measures durable appends of one event each, with
// an exact expected revision, by 1 and 64 concurrent writers, each on its own
// stream, on the test server (fsync on; its data under TMPDIR). It reports
// events/s and the p99 latency of one append.
func BenchmarkAppendParallel(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := MustOpen(b, postgres.Options{GroupsInFlight: benchGroups(b)})
			ctx := context.Background()
			var next atomic.Int64
			lat := make([][]time.Duration, writers)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("bench-%d-%d", writers, w)
					exp := eventstore.NoStream()
					for next.Add(1) <= int64(b.N) {
						events := storetest.Events(1)
						began := time.Now()
						res, err := s.Append(ctx, stream, exp, events)
						if err != nil {
							b.Error(err)
							return
						}
						lat[w] = append(lat[w], time.Since(began))
						exp = eventstore.Exact(res.Revision)
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
			}
		})
	}
}

// benchGroups is Options.GroupsInFlight for the benchmark: the variable
// LEDGER_BENCH_PG_GROUPS if set (to compare 2, 4, 8…), else the default.
func benchGroups(b *testing.B) int {
	v := os.Getenv("LEDGER_BENCH_PG_GROUPS")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("LEDGER_BENCH_PG_GROUPS=%q: want a positive integer", v)
	}
	return n
}
