package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/collections-ledger/ledger/eventstore"
)

// Bounds of one group commit.
const (
	maxGroupRequests = 512
	maxGroupBytes    = 32 << 20
)

type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	size     int

	// Set by the writer.
	writes bool // its events are in the group's transaction
	result eventstore.AppendResult
	err    error
	done   chan struct{}
}

func (r *appendRequest) answer() { close(r.done) }

// Append implements eventstore.Store. Once the append is queued, Append waits
// for the writer's answer even if ctx ends (the writer leaves out appends
// whose context ended before it took them, answering with the context's
// error), so the caller always learns whether the events were written. While
// every pooled connection is busy, the writer waits for one as long as the
// queued append with the earliest deadline allows, then answers those whose
// context ended with ErrUnavailable wrapping the context's error.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	req := &appendRequest{ctx: ctx, stream: stream, expected: expected, events: events, done: make(chan struct{})}
	for _, e := range events {
		req.size += len(e.Data) + len(e.Metadata)
	}
	s.life.RLock()
	if err := s.usable(); err != nil {
		s.life.RUnlock()
		return eventstore.AppendResult{}, err
	}
	select {
	case s.reqs <- req:
		s.life.RUnlock()
	case <-ctx.Done():
		s.life.RUnlock()
		return eventstore.AppendResult{}, fmt.Errorf("%w: postgres: queued append: %w", eventstore.ErrUnavailable, ctx.Err())
	}
	<-req.done
	return req.result, req.err
}

// writer is the one goroutine of this Store that writes: it takes every
// queued append (up to the group bounds) and commits them together.
func (s *Store) writer() {
	defer close(s.stopped)
	var group []*appendRequest
	stopping, answered := false, 0
	for {
		if len(group) == 0 {
			if stopping {
				return
			}
			select {
			case req := <-s.reqs:
				group = append(group, req)
			case <-s.stop:
				// Close holds life exclusively: nothing new can be
				// queued, so finish what is left and exit.
				stopping = true
			}
		}
		group = s.drain(group)
		if !stopping {
			group = s.gather(group, answered)
		}
		answered = 0
		if len(group) > 0 {
			n := len(group)
			group = s.commit(group)
			answered = n - len(group)
		}
	}
}

// drain adds the queued appends to group, up to the group bounds.
func (s *Store) drain(group []*appendRequest) []*appendRequest {
	size := 0
	for _, r := range group {
		size += r.size
	}
	for len(group) < maxGroupRequests && size < maxGroupBytes {
		select {
		case req := <-s.reqs:
			group = append(group, req)
			size += req.size
		default:
			return group
		}
	}
	return group
}

// gatherWait bounds how long the writer waits for the callers it just
// answered to come back before it starts the next group.
const gatherWait = 300 * time.Microsecond

// gather waits, at most gatherWait, until group holds as many appends as the
// previous group answered (or the group bounds). Callers that keep appending
// (a busy server's requests) come back microseconds after their answer; a
// group started without them would hold only the appends queued during the
// previous commit, and they would wait a whole commit for the next one. Under
// load this doubles the group size at the cost of a fraction of a
// millisecond; a lone writer (the previous group answered one append) never
// waits.
func (s *Store) gather(group []*appendRequest, answered int) []*appendRequest {
	if len(group) >= answered || len(group) >= maxGroupRequests {
		return group
	}
	t := time.NewTimer(gatherWait)
	defer t.Stop()
	for len(group) < answered && len(group) < maxGroupRequests {
		select {
		case req := <-s.reqs:
			group = append(group, req)
		case <-t.C:
			return s.drain(group)
		}
	}
	return s.drain(group)
}

