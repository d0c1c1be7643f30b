package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/postgres/pgtest"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// oldSchema is the schema of the engine's first version (%[1]s the schema):
// no xid column, no sequence (positions were max(position)+1 under a
// transaction-scoped lock), an append function without out_xid (a stand-in
// with its signature and results).
const oldSchema = `
CREATE SCHEMA %[1]s;
CREATE TABLE %[1]s.events (
	position    bigint      PRIMARY KEY,
	stream      text        NOT NULL,
	revision    bigint      NOT NULL,
	id          uuid        NOT NULL UNIQUE,
	type        text        NOT NULL,
	data        bytea       NOT NULL,
	metadata    bytea       NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (stream, revision)
);
CREATE TABLE %[1]s.streams (
	stream   text   PRIMARY KEY,
	revision bigint NOT NULL
);
CREATE FUNCTION %[1]s.append_group(
	lock_key bigint, channel text,
	a_stream text[], a_expected bigint[], a_count integer[],
	e_stream text[], e_id uuid[], e_type text[], e_data bytea[], e_meta bytea[],
	OUT out_status smallint[], OUT out_revision bigint[], OUT out_position bigint[])
LANGUAGE sql AS 'SELECT NULL::smallint[], NULL::bigint[], NULL::bigint[]';
INSERT INTO %[1]s.events (position, stream, revision, id, type, data, metadata)
	VALUES (1, 'old-a', 0, $1, 'Old', '', ''), (2, 'old-b', 0, $2, 'Old', '', ''), (3, 'old-a', 1, $3, 'Old', '', '');
INSERT INTO %[1]s.streams VALUES ('old-a', 1), ('old-b', 0);
`

// TestOpenUpgradesOldSchema: a database the first version created (and
// wrote to) is upgraded by Open: its events keep their positions and are
// read first, in order; appends go on after the last position, against the
// streams' revisions; a subscription from the start sees all of them.
func TestOpenUpgradesOldSchema(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	schema := "es_" + pgtest.RandomName()
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	old := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	// Each statement on its own: the extended protocol takes one at a time.
	for i, stmt := range splitStatements(fmt.Sprintf(oldSchema, pgx.Identifier{schema}.Sanitize())) {
		var args []any
		if i == 4 {
			args = []any{old[0], old[1], old[2]}
		}
		_, err := conn.Exec(ctx, stmt, args...)
		require.NoError(t, err, stmt)
	}

	for range 2 { // and opening it again changes nothing
		s := OpenAt(t, db, postgres.Options{Schema: schema})
		head, err := s.Head(ctx)
		require.NoError(t, err)
		require.GreaterOrEqual(t, head, eventstore.Position(3))
		require.NoError(t, s.Close())
	}
	var functions int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = $1 AND p.proname = 'append_group'`, schema).Scan(&functions))
	assert.Equal(t, 1, functions, "the old append function is replaced, not left beside the new one")
	var xidDefault string
	require.NoError(t, conn.QueryRow(ctx, `SELECT column_default FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'events' AND column_name = 'xid'`, schema).Scan(&xidDefault))
	assert.Contains(t, xidDefault, "pg_current_xact_id", "rows written later by another program get their transaction's ID")
	s := OpenAt(t, db, postgres.Options{Schema: schema})
	_, err = s.Append(ctx, "old-a", eventstore.Exact(0), storetest.Events(1))
	require.ErrorIs(t, err, eventstore.ErrConcurrency, "the stream's revision is the old table's")
	res := storetest.MustAppend(t, s, "old-a", eventstore.Exact(1), storetest.Events(1))
	assert.Equal(t, uint64(2), res.Revision)
	assert.Equal(t, eventstore.Position(4), res.Position, "positions go on after the last one")
	res = storetest.MustAppend(t, s, "new", eventstore.NoStream(), storetest.Events(2))
	assert.Equal(t, eventstore.Position(6), res.Position)

	all, err := s.ReadAll(ctx, eventstore.Start, 100)
	require.NoError(t, err)
	require.Len(t, all, 6)
	for i, e := range all {
		assert.Equal(t, eventstore.Position(i+1), e.Position)
		if i < len(old) {
			assert.Equal(t, old[i], e.ID, "old event %d", i)
		}
	}
	sub, err := s.SubscribeAll(ctx, eventstore.Start)
	require.NoError(t, err)
	defer sub.Close()
	for i := range 6 {
		e, err := sub.Recv()
		require.NoError(t, err)
		assert.Equal(t, eventstore.Position(i+1), e.Position)
	}
}

// splitStatements splits SQL at the semicolons that end a line.
func splitStatements(sql string) []string {
	var out []string
	for _, s := range strings.Split(sql, ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
