package verify_test

import (
	"context"
	"os"
	"testing"

	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/verify"
)

// BenchmarkVerifyStore verifies the store in LEDGER_BENCH_STORE (skipped
// without one): make one with ledger load, see docs/PERFORMANCE.md.
func BenchmarkVerifyStore(b *testing.B) {
	dir := os.Getenv("LEDGER_BENCH_STORE")
	if dir == "" {
		b.Skip("LEDGER_BENCH_STORE is not set: no store to verify (build one with ledger load, see docs/PERFORMANCE.md)")
	}
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for range b.N {
		r, err := verify.Run(context.Background(), s, verify.Options{})
		if err != nil || !r.OK() {
			b.Fatalf("%v %v", err, r.Findings)
		}
		b.ReportMetric(float64(r.Events)/r.Seconds, "events/s")
	}
}
