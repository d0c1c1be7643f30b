package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/collections-ledger/ledger/eventstore"
)

// appendFunction is the SQL function that writes one group in one statement
// (%[1]s the function, %[2]s the events table, %[3]s the streams table, %[4]s
// the positions sequence, %[5]s sqlOlder). The group's streams are distinct
// (argsOf sees to it), so each append is decided against its stream's stored
// revision, all at once (set-based: a loop over the appends in PL/pgSQL cost
// several times the insert). It takes the position lock (a session-level
// advisory lock), has the transaction's ID assigned, reads the last position
// handed out, decides the appends, numbers the accepted events after that
// position in queue order, inserts them (with the transaction's ID) and their
// streams' revisions, moves the sequence past them and releases the lock, all
// before the statement's implicit commit: the next group's function runs
// while this one's commit is being flushed. Positions and transaction IDs are
// thus handed out in the same order (see the package documentation, No gaps
// visible to readers). It sends no NOTIFY: PostgreSQL serializes notifying
// transactions until their commits are flushed (see notifier). On any error
// the lock is released before the error is raised again (a session lock
// outlives the transaction); the caller closes the connection as well.
//
// Per append it returns a status (0 written: revision and position are its
// last event's; 1 refused, the stream's revision is the one returned; 2
// refused, the stream has no events); and the transaction's ID and the IDs
// of the older transactions still in flight while it held the lock (see
// sqlOlder). When one of the group's event IDs is stored already (a retry)
// it writes nothing and returns NULL statuses: the caller decides that group
// with the stored events at hand (writeGroupTx). It finds those IDs without
// looking every one up first: the insert's unique index meets those of
// accepted appends, and only refused appends' IDs are looked up.
//
// Arguments: per append its stream, expected revision (-1 any, -2 no stream,
// -3 one that cannot match, n ≥ 0 exactly n) and number of events; per event
// its append (1-based), its place in it (1-based), ID, type, data and
// metadata.
const appendFunction = `CREATE OR REPLACE FUNCTION %[1]s(
	lock_key bigint,
	a_stream text[], a_expected bigint[], a_count integer[],
	e_append integer[], e_k integer[], e_id uuid[], e_type text[], e_data bytea[], e_meta bytea[],
	OUT out_status smallint[], OUT out_revision bigint[], OUT out_position bigint[], OUT out_xid bigint, OUT out_older bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE
	v_xid xid8;
	v_head bigint;
	v_recorded timestamptz;
	v_revs jsonb;
	v_constraint text;
	v_found boolean := false;
	v_ok boolean[];
	v_before bigint[];
	v_first bigint[];
	v_written bigint;
	v_refused boolean;
BEGIN
	-- Outside the block: when waiting for the lock fails, it is not held.
	PERFORM pg_advisory_lock(lock_key);
	BEGIN
		-- The transaction's ID is assigned here, under the lock.
		v_xid := pg_current_xact_id();
		out_xid := v_xid::text::bigint;
		-- The older transactions in flight now, with the lock held: once
		-- they and this one are done, its events are readable.
		%[5]s INTO out_older;
		SELECT q.last_value INTO v_head FROM %[4]s q;
		-- Planned at each call (EXECUTE): a plan kept from when the table
		-- was small would scan it whole.
		EXECUTE 'SELECT coalesce(jsonb_object_agg(s.stream, s.revision), ''{}'') FROM %[3]s s WHERE s.stream = ANY ($1)'
			INTO v_revs USING a_stream;
		-- Taken under the lock, so that the time never goes back along $all.
		v_recorded := clock_timestamp();
		-- Per append: accepted, the position before its first event (the
		-- accepted events numbered in queue order), its first revision.
		SELECT array_agg(d.ok ORDER BY d.i),
			array_agg(CASE WHEN d.ok THEN 0 WHEN d.cur IS NULL THEN 2 ELSE 1 END::smallint ORDER BY d.i),
			array_agg(CASE WHEN d.ok THEN coalesce(d.cur + 1, 0) + d.n - 1 ELSE coalesce(d.cur, 0) END ORDER BY d.i),
			array_agg(CASE WHEN d.ok THEN v_head + d.acc ELSE 0 END ORDER BY d.i),
			array_agg(v_head + d.acc - d.n ORDER BY d.i),
			array_agg(coalesce(d.cur + 1, 0) ORDER BY d.i),
			coalesce(max(d.acc), 0),
			bool_or(NOT d.ok)
		INTO v_ok, out_status, out_revision, out_position, v_before, v_first, v_written, v_refused
		FROM (
			SELECT c.*, sum(CASE WHEN c.ok THEN c.n ELSE 0 END) OVER (ORDER BY c.i) AS acc
			FROM (
				SELECT u.i, u.n, r.cur,
					u.w = -1 OR (u.w = -2 AND r.cur IS NULL) OR (u.w >= 0 AND r.cur = u.w) AS ok
				FROM unnest(a_stream, a_expected, a_count) WITH ORDINALITY AS u(s, w, n, i),
					LATERAL (SELECT (v_revs ->> u.s)::bigint AS cur) r
			) c
		) d;
		IF v_refused THEN
			-- A refused append may be a retry of one written already.
			EXECUTE 'SELECT EXISTS (SELECT 1 FROM %[2]s e WHERE e.id = ANY ($1))' INTO v_found
				USING ARRAY(SELECT e.i FROM unnest(e_append, e_id) AS e(a, i) WHERE NOT v_ok[e.a]);
		END IF;
		IF v_found THEN
			out_status := NULL; out_revision := NULL; out_position := NULL;
		ELSIF v_written > 0 THEN
			-- A stored event ID (a retry) is found by the unique index the
			-- insert checks anyway (see the handler below), rather than by
			-- looking every ID up first.
			INSERT INTO %[2]s (position, stream, revision, id, type, data, metadata, recorded_at, xid)
				SELECT v_before[e.a] + e.k, a_stream[e.a], v_first[e.a] + e.k - 1, e.i, e.t, e.d, e.m, v_recorded, v_xid
				FROM unnest(e_append, e_k, e_id, e_type, e_data, e_meta) AS e(a, k, i, t, d, m)
				WHERE v_ok[e.a];
			INSERT INTO %[3]s (stream, revision)
				SELECT a_stream[i], out_revision[i] FROM generate_subscripts(a_stream, 1) AS i
				WHERE v_ok[i]
				ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision;
			-- Last, as nothing after it can fail: a sequence does not roll
			-- back, and a group that failed leaves no gap.
			PERFORM setval('%[4]s', v_head + v_written, true);
		END IF;
	EXCEPTION
		WHEN unique_violation THEN
			PERFORM pg_advisory_unlock(lock_key);
			GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
			IF v_constraint <> 'events_id_key' THEN
				RAISE;
			END IF;
			out_status := NULL; out_revision := NULL; out_position := NULL;
			RETURN;
		WHEN query_canceled THEN
			PERFORM pg_advisory_unlock(lock_key);
			RAISE;
		WHEN OTHERS THEN
			PERFORM pg_advisory_unlock(lock_key);
			RAISE;
	END;
	PERFORM pg_advisory_unlock(lock_key);
END
$fn$`

