package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/postgres/pgtest"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// sharedDB is one database on the shared server for the package's tests;
// each store lives in a schema of its own.
var (
	sharedDB     string
	sharedDBErr  error
	sharedDBOnce sync.Once
)

// MustOpen opens a store in a fresh schema of the shared test database,
// closed at cleanup.
func MustOpen(tb testing.TB, opts postgres.Options) *postgres.Store {
	tb.Helper()
	srv := pgtest.Shared(tb)
	sharedDBOnce.Do(func() { sharedDB, sharedDBErr = srv.CreateDatabase() })
	require.NoError(tb, sharedDBErr)
	return OpenAt(tb, sharedDB, opts)
}

// OpenAt opens a store on connString in a fresh schema unless opts names one.
func OpenAt(tb testing.TB, connString string, opts postgres.Options) *postgres.Store {
	tb.Helper()
	if opts.Schema == "" {
		opts.Schema = "es_" + pgtest.RandomName()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, connString, opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return MustOpen(t, postgres.Options{})
	}, storetest.Capabilities{
		// Dense while every group commits; a group that fails after taking
		// its positions leaves a gap (see the package documentation).
		// TestConcurrentWritersNoGapSeen checks density without failures.
		DensePositions: false,
	})
}

// TestConcurrentWritersNoGapSeen: many goroutines append, through three
// stores on the same tables (as three ledger processes would), each writing
// several groups at once, while a subscriber of a fourth follows $all; the
// subscriber sees every event exactly once, in strictly increasing and dense
// positions (no group fails here), with none missing: a reader that skipped
// an event committed late with a smaller position would miss it for good.
// A reader of a fifth store checks that every position an append returned
// is readable at once (Head reaches it).
func TestConcurrentWritersNoGapSeen(t *testing.T) {
	opts := postgres.Options{Schema: "es_" + pgtest.RandomName(), GroupsInFlight: 4}
	stores := []*postgres.Store{MustOpen(t, opts), MustOpen(t, opts), MustOpen(t, opts)}
	reader := MustOpen(t, opts)
	heads := MustOpen(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub, err := reader.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()

	const writers, appends = 48, 30
	var wg sync.WaitGroup
	ids := make(chan uuid.UUID, writers*appends*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			stream := fmt.Sprintf("gap-%d", w)
			exp := eventstore.NoStream()
			for range appends {
				events := storetest.Events(1 + w%2)
				res, err := s.Append(ctx, stream, exp, events)
				if !assert.NoError(t, err) {
					return
				}
				head, err := heads.Head(ctx)
				if assert.NoError(t, err) {
					assert.GreaterOrEqual(t, head, res.Position, "a returned position is readable at once")
				}
				exp = eventstore.Exact(res.Revision)
				for _, e := range events {
					ids <- e.ID
				}
			}
		}()
	}
	wg.Wait()
	close(ids)
	want := map[uuid.UUID]bool{}
	for id := range ids {
		want[id] = true
	}
	var last eventstore.Position
	for range len(want) {
		e, err := sub.Recv()
		require.NoError(t, err)
		require.Greater(t, e.Position, last, "positions strictly increase")
		require.Equal(t, last+1, e.Position, "positions are dense: no gap")
		last = e.Position
		require.True(t, want[e.ID], "event %s delivered once and only if written", e.ID)
		delete(want, e.ID)
	}
	assert.Zero(t, len(want), "every acknowledged event delivered")
}

