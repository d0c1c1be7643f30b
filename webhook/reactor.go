package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// Options tune a reactor. Zero values take the defaults.
type Options struct {
	// Policy says where deliveries may go; Client, when set, replaces the
	// client NewClient(Policy) would build (tests only).
	Policy        Policy
	Client        *http.Client
	Logger        *slog.Logger
	FirstBackoff  time.Duration // default 1 s
	MaxBackoff    time.Duration // default 1 h
	GiveUpAfter   time.Duration // after the status change; default 24 h
	ProgressEvery time.Duration // how often progress may be recorded; default 500 ms
	Parallel      int           // deliveries in flight per creditor; default 4
	MaxQueued     int           // notifications held in memory per creditor; default 10,000
	Now           func() time.Time
	// OnGiveUp, when set, is told of each notification given up (for the
	// ledger's metrics).
	OnGiveUp func()
}

// Attempt is one delivery attempt, for GET /v1/webhook/deliveries.
type Attempt struct {
	EventID    string    `json:"eventId"`
	Type       string    `json:"type"`
	Position   uint64    `json:"position"`
	Placement  string    `json:"placementId,omitempty"`
	Status     string    `json:"status,omitempty"` // a status change's
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Error      string    `json:"error,omitempty"`
	Outcome    string    `json:"outcome"` // delivered, retrying, given_up
}

// Payload is the body of a notification. A placement.status_changed
// payload has the placement, the claim, the customer and the statuses; the
// other types have what their notice says (projections.Notice) instead of
// the statuses, the amounts as exact decimals in strings.
type Payload struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"`
	OccurredAt time.Time   `json:"occurredAt"`
	Position   uint64      `json:"position"`
	Data       PayloadData `json:"data"`
}

// PayloadData is a payload's data; empty fields are left out.
type PayloadData struct {
	PlacementID    string `json:"placementId,omitempty"`
	ClaimNumber    string `json:"claimNumber,omitempty"`
	CustomerNumber string `json:"customerNumber"`
	PreviousStatus string `json:"previousStatus,omitempty"`
	Status         string `json:"status,omitempty"`
	projections.NoticeData
}

// job is one notification waiting in an outbox (what one event of the log
// calls for: one payload or more, delivered one after another), with its
// delivery state.
type job struct {
	projections.Notification
	// since is when the give-up clock starts: the status change, or when the
	// notification was first held if its time is unknown.
	since time.Time
	// sent counts the payloads delivered or given up; attempts, the
	// attempts at the next.
	sent     int
	attempts int
	backoff  time.Duration
	nextAt   time.Time
	inFlight bool
}

// payloads are the job's payloads in the order they are delivered.
func (j *job) payloads() []Payload {
	base := Payload{OccurredAt: j.OccurredAt, Position: uint64(j.Position)}
	if j.Placement != uuid.Nil {
		base.Data.PlacementID = j.Placement.String()
	}
	base.Data.ClaimNumber, base.Data.CustomerNumber = j.Claim, j.Customer
	var out []Payload
	if j.Status != "" {
		p := base
		p.ID, p.Type = j.EventID, EventStatusChanged
		p.Data.PreviousStatus, p.Data.Status = string(j.Previous), string(j.Status)
		out = append(out, p)
	}
	for _, n := range j.Events {
		p := base
		p.ID, p.Type = n.ID, n.Type
		p.Data.NoticeData = n.NoticeData
		out = append(out, p)
	}
	return out
}

// progress is what a Progressed record says.
type progress struct {
	through eventstore.Position
	pending []eventstore.Position // sorted
}

// done reports whether the notification at pos is settled by p.
func (p progress) done(pos eventstore.Position) bool {
	_, owed := slices.BinarySearch(p.pending, pos)
	return pos <= p.through && !owed
}

func (p progress) equal(q progress) bool {
	return p.through == q.through && slices.Equal(p.pending, q.pending)
}

