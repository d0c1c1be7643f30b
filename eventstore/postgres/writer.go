package postgres

import (
	"context"
	"errors"
	"fmt"
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
	writes    bool // its events are in the group's transaction
	redecided int  // times it was decided again after a conflict
	result    eventstore.AppendResult
	err       error
	done      chan struct{}
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

// maxQueued bounds the appends the writer holds queued; beyond it Append
// waits to queue.
const maxQueued = 4 * maxGroupRequests

// writer is the one goroutine of this Store that forms groups. It queues
// every append and, whenever fewer than s.inFlight groups are being written,
// takes the queued appends (up to the group bounds) whose streams no group in
// flight holds, and writes them as a group on a goroutine of its own: groups
// commit concurrently, each on its own connection. An append to a stream that
// a group in flight holds stays queued (and so do the later ones to that
// stream) until that group is answered, so that every expected revision is
// decided against the stream as the earlier appends left it. After a group
// is answered, the next one waits a little for those callers (see
// gatherWait).
func (s *Store) writer() {
	defer close(s.stopped)
	var (
		queue    []*appendRequest
		busy     = map[string]int{}
		running  int
		finished = make(chan []*appendRequest, s.inFlight)
		stop     = s.stop
		// want: how many appends the last group answered, and until when
		// the next group waits for that many to be queued.
		want        int
		gatherUntil time.Time
		gather      = time.NewTimer(time.Hour)
	)
	defer gather.Stop()
	for {
		if want > len(queue) && stop != nil {
			if d := time.Until(gatherUntil); d > 0 {
				gather.Reset(d)
			} else {
				want = 0
			}
		}
		for running < s.inFlight && (want <= len(queue) || stop == nil) {
			want = 0
			var group []*appendRequest
			group, queue = pick(queue, busy)
			if len(group) == 0 {
				break
			}
			for _, req := range group {
				busy[req.stream]++
			}
			running++
			go func() {
				for left := group; len(left) > 0; {
					left = s.commit(left)
				}
				finished <- group
			}()
		}
		if stop == nil && running == 0 && len(queue) == 0 {
			return
		}
		reqs := s.reqs
		if len(queue) >= maxQueued {
			reqs = nil
		}
		select {
		case req := <-reqs:
			queue = s.drain(append(queue, req), maxQueued)
		case group := <-finished:
			running--
			for _, req := range group {
				if busy[req.stream]--; busy[req.stream] == 0 {
					delete(busy, req.stream)
				}
			}
			want, gatherUntil = min(len(group), maxGroupRequests), time.Now().Add(gatherWait)
		case <-gather.C:
			want = 0
		case <-stop:
			// Close holds life exclusively: nothing new can be queued, so
			// finish what is left and exit.
			stop = nil
			queue = s.drain(queue, -1)
		}
	}
}

// gatherWait bounds how long the next group waits for the callers the last
// group answered to come back. Callers that keep appending (a busy server's
// requests) come back microseconds after their answer; a group started
// without them would hold only the appends queued meanwhile, and they would
// wait for the next one. A lone writer (the last group answered one append)
// never waits.
const gatherWait = 300 * time.Microsecond

// drain adds the queued appends to queue, up to limit (none if negative).
func (s *Store) drain(queue []*appendRequest, limit int) []*appendRequest {
	for limit < 0 || len(queue) < limit {
		select {
		case req := <-s.reqs:
			queue = append(queue, req)
		default:
			return queue
		}
	}
	return queue
}

// pick takes from queue, in order and up to the group bounds, the appends
// whose streams are not busy (held by a group in flight), one per stream, and
// returns them and the rest, in order. An append to a stream it leaves holds
// back every later append to that stream.
func pick(queue []*appendRequest, busy map[string]int) (group, rest []*appendRequest) {
	held := map[string]bool{}
	size := 0
	for i, req := range queue {
		if len(group) >= maxGroupRequests || size >= maxGroupBytes {
			return group, append(rest, queue[i:]...)
		}
		if busy[req.stream] > 0 || held[req.stream] {
			rest = append(rest, req)
			continue
		}
		held[req.stream] = true // taken: a second one waits for the next group
		group = append(group, req)
		size += req.size
	}
	return group, rest
}

// commit writes one group and answers its appends once the visibility
// horizon has passed its transaction. It returns the appends still waiting
// for a connection, to be tried again.
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
	defer cancel()
	began := time.Now()
	seq := s.groups.begin()
	txn, err := s.writeGroup(ctx, conn, live)
	others := s.groups.end(seq, txn.xid, err == nil)
	s.wake()
	if err != nil {
		discard(conn)
	} else {
		s.awaitOlder(ctx, conn, txn, others)
		conn.Release()
	}
	if err != nil && errors.Is(err, eventstore.ErrConcurrency) && (len(live) > 1 || live[0].redecided < maxRedecide) {
		// Another process wrote to one of the group's streams after this
		// group read it (the insert met its uncommitted row and waited
		// for its commit), or another program wrote to the tables: decide
		// again, one append at a time, against the stream as it is now.
		s.logger.Debug("postgres event store: a group met a row written meanwhile; deciding its appends again, one at a time", "appends", len(live), "err", err)
		for _, req := range live {
			req.writes, req.err, req.result = false, nil, eventstore.AppendResult{}
			if len(live) == 1 {
				req.redecided++
			}
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
	wrote := false
	for _, req := range live {
		if err != nil && (req.writes || req.err == nil) {
			req.result, req.err = eventstore.AppendResult{}, err
		}
		wrote = wrote || req.writes && req.err == nil
		req.answer()
	}
	if err == nil {
		s.wake()
	}
	if wrote {
		s.notifyOtherProcesses()
	}
	return nil
}

// maxRedecide bounds how many times one append that met a unique violation
// is decided again before it is refused (a row another program wrote without
// the lock would make it meet the violation for ever).
const maxRedecide = 3

// discard closes a connection whose group failed instead of returning it to
// the pool (which then replaces it): its session may still hold the position
// lock, a session-level lock that outlives the transaction. The server
// releases the session's locks when it ends.
func discard(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Conn().Close(ctx)
	conn.Release()
}

// horizonWait bounds how long a committed group's answer waits for the
// visibility horizon to pass its transaction.
const horizonWait = time.Second

// sqlHorizon reads the visibility horizon: the oldest transaction still in
// flight on the server.
const sqlHorizon = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

// awaitOlder waits until the older transactions txn saw in flight are done,
// so that its positions are readable (by ReadAll, Head and subscriptions, of
// any process) when Append returns: often they are groups of this Store,
// which it learns about without asking the server. When one of them is not
// (another process's, or a group that failed), it asks the server once the
// groups of this Store that were in flight when txn committed (others) are
// done (see awaitHorizon).
func (s *Store) awaitOlder(ctx context.Context, conn *pgxpool.Conn, txn txnInfo, others map[uint64]struct{}) {
	for {
		wake := s.waitChan()
		done, othersDone := s.groups.resolved(txn.older, others)
		if done {
			return
		}
		if othersDone {
			s.awaitHorizon(ctx, conn, txn.xid)
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// awaitHorizon waits until the visibility horizon has passed transaction xid,
// so that the positions the group answers are readable (by ReadAll, Head and
// subscriptions, of any process) when Append returns: a transaction of a group
// that took the position lock earlier (of this Store or of another process)
// may still be committing. It rechecks whenever a group of this Store
// commits, and otherwise after a pause growing to 2 ms. After horizonWait (a
// transaction elsewhere on the server holds the horizon back) it logs a
// warning and gives up: the appends are committed, and become readable when
// that transaction ends.
func (s *Store) awaitHorizon(ctx context.Context, conn *pgxpool.Conn, xid int64) {
	deadline := time.Now().Add(horizonWait)
	pause := 100 * time.Microsecond
	for {
		wake := s.waitChan()
		var horizon int64
		if err := conn.QueryRow(ctx, sqlHorizon).Scan(&horizon); err != nil {
			s.logger.Warn("postgres event store: reading the visibility horizon after a commit failed; the appends are committed", "err", err)
			return
		}
		if horizon > xid {
			return
		}
		if time.Now().After(deadline) {
			s.logger.Warn("postgres event store: the visibility horizon lags: a transaction older than a committed group is still running on the server, and readers wait for it (a long transaction holds them back)",
				"xid", xid, "horizon", horizon, "waited", horizonWait)
			return
		}
		t := time.NewTimer(pause)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		pause = min(2*pause, 2*time.Millisecond)
	}
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

// txnInfo is what a group's transaction tells about the visibility horizon.
type txnInfo struct {
	xid int64 // the transaction's ID
	// The older transactions in flight while it held the lock: once they
	// and it are done, its events are readable.
	older []int64
}

// groupState is what the writer reads under the lock before deciding.
type groupState struct {
	txn     txnInfo
	head    eventstore.Position // the last position handed out
	streams map[string]streamState
	ids     map[uuid.UUID]storedEvent
}

// writeGroup writes group with the append function (one round trip) or, when
// the function leaves it (a retried event ID), with writeGroupTx. On an
// error the connection must be discarded.
func (s *Store) writeGroup(ctx context.Context, conn *pgxpool.Conn, group []*appendRequest) (txnInfo, error) {
	if done, txn, err := s.appendGroup(ctx, conn, group); done {
		return txn, err
	}
	return s.writeGroupTx(ctx, conn, group)
}

// writeGroupTx takes the lock, reads the state the group's appends depend on
// (the stored events of its event IDs among it), decides each append in Go,
// and writes and commits those that may be written. It takes two round trips
// and the commit's flush: BEGIN and the reads go in one pipeline, the writes,
// the release of the lock and COMMIT in another. On an error the connection
// must be discarded (it may hold the lock).
func (s *Store) writeGroupTx(ctx context.Context, conn *pgxpool.Conn, group []*appendRequest) (txnInfo, error) {
	pc := conn.Conn()
	st, err := s.readState(ctx, pc, group)
	if err != nil {
		return txnInfo{}, err
	}
	rows := s.decide(group, st)
	b := &pgx.Batch{}
	if len(rows.position) == 0 {
		// Nothing to write: refusals and repeats only.
		b.Queue("ROLLBACK")
		b.Queue("SELECT pg_advisory_unlock($1)", s.lockKey)
		if err := pc.SendBatch(ctx, b).Close(); err != nil {
			return txnInfo{}, translate(ctx, err)
		}
		return st.txn, nil
	}
	// The time is the INSERT's, taken under the lock, so that it does not
	// go back along $all the way the transaction's start time could.
	b.Queue(`INSERT INTO `+s.events+` (position, stream, revision, id, type, data, metadata, recorded_at, xid)
		SELECT u.*, statement_timestamp(), pg_current_xact_id() FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::bytea[], $7::bytea[]) AS u`,
		rows.position, rows.stream, rows.revision, rows.id, rows.typ, rows.data, rows.metadata)
	b.Queue(`INSERT INTO `+s.streams+` (stream, revision) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision`, rows.headStreams, rows.headRevisions)
	last := rows.position[len(rows.position)-1]
	b.Queue("SELECT setval($1::text::regclass, $2, true)", s.positions, last)
	b.Queue("SELECT pg_advisory_unlock($1)", s.lockKey)
	b.Queue("COMMIT")
	if err := pc.SendBatch(ctx, b).Close(); err != nil {
		return txnInfo{}, fmt.Errorf("%w (if the connection dropped, the outcome is unknown: retrying with the same event IDs is safe)", translate(ctx, err))
	}
	return st.txn, nil
}

// readState begins the transaction, takes the position lock, has the
// transaction's ID assigned and reads the last position handed out, the
// group's streams' revisions and where any of its event IDs are stored, in
// one round trip.
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
	b.Queue("SELECT pg_advisory_lock($1)", s.lockKey)
	b.Queue("SELECT pg_current_xact_id()::text::bigint")
	// A statement of its own: its snapshot is taken after the ID is.
	b.Queue(sqlOlder)
	b.Queue("SELECT last_value FROM " + s.positions)
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
	if err := br.QueryRow().Scan(&st.txn.xid); err != nil {
		return err
	}
	if err := br.QueryRow().Scan(&st.txn.older); err != nil {
		return err
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