// TestStoresRaceOnOneStream: two stores on the same tables (two processes)
// append to the same streams at once, each append expecting the revision its
// writer last saw (or Any for some); a group of one store may read a stream
// before the other's group that wrote it commits, and meet that group's row
// in the unique index: it is decided again. Afterwards every stream holds
// exactly the appends that succeeded, at the revisions they were answered,
// each refused append wrote nothing, and $all holds every event once.
func TestStoresRaceOnOneStream(t *testing.T) {
	var redecided atomic.Int64
	logs := slog.New(countingHandler{msg: "deciding its appends again", n: &redecided})
	opts := postgres.Options{Schema: "es_" + pgtest.RandomName(), GroupsInFlight: 4, Logger: logs}
	stores := []*postgres.Store{MustOpen(t, opts), MustOpen(t, opts)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const streams, writersPerStream, appends = 4, 6, 25
	var (
		mu       sync.Mutex
		ok       []acked
		refused  atomic.Int64
		wg       sync.WaitGroup
		refusals = make(map[uuid.UUID]bool)
	)
	for w := range streams * writersPerStream {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each stream has writers on both stores, two of them
			// appending with Any.
			k := w / streams
			s := stores[k%len(stores)]
			stream := fmt.Sprintf("race-%d", w%streams)
			exp := eventstore.Any()
			for i := range appends {
				if k >= 2 && i > 0 {
					exp = expectedNow(ctx, t, s, stream)
				}
				events := storetest.Events(1)
				res, err := s.Append(ctx, stream, exp, events)
				var ce *eventstore.ConcurrencyError
				switch {
				case errors.As(err, &ce):
					assert.False(t, exp.IsAny(), "Any is never refused")
					refused.Add(1)
					mu.Lock()
					refusals[events[0].ID] = true
					mu.Unlock()
				case assert.NoError(t, err):
					mu.Lock()
					ok = append(ok, acked{stream: stream, id: events[0].ID, rev: res.Revision})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d appends written, %d refused, %d groups decided again", len(ok), refused.Load(), redecided.Load())
	checkRaceOutcome(ctx, t, stores, ok, refusals)
}

// acked is an append answered with a revision.
type acked struct {
	stream string
	id     uuid.UUID
	rev    uint64
}

// checkRaceOutcome checks that the streams hold exactly the appends answered
// ok, at their revisions, none of the refused ones, and $all each event once.
func checkRaceOutcome(ctx context.Context, t *testing.T, stores []*postgres.Store, ok []acked, refusals map[uuid.UUID]bool) {
	byStream := map[string]map[uint64]uuid.UUID{}
	for _, a := range ok {
		if byStream[a.stream] == nil {
			byStream[a.stream] = map[uint64]uuid.UUID{}
		}
		_, dup := byStream[a.stream][a.rev]
		require.False(t, dup, "two appends answered %s revision %d", a.stream, a.rev)
		byStream[a.stream][a.rev] = a.id
	}
	total := 0
	for stream, revs := range byStream {
		got := storetest.MustReadStream(t, stores[0], stream)
		require.Len(t, got, len(revs), "%s holds exactly the appends that succeeded", stream)
		for _, e := range got {
			assert.Equal(t, revs[e.Revision], e.ID, "%s revision %d is the append answered with it", stream, e.Revision)
			assert.False(t, refusals[e.ID], "a refused append wrote nothing")
		}
		total += len(got)
	}
	all, err := stores[1].ReadAll(ctx, eventstore.Start, eventstore.MaxReadBatch)
	require.NoError(t, err)
	require.Len(t, all, total, "$all holds every event once")
	for i := 1; i < len(all); i++ {
		require.Greater(t, all[i].Position, all[i-1].Position)
	}
}

// countingHandler counts the log records whose message contains msg.
type countingHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// expectedNow is the revision a writer that reads before it appends expects.
func expectedNow(ctx context.Context, t *testing.T, s eventstore.Store, stream string) eventstore.ExpectedRevision {
	events, err := s.ReadStream(ctx, stream, 0, eventstore.MaxReadBatch)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return eventstore.NoStream()
	}
	require.NoError(t, err)
	return eventstore.Exact(events[len(events)-1].Revision)
}

func TestOpenRefusesAsynchronousCommit(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://127.0.0.1:1/x?synchronous_commit=off", postgres.Options{})
	require.ErrorIs(t, err, eventstore.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "durable")
}

func TestOpenRefusesBadSchemaName(t *testing.T) {
	for name, schema := range map[string]string{
		"ErrUpperCase": "Ledger",
		"ErrQuote":     `a"b`,
		"ErrTooLong":   "a123456789012345678901234567890123456789012345678",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := postgres.Open(context.Background(), "postgres://127.0.0.1:1/x", postgres.Options{Schema: schema})
			assert.ErrorIs(t, err, eventstore.ErrInvalidArgument)
		})
	}
}

// TestRetriesInBusyGroups: retries (refused by their expected revision, or
// accepted by Any) queued in the same groups as fresh appends get the first
// result, write nothing, and leave the fresh appends written.
func TestRetriesInBusyGroups(t *testing.T) {
	s := MustOpen(t, postgres.Options{})
	ctx := context.Background()
	const streams = 16
	var wg sync.WaitGroup
	for w := range streams {
		stream := fmt.Sprintf("retry-%d", w)
		first := storetest.Events(2)
		r0 := storetest.MustAppend(t, s, stream, eventstore.NoStream(), first)
		next := storetest.Events(2)
		for _, exp := range []eventstore.ExpectedRevision{eventstore.NoStream(), eventstore.NoStream(), eventstore.Any()} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				again, err := s.Append(ctx, stream, exp, first)
				if assert.NoError(t, err, "%s: a retry with %v", stream, exp) {
					assert.Equal(t, r0, again, "%s: a retry with %v returns the first result", stream, exp)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(ctx, stream, eventstore.Exact(r0.Revision), next)
			assert.NoError(t, err, "%s: the next append", stream)
		}()
	}
	wg.Wait()
	for w := range streams {
		got := storetest.MustReadStream(t, s, fmt.Sprintf("retry-%d", w))
		assert.Len(t, got, 4, "stream %d: the first append and the next, once each", w)
	}
}

// TestNotifyWakesOtherStores: a subscription of one store that does not poll
// (an hour's poll interval) and waits at the head is woken by the NOTIFY of
// another store's appends, as a ledger process is by another's.
func TestNotifyWakesOtherStores(t *testing.T) {
	schema := "es_" + pgtest.RandomName()
	writer := MustOpen(t, postgres.Options{Schema: schema})
	reader := MustOpen(t, postgres.Options{Schema: schema, PollInterval: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := reader.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()
	got := make(chan eventstore.RecordedEvent)
	go func() {
		for {
			e, err := sub.Recv()
			if err != nil {
				close(got)
				return
			}
			got <- e
		}
	}()
	for i := range 3 {
		// Give the subscription a moment to reach the head and wait there
		// (were it not waiting yet, it would read the event directly).
		time.Sleep(100 * time.Millisecond)
		res := storetest.MustAppend(t, writer, fmt.Sprintf("notified-%d", i), eventstore.NoStream(), storetest.Events(1))
		e, ok := <-got
		require.True(t, ok, "woken by the other store's NOTIFY")
		assert.Equal(t, res.Position, e.Position)
	}
}

// TestNotifiesAtMostOnceAnInterval: a Store sends its first NOTIFY as soon
// as a group commits, and no other until notifyEvery has passed, however
// many groups commit meanwhile (here an hour: one NOTIFY for all of them);
// another process's subscription still gets every event, the later ones by
// polling.
func TestNotifiesAtMostOnceAnInterval(t *testing.T) {
	defer postgres.SetNotifyEvery(time.Hour)()
	schema := "es_" + pgtest.RandomName()
	writer := MustOpen(t, postgres.Options{Schema: schema})
	reader := MustOpen(t, postgres.Options{Schema: schema, PollInterval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	listener, err := pgx.Connect(ctx, sharedDB)
	require.NoError(t, err)
	defer listener.Close(context.Background())
	_, err = listener.Exec(ctx, "LISTEN "+pgx.Identifier{postgres.ChannelOf(writer)}.Sanitize())
	require.NoError(t, err)

	const writers, appends = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exp := eventstore.NoStream()
			for range appends {
				res, err := writer.Append(ctx, fmt.Sprintf("burst-%d", w), exp, storetest.Events(1))
				if !assert.NoError(t, err) {
					return
				}
				exp = eventstore.Exact(res.Revision)
			}
		}()
	}
	wg.Wait()
	head, err := writer.Head(ctx)
	require.NoError(t, err)

	// Every event reaches the other Store's subscription.
	sub, err := reader.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()
	seen := 0
	for seen < writers*appends {
		e, err := sub.Recv()
		require.NoError(t, err)
		seen++
		if e.Position == head {
			break
		}
	}
	assert.Equal(t, writers*appends, seen)

	// One NOTIFY: the first group's, at once. Any other would be here by now.
	_, err = listener.WaitForNotification(ctx)
	require.NoError(t, err, "the first group's NOTIFY")
	wait, cancelWait := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelWait()
	n, err := listener.WaitForNotification(wait)
	assert.Nil(t, n, "a second NOTIFY within the interval")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
