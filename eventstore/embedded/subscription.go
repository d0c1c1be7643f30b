package embedded

import (
	"context"
	"sync/atomic"

	"github.com/collections-ledger/ledger/eventstore"
)

// subscriptionBatch is how many events a subscription reads from disk at a
// time; it bounds a subscription's memory.
const subscriptionBatch = 512

// subscription pulls committed events from Pebble in batches. Writers never
// hand events to it: they only close a broadcast channel on each commit. So a
// slow subscriber costs the writers nothing and holds one batch in memory, and
// catching up on history and following live events are the same loop.
type subscription struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	after  eventstore.Position
	buf    []eventstore.RecordedEvent
	err    error
}

// SubscribeAll implements eventstore.Store.
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
		// Take the wake-up channel before reading, so a commit that lands
		// between the read and the wait is not missed.
		wake := sub.s.waitChan()
		batch, err := sub.s.ReadAll(sub.ctx, sub.after, subscriptionBatch)
		if err != nil {
			sub.fail(err)
			break
		}
		if len(batch) > 0 {
			sub.buf = batch
			continue
		}
		select {
		case <-wake:
		case <-sub.s.broken:
			// The engine stopped: the next read says so.
		case <-sub.s.done:
			sub.fail(eventstore.ErrClosed)
		case <-sub.ctx.Done():
			sub.fail(sub.ctx.Err())
		}
	}
	return eventstore.RecordedEvent{}, sub.err
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
