package journal

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
)

// LastEvent returns a stream's last event, found with O(log n) reads
// (exponential probing, then a binary search), since the store reads streams
// forward only. found is false for a stream with no events.
func LastEvent(ctx context.Context, store eventstore.Store, stream string) (eventstore.RecordedEvent, bool, error) {
	at := func(rev uint64) (eventstore.RecordedEvent, bool, error) {
		recs, err := store.ReadStream(ctx, stream, rev, 1)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return eventstore.RecordedEvent{}, false, nil
		}
		if err != nil || len(recs) == 0 {
			return eventstore.RecordedEvent{}, false, err
		}
		return recs[0], true, nil
	}
	first, ok, err := at(0)
	if err != nil || !ok {
		return first, ok, err
	}
	lo, last := uint64(0), first // lo exists
	hi := uint64(1)
	for {
		rec, ok, err := at(hi)
		if err != nil {
			return rec, false, err
		}
		if !ok {
			break
		}
		lo, last = hi, rec
		hi *= 2
	}
	for hi-lo > 1 { // lo exists, hi does not
		mid := lo + (hi-lo)/2
		rec, ok, err := at(mid)
		if err != nil {
			return rec, false, err
		}
		if ok {
			lo, last = mid, rec
		} else {
			hi = mid
		}
	}
	return last, true, nil
}

// AppendSystem appends one event to a stream that is not a placement's (a
// creditor's webhook configuration, its delivery progress), chained to the
// stream's last event like every event the ledger writes, and retried when
// another writer got there first.
func AppendSystem(ctx context.Context, store eventstore.Store, stream, actor, actorType, eventType string, payload any, at time.Time) (eventstore.AppendResult, error) {
	return appendSystem(ctx, store, stream, actor, actorType, eventType, payload, at, false)
}

// CreateSystem appends the first event of a stream that is not a
// placement's; eventstore.ErrConcurrency when the stream exists already.
func CreateSystem(ctx context.Context, store eventstore.Store, stream, actor, actorType, eventType string, payload any, at time.Time) (eventstore.AppendResult, error) {
	return appendSystem(ctx, store, stream, actor, actorType, eventType, payload, at, true)
}

func appendSystem(ctx context.Context, store eventstore.Store, stream, actor, actorType, eventType string, payload any, at time.Time, create bool) (eventstore.AppendResult, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var last *eventstore.RecordedEvent
		if !create {
			rec, exists, err := LastEvent(ctx, store, stream)
			if err != nil {
				return eventstore.AppendResult{}, err
			}
			if exists {
				last = &rec
			}
		}
		rec, err := AppendAfter(ctx, store, stream, last, actor, actorType, eventType, payload, at)
		if errors.Is(err, eventstore.ErrConcurrency) && !create {
			continue
		}
		return eventstore.AppendResult{Revision: rec.Revision, Position: rec.Position}, err
	}
	return eventstore.AppendResult{}, ErrTooMuchContention
}

// AppendAfter appends one event to a stream that is not a placement's,
// right after last (nil: as the stream's first event) and chained to it,
// and returns it as appended (what the next AppendAfter follows). It is
// eventstore.ErrConcurrency when the stream has moved on since last:
// another writer got there first. It does not retry.
func AppendAfter(ctx context.Context, store eventstore.Store, stream string, last *eventstore.RecordedEvent, actor, actorType, eventType string, payload any, at time.Time) (eventstore.RecordedEvent, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	expected, rev, prev := eventstore.NoStream(), uint64(0), Hash{}
	if last != nil {
		expected, rev, prev = eventstore.Exact(last.Revision), last.Revision+1, LastHash(last.Metadata)
	}
	event, _, err := Chain(prev, stream, rev, uuid.New(), eventType, data, Metadata{Actor: actor, ActorType: actorType,
		RequestID: uuid.NewString(), OccurredAt: at.UTC(), Command: eventType, Count: 1})
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	res, err := store.Append(ctx, stream, expected, []eventstore.EventData{event})
	return eventstore.RecordedEvent{ID: event.ID, Stream: stream, Type: eventType, Data: event.Data, Metadata: event.Metadata,
		Revision: res.Revision, Position: res.Position}, err
}

// maxAttempts bounds the retries of an append that lost a race.
const maxAttempts = 8

// ErrTooMuchContention: a stream changed too often while an append was
// being prepared.
var ErrTooMuchContention = domain.ErrTooMuchContention
