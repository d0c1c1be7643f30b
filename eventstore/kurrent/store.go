package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/collections-ledger/ledger/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// Store is the KurrentDB engine.
type Store struct {
	client *esdb.Client
	logger *slog.Logger

	mu     sync.RWMutex
	closed bool
}

// Open connects to the KurrentDB server or cluster that connString names
// (esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://). The
// client connects lazily: a server that is down shows on the first call, as
// ErrUnavailable.
func Open(connString string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cs, err := normalizeConnectionString(connString)
	if err != nil {
		return nil, err
	}
	cfg, err := esdb.ParseConnectionString(cs)
	if err != nil {
		return nil, fmt.Errorf("%w: kurrentdb connection string: %v", eventstore.ErrInvalidArgument, err)
	}
	cfg.Logger = func(level esdb.LogLevel, format string, args ...any) {
		if level == esdb.LogError || level == esdb.LogWarn {
			logger.Warn("kurrentdb client: " + fmt.Sprintf(format, args...))
		}
	}
	client, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrInvalidArgument, err)
	}
	return &Store{client: client, logger: logger}, nil
}

func (s *Store) usable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	return nil
}

// Append implements eventstore.Store. If the connection drops while an append
// is in flight, the outcome is unknown and the error is ErrUnavailable;
// retrying with the same event IDs and expected revision is safe, because
// KurrentDB recognises the repeat and answers with the first result.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, expected, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := s.usable(); err != nil {
		return eventstore.AppendResult{}, err
	}
	exp, err := toExpected(expected)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	proposed := make([]esdb.EventData, len(events))
	for i, e := range events {
		proposed[i] = toEventData(e)
	}
	wr, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: exp}, proposed...)
	if err != nil {
		return eventstore.AppendResult{}, translateError(ctx, err)
	}
	res := eventstore.AppendResult{Revision: wr.NextExpectedVersion}
	if len(events) == 1 && wr.CommitPosition == wr.PreparePosition {
		if res.Position, err = fromPosition(esdb.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition}); err == nil {
			return res, nil
		}
	}
	// For several events the response's position is not documented to be
	// the last event's, so read that event back: the result must name the
	// position up to which a reader has to wait.
	last, err := s.ReadStream(ctx, stream, wr.NextExpectedVersion, 1)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("appended, but reading back the last event's position failed: %w", err)
	}
	if len(last) != 1 {
		return eventstore.AppendResult{}, fmt.Errorf("%w: appended up to revision %d of %q, but it cannot be read back", eventstore.ErrUnavailable, wr.NextExpectedVersion, stream)
	}
	res.Position = last[0].Position
	return res, nil
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	if err := s.usable(); err != nil {
		return nil, err
	}
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, uint64(limit))
	if err != nil {
		return nil, translateError(ctx, err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, translateError(ctx, err)
		}
		rec, err := fromRecorded(ev.Event)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
}

// ReadAll implements eventstore.Store. KurrentDB's own events are skipped, so
// a batch may span more of the log than limit events.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateReadLimit(limit); err != nil {
		return nil, err
	}
	if err := s.usable(); err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
	for {
		// A forward read of $all includes the event at its starting
		// position, so ask for one more and skip what is not after `after`.
		got, last, err := s.readAllOnce(ctx, after, limit+1, func(rec eventstore.RecordedEvent) bool {
			if len(out) < limit {
				out = append(out, rec)
			}
			return len(out) < limit
		})
		if err != nil {
			return nil, err
		}
		if len(out) >= limit || got < limit+1 || last <= after {
			return out, nil
		}
		after = last
	}
}

// readAllOnce reads up to count records of $all from after on, hands the
// ledger's events past after to keep until it says stop, and returns how many
// records it read and the last position it saw.
func (s *Store) readAllOnce(ctx context.Context, after eventstore.Position, count int, keep func(eventstore.RecordedEvent) bool) (int, eventstore.Position, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: toPosition(after)}, uint64(count))
	if err != nil {
		return 0, 0, translateError(ctx, err)
	}
	defer rs.Close()
	got, last := 0, after
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return got, last, nil
		}
		if err != nil {
			return 0, 0, translateError(ctx, err)
		}
		got++
		e := ev.OriginalEvent()
		if e.Position.Commit != e.Position.Prepare && isSystem(e.StreamID, e.EventType) {
			continue // a system event from an old explicit transaction
		}
		pos, err := fromPosition(e.Position)
		if err != nil {
			return 0, 0, err
		}
		if pos <= after {
			continue
		}
		last = pos
		if isSystem(e.StreamID, e.EventType) {
			continue
		}
		rec, err := fromRecorded(e)
		if err != nil {
			return 0, 0, err
		}
		if !keep(rec) {
			return got, last, nil
		}
	}
}

