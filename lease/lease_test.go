package lease_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/lease"
)

const (
	ttl  = 300 * time.Millisecond
	wait = 30 * time.Second // a liveness bound, not a timing assertion
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// worker counts how many holders are working at once.
type worker struct {
	mu      sync.Mutex
	now     map[string]bool
	most    int
	worked  map[string]bool
	started atomic.Int64
}

func newWorker() *worker { return &worker{now: map[string]bool{}, worked: map[string]bool{}} }

func (w *worker) work(holder string) func(ctx context.Context) {
	return func(ctx context.Context) {
		w.started.Add(1)
		w.mu.Lock()
		w.now[holder] = true
		w.worked[holder] = true
		w.most = max(w.most, len(w.now))
		w.mu.Unlock()
		<-ctx.Done()
		w.mu.Lock()
		delete(w.now, holder)
		w.mu.Unlock()
	}
}

func (w *worker) working() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for h := range w.now {
		out = append(out, h)
	}
	return out
}

func run(t *testing.T, s eventstore.Store, holder string, w *worker) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.New(s, "reactors", holder, lease.Options{TTL: ttl, Logger: quiet()}).Run(ctx, w.work(holder))
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// TestOneHolderAtATimeAndHandover: three instances contend; one works at a
// time; when it stops (and releases), another takes over.
func TestOneHolderAtATimeAndHandover(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	w := newWorker()
	stops := map[string]context.CancelFunc{}
	for _, h := range []string{"a", "b", "c"} {
		stops[h] = run(t, s, h, w)
	}
	require.Eventually(t, func() bool { return len(w.working()) == 1 }, wait, time.Millisecond)
	first := w.working()[0]
	time.Sleep(3 * ttl) // several renewals; not a timing assertion
	assert.Equal(t, []string{first}, w.working(), "the holder keeps it by renewing")
	stops[first]()
	require.Eventually(t, func() bool { h := w.working(); return len(h) == 1 && h[0] != first }, wait, time.Millisecond,
		"another takes over when the holder releases it")
	assert.Equal(t, 1, w.most, "never two at once")
}

// TestLapsedLeaseIsTakenOver: a holder that died without releasing (its
// last take is in the log) holds until its until; then another takes over.
func TestLapsedLeaseIsTakenOver(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	ghostUntil := time.Now().Add(2 * ttl)
	_, err = journal.AppendAfter(context.Background(), s, journal.LeaseStream("reactors"), nil, "ghost", journal.ActorSystem, lease.TakenType,
		lease.Taken{Holder: "ghost", Until: ghostUntil}, time.Now())
	require.NoError(t, err)
	w := newWorker()
	run(t, s, "b", w)
	require.Eventually(t, func() bool { return len(w.working()) == 1 }, wait, time.Millisecond)
	assert.False(t, time.Now().Before(ghostUntil), "not before the ghost's lease lapsed")
}

// TestLostLeaseStopsTheWork: when another instance has taken the lease
// (its clock ran ahead, say), the holder's next renewal fails and its work
// stops.
func TestLostLeaseStopsTheWork(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	w := newWorker()
	run(t, s, "a", w)
	require.Eventually(t, func() bool { return len(w.working()) == 1 }, wait, time.Millisecond)
	last, found, err := journal.LastEvent(context.Background(), s, journal.LeaseStream("reactors"))
	require.NoError(t, err)
	require.True(t, found)
	_, err = journal.AppendAfter(context.Background(), s, journal.LeaseStream("reactors"), &last, "usurper", journal.ActorSystem, lease.TakenType,
		lease.Taken{Holder: "usurper", Until: time.Now().Add(time.Hour)}, time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(w.working()) == 0 }, wait, time.Millisecond, "the work stops")
	time.Sleep(2 * ttl)
	assert.Empty(t, w.working(), "and does not start again while another holds it")
}
