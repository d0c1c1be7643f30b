package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's "pgx", for the peer's protocol
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/postgres/pgtest"
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
			storetest.ParallelWriters(b, writers, func(w int) func() error {
				stream := fmt.Sprintf("bench-%d-%d", writers, w)
				exp := eventstore.NoStream()
				return func() error {
					res, err := s.Append(ctx, stream, exp, storetest.Events(1))
					exp = eventstore.Exact(res.Revision)
					return err
				}
			})
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

// BenchmarkPeerProtocolParallel measures, on the same test server and with
// the same writers, streams and payload size as BenchmarkAppendParallel, the
// protocol of the peer that issue 23 measures the engine against
// (hallgren/eventsourcing's PostgreSQL event store): a table of events with
// a serial position and a unique (stream, type, version), and for every
// append one transaction through database/sql that reads the stream's last
// version, checks it, inserts the event returning its position, and
// commits. Its module is not served here in a version with a PostgreSQL
// store, so the protocol is reproduced, not imported; it reports the same
// metrics.
func BenchmarkPeerProtocolParallel(b *testing.B) {
	srv := pgtest.Shared(b)
	connString := srv.NewDatabase(b)
	db, err := sql.Open("pgx", connString)
	require.NoError(b, err)
	defer db.Close()
	db.SetMaxOpenConns(70)
	db.SetMaxIdleConns(70)
	_, err = db.Exec(`CREATE TABLE peer_events (seq SERIAL PRIMARY KEY, id VARCHAR NOT NULL, version INTEGER, reason VARCHAR,
		type VARCHAR, timestamp VARCHAR, data BYTEA, metadata BYTEA, UNIQUE (id, type, version));
		CREATE INDEX peer_events_id_type ON peer_events (id, type)`)
	require.NoError(b, err)
	payload := storetest.Events(1)[0]
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			storetest.ParallelWriters(b, writers, func(w int) func() error {
				stream := fmt.Sprintf("bench-%d-%d-%d", writers, w, b.N)
				return func() error { return peerSave(db, stream, payload) }
			})
		})
	}
}

// peerSave appends one event to stream as the peer's store does.
func peerSave(db *sql.DB, stream string, e eventstore.EventData) error {
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var last int
	err = tx.QueryRow(`SELECT version FROM peer_events WHERE id = $1 AND type = $2 ORDER BY version DESC LIMIT 1`, stream, "bench").Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var seq int64
	err = tx.QueryRow(`INSERT INTO peer_events (id, version, reason, type, timestamp, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
		stream, last+1, e.Type, "bench", time.Now().UTC().Format(time.RFC3339), e.Data, e.Metadata).Scan(&seq)
	if err != nil {
		return err
	}
	return tx.Commit()
}
