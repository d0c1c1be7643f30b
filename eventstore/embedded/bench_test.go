package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// The benchmarks behind docs/PERFORMANCE.md. Run them with
//
//	make bench
//
// They report rates as custom metrics (events/s, p99-ms, ratio-to-raw) so that
// one run gives every number; none of them asserts a timing.

// benchDir returns a directory for a benchmark's data, on the same disk as the
// default store (./data), where the raw baseline runs too.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("LEDGER_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir, err := os.MkdirTemp(root, "ledger-bench-")
	require.NoError(b, err)
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func event512() eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: "BenchEvent", Data: make([]byte, 512-64), Metadata: make([]byte, 64)}
}

// BenchmarkRawAppendFsync is the baseline: append 512 bytes to a file and
// fdatasync it, the least any durable append must do on this disk.
func BenchmarkRawAppendFsync(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(benchDir(b), "raw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(b, err)
	defer f.Close()
	buf := make([]byte, 512)
	b.ResetTimer()
	for range b.N {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkRawAppendFsyncPrealloc is the stricter baseline: the same 512-byte
// appends and fdatasync, into a file allocated beforehand, so that no sync has
// to record a new file size (Pebble preallocates and recycles its log files).
// docs/PERFORMANCE.md compares against the faster of the two baselines.
func BenchmarkRawAppendFsyncPrealloc(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(benchDir(b), "raw-prealloc.log"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(b, err)
	defer f.Close()
	size := int64(b.N+1) * 512
	require.NoError(b, syscall.Fallocate(int(f.Fd()), 0, 0, size))
	require.NoError(b, f.Sync())
	buf := make([]byte, 512)
	b.ResetTimer()
	for i := range b.N {
		if _, err := f.WriteAt(buf, int64(i)*512); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAppendOneWriter: one writer, one 512-byte event per append, each
// durable before the next.
func BenchmarkAppendOneWriter(b *testing.B) {
	s, err := embedded.Open(benchDir(b), embedded.Options{})
	require.NoError(b, err)
	defer s.Close()
	ctx := context.Background()
	exp := eventstore.NoStream()
	b.ResetTimer()
	for range b.N {
		res, err := s.Append(ctx, "one-writer", exp, []eventstore.EventData{event512()})
		if err != nil {
			b.Fatal(err)
		}
		exp = eventstore.Exact(res.Revision)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkAppend64Writers: 64 goroutines, each on its own stream, one
// 512-byte event per durable append; reports throughput and p99 latency.
func BenchmarkAppend64Writers(b *testing.B) {
	s, err := embedded.Open(benchDir(b), embedded.Options{})
	require.NoError(b, err)
	defer s.Close()
	ctx := context.Background()
	storetest.ParallelWriters(b, 64, func(w int) func() error {
		stream := fmt.Sprintf("writer-%d", w)
		exp := eventstore.NoStream()
		return func() error {
			res, err := s.Append(ctx, stream, exp, []eventstore.EventData{event512()})
			exp = eventstore.Exact(res.Revision)
			return err
		}
	})
}

// millionStore is a store of 1,000,000 events of 300 bytes (data+metadata),
// built once per benchmark process and flushed, shared by the read and open
// benchmarks.
var millionStore struct {
	once sync.Once
	dir  string
	err  error
}

const millionEvents = 1_000_000

func millionEventStore(b *testing.B) string {
	b.Helper()
	millionStore.once.Do(func() {
		root := os.Getenv("LEDGER_BENCH_DIR")
		if root == "" {
			root = os.TempDir()
		}
		dir, err := os.MkdirTemp(root, "ledger-bench-1m-")
		if err != nil {
			millionStore.err = err
			return
		}
		millionStore.dir = dir
		s, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			millionStore.err = err
			return
		}
		// 100,000 streams of 10 events (about a placement's life each),
		// written 100 streams per append group from 8 goroutines.
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for st := g; st < millionEvents/10; st += 8 {
					events := make([]eventstore.EventData, 10)
					for i := range events {
						events[i] = eventstore.EventData{ID: uuid.New(), Type: "BenchEvent", Data: make([]byte, 236), Metadata: make([]byte, 64)}
					}
					if _, err := s.Append(context.Background(), fmt.Sprintf("placement-%06d", st), eventstore.NoStream(), events); err != nil {
						failed.Store(&err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			millionStore.err = *err
			_ = s.Close()
			return
		}
		// Let the benchmarks meet a settled store, not one still compacting
		// the bulk load in the background.
		millionStore.err = errors.Join(s.Compact(context.Background()), s.Close())
	})
	require.NoError(b, millionStore.err)
	return millionStore.dir
}

// TestMain removes the shared million-event store after the benchmarks.
func TestMain(m *testing.M) {
	code := m.Run()
	if millionStore.dir != "" {
		_ = os.RemoveAll(millionStore.dir)
	}
	os.Exit(code)
}

// BenchmarkReadAll1M reads $all from 0 over 1,000,000 events of 300 bytes.
func BenchmarkReadAll1M(b *testing.B) {
	dir := millionEventStore(b)
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(b, err)
	defer s.Close()
	ctx := context.Background()
	b.ResetTimer()
	total := 0
	for range b.N {
		var after eventstore.Position
		for {
			batch, err := s.ReadAll(ctx, after, 10_000)
			if err != nil {
				b.Fatal(err)
			}
			if len(batch) == 0 {
				break
			}
			total += len(batch)
			after = batch[len(batch)-1].Position
		}
	}
	if total != b.N*millionEvents {
		b.Fatalf("read %d events, want %d", total, b.N*millionEvents)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOpen1M opens (and closes) a store of 1,000,000 events.
func BenchmarkOpen1M(b *testing.B) {
	dir := millionEventStore(b)
	b.ResetTimer()
	for range b.N {
		s, err := embedded.Open(dir, embedded.Options{})
		if err != nil {
			b.Fatal(err)
		}
		head, err := s.Head(context.Background())
		if err != nil || head != millionEvents {
			b.Fatalf("head %d, %v", head, err)
		}
		b.StopTimer()
		_ = s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
}
