// Package postgres is the event-store engine for PostgreSQL, on
// github.com/jackc/pgx/v5 (pgxpool). Several ledger processes may share one
// database: everything that orders appends happens inside PostgreSQL.
//
// # Schema
//
// Open creates, idempotently (CREATE … IF NOT EXISTS), a schema (Options.Schema,
// "ledger_eventstore" by default) holding two tables and a sequence:
//
//   - events(position bigint primary key, stream text, revision bigint, id uuid
//     unique, type text, data bytea, metadata bytea, recorded_at timestamptz,
//     xid xid8: the ID of the transaction that wrote it), unique (stream,
//     revision);
//   - streams(stream text primary key, revision bigint): each stream's last
//     revision, for the expected-revision check;
//   - positions: the last position handed out;
//
// and (CREATE OR REPLACE, so that a newer version replaces it) the PL/pgSQL
// function append_group, which writes one group of appends (see Group commit).
// Tables of the first version (no xid column, no sequence) are upgraded in
// place: their rows, all committed, get xid 0, below every horizon, and the
// sequence starts at their last position. Processes of the first version must
// be stopped before one of this version opens the database.
//
// # No gaps visible to readers
//
// A reader follows $all with "position > after". Were positions simply taken
// from a sequence, a transaction that took position 11 could commit before
// one holding 10, and a reader that saw 11 would skip 10 for ever. Taking
// max(position)+1 under a lock held until commit avoids that, but makes every
// commit wait for the previous one's WAL flush. Instead, positions are handed
// out in the order of transaction IDs, and readers read only below a
// visibility horizon:
//
//   - Writing: every writing transaction takes one session-level advisory
//     lock (pg_advisory_lock, its key derived from the schema), then has its
//     transaction ID assigned (pg_current_xact_id), numbers its events after
//     the sequence's value, writes them with that ID in the xid column, moves
//     the sequence past them and releases the lock, before it commits. IDs and
//     positions are both handed out under the lock, so in the same order: an
//     event at a lower position belongs to a transaction with a smaller (or
//     the same) ID. The commits (and their WAL flushes) of several groups
//     overlap, and PostgreSQL flushes them together.
//   - Reading: ReadAll (and so subscriptions) and Head see only the rows
//     whose xid is below the horizon, pg_snapshot_xmin(pg_current_snapshot()):
//     the oldest transaction still in flight when the statement's snapshot was
//     taken, the snapshot the rows are read with. If a row is returned, every
//     lower position was written by a transaction with a smaller ID, older
//     than the oldest in flight, so finished before the snapshot: committed
//     and visible (and returned too), or rolled back (and never will be). A
//     reader therefore sees a prefix of $all, and what it sees later only
//     extends it.
//
// Positions are dense while every group commits. A group that fails (a
// statement timeout, a lost connection, the server stopping) after moving the
// sequence, which does not roll back, leaves its positions unused: $all then
// has a gap, never a reordering. The sequence is moved as the function's last
// step, so a group refused or failed before it leaves none.
//
// Read your writes: Append answers only once every transaction older than its
// group's is done, so a position returned by Append is at once readable
// through any Store on the database (Head reaches it, and ?minPosition= waits
// only for the views). The function lists the older transactions in flight
// while it holds the lock (often groups of this Store still committing); the
// writer waits for those of this Store, which it sees commit, and asks the
// server for the horizon only when one is not (another process's group, or a
// group that failed), rechecking on each commit of this Store or after a
// short pause. The horizon is the server's: a long-running transaction that
// has written anything, anywhere on the server, holds it back, and
// subscriptions wait until it ends. Append waits for it at most a second
// (horizonWait), then answers and logs a warning that the horizon lags.
//
// Expected revisions stay exact: within a Store, an append is never put into
// a group while a group in flight holds an append to the same stream (it
// stays queued), so each group reads its streams as the earlier groups left
// them. Across processes a group may read a stream before another process's
// group that wrote it commits; its insert then meets that group's row in the
// (stream, revision) index, waits for its commit and fails, and the writer
// decides the group's appends again, one at a time, against the stream as it
// is now (a refusal, or a write at the next revision). A session-level lock
// outlives its transaction: the function releases it before raising any
// error, and the writer discards (closes) the connection of a group that
// failed.
//
// # Group commit
//
// One goroutine per Store (the writer) queues every append and, while fewer
// than Options.GroupsInFlight groups are being written (1 by default: on a
// busy two-core machine more groups, each smaller, were slower; several
// processes' groups still commit at once), takes the queued appends (up to
// maxGroupRequests or maxGroupBytes) whose streams no group in flight holds,
// at most one per stream (a second waits for the next group), and writes them
// as one group on a pooled connection of its own: one call of append_group,
// one round trip, one commit for many appends. The call is sent outside any
// transaction, so the statement is its own transaction (no BEGIN or COMMIT
// round trips). Inside it the function takes the lock, reads the sequence and
// the group's streams' revisions, decides every append against its stream's
// revision in one query (set-based: a PL/pgSQL loop over the appends cost
// several times the insert), numbers the accepted events in queue order,
// inserts them with one INSERT … SELECT FROM unnest(…), upserts their
// streams' revisions, moves the sequence, releases the lock and returns each
// append's result; a refused append (wrong revision) is answered with
// *eventstore.ConcurrencyError and left out, the others are written. After a group is answered the next one waits a fraction of a
// millisecond for the callers it answered to come back (see gatherWait), so
// that under load a group holds every busy writer. An append whose context
// ended before the writer took it is answered with its context's error and
// never written.
//
// Retrying an append with the same event IDs and the same expected revision
// after it was written returns the first result. The function does not look
// every event ID up: an accepted retry meets the insert's unique index on id,
// and a refused append's IDs are looked up; either way it writes nothing and
// hands the group back, and the writer decides that group in Go
// (writeGroupTx: BEGIN, the lock and reads of the stored events in one
// pipeline; the inserts, the sequence, the release of the lock and COMMIT in
// another), as it does a group in which an event ID occurs twice.
//
// The groups send no NOTIFY: PostgreSQL serializes the commits of notifying
// transactions (a lock taken before the commit and held until it is flushed),
// which would make the groups' commits wait for one another again. After a
// group that wrote is answered, the Store's notifier sends one NOTIFY in a
// transaction of its own that does not wait for its flush, at once if it sent
// none in the last 10 ms, else 10 ms after the last (the groups that commit
// meanwhile are covered by it): under load, a hundred a second at most, each
// of which wakes every other process's subscriptions.
//
// # Subscriptions
//
// A subscription reads $all in batches by position. When it reaches the head
// it waits for a wake-up: the writer of this process wakes it after each
// commit, a LISTEN connection wakes it on the NOTIFY that every Store (of any
// process) sends after its groups commit, and it polls every
// Options.PollInterval (200 ms by default) in case a notification was lost
// (a process stopped between a commit and its NOTIFY).
// A subscription reads below the visibility horizon (see No gaps visible to
// readers): a notification of a group whose older neighbour is still
// committing may find nothing new, and that neighbour's own notification
// wakes it again. Writers never hand events to subscribers, so a slow
// subscriber never stalls them. When the database cannot be reached, a subscription does not end: it
// retries with backoff from 100 ms to 5 s until its context ends or it is
// closed, then resumes after the last position it delivered.
//
// # Errors
//
// Translated at the boundary (see translate): a unique violation that
// deciding again does not resolve (a row another program wrote without the
// lock) → ErrConcurrency (*eventstore.ConcurrencyError); a lost connection, a server
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