// oldAppendFunctionArgs is the argument list of the first version's append
// function, which Open drops.
const oldAppendFunctionArgs = "bigint, text, text[], bigint[], integer[], text[], uuid[], text[], bytea[], bytea[]"

// sqlOlder lists the transactions older than the current one (which has its
// ID) still in flight, as the statement's snapshot (taken after the ID was
// assigned) sees them: those it lists below its xmax, and every one from its
// xmax up (assigned before the current one, and not finished, since xmax is
// one past the last finished).
const sqlOlder = `SELECT coalesce(array_agg(o), '{}') FROM (
	SELECT x::text::bigint AS o FROM pg_snapshot_xip(pg_current_snapshot()) x WHERE x < pg_current_xact_id()
	UNION ALL
	SELECT generate_series(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, pg_current_xact_id()::text::bigint - 1)
) q`

// Expected revisions as appendFunction takes them.
const (
	wantAny      = -1
	wantNoStream = -2
	wantNever    = -3
)

// groupArgs are appendFunction's arguments for one group.
type groupArgs struct {
	stream   []string
	expected []int64
	count    []int32

	eAppend, eK    []int32
	id             [][16]byte
	typ            []string
	data, metadata [][]byte
}

// argsOf encodes group for appendFunction. ok is false when an event ID
// occurs twice in the group (a retry queued beside its first try), or a
// stream does (pick never makes such a group), which writeGroupTx decides.
func argsOf(group []*appendRequest) (a groupArgs, ok bool) {
	seen := make(map[uuid.UUID]struct{}, len(group))
	streams := make(map[string]struct{}, len(group))
	for i, req := range group {
		if _, dup := streams[req.stream]; dup {
			return a, false
		}
		streams[req.stream] = struct{}{}
		want := int64(wantNever)
		switch r, exact := req.expected.Exact(); {
		case req.expected.IsAny():
			want = wantAny
		case req.expected.IsNoStream():
			want = wantNoStream
		case exact && r <= maxInt64:
			want = int64(r)
		}
		a.stream = append(a.stream, req.stream)
		a.expected = append(a.expected, want)
		a.count = append(a.count, int32(len(req.events)))
		for k, e := range req.events {
			if _, dup := seen[e.ID]; dup {
				return a, false
			}
			seen[e.ID] = struct{}{}
			a.eAppend = append(a.eAppend, int32(i+1))
			a.eK = append(a.eK, int32(k+1))
			a.id = append(a.id, e.ID)
			a.typ = append(a.typ, e.Type)
			a.data = append(a.data, notNil(e.Data))
			a.metadata = append(a.metadata, notNil(e.Metadata))
		}
	}
	return a, true
}

