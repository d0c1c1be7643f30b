package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/collections-ledger/ledger/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// DefaultSchema is the schema the tables go into unless Options.Schema says
// otherwise.
const DefaultSchema = "ledger_eventstore"

// DefaultPollInterval is how often a waiting subscription looks for new events
// when no notification woke it.
const DefaultPollInterval = 200 * time.Millisecond

// DefaultWriteTimeout bounds one group's transaction.
const DefaultWriteTimeout = 30 * time.Second

// DefaultGroupsInFlight is how many groups of appends a Store writes at once.
// On a busy two-core machine one was fastest (each group holds every waiting
// append; more groups are smaller and take turns at the lock); a larger
// machine may do better with more.
const DefaultGroupsInFlight = 1

// Options configure Open. The zero value is usable.
type Options struct {
	// Schema holds the tables; it is created if missing. Lower-case letters,
	// digits and '_', starting with a letter or '_', at most 48 bytes.
	Schema string
	// PollInterval: see DefaultPollInterval.
	PollInterval time.Duration
	// WriteTimeout: see DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Logger receives warnings (a lost LISTEN connection, retries).
	Logger *slog.Logger
	// GroupsInFlight: how many groups of appends the Store writes at once,
	// each on a pooled connection of its own (DefaultGroupsInFlight); at most
	// the pool's size less one, so that reads always find a connection.
	// Unless the connection string sets pool_max_conns, the pool is made
	// large enough for twice as many connections plus two.
	GroupsInFlight int
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// Store is the PostgreSQL engine.
type Store struct {
	pool         *pgxpool.Pool
	connConfig   *pgx.ConnConfig
	logger       *slog.Logger
	pollInterval time.Duration
	writeTimeout time.Duration
	inFlight     int // groups written at once

	schema     string
	events     string // the events table, quoted
	streams    string // the streams table, quoted
	positions  string // the sequence of positions, quoted
	channel    string // the NOTIFY channel
	lockKey    int64  // the advisory lock that orders positions
	sqlRead    string // the columns of a RecordedEvent
	sqlReadAll string // $all below the visibility horizon
	sqlHead    string // the last position below the visibility horizon
	sqlFunc    string // creates the append function
	sqlAppend  string // calls it
	bgCtx      context.Context
	bgCancel   context.CancelFunc

	reqs    chan *appendRequest
	stop    chan struct{}
	stopped chan struct{}
	done    chan struct{} // closed by Close
	// life: Append and SubscribeAll hold it shared while they check closed
	// and queue; Close holds it exclusively.
	life   sync.RWMutex
	closed bool

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced whenever new events may exist

	listening sync.WaitGroup

	groups groupTracker

	notifyOthers chan struct{} // a NOTIFY is due (see notifier)
	notifyEvery  time.Duration // the shortest time between two NOTIFYs
	notifying    sync.WaitGroup
}

// Open connects to the database connString names (a postgres:// or
// postgresql:// URL or a key=value string, with pgxpool's pool_* settings),
// creates the schema and tables if they are missing, and starts the writer and
// the LISTEN connection. Errors: ErrInvalidArgument (a malformed connection
// string or schema name), ErrUnavailable (the server cannot be reached or the
// tables cannot be created).
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if !schemaName.MatchString(opts.Schema) {
		return nil, fmt.Errorf("%w: postgres schema name %q: use lower-case letters, digits and '_' (at most 48)", eventstore.ErrInvalidArgument, opts.Schema)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.GroupsInFlight <= 0 {
		opts.GroupsInFlight = DefaultGroupsInFlight
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("%w: postgres connection string: %v", eventstore.ErrInvalidArgument, err)
	}
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, int32(2*opts.GroupsInFlight+2))
	}
	opts.GroupsInFlight = max(1, min(opts.GroupsInFlight, int(cfg.MaxConns)-1))
	if err := durableSessions(cfg); err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: postgres: %v", eventstore.ErrInvalidArgument, err)
	}
	s := newStore(pool, cfg.ConnConfig, opts)
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	go s.writer()
	s.listening.Add(1)
	go s.listen()
	s.notifying.Add(1)
	go s.notifier()
	return s, nil
}

