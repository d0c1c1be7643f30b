package postgres_test

import (
	"context"
	"errors"
	"fmt"
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

// liveness bounds every wait of the fault tests: healthy runs take a fraction
// of it; it is not a timing assertion.
const liveness = time.Minute

// appendRetrying appends events, retrying the very same append (same event
// IDs, same expected revision) while the store answers ErrUnavailable, as a
// client that got no answer must. It counts the failures in unavailable and
// returns the first error of any other kind.
func appendRetrying(ctx context.Context, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, events []eventstore.EventData, unavailable *atomic.Int64) (eventstore.AppendResult, error) {
	for {
		res, err := s.Append(ctx, stream, exp, events)
		if !errors.Is(err, eventstore.ErrUnavailable) || ctx.Err() != nil {
			return res, err
		}
		unavailable.Add(1)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServerRestartUnderLoad stops PostgreSQL (fast shutdown: sessions are
// terminated) while writers append, and starts it again: appends fail with
// ErrUnavailable meanwhile, the store recovers by itself, a retried append is
// not doubled, every acknowledged event is in its stream exactly once, and a
// subscription that was following $all across the restart delivers each
// exactly once, in order (the positions of groups the shutdown cut off may be
// missing).
func TestServerRestartUnderLoad(t *testing.T) {
	srv := pgtest.Start(t)
	s := OpenAt(t, srv.NewDatabase(t), postgres.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*liveness)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()

	const writers, perWriter = 8, 30
	var unavailable, acked atomic.Int64
	restarted := make(chan struct{})
	written := make([][]uuid.UUID, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("restart-%d", w)
			exp := eventstore.NoStream()
			// Append until the restart, then perWriter more.
			for i, after := 0, 0; after < perWriter; i++ {
				select {
				case <-restarted:
					after++
				default:
				}
				events := storetest.Events(1)
				res, err := appendRetrying(ctx, s, stream, exp, events, &unavailable)
				if !assert.NoError(t, err, "writer %d append %d", w, i) {
					return
				}
				exp = eventstore.Exact(res.Revision)
				written[w] = append(written[w], events[0].ID)
				acked.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return acked.Load() >= writers*perWriter }, liveness, 10*time.Millisecond)
	require.NoError(t, srv.Stop())
	require.Eventually(t, func() bool { return unavailable.Load() > 0 }, liveness, 10*time.Millisecond,
		"appends fail with ErrUnavailable while the server is down")
	_, err = s.Head(ctx)
	assert.ErrorIs(t, err, eventstore.ErrUnavailable, "reads too")
	require.NoError(t, srv.Start())
	close(restarted)
	wg.Wait()
	t.Logf("%d appends acknowledged, %d attempts answered ErrUnavailable", acked.Load(), unavailable.Load())

	want := map[uuid.UUID]bool{}
	for w, ids := range written {
		got := storetest.MustReadStream(t, s, fmt.Sprintf("restart-%d", w))
		require.Len(t, got, len(ids), "writer %d: every acknowledged event once, nothing more", w)
		for i, e := range got {
			assert.Equal(t, ids[i], e.ID, "writer %d event %d", w, i)
			want[e.ID] = true
		}
	}
	var last eventstore.Position
	for range len(want) {
		e, err := sub.Recv()
		require.NoError(t, err)
		// A group cut off by the shutdown may leave a gap in positions
		// (see the package documentation), never an event skipped.
		require.Greater(t, e.Position, last, "the subscription resumes where it stopped, in order")
		last = e.Position
		require.True(t, want[e.ID], "event %s delivered once", e.ID)
		delete(want, e.ID)
	}
}

// TestStatementTimeoutIsUnavailable: an append that waits on a lock past the
// server's statement_timeout fails with ErrUnavailable and writes nothing;
// once the lock is gone, appends succeed again.
func TestStatementTimeoutIsUnavailable(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	schema := "es_" + pgtest.RandomName()
	s := OpenAt(t, db+"&statement_timeout=300", postgres.Options{Schema: schema})
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()

	// Another session locks the streams table, as a long migration might.
	tx := lockStreams(ctx, t, db, schema)

	_, err := s.Append(ctx, "timeout", eventstore.NoStream(), storetest.Events(1))
	require.ErrorIs(t, err, eventstore.ErrUnavailable)
	assert.Contains(t, err.Error(), "statement timeout")
	require.NoError(t, tx.Rollback(ctx))

	_, err = s.ReadStream(ctx, "timeout", 0, 10)
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "the timed-out append wrote nothing")
	storetest.MustAppend(t, s, "timeout", eventstore.NoStream(), storetest.Events(1))
	assert.Len(t, storetest.MustReadStream(t, s, "timeout"), 1)
	// The failed group's session held the position lock: another store
	// (process) is not kept waiting for it.
	other := OpenAt(t, db, postgres.Options{Schema: schema})
	storetest.MustAppend(t, other, "timeout", eventstore.Exact(0), storetest.Events(1))
}

// TestAppendFunctionReleasesLockOnError: the position lock is a
// session-level lock, which outlives a failed transaction; the append
// function releases it before it raises an error (here a statement timeout
// while it waits for a table lock), so that the session may go on (the
// writer discards such a connection as well). Appends of another store then
// proceed.
func TestAppendFunctionReleasesLockOnError(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	schema := "es_" + pgtest.RandomName()
	s := OpenAt(t, db, postgres.Options{Schema: schema})
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()

	tx := lockStreams(ctx, t, db, schema)

	conn, err := pgx.Connect(ctx, db+"&statement_timeout=300")
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "SELECT * FROM "+pgx.Identifier{schema, "append_group"}.Sanitize()+"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		postgres.LockKeyOf(s), []string{"held"}, []int64{-2}, []int32{1},
		[]int32{1}, []int32{1}, [][16]byte{uuid.New()}, []string{"Held"}, [][]byte{{}}, [][]byte{{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "statement timeout")
	var held int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").Scan(&held))
	assert.Zero(t, held, "the failed call left no advisory lock in its session")
	require.NoError(t, tx.Rollback(ctx))

	_, err = s.ReadStream(ctx, "held", 0, 10)
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "the failed call wrote nothing")
	other := OpenAt(t, db, postgres.Options{Schema: schema})
	storetest.MustAppend(t, other, "held", eventstore.NoStream(), storetest.Events(1))
	storetest.MustAppend(t, s, "held", eventstore.Exact(0), storetest.Events(1))
}

// TestPoolExhausted: with every pooled connection held, an append waits until
// its context ends and then fails with ErrUnavailable wrapping the context's
// error, having written nothing; reads fail the same way; once a connection
// is free, appends succeed.
func TestPoolExhausted(t *testing.T) {
	srv := pgtest.Shared(t)
	s := OpenAt(t, srv.NewDatabase(t)+"&pool_max_conns=1", postgres.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	held, err := postgres.PoolOf(s).Acquire(ctx)
	require.NoError(t, err)

	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	_, err = s.Append(short, "exhausted", eventstore.NoStream(), storetest.Events(1))
	require.ErrorIs(t, err, eventstore.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = s.ReadAll(short, eventstore.Start, 10)
	assert.ErrorIs(t, err, eventstore.ErrUnavailable)

	held.Release()
	_, err = s.ReadStream(ctx, "exhausted", 0, 10)
	assert.ErrorIs(t, err, eventstore.ErrStreamNotFound, "the append that gave up wrote nothing")
	storetest.MustAppend(t, s, "exhausted", eventstore.NoStream(), storetest.Events(1))
}

// TestForeignWriteIsConcurrency: a row another program put into the events
// table without the lock (and without updating streams) makes the append
// that collides with it fail with ErrConcurrency, detailed as a
// *eventstore.ConcurrencyError, and writes nothing.
func TestForeignWriteIsConcurrency(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	schema := "es_" + pgtest.RandomName()
	s := OpenAt(t, db, postgres.Options{Schema: schema})
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "events"}.Sanitize()+
		" (position, stream, revision, id, type, data, metadata) VALUES (1000, 'foreign', 0, $1, 'Foreign', '', '')", uuid.New())
	require.NoError(t, err)

	_, err = s.Append(ctx, "foreign", eventstore.NoStream(), storetest.Events(1))
	require.ErrorIs(t, err, eventstore.ErrConcurrency)
	var ce *eventstore.ConcurrencyError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "foreign", ce.Stream)
	assert.True(t, ce.Exists)
	assert.Equal(t, uint64(0), ce.Actual)
	head, err := s.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, eventstore.Position(1000), head, "nothing written but the foreign row")
}

// TestSessionsCommitSynchronously: on a database whose default is
// synchronous_commit=off, the engine's sessions still commit synchronously.
func TestSessionsCommitSynchronously(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{conn.Config().Database}.Sanitize()+" SET synchronous_commit = off")
	require.NoError(t, err)

	s := OpenAt(t, db, postgres.Options{})
	var level string
	require.NoError(t, postgres.PoolOf(s).QueryRow(ctx, "SHOW synchronous_commit").Scan(&level))
	assert.Equal(t, "on", level)
}

// lockStreams locks schema's streams table from a session of its own, in a
// transaction the caller rolls back (the session closes with the test).
func lockStreams(ctx context.Context, t *testing.T, db, schema string) pgx.Tx {
	t.Helper()
	locker, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = locker.Close(context.Background()) })
	tx, err := locker.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{schema, "streams"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)
	return tx
}