// commit writes one group and answers its appends. It returns the appends
// still waiting for a connection, to be tried again with the next group.
func (s *Store) commit(group []*appendRequest) []*appendRequest {
	conn, rest := s.acquire(group)
	if conn == nil {
		return rest
	}
	live := rest[:0:0]
	for _, req := range rest {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			req.answer()
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		conn.Release()
		return nil
	}
	ctx, cancel := context.WithTimeout(s.bgCtx, s.writeTimeout)
	began := time.Now()
	err := s.writeGroup(ctx, conn, live)
	cancel()
	conn.Release()
	if err != nil && errors.Is(err, eventstore.ErrConcurrency) && len(live) > 1 {
		// Someone wrote to the tables without the lock: find the
		// offender by writing the group's appends one at a time.
		for _, req := range live {
			req.writes, req.err, req.result = false, nil, eventstore.AppendResult{}
			for left := []*appendRequest{req}; len(left) > 0; {
				left = s.commit(left)
			}
		}
		return nil
	}
	if err != nil && errors.Is(err, eventstore.ErrConcurrency) {
		err = s.conflict(live[0], err)
	} else if err != nil {
		s.logger.Warn("postgres event store: group commit failed", "appends", len(live), "after", time.Since(began), "err", err)
	}
	for _, req := range live {
		if err != nil && (req.writes || req.err == nil) {
			req.result, req.err = eventstore.AppendResult{}, err
		}
		req.answer()
	}
	if err == nil {
		s.wake()
	}
	return nil
}

// conflict details a unique violation met by req alone (another program
// wrote to the tables without the lock) as a *eventstore.ConcurrencyError with
// the stream's revision as it is now.
func (s *Store) conflict(req *appendRequest, cause error) error {
	ctx, cancel := context.WithTimeout(s.bgCtx, s.writeTimeout)
	defer cancel()
	var rev int64
	err := s.pool.QueryRow(ctx, "SELECT max(revision) FROM "+s.events+" WHERE stream = $1", req.stream).Scan(&rev)
	if err != nil {
		// No revision to tell (or no way to read it): the cause says
		// ErrConcurrency already.
		return cause
	}
	return &eventstore.ConcurrencyError{Stream: req.stream, Expected: req.expected, Actual: uint64(rev), Exists: true}
}

