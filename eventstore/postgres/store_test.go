package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
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
	}, storetest.Capabilities{DensePositions: true})
}

// TestConcurrentWritersNoGapSeen: many goroutines append, through two stores
// on the same tables (as two ledger processes would), while a subscriber of
// a third follows $all; the subscriber sees every event exactly once, in
// strictly increasing and dense positions, with none missing (a reader that
// skipped an event committed late with a smaller position would miss it for
// good).
func TestConcurrentWritersNoGapSeen(t *testing.T) {
	opts := postgres.Options{Schema: "es_" + pgtest.RandomName()}
	stores := []*postgres.Store{MustOpen(t, opts), MustOpen(t, opts)}
	reader := MustOpen(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub, err := reader.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()

	const writers, appends = 32, 40
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