// durableSessions makes every session commit only after the WAL is flushed:
// synchronous_commit is set to on unless the connection string chose a level,
// and off is refused.
func durableSessions(cfg *pgxpool.Config) error {
	params := cfg.ConnConfig.RuntimeParams
	switch v := strings.ToLower(params["synchronous_commit"]); v {
	case "":
		params["synchronous_commit"] = "on"
	case "off", "false", "no", "0":
		return fmt.Errorf("%w: postgres: synchronous_commit=%s would acknowledge appends before they are durable", eventstore.ErrInvalidArgument, v)
	}
	return nil
}

func newStore(pool *pgxpool.Pool, connConfig *pgx.ConnConfig, opts Options) *Store {
	h := fnv.New64a()
	_, _ = h.Write([]byte("collections-ledger eventstore " + opts.Schema))
	s := &Store{
		pool:         pool,
		connConfig:   connConfig,
		logger:       opts.Logger,
		pollInterval: opts.PollInterval,
		writeTimeout: opts.WriteTimeout,
		inFlight:     opts.GroupsInFlight,
		schema:       opts.Schema,
		events:       pgx.Identifier{opts.Schema, "events"}.Sanitize(),
		streams:      pgx.Identifier{opts.Schema, "streams"}.Sanitize(),
		positions:    pgx.Identifier{opts.Schema, "positions"}.Sanitize(),
		channel:      opts.Schema + "_appended",
		lockKey:      int64(h.Sum64()),
		reqs:         make(chan *appendRequest, maxGroupRequests),
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
		done:         make(chan struct{}),
		notify:       make(chan struct{}),
		notifyOthers: make(chan struct{}, 1),
		notifyEvery:  notifyEvery,
	}
	s.sqlRead = "SELECT position, stream, revision, id, type, data, metadata, recorded_at FROM " + s.events
	// The horizon is the statement's own snapshot's (pg_current_snapshot is
	// the active snapshot, the one the rows are read with).
	s.sqlReadAll = s.sqlRead + " WHERE position > $1 AND xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY position LIMIT $2"
	s.sqlHead = "SELECT coalesce(max(position), 0) FROM " + s.events + " WHERE xid < pg_snapshot_xmin(pg_current_snapshot())"
	s.sqlFunc, s.sqlAppend = s.appendFunctionSQL()
	return s
}

