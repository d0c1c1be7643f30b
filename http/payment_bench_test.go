package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkPaymentReceived is a durable payment through the whole server,
// in process: routing, authentication, decoding, the command, the append
// (group committed and synced), the answer, and the live views applying it
// (each iteration's events are applied before the clock stops). Its B/op and
// allocs/op count every goroutine's allocations, the applier's and Pebble's
// included, so they compare two binaries exactly where a rate on this shared
// machine cannot (docs/PERFORMANCE.md, thirteenth round).
//
//	go test -run '^$' -bench BenchmarkPaymentReceived -benchtime 20000x -count 3 ./http/
func BenchmarkPaymentReceived(b *testing.B) {
	l := MustLedger(b, "")
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = l.MustPlace("BENCH-" + strconv.Itoa(i))
	}
	require.NoError(b, l.runner.WaitFor(context.Background(), l.head()))
	var next atomic.Uint64
	b.SetParallelism(32) // 64 requests in flight on 2 cores, as docs/bench/pay.sh sends them
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := ids[next.Add(1)%uint64(len(ids))]
			req := httptest.NewRequest("POST", "/v1/placements/"+id+"/payment-received", strings.NewReader(`{"amount": "0.01"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+acmeKey)
			rec := httptest.NewRecorder()
			l.server.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("payment: %d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	if err := l.runner.WaitFor(context.Background(), l.head()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
}