// outbox is one creditor's notifications and deliveries: a window of at
// most Options.MaxQueued over the creditor's notifications in the views,
// which the reactor moves along as they are settled. All of it is guarded
// by Reactor.mu.
type outbox struct {
	creditor string
	config   journal.WebhookConfigured
	since    eventstore.Position // the configuration's start (a new one is a new outbox)
	wake     chan struct{}       // capacity 1: something changed
	stop     chan struct{}       // closed when the webhook is removed
	// queues holds each placement's notifications in log order; only the
	// first of each is ever attempted.
	queues   map[uuid.UUID][]*job
	count    int
	inFlight int
	// read is the position up to which the outbox has read the creditor's
	// notifications from the views: every one up to it is held or settled.
	read eventstore.Position
	// filling serialises fill (the sync loop and the dispatcher both fill).
	filling sync.Mutex
	// loaded is the progress recorded before this outbox started (what not
	// to deliver again); saved is the last one recorded.
	loaded, saved progress
	// settled counts notifications delivered or given up since progress was
	// last recorded: only then is there progress to record.
	settled int
	// removedAt forces a progress record through it (pending dropped).
	removedAt eventstore.Position
	history   []Attempt
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Views are where the reactor reads the webhooks and their notifications
// (the projections runner's views), and how it learns that they moved on.
type Views interface {
	Webhooks() ([]projections.Webhook, error)
	Outbox(creditor string, after eventstore.Position, limit int) ([]projections.Notification, error)
}

// Follower tells the reactor how far the views have applied the log.
type Follower interface {
	Position() eventstore.Position
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// Reactor delivers the notifications the views queue for each creditor's
// webhook. It reads no log itself: the views hold the webhooks and the
// notifications; it appends only its own records (progress, give-ups).
type Reactor struct {
	store    eventstore.Store
	views    Views
	follower Follower
	opts     Options

	mu       sync.Mutex
	outboxes map[string]*outbox
	seen     eventstore.Position // the views' position at the last sync
	removed  []*outbox           // removed webhooks whose removal is not recorded yet
	wg       sync.WaitGroup
	stopped  chan struct{} // closed when Run is ending
}

// New returns a reactor that delivers what views queue, following them
// through follower, and records its progress in store.
func New(store eventstore.Store, views Views, follower Follower, opts Options) *Reactor {
	if opts.Client == nil {
		opts.Client = NewClient(opts.Policy)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FirstBackoff <= 0 {
		opts.FirstBackoff = DefaultFirstBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.GiveUpAfter <= 0 {
		opts.GiveUpAfter = DefaultGiveUpAfter
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultParallel
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = DefaultMaxQueued
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reactor{store: store, views: views, follower: follower, opts: opts, outboxes: map[string]*outbox{}, stopped: make(chan struct{})}
}

// Run delivers until ctx ends. Each time the views move on it takes up the
// webhooks' changes and reads more notifications into outboxes with room.
// When it stops, it records the progress made.
func (r *Reactor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		close(r.stopped)
		r.wg.Wait()
		r.recordProgress(context.Background(), true)
	}()
	r.wg.Add(1)
	go r.progressLoop(ctx)
	// Each sync reads every configured creditor's outbox: at most one every
	// syncEvery, however fast the views move.
	const syncEvery = 50 * time.Millisecond
	var last time.Time
	for ; ; last = time.Now() {
		if wait := syncEvery - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil
			}
		}
		seen := r.follower.Position()
		if err := r.sync(ctx, seen); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		// Wait for the views to move on, or for an outbox to make room (its
		// dispatcher signals syncNow); look again now and then regardless.
		wctx, wcancel := context.WithTimeout(ctx, time.Second)
		err := r.follower.WaitFor(wctx, seen+1)
		wcancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("webhook: the views stopped: %w", err)
		}
	}
}

// sync takes up the webhooks as the views have them at position seen:
// new ones get an outbox, removed (or reconfigured) ones lose theirs, and
// every outbox with room reads more of its notifications.
func (r *Reactor) sync(ctx context.Context, seen eventstore.Position) error {
	hooks, err := r.views.Webhooks()
	if err != nil {
		return err
	}
	for _, w := range hooks {
		r.mu.Lock()
		ob := r.outboxes[w.CreditorID]
		r.mu.Unlock()
		switch {
		case ob != nil && (w.RemovedAt != 0 || w.Since != ob.since):
			at := w.RemovedAt
			if at == 0 {
				at = w.Since
			}
			r.remove(ob, at)
			ob = nil
			if w.RemovedAt != 0 {
				continue
			}
		case w.RemovedAt != 0:
			continue
		}
		if ob == nil {
			if ob, err = r.open(ctx, w); err != nil {
				return err
			}
		}
		r.mu.Lock()
		if !sameConfig(ob.config, w.WebhookConfigured) {
			// A new address may work where the old did not: try everything now.
			ob.config = w.WebhookConfigured
			now := r.opts.Now()
			for _, q := range ob.queues {
				q[0].nextAt, q[0].backoff = now, 0
			}
			ob.signal()
		}
		r.mu.Unlock()
		if err := r.fill(ob, seen); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.seen = seen
	r.mu.Unlock()
	return nil
}

func sameConfig(a, b journal.WebhookConfigured) bool {
	return a.CreditorID == b.CreditorID && a.URL == b.URL && a.Secret == b.Secret && slices.Equal(a.Events, b.Events)
}

// open starts an outbox for a webhook, with the creditor's recorded progress.
func (r *Reactor) open(ctx context.Context, w projections.Webhook) (*outbox, error) {
	loaded, err := r.loadProgress(ctx, w.CreditorID)
	if err != nil {
		return nil, err
	}
	ob := &outbox{creditor: w.CreditorID, config: w.WebhookConfigured, since: w.Since, wake: make(chan struct{}, 1), stop: make(chan struct{}),
		queues: map[uuid.UUID][]*job{}, loaded: loaded, saved: loaded}
	r.mu.Lock()
	r.outboxes[w.CreditorID] = ob
	r.mu.Unlock()
	r.wg.Add(1)
	go r.dispatch(ob)
	return ob, nil
}

// fill reads notifications into an outbox until it is full or has read all
// the views hold.
func (r *Reactor) fill(ob *outbox, seen eventstore.Position) error {
	ob.filling.Lock()
	defer ob.filling.Unlock()
	for {
		r.mu.Lock()
		room, after := r.opts.MaxQueued-ob.count, ob.read
		r.mu.Unlock()
		if room <= 0 {
			return nil
		}
		ns, err := r.views.Outbox(ob.creditor, after, room)
		if err != nil {
			return err
		}
		r.mu.Lock()
		for _, n := range ns {
			ob.read = n.Position
			if !ob.loaded.done(n.Position) {
				r.hold(ob, &job{Notification: n})
			}
		}
		if len(ns) < room {
			ob.read = max(ob.read, seen) // everything up to what the views had applied is read
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
	}
}

// remove drops an outbox and every notification still pending in it (the
// views drop them too); the removal at position at is recorded as progress.
func (r *Reactor) remove(ob *outbox, at eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outboxes[ob.creditor] == ob {
		delete(r.outboxes, ob.creditor)
	}
	close(ob.stop)
	if at > ob.saved.through {
		// Recorded at once, so a restart does not deliver what was dropped.
		ob.removedAt = at
		r.removed = append(r.removed, ob)
	}
}

func (r *Reactor) loadProgress(ctx context.Context, creditor string) (progress, error) {
	last, found, err := journal.LastEvent(ctx, r.store, journal.WebhookProgressStream(creditor))
	if err != nil || !found {
		return progress{}, err
	}
	// The stream also holds give-ups: find its last progress record.
	for rev := last.Revision; ; rev-- {
		if last.Type == journal.WebhookProgressedType {
			var p journal.WebhookProgressed
			if err := json.Unmarshal(last.Data, &p); err != nil {
				return progress{}, fmt.Errorf("webhook: %s revision %d: %w", last.Stream, last.Revision, err)
			}
			out := progress{through: eventstore.Position(p.Through)}
			for _, pos := range p.Pending {
				out.pending = append(out.pending, eventstore.Position(pos))
			}
			slices.Sort(out.pending)
			return out, nil
		}
		if rev == 0 {
			return progress{}, nil
		}
		recs, err := r.store.ReadStream(ctx, last.Stream, rev-1, 1)
		if err != nil || len(recs) == 0 {
			return progress{}, err
		}
		last = recs[0]
	}
}

// hold queues a notification in its placement's line (under r.mu).
func (r *Reactor) hold(ob *outbox, j *job) {
	j.nextAt, j.since = r.opts.Now(), j.OccurredAt
	if j.since.IsZero() {
		j.since = j.nextAt
	}
	ob.queues[j.Placement] = append(ob.queues[j.Placement], j)
	ob.count++
	ob.signal()
}

// dispatch runs one creditor's deliveries: up to Parallel at once, the
// oldest first, each placement's notifications one after another.
func (r *Reactor) dispatch(ob *outbox) {
	defer r.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		r.mu.Lock()
		if ob.count == 0 {
			// Empty: read on from the views (more may wait beyond the window).
			seen := r.seen
			r.mu.Unlock()
			if err := r.fill(ob, seen); err != nil {
				r.opts.Logger.Error("webhook: read notifications from the views", "creditor", ob.creditor, "err", err)
			}
			r.mu.Lock()
		}
		now := r.opts.Now()
		var ready []*job
		wakeAt := now.Add(time.Hour)
		for _, q := range ob.queues {
			switch head := q[0]; {
			case head.inFlight:
			case !head.nextAt.After(now):
				ready = append(ready, head)
			case head.nextAt.Before(wakeAt):
				wakeAt = head.nextAt
			}
		}
		slices.SortFunc(ready, func(a, b *job) int { return cmp.Compare(a.Position, b.Position) })
		ready = ready[:min(len(ready), max(0, r.opts.Parallel-ob.inFlight))]
		for _, j := range ready {
			j.inFlight = true
			ob.inFlight++
			r.wg.Add(1)
			go r.attempt(ob, j)
		}
		r.mu.Unlock()
		timer.Reset(wakeAt.Sub(now))
		select {
		case <-ob.wake:
		case <-timer.C:
		case <-ob.stop:
			return
		case <-r.stopped:
			return
		}
	}
}

// attempt delivers a notification once and settles what follows: delivered,
// given up (after GiveUpAfter since the status change), or retried later.
func (r *Reactor) attempt(ob *outbox, j *job) {
	defer r.wg.Done()
	r.mu.Lock()
	cfg := ob.config // the newest configuration
	j.attempts++
	n := j.attempts
	all := j.payloads()
	p := all[j.sent]
	r.mu.Unlock()
	select {
	case <-ob.stop:
		return // removed meanwhile: the outbox is gone
	default:
	}
	status, err := r.post(cfg, p)
	now := r.opts.Now()
	a := Attempt{EventID: p.ID, Type: p.Type, Position: uint64(j.Position), Placement: p.Data.PlacementID, Status: p.Data.Status, Attempt: n, At: now.UTC(), HTTPStatus: status}
	var settled bool
	switch {
	case err == nil:
		a.Outcome, settled = "delivered", true
	case now.Sub(j.since) >= r.opts.GiveUpAfter:
		a.Outcome, a.Error = "given_up", err.Error()
		_, rerr := journal.AppendSystem(context.Background(), r.store, journal.WebhookProgressStream(ob.creditor), journal.ActorSystem, journal.ActorSystem,
			journal.WebhookGivenUpType, journal.WebhookGivenUp{CreditorID: ob.creditor, EventID: p.ID, Position: uint64(j.Position), Attempts: n, LastError: err.Error(), GivenUpAt: now.UTC()}, now)
		if rerr != nil {
			r.opts.Logger.Error("webhook: could not record a given-up delivery; it will be tried again", "creditor", ob.creditor, "err", rerr)
			a.Outcome = "retrying"
		} else {
			r.opts.Logger.Warn("webhook: delivery given up", "creditor", ob.creditor, "event", j.EventID, "attempts", n)
			settled = true
			if r.opts.OnGiveUp != nil {
				r.opts.OnGiveUp()
			}
		}
	default:
		a.Outcome, a.Error = "retrying", err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ob.history = append(ob.history, a)
	if len(ob.history) > maxDeliveriesHistory {
		ob.history = ob.history[len(ob.history)-maxDeliveriesHistory:]
	}
	j.inFlight = false
	ob.inFlight--
	if settled && j.sent+1 < len(all) {
		// The event's next payload follows at once.
		j.sent, j.attempts, j.backoff, j.nextAt = j.sent+1, 0, 0, now
	} else if settled {
		q := ob.queues[j.Placement]
		if len(q) > 0 && q[0] == j {
			if q = q[1:]; len(q) == 0 {
				delete(ob.queues, j.Placement)
			} else {
				ob.queues[j.Placement] = q
			}
			ob.count--
			ob.settled++
		}
	} else {
		// Exponential backoff with jitter: a delay in [d/2, d].
		if j.backoff == 0 {
			j.backoff = r.opts.FirstBackoff
		}
		j.nextAt = now.Add(j.backoff/2 + time.Duration(rand.Int64N(int64(j.backoff/2)+1)))
		j.backoff = min(j.backoff*2, r.opts.MaxBackoff)
	}
	ob.signal()
}

// deliveryError is a failed delivery in words that are safe to show.
type deliveryError string

func (e deliveryError) Error() string { return string(e) }

func (r *Reactor) post(cfg journal.WebhookConfigured, p Payload) (int, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, deliveryError("the webhook URL cannot be used")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "collections-ledger-webhook/1")
	req.Header.Set("Ledger-Event-Id", p.ID)
	req.Header.Set(SignatureHeader, Sign(cfg.Secret, r.opts.Now(), body))
	resp, err := r.opts.Client.Do(req)
	if err != nil {
		return 0, deliveryError(describe(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return resp.StatusCode, deliveryError(fmt.Sprintf("the receiver answered %d; redirects are not followed", resp.StatusCode))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return resp.StatusCode, deliveryError(fmt.Sprintf("the receiver answered %d", resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// progressOf is what a creditor's progress is now (under r.mu): every
// notification up to what the outbox has been offered is settled except
// those it holds; at most MaxPendingRecorded are listed.
func (r *Reactor) progressOf(ob *outbox) progress {
	covered := ob.read
	var pending []eventstore.Position
	for _, q := range ob.queues {
		for _, j := range q {
			pending = append(pending, j.Position)
		}
	}
	slices.Sort(pending)
	if len(pending) > MaxPendingRecorded {
		covered = pending[MaxPendingRecorded] - 1
		pending = pending[:MaxPendingRecorded]
	}
	return progress{through: covered, pending: pending}
}

// recordProgress records the progress of each creditor that settled
// notifications since its last record (never backwards, while the log loop
// is still replaying what an earlier run settled), and of each removal.
// final is the record made when stopping.
func (r *Reactor) recordProgress(ctx context.Context, final bool) {
	type record struct {
		ob      *outbox
		p       progress
		settled int
	}
	var todo []record
	r.mu.Lock()
	for _, ob := range r.removed {
		todo = append(todo, record{ob, progress{through: ob.removedAt}, 0})
	}
	r.removed = nil
	for _, ob := range r.outboxes {
		if ob.settled == 0 {
			continue
		}
		if p := r.progressOf(ob); p.through >= ob.saved.through && !p.equal(ob.saved) {
			todo = append(todo, record{ob, p, ob.settled})
		}
	}
	r.mu.Unlock()
	for _, t := range todo {
		rec := journal.WebhookProgressed{CreditorID: t.ob.creditor, Through: uint64(t.p.through), Pending: make([]uint64, len(t.p.pending))}
		for i, pos := range t.p.pending {
			rec.Pending[i] = uint64(pos)
		}
		_, err := journal.AppendSystem(ctx, r.store, journal.WebhookProgressStream(t.ob.creditor), journal.ActorSystem, journal.ActorSystem,
			journal.WebhookProgressedType, rec, r.opts.Now())
		if err != nil {
			if ctx.Err() == nil || final {
				r.opts.Logger.Error("webhook: record delivery progress", "creditor", t.ob.creditor, "err", err)
			}
			if t.ob.removedAt > 0 && !final {
				r.mu.Lock()
				r.removed = append(r.removed, t.ob)
				r.mu.Unlock()
			}
			continue
		}
		r.mu.Lock()
		t.ob.saved = t.p
		t.ob.settled -= t.settled
		r.mu.Unlock()
	}
}

func (r *Reactor) progressLoop(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.recordProgress(ctx, false)
		}
	}
}

// Deliveries returns a creditor's recent attempts, newest last.
func (r *Reactor) Deliveries(creditor string) []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	ob := r.outboxes[creditor]
	if ob == nil {
		return nil
	}
	return append([]Attempt{}, ob.history...)
}

// Progress returns a creditor's last recorded progress: every notification
// up to through was settled except those at the positions pending.
func (r *Reactor) Progress(creditor string) (through eventstore.Position, pending []eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ob := r.outboxes[creditor]; ob != nil {
		return ob.saved.through, slices.Clone(ob.saved.pending)
	}
	return 0, nil
}