// appendGroup writes group with one call of appendFunction: one round trip,
// its own transaction. done is false when the function left the group to
// writeGroupTx (one of its event IDs is stored already, or occurs twice);
// txn is its transaction.
func (s *Store) appendGroup(ctx context.Context, conn *pgxpool.Conn, group []*appendRequest) (done bool, txn txnInfo, err error) {
	a, ok := argsOf(group)
	if !ok {
		return false, txn, nil
	}
	var (
		status         []int16
		revs, position []int64
	)
	err = conn.QueryRow(ctx, s.sqlAppend, s.lockKey, a.stream, a.expected, a.count,
		a.eAppend, a.eK, a.id, a.typ, a.data, a.metadata).Scan(&status, &revs, &position, &txn.xid, &txn.older)
	if err != nil {
		return true, txn, fmt.Errorf("%w (if the connection dropped, the outcome is unknown: retrying with the same event IDs is safe)", translate(ctx, err))
	}
	if status == nil {
		return false, txn, nil
	}
	if len(status) != len(group) || len(revs) != len(group) || len(position) != len(group) {
		return true, txn, fmt.Errorf("%w: postgres: the append function answered %d appends of %d", eventstore.ErrCorrupt, len(status), len(group))
	}
	for i, req := range group {
		switch status[i] {
		case 0:
			req.writes = true
			req.result = eventstore.AppendResult{Revision: uint64(revs[i]), Position: eventstore.Position(position[i])}
		default:
			req.err = &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: uint64(revs[i]), Exists: status[i] == 1}
		}
	}
	return true, txn, nil
}

// appendFunctionSQL returns the statement that creates appendFunction in the
// schema and the one that calls it.
func (s *Store) appendFunctionSQL() (create, call string) {
	fn := pgx.Identifier{s.schema, "append_group"}.Sanitize()
	create = fmt.Sprintf(appendFunction, fn, s.events, s.streams, s.positions, sqlOlder)
	call = "SELECT out_status, out_revision, out_position, out_xid, out_older FROM " + fn + "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
	return create, call
}