// Head implements eventstore.Store: it reads $all backwards past KurrentDB's
// own events to the last of the ledger's.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	var from esdb.AllPosition = esdb.End{}
	for {
		rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, 256)
		if err != nil {
			return 0, translateError(ctx, err)
		}
		n := 0
		var lastSeen *esdb.Position
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return 0, translateError(ctx, err)
			}
			n++
			e := ev.OriginalEvent()
			p := e.Position
			lastSeen = &p
			if !isSystem(e.StreamID, e.EventType) {
				rs.Close()
				return fromPosition(e.Position)
			}
		}
		rs.Close()
		if n < 256 || lastSeen == nil {
			return eventstore.Start, nil
		}
		from = *lastSeen
	}
}

// Close closes the client; later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

// Reconnection backoff of a dropped subscription.
const (
	resubscribeMin = 100 * time.Millisecond
	resubscribeMax = 5 * time.Second
)

// SubscribeAll implements eventstore.Store through the client's SubscribeToAll
// with KurrentDB's system events filtered out on the server.
//
// When the connection drops, the subscription does not end: it subscribes
// again from the last position it delivered, with exponential backoff, until
// its context ends or it is closed, so its reader sees every event exactly
// once and in order across the drop. Recv blocks meanwhile.
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position) (eventstore.Subscription, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	sub := &subscription{s: s, ctx: ctx, cancel: cancel, after: after}
	if err := sub.connect(); err != nil {
		cancel()
		return nil, err
	}
	return sub, nil
}

type subscription struct {
	s      *Store
	ctx    context.Context
	cancel context.CancelFunc
	after  eventstore.Position

	mu     sync.Mutex
	inner  *esdb.Subscription
	closed bool
	err    error
}

func (sub *subscription) connect() error {
	inner, err := sub.s.client.SubscribeToAll(sub.ctx, esdb.SubscribeToAllOptions{
		From:   toPosition(sub.after),
		Filter: esdb.ExcludeSystemEventsFilter(),
	})
	if err != nil {
		return translateError(sub.ctx, err)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		_ = inner.Close()
		return eventstore.ErrClosed
	}
	sub.inner = inner
	return nil
}

func (sub *subscription) Recv() (eventstore.RecordedEvent, error) {
	backoff := resubscribeMin
	for sub.err == nil {
		sub.mu.Lock()
		inner := sub.inner
		sub.mu.Unlock()
		if inner == nil {
			if err := sub.reconnect(&backoff); err != nil {
				sub.err = err
			}
			continue
		}
		ev := inner.Recv()
		switch {
		case ev.EventAppeared != nil:
			e := ev.EventAppeared.OriginalEvent()
			if isSystem(e.StreamID, e.EventType) {
				continue
			}
			rec, err := fromRecorded(e)
			if err != nil {
				sub.err = err
				continue
			}
			if rec.Position <= sub.after {
				continue // the server may repeat the starting position
			}
			sub.after = rec.Position
			backoff = resubscribeMin
			return rec, nil
		case ev.SubscriptionDropped != nil:
			sub.mu.Lock()
			closed := sub.closed
			sub.inner = nil
			sub.mu.Unlock()
			switch {
			case closed:
				sub.err = eventstore.ErrClosed
			case sub.ctx.Err() != nil:
				sub.err = sub.ctx.Err()
			default:
				sub.s.logger.Warn("kurrentdb subscription dropped; resubscribing", "after", sub.after, "err", ev.SubscriptionDropped.Error)
			}
		}
	}
	return eventstore.RecordedEvent{}, sub.err
}

// reconnect waits out the backoff and subscribes again from sub.after.
func (sub *subscription) reconnect(backoff *time.Duration) error {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	select {
	case <-sub.ctx.Done():
		sub.mu.Lock()
		defer sub.mu.Unlock()
		if sub.closed {
			return eventstore.ErrClosed
		}
		return sub.ctx.Err()
	case <-t.C:
	}
	*backoff = min(*backoff*2, resubscribeMax)
	err := sub.connect()
	if errors.Is(err, eventstore.ErrClosed) {
		return err
	}
	if err != nil {
		sub.s.logger.Warn("kurrentdb resubscribe failed; will retry", "after", sub.after, "err", err)
	}
	return nil
}

func (sub *subscription) Close() error {
	sub.mu.Lock()
	sub.closed = true
	inner := sub.inner
	sub.mu.Unlock()
	sub.cancel()
	if inner != nil {
		_ = inner.Close()
	}
	return nil
}
