package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collections-ledger/ledger/eventstore"
)

// subscriptionBatch is how many events a subscription reads at a time; it
// bounds a subscription's memory.
const subscriptionBatch = 512

// Backoff of a subscription, and of the LISTEN connection, while the database
// cannot be reached.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// listen keeps one connection (outside the pool, so that a busy pool never
// silences it) listening on the store's channel, and wakes the subscriptions
// on every notification (see notifier). It reconnects with backoff until Close.
func (s *Store) listen() {
	defer s.listening.Done()
	backoff := retryMin
	for s.bgCtx.Err() == nil {
		err := s.listenOnce(func() { backoff = retryMin })
		if s.bgCtx.Err() != nil {
			return
		}
		s.logger.Warn("postgres event store: LISTEN connection lost; subscriptions poll meanwhile", "retry_in", backoff, "err", err)
		select {
		case <-s.bgCtx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, retryMax)
	}
}

func (s *Store) listenOnce(connected func()) error {
	conn, err := pgx.ConnectConfig(s.bgCtx, s.connConfig.Copy())
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(s.bgCtx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	s.wake() // events may have been committed while nobody listened
	for {
		if _, err := conn.WaitForNotification(s.bgCtx); err != nil {
			return err
		}
		s.wake()
	}
}

// notifier sends the NOTIFY that wakes the subscriptions of other processes
// after a group of this Store commits, at once when none was sent in the
// last notifyEvery, else notifyEvery after the last one (the groups that
// commit meanwhile are all covered by it), in a transaction of its own that
// commits without waiting for its WAL flush (synchronous_commit off: it
// writes nothing that must last). The groups themselves do not notify:
// PostgreSQL serializes the commits of notifying transactions with a lock
// held until each commit is flushed, which would make the groups' commits
// wait for one another again. A notification lost (this process stopping
// right after a commit, a dropped connection) is made up for by polling.
func (s *Store) notifier() {
	defer s.notifying.Done()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-s.notifyOthers:
		}
		sent := time.Now()
		ctx, cancel := context.WithTimeout(s.bgCtx, s.writeTimeout)
		_, err := s.pool.Exec(ctx, "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')", s.channel)
		cancel()
		if err != nil && s.bgCtx.Err() == nil {
			s.logger.Warn("postgres event store: NOTIFY failed; other processes' subscriptions poll meanwhile", "err", err)
		}
		pause := time.NewTimer(s.notifyEvery - time.Since(sent))
		select {
		case <-s.bgCtx.Done():
			pause.Stop()
			return
		case <-pause.C:
		}
	}
}

// notifyEvery is the shortest time between two NOTIFYs of a Store (a
// variable for tests; a Store reads it when opened). Under load a group
// commits every few milliseconds, and a NOTIFY after each took 5–17% of the
// appends at 64 writers (docs/PERFORMANCE.md); other processes' subscriptions
// learn of new events at most this much later, this process's own at once
// (the writer wakes them).
var notifyEvery = 10 * time.Millisecond

// notifyOtherProcesses asks the notifier for a NOTIFY.
func (s *Store) notifyOtherProcesses() {
	select {
	case s.notifyOthers <- struct{}{}:
	default: // one is due already
	}
}

// subscription pulls committed events in batches; catching up on history and
// following live events are the same loop.
type subscription struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	after  eventstore.Position
	buf    []eventstore.RecordedEvent
	err    error
}

// SubscribeAll implements eventstore.Store. While the database cannot be
// reached the subscription retries with backoff (Recv blocks meanwhile).
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return &subscription{s: s, ctx: ctx, cancel: cancel, after: after}, nil
}

func (sub *subscription) Recv() (eventstore.RecordedEvent, error) {
	backoff := retryMin
	for sub.err == nil {
		if len(sub.buf) > 0 {
			e := sub.buf[0]
			sub.buf = sub.buf[1:]
			sub.after = e.Position
			return e, nil
		}
		if err := sub.ctx.Err(); err != nil {
			sub.fail(err)
			break
		}
		// Take the wake-up channel before reading, so that a commit
		// landing between the read and the wait is not missed.
		wake := sub.s.waitChan()
		batch, err := sub.s.ReadAll(sub.ctx, sub.after, subscriptionBatch)
		wait := sub.s.pollInterval
		switch {
		case err == nil && len(batch) > 0:
			sub.buf, backoff = batch, retryMin
			continue
		case err == nil:
			backoff = retryMin
		case errors.Is(err, eventstore.ErrUnavailable) && sub.ctx.Err() == nil:
			sub.s.logger.Warn("postgres event store: subscription read failed; retrying", "after", sub.after, "retry_in", backoff, "err", err)
			wait, wake = backoff, nil
			backoff = min(backoff*2, retryMax)
		default:
			if cerr := sub.ctx.Err(); cerr != nil {
				err = cerr // the context's own error, unwrapped
			}
			sub.fail(err)
			continue
		}
		sub.wait(wake, wait)
	}
	return eventstore.RecordedEvent{}, sub.err
}

// wait blocks until wake, the poll interval, Close of the store or the end of
// the subscription.
func (sub *subscription) wait(wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
	case <-sub.s.done:
		sub.fail(eventstore.ErrClosed)
	case <-sub.ctx.Done():
		sub.fail(sub.ctx.Err())
	}
}

// fail finishes the subscription; after Close the error is always ErrClosed.
func (sub *subscription) fail(err error) {
	if sub.closed.Load() {
		err = eventstore.ErrClosed
	}
	sub.err = err
	sub.buf = nil
}

func (sub *subscription) Close() error {
	sub.closed.Store(true)
	sub.cancel()
	return nil
}