// acquire takes a pooled connection for group, waiting as long as the
// earliest deadline among its appends allows. When none comes, the appends
// whose context ended are answered and the others returned for another try;
// when the server cannot be reached, all are answered with ErrUnavailable.
func (s *Store) acquire(group []*appendRequest) (*pgxpool.Conn, []*appendRequest) {
	ctx := group[0].ctx
	var earliest time.Time
	for _, req := range group {
		if d, ok := req.ctx.Deadline(); ok && (earliest.IsZero() || d.Before(earliest)) {
			ctx, earliest = req.ctx, d
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err == nil {
		return conn, group
	}
	waited := ctx.Err() != nil
	keep := group[:0:0]
	for _, req := range group {
		switch {
		case req.ctx.Err() != nil:
			req.err = fmt.Errorf("%w: postgres: waiting for a connection: %w", eventstore.ErrUnavailable, req.ctx.Err())
			req.answer()
		case waited:
			keep = append(keep, req)
		default:
			req.err = translate(req.ctx, err)
			req.answer()
		}
	}
	return nil, keep
}

type streamState struct {
	rev    uint64
	exists bool
}

// storedEvent is where an event ID is stored already.
type storedEvent struct {
	stream   string
	revision uint64
	position eventstore.Position
}

// groupState is what the writer reads under the lock before deciding.
type groupState struct {
	head    eventstore.Position
	streams map[string]streamState
	ids     map[uuid.UUID]storedEvent
}

// writeGroup writes group with the append function (one round trip) or, when
// the function leaves it (a retried event ID), with writeGroupTx.
func (s *Store) writeGroup(ctx context.Context, conn *pgxpool.Conn, group []*appendRequest) error {
	if done, err := s.appendGroup(ctx, conn, group); done {
		return err
	}
	return s.writeGroupTx(ctx, conn, group)
}

// writeGroupTx takes the lock, reads the state the group's appends depend on
// (the stored events of its event IDs among it), decides each append in Go,
// and writes and commits those that may be written. It takes two round trips
// and the commit's flush: BEGIN and the reads go in one pipeline, the writes
// and COMMIT in another.
func (s *Store) writeGroupTx(ctx context.Context, conn *pgxpool.Conn, group []*appendRequest) error {
	pc := conn.Conn()
	committed := false
	defer func() {
		if !committed && !pc.IsClosed() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := pc.Exec(rctx, "ROLLBACK"); err != nil {
				_ = pc.Close(rctx) // the pool replaces a connection it cannot trust
			}
		}
	}()
	st, err := s.readState(ctx, pc, group)
	if err != nil {
		return err
	}
	rows := s.decide(group, st)
	if len(rows.position) == 0 {
		return nil // nothing to write: refusals and repeats only
	}
	b := &pgx.Batch{}
	// The time is the INSERT's, taken under the lock, so that it does not
	// go back along $all the way the transaction's start time could.
	b.Queue(`INSERT INTO `+s.events+` (position, stream, revision, id, type, data, metadata, recorded_at)
		SELECT u.*, statement_timestamp() FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::bytea[], $7::bytea[]) AS u`,
		rows.position, rows.stream, rows.revision, rows.id, rows.typ, rows.data, rows.metadata)
	b.Queue(`INSERT INTO `+s.streams+` (stream, revision) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision`, rows.headStreams, rows.headRevisions)
	b.Queue("SELECT pg_notify($1, $2)", s.channel, strconv.FormatInt(rows.position[len(rows.position)-1], 10))
	b.Queue("COMMIT")
	if err := pc.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%w (if the connection dropped, the outcome is unknown: retrying with the same event IDs is safe)", translate(ctx, err))
	}
	committed = true
	return nil
}

// readState begins the transaction, takes the position lock and reads the head, the group's streams'
// revisions and where any of its event IDs are stored, in one round trip.
func (s *Store) readState(ctx context.Context, conn *pgx.Conn, group []*appendRequest) (groupState, error) {
	st := groupState{streams: map[string]streamState{}, ids: map[uuid.UUID]storedEvent{}}
	var streams []string
	var ids [][16]byte
	seen := map[string]bool{}
	for _, req := range group {
		if !seen[req.stream] {
			seen[req.stream] = true
			streams = append(streams, req.stream)
		}
		for _, e := range req.events {
			ids = append(ids, e.ID)
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.lockKey)
	b.Queue("SELECT coalesce(max(position), 0) FROM " + s.events)
	b.Queue("SELECT stream, revision FROM "+s.streams+" WHERE stream = ANY($1::text[])", streams)
	b.Queue("SELECT id, stream, revision, position FROM "+s.events+" WHERE id = ANY($1::uuid[])", ids)
	br := conn.SendBatch(ctx, b)
	err := s.scanState(br, &st)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, translate(ctx, err)
	}
	return st, nil
}

func (s *Store) scanState(br pgx.BatchResults, st *groupState) error {
	for range 2 { // BEGIN, the lock
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	var head int64
	if err := br.QueryRow().Scan(&head); err != nil {
		return err
	}
	st.head = eventstore.Position(head)
	var (
		stream   string
		rev, pos int64
		id       [16]byte
	)
	rows, err := br.Query()
	if err != nil {
		return err
	}
	if _, err := pgx.ForEachRow(rows, []any{&stream, &rev}, func() error {
		st.streams[stream] = streamState{rev: uint64(rev), exists: true}
		return nil
	}); err != nil {
		return err
	}
	rows, err = br.Query()
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, []any{&id, &stream, &rev, &pos}, func() error {
		st.ids[uuid.UUID(id)] = storedEvent{stream: stream, revision: uint64(rev), position: eventstore.Position(pos)}
		return nil
	})
	return err
}
