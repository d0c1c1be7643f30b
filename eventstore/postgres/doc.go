// Package postgres is the event-store engine for PostgreSQL, on
// github.com/jackc/pgx/v5 (pgxpool). Several ledger processes may share one
// database: everything that orders appends happens inside PostgreSQL.
//
// # Schema
//
// Open creates, idempotently (CREATE … IF NOT EXISTS), a schema (Options.Schema,
// "ledger_eventstore" by default) holding two tables:
//
//   - events(position bigint primary key, stream text, revision bigint, id uuid
//     unique, type text, data bytea, metadata bytea, recorded_at timestamptz),
//     unique (stream, revision);
//   - streams(stream text primary key, revision bigint): each stream's last
//     revision, for the expected-revision check;
//
// and (CREATE OR REPLACE, so that a newer version replaces it) the PL/pgSQL
// function append_group, which writes one group of appends (see Group commit).
//
// # No gaps visible to readers
//
// A reader follows $all with "position > after". A sequence would let a
// transaction that took position 11 commit before one holding 10, and a reader
// that saw 11 would skip 10 for ever. So positions are not taken from a
// sequence: every writing transaction first takes one transaction-scoped
// advisory lock (pg_advisory_xact_lock, its key derived from the schema), then
// reads the head (max(position)) and numbers its events head+1, head+2, ….
// PostgreSQL makes a committed transaction visible before it releases its
// locks, so the next writer gets the lock only once the previous one is
// visible: positions are assigned in commit order, are dense, and a reader
// that sees an event sees every event before it. The stream checks are made
// under the same lock, so they are serialized too, across processes.
//
// # Group commit
//
// The lock makes appends one at a time, so one goroutine per Store (the
// writer) takes every queued append (up to maxGroupRequests or
// maxGroupBytes) and writes them with one call of append_group: one round
// trip, one lock, one commit, one fsync for many appends. The call is sent
// outside any transaction, so the statement is its own transaction (no BEGIN
// or COMMIT round trips) and the lock is held until it commits. Inside it the
// function takes the lock, reads the head and the group's streams'
// revisions, decides each append in queue order against its stream's
// revision as the earlier appends of the group leave it, inserts the
// accepted events with one INSERT … SELECT FROM unnest(…), upserts their
// streams' revisions, sends the NOTIFY and returns each append's result; a
// refused append (wrong revision) is answered with *eventstore.ConcurrencyError
// and left out, the others are written. After a commit the writer waits a
// fraction of a millisecond for the callers it answered to come back (see
// gather), so that under load a group holds every busy writer. An append
// whose context ended before the writer took it is answered with its
// context's error and never written.
//
// Retrying an append with the same event IDs and the same expected revision
// after it was written returns the first result. The function does not look
// every event ID up: an accepted retry meets the insert's unique index on id,
// and a refused append's IDs are looked up; either way it writes nothing and
// hands the group back, and the writer decides that group in Go
// (writeGroupTx: BEGIN, the lock and reads of the stored events in one
// pipeline, the inserts, the NOTIFY and COMMIT in another), as it does a
// group in which an event ID occurs twice.
//
// # Subscriptions
//
// A subscription reads $all in batches by position. When it reaches the head
// it waits for a wake-up: the writer of this process wakes it after each
// commit, a LISTEN connection wakes it on the NOTIFY that every writing
// transaction (of any process) sends on commit, and it polls every
// Options.PollInterval (200 ms by default) in case a notification was lost.
// Writers never hand events to subscribers, so a slow subscriber never stalls
// them. When the database cannot be reached, a subscription does not end: it
// retries with backoff from 100 ms to 5 s until its context ends or it is
// closed, then resumes after the last position it delivered.
//
// # Errors
//
// Translated at the boundary (see translate): a unique violation →
// ErrConcurrency (*eventstore.ConcurrencyError); a lost connection, a server
// shutting down or starting, a statement or lock timeout, a serialization
// failure, too many connections → ErrUnavailable (wrapped, with PostgreSQL's
// message). When the connection drops during the group's statement (or its
// COMMIT) the outcome of the group is unknown and its appends fail with
// ErrUnavailable; retrying them with the same event IDs and expected revision
// is safe. The pool reconnects by itself
// once the server is back.
//
// # Durability
//
// Append returns once its group's transaction committed (the append_group
// statement returned, which pgx reports only after the server's
// ReadyForQuery, that is after the implicit commit; or COMMIT returned), and
// every session of the engine runs with synchronous_commit=on (whatever the
// server's default), so the commit waits for the WAL to be flushed (and, on a server with synchronous standbys, for
// them). A connection string may choose another level (remote_apply, local…)
// but not off: Open refuses it. A server run with fsync=off cannot keep the
// promise at all; Open logs a warning when it finds one.
//
// # Limits
//
// The same as every engine (eventstore/limits.go), checked before anything is
// sent.
package postgres