// migrate creates the schema, tables and sequence if they are missing,
// upgrades tables of an earlier version (no xid column: its rows, all
// committed, get xid 0, below every horizon; no sequence: it starts after
// the last position), and (re)creates the append function. Two processes
// opening a database at once are serialized by the advisory lock.
func (s *Store) migrate(ctx context.Context) error {
	schema := pgx.Identifier{s.schema}.Sanitize()
	fn := pgx.Identifier{s.schema, "append_group"}.Sanitize()
	stmts := []string{
		"SELECT pg_advisory_xact_lock($1)",
		"CREATE SCHEMA IF NOT EXISTS " + schema,
		`CREATE TABLE IF NOT EXISTS ` + s.events + ` (
			position    bigint      PRIMARY KEY,
			stream      text        NOT NULL,
			revision    bigint      NOT NULL,
			id          uuid        NOT NULL UNIQUE,
			type        text        NOT NULL,
			data        bytea       NOT NULL,
			metadata    bytea       NOT NULL,
			recorded_at timestamptz NOT NULL DEFAULT now(),
			xid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
			UNIQUE (stream, revision)
		)`,
		// Only when missing: ALTER TABLE locks the table exclusively, even
		// when it changes nothing, and other processes may be using it. A
		// constant default: the table is not rewritten.
		`DO $$ BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '` + s.events + `'::regclass
				AND attname = 'xid' AND NOT attisdropped) THEN
				ALTER TABLE ` + s.events + ` ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
				ALTER TABLE ` + s.events + ` ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
			END IF;
		END $$`,
		`CREATE TABLE IF NOT EXISTS ` + s.streams + ` (
			stream   text   PRIMARY KEY,
			revision bigint NOT NULL
		)`,
		"CREATE SEQUENCE IF NOT EXISTS " + s.positions + " MINVALUE 0 START 0",
		"SELECT setval('" + s.positions + "', greatest((SELECT coalesce(max(position), 0) FROM " + s.events +
			"), (SELECT last_value FROM " + s.positions + ")), true)",
		// The first version's function (another signature, and it held
		// the lock until commit).
		"DROP FUNCTION IF EXISTS " + fn + "(" + oldAppendFunctionArgs + ")",
		s.sqlFunc,
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for i, q := range stmts {
			var args []any
			if i == 0 {
				args = []any{s.lockKey}
			}
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("creating the event store's tables in schema %q: %w", s.schema, translate(ctx, err))
	}
	var fsync string
	if err := s.pool.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err == nil && fsync != "on" {
		s.logger.Warn("postgres event store: the server runs with fsync off: a crash of its machine can lose acknowledged appends")
	}
	return nil
}

func (s *Store) usable() error {
	if s.closed {
		return eventstore.ErrClosed
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.life.RLock()
	defer s.life.RUnlock()
	return s.closed
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	if from > maxInt64 {
		from = maxInt64
	}
	out, err := s.query(ctx, s.sqlRead+" WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3", stream, int64(from), limit)
	if err != nil || len(out) > 0 {
		return out, err
	}
	var one int
	err = s.pool.QueryRow(ctx, "SELECT 1 FROM "+s.streams+" WHERE stream = $1", stream).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", eventstore.ErrStreamNotFound, stream)
	}
	if err != nil {
		return nil, translate(ctx, err)
	}
	return out, nil
}

const maxInt64 = 1<<63 - 1

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	if s.isClosed() {
		return nil, eventstore.ErrClosed
	}
	if after > maxInt64 {
		return nil, nil
	}
	return s.query(ctx, s.sqlReadAll, int64(after), limit)
}

func (s *Store) query(ctx context.Context, sql string, args ...any) ([]eventstore.RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(ctx, err)
	}
	defer rows.Close()
	var out []eventstore.RecordedEvent
	for rows.Next() {
		var (
			e        eventstore.RecordedEvent
			pos, rev int64
			id       [16]byte
		)
		if err := rows.Scan(&pos, &e.Stream, &rev, &id, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt); err != nil {
			return nil, fmt.Errorf("%w: decoding an event: %v", eventstore.ErrCorrupt, err)
		}
		if pos <= 0 || rev < 0 {
			return nil, fmt.Errorf("%w: event at position %d has revision %d", eventstore.ErrCorrupt, pos, rev)
		}
		e.Position, e.Revision, e.ID = eventstore.Position(pos), uint64(rev), uuid.UUID(id)
		e.RecordedAt = e.RecordedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err)
	}
	return out, nil
}

// Head implements eventstore.Store.
// DensePositions: positions are 1, 2, 3, … (see eventstore.Dense).
func (s *Store) DensePositions() bool { return true }

func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if s.isClosed() {
		return 0, eventstore.ErrClosed
	}
	var head int64
	if err := s.pool.QueryRow(ctx, s.sqlHead).Scan(&head); err != nil {
		return 0, translate(ctx, err)
	}
	return eventstore.Position(head), nil
}

// Close waits for the appends in flight, stops the writer and the LISTEN
// connection and closes the pool; later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	close(s.stop)
	s.life.Unlock()
	<-s.stopped
	s.bgCancel()
	s.listening.Wait()
	s.notifying.Wait()
	s.pool.Close()
	return nil
}

// waitChan returns a channel closed the next time new events may exist.
func (s *Store) waitChan() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// wake wakes every waiting subscription.
func (s *Store) wake() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}
