// Package lease lets one ledger instance at a time do work that must happen
// once (delivering webhooks, resuming holds at their resumeAt) when several
// instances share one event store, as they do on a KurrentDB cluster.
//
// A lease is a stream in the event store (lease-<name>). An instance takes
// it by appending LeaseTaken{holder, until} with the stream's current
// revision expected, so of instances that try at once exactly one wins, and
// keeps it by appending again before until, every TTL/3. Another instance
// takes it over once until has passed without a renewal; a holder that
// stops cleanly appends LeaseReleased, so the next one need not wait. The
// work of the holder runs with a context that ends when the lease is lost,
// or, when renewals keep failing, a margin before until: the holder stops
// before anyone else may start. Expiry compares wall clocks, so instances'
// clocks must agree to well within the margin (NTP does).
//
// Every take and renewal is an event in the log (with the default TTL of
// 30 s, about 8,600 a day while a lease is held). A single process on the
// embedded store needs no lease, because the store is locked to it.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Event types of a lease stream.
const (
	TakenType    = "LeaseTaken"
	ReleasedType = "LeaseReleased"
)

// Taken records that holder has the lease until a time.
type Taken struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// Released records that holder gave the lease up.
type Released struct {
	Holder string `json:"holder"`
}

// Options tune a lease. Zero values take the defaults.
type Options struct {
	// TTL is how long a take or renewal holds; default 30 s. Renewals come
	// every TTL/3; work stops TTL/6 before the lease would lapse.
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Lease is one instance's side of a named lease.
type Lease struct {
	store  eventstore.Store
	stream string
	holder string
	opts   Options
}

// New returns holder's side of the lease name in store.
func New(store eventstore.Store, name, holder string, opts Options) *Lease {
	if opts.TTL <= 0 {
		opts.TTL = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Lease{store: store, stream: journal.LeaseStream(name), holder: holder, opts: opts}
}

// Run takes the lease whenever it is free and, while it holds it, runs
// work with a context that ends when the lease is lost (or ctx ends). It
// returns once ctx has ended, work has returned and the lease is released.
func (l *Lease) Run(ctx context.Context, work func(ctx context.Context)) {
	every := l.opts.TTL / 3
	for {
		held, err := l.take(ctx)
		if err != nil && ctx.Err() == nil {
			l.opts.Logger.Warn("lease: could not take it; trying again", "lease", l.stream, "err", err)
		}
		if held != nil {
			l.hold(ctx, held, work)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// take appends a LeaseTaken if the lease is free, expired, or this
// holder's; it returns the event appended, nil when another holds it.
func (l *Lease) take(ctx context.Context) (*eventstore.RecordedEvent, error) {
	last, found, err := journal.LastEvent(ctx, l.store, l.stream)
	if err != nil {
		return nil, err
	}
	now := l.opts.Now()
	var after *eventstore.RecordedEvent
	if found {
		after = &last
		if last.Type == TakenType {
			var t Taken
			if err := json.Unmarshal(last.Data, &t); err != nil {
				return nil, fmt.Errorf("lease: %s revision %d: %w", last.Stream, last.Revision, err)
			}
			if t.Holder != l.holder && now.Before(t.Until) {
				return nil, nil // another's, and not lapsed
			}
		}
	}
	return l.append(ctx, after, now)
}

// append records a take or renewal after the given event; nil when another
// instance got there first.
func (l *Lease) append(ctx context.Context, after *eventstore.RecordedEvent, now time.Time) (*eventstore.RecordedEvent, error) {
	rec, err := journal.AppendAfter(ctx, l.store, l.stream, after, l.holder, journal.ActorSystem, TakenType,
		Taken{Holder: l.holder, Until: now.Add(l.opts.TTL).UTC()}, now)
	if errors.Is(err, eventstore.ErrConcurrency) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

func untilOf(rec *eventstore.RecordedEvent) time.Time {
	var t Taken
	_ = json.Unmarshal(rec.Data, &t)
	return t.Until
}

// hold runs work while the lease is held: it renews the lease every TTL/3
// and stops the work when the lease is lost, when it could not be renewed
// by TTL/6 before it lapses, or when ctx ends (then it releases the lease).
func (l *Lease) hold(ctx context.Context, taken *eventstore.RecordedEvent, work func(ctx context.Context)) {
	margin := l.opts.TTL / 6
	workCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	l.opts.Logger.Info("lease taken", "lease", l.stream, "holder", l.holder)
	go func() {
		defer close(done)
		work(workCtx)
	}()
	stopWork := func() {
		cancel()
		<-done
	}
	last := taken
	deadline := time.NewTimer(untilOf(last).Add(-margin).Sub(l.opts.Now()))
	defer deadline.Stop()
	renew := time.NewTicker(l.opts.TTL / 3)
	defer renew.Stop()
	for {
		select {
		case <-done: // the work ended by itself
			l.release(last)
			return
		case <-ctx.Done():
			stopWork()
			l.release(last)
			return
		case <-deadline.C:
			l.opts.Logger.Warn("lease: could not renew it in time; stopping its work", "lease", l.stream)
			stopWork()
			return
		case <-renew.C:
		}
		next, err := l.append(ctx, last, l.opts.Now())
		switch {
		case err == nil && next == nil:
			l.opts.Logger.Warn("lease lost to another instance", "lease", l.stream, "holder", l.holder)
			stopWork()
			return
		case err != nil:
			l.opts.Logger.Warn("lease: renewal failed; trying again", "lease", l.stream, "err", err)
		default:
			last = next
			deadline.Reset(untilOf(last).Add(-margin).Sub(l.opts.Now()))
		}
	}
}

// release gives the lease up, so another instance need not wait for it to
// lapse. Best effort: if it fails, the lease lapses at its until.
func (l *Lease) release(last *eventstore.RecordedEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := journal.AppendAfter(ctx, l.store, l.stream, last, l.holder, journal.ActorSystem, ReleasedType,
		Released{Holder: l.holder}, l.opts.Now()); err != nil {
		l.opts.Logger.Warn("lease: could not release it; it lapses by itself", "lease", l.stream, "err", err)
		return
	}
	l.opts.Logger.Info("lease released", "lease", l.stream, "holder", l.holder)
}
