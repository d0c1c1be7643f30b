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

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
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
	ProgressEvery time.Duration // how often progress may be recorded; default 1 min
	Parallel      int           // deliveries in flight per creditor; default 4
	MaxQueued     int           // notifications held in memory per creditor; default 10,000
	Now           func() time.Time
}

// Attempt is one delivery attempt, for GET /v1/webhook/deliveries.
type Attempt struct {
	EventID    string    `json:"eventId"`
	Position   uint64    `json:"position"`
	Placement  string    `json:"placementId"`
	Status     string    `json:"status"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Error      string    `json:"error,omitempty"`
	Outcome    string    `json:"outcome"` // delivered, retrying, given_up
}

// Payload is the body of a notification.
type Payload struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurredAt"`
	Position   uint64    `json:"position"`
	Data       struct {
		PlacementID    string `json:"placementId"`
		ClaimNumber    string `json:"claimNumber"`
		CustomerNumber string `json:"customerNumber"`
		PreviousStatus string `json:"previousStatus"`
		Status         string `json:"status"`
	} `json:"data"`
}

// job is one notification waiting in an outbox, with its delivery state.
type job struct {
	pos             eventstore.Position
	id              string // the payload's id, stable across restarts
	placement       uuid.UUID
	claim, customer string
	prev, next      domain.Status
	occurredAt      time.Time
	// since is when the give-up clock starts: the status change, or when the
	// notification was first held if its time is unknown.
	since time.Time

	attempts int
	backoff  time.Duration
	nextAt   time.Time
	inFlight bool
}

func (j *job) payload() Payload {
	p := Payload{ID: j.id, Type: EventStatusChanged, OccurredAt: j.occurredAt, Position: uint64(j.pos)}
	p.Data.PlacementID, p.Data.ClaimNumber, p.Data.CustomerNumber = j.placement.String(), j.claim, j.customer
	p.Data.PreviousStatus, p.Data.Status = string(j.prev), string(j.next)
	return p
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

// outbox is one creditor's notifications and deliveries. All of it is
// guarded by Reactor.mu.
type outbox struct {
	creditor string
	wake     chan struct{} // capacity 1: something changed
	stop     chan struct{} // closed when the webhook is removed
	// queues holds each placement's notifications in log order; only the
	// first of each is ever attempted.
	queues   map[uuid.UUID][]*job
	count    int
	inFlight int
	// A full outbox spills: notifications from spillFrom on are not held,
	// and the outbox reads them from the log when it has room again.
	spilled     bool
	spillFrom   eventstore.Position
	lastOffered eventstore.Position // the log loop's last notification for this creditor, held or not
	// loaded is the progress recorded before this run started (what not
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

type placementInfo struct {
	creditor, claim, customer string
	status                    domain.Status
}

// Reactor follows the log and delivers notifications.
type Reactor struct {
	store eventstore.Store
	opts  Options

	mu         sync.Mutex
	configs    map[string]journal.WebhookConfigured
	outboxes   map[string]*outbox
	placements map[uuid.UUID]*placementInfo // only the log loop touches it
	readPos    eventstore.Position          // the log loop has handled every event up to here
	removed    []*outbox                    // removed webhooks whose removal is not recorded yet
	wg         sync.WaitGroup
	stopped    chan struct{} // closed when Run is ending
}

// New returns a reactor over store.
func New(store eventstore.Store, opts Options) *Reactor {
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
	return &Reactor{store: store, opts: opts, configs: map[string]journal.WebhookConfigured{}, outboxes: map[string]*outbox{},
		placements: map[uuid.UUID]*placementInfo{}, stopped: make(chan struct{})}
}

// Run follows the log from position 0 (to learn the configurations and
// each placement's status) until ctx ends; notifications each creditor's
// recorded progress settles are not delivered again. When it stops, it
// records the progress made.
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
	sub, err := r.store.SubscribeAll(ctx, eventstore.Start)
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		rec, err := sub.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, eventstore.ErrClosed) {
				return nil
			}
			return fmt.Errorf("webhook: subscription ended: %w", err)
		}
		if err := r.observe(ctx, rec); err != nil {
			return err
		}
	}
}

// observe handles one event of the log. It never waits for a delivery.
func (r *Reactor) observe(ctx context.Context, rec eventstore.RecordedEvent) error {
	kind, parts, err := journal.ParseStream(rec.Stream)
	switch {
	case err != nil:
	case kind == journal.KindWebhook && rec.Type == journal.WebhookConfiguredType:
		var c journal.WebhookConfigured
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return fmt.Errorf("webhook: %s revision %d: %w", rec.Stream, rec.Revision, err)
		}
		if err := r.configure(ctx, c); err != nil {
			return err
		}
	case kind == journal.KindWebhook && rec.Type == journal.WebhookRemovedType:
		r.remove(parts[0], rec.Position)
	case kind == journal.KindPlacement:
		if j, creditor := r.statusChange(rec); j != nil {
			r.offer(creditor, j)
		}
	}
	r.mu.Lock()
	r.readPos = rec.Position
	r.mu.Unlock()
	return nil
}

// configure applies a creditor's configuration: a new outbox learns the
// creditor's recorded progress; an existing one tries its notifications
// again at once, since the new address may work where the old did not.
func (r *Reactor) configure(ctx context.Context, c journal.WebhookConfigured) error {
	r.mu.Lock()
	ob := r.outboxes[c.CreditorID]
	r.configs[c.CreditorID] = c
	if ob != nil {
		now := r.opts.Now()
		for _, q := range ob.queues {
			q[0].nextAt, q[0].backoff = now, 0
		}
		ob.signal()
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	loaded, err := r.loadProgress(ctx, c.CreditorID)
	if err != nil {
		return err
	}
	ob = &outbox{creditor: c.CreditorID, wake: make(chan struct{}, 1), stop: make(chan struct{}), queues: map[uuid.UUID][]*job{},
		loaded: loaded, saved: loaded}
	r.mu.Lock()
	r.outboxes[c.CreditorID] = ob
	r.mu.Unlock()
	r.wg.Add(1)
	go r.dispatch(ob)
	return nil
}

// remove drops a creditor's webhook and every notification still pending.
func (r *Reactor) remove(creditor string, at eventstore.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.configs, creditor)
	ob := r.outboxes[creditor]
	if ob == nil {
		return
	}
	delete(r.outboxes, creditor)
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

// statusChanges maps the events that change a placement's status to the
// status they lead to.
var statusChanges = map[string]domain.Status{
	domain.TypePlacementRecalled: domain.StatusRecalled, domain.TypePlacementPaid: domain.StatusPaid,
	domain.TypePlacementPaused: domain.StatusPaused, domain.TypePlacementResumed: domain.StatusActive,
}

// statusChange returns the notification an event of a placement calls for,
// if any, and the creditor it goes to; it keeps each placement's status.
func (r *Reactor) statusChange(rec eventstore.RecordedEvent) (*job, string) {
	id, ok := journal.PlacementID(rec.Stream)
	if !ok {
		return nil, ""
	}
	if rec.Type == domain.TypePlacementOpened {
		var o domain.PlacementOpened
		if json.Unmarshal(rec.Data, &o) == nil {
			r.placements[id] = &placementInfo{creditor: o.CreditorID, claim: o.ClaimNumber, customer: o.CustomerNumber, status: domain.StatusActive}
		}
		return nil, ""
	}
	next, changes := statusChanges[rec.Type]
	info := r.placements[id]
	if !changes || info == nil {
		return nil, ""
	}
	j := newJob(rec, id, info.claim, info.customer, info.status, next)
	info.status = next
	return j, info.creditor
}

func newJob(rec eventstore.RecordedEvent, id uuid.UUID, claim, customer string, prev, next domain.Status) *job {
	j := &job{pos: rec.Position, id: uuid.NewSHA1(payloadNamespace, rec.ID[:]).String(), placement: id,
		claim: claim, customer: customer, prev: prev, next: next}
	if _, _, core, err := journal.Unseal(rec.Metadata); err == nil {
		var m journal.Metadata
		if json.Unmarshal(core, &m) == nil {
			j.occurredAt = m.OccurredAt
		}
	}
	return j
}

var payloadNamespace = uuid.MustParse("c9a3e8f1-4b62-4f0e-9d7a-2b5c8e1f6a33")

// offer hands a notification to its creditor's outbox, if the creditor has
// a webhook: held if there is room, else left for the outbox to read from
// the log later. It never waits.
func (r *Reactor) offer(creditor string, j *job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ob := r.outboxes[creditor]
	if ob == nil || ob.loaded.done(j.pos) {
		return
	}
	ob.lastOffered = j.pos
	switch {
	case ob.spilled:
	case ob.count >= r.opts.MaxQueued:
		ob.spilled, ob.spillFrom = true, j.pos
	default:
		r.hold(ob, j)
	}
}

// hold queues a notification in its placement's line (under r.mu).
func (r *Reactor) hold(ob *outbox, j *job) {
	j.nextAt, j.since = r.opts.Now(), j.occurredAt
	if j.since.IsZero() {
		j.since = j.nextAt
	}
	ob.queues[j.placement] = append(ob.queues[j.placement], j)
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
		if ob.count == 0 && ob.spilled {
			r.mu.Unlock()
			r.refill(ob)
			continue
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
		slices.SortFunc(ready, func(a, b *job) int { return cmp.Compare(a.pos, b.pos) })
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
	cfg, configured := r.configs[ob.creditor] // the newest configuration
	j.attempts++
	n := j.attempts
	r.mu.Unlock()
	if !configured {
		return // removed meanwhile: the outbox is gone
	}
	status, err := r.post(cfg, j)
	now := r.opts.Now()
	a := Attempt{EventID: j.id, Position: uint64(j.pos), Placement: j.placement.String(), Status: string(j.next), Attempt: n, At: now.UTC(), HTTPStatus: status}
	var settled bool
	switch {
	case err == nil:
		a.Outcome, settled = "delivered", true
	case now.Sub(j.since) >= r.opts.GiveUpAfter:
		a.Outcome, a.Error = "given_up", err.Error()
		_, rerr := journal.AppendSystem(context.Background(), r.store, journal.WebhookProgressStream(ob.creditor), journal.ActorSystem, journal.ActorSystem,
			journal.WebhookGivenUpType, journal.WebhookGivenUp{CreditorID: ob.creditor, EventID: j.id, Position: uint64(j.pos), Attempts: n, LastError: err.Error(), GivenUpAt: now.UTC()}, now)
		if rerr != nil {
			r.opts.Logger.Error("webhook: could not record a given-up delivery; it will be tried again", "creditor", ob.creditor, "err", rerr)
			a.Outcome = "retrying"
		} else {
			r.opts.Logger.Warn("webhook: delivery given up", "creditor", ob.creditor, "event", j.id, "attempts", n)
			settled = true
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
	if settled {
		q := ob.queues[j.placement]
		if len(q) > 0 && q[0] == j {
			if q = q[1:]; len(q) == 0 {
				delete(ob.queues, j.placement)
			} else {
				ob.queues[j.placement] = q
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

func (r *Reactor) post(cfg journal.WebhookConfigured, j *job) (int, error) {
	body, err := json.Marshal(j.payload())
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
	req.Header.Set("Ledger-Event-Id", j.id)
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

// refill reads the notifications a spilled outbox did not hold from the
// log, from where it spilled up to the log loop's last offer, until the
// outbox is full again or has caught up (then it is no longer spilled).
// Each placement's status before a notification is folded from its own
// stream the first time the placement is met.
func (r *Reactor) refill(ob *outbox) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stopped:
		case <-ob.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	r.mu.Lock()
	cursor := ob.spillFrom - 1
	r.mu.Unlock()
	statuses := map[uuid.UUID]*placementInfo{}
	for ctx.Err() == nil {
		r.mu.Lock()
		limit := ob.lastOffered
		if cursor >= limit {
			ob.spilled = false // everything offered is held now; the log loop holds what comes next
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		batch, err := r.store.ReadAll(ctx, cursor, 500)
		if err != nil || len(batch) == 0 {
			if ctx.Err() == nil {
				r.opts.Logger.Error("webhook: read the log to refill an outbox; trying again", "creditor", ob.creditor, "err", err)
				time.Sleep(time.Second)
			}
			continue
		}
		for _, rec := range batch {
			if rec.Position > limit {
				break
			}
			cursor = rec.Position
			next, changes := statusChanges[rec.Type]
			id, isPlacement := journal.PlacementID(rec.Stream)
			if !changes || !isPlacement {
				continue
			}
			info := statuses[id]
			if info == nil {
				if info, err = r.statusBefore(ctx, id, rec.Position); err != nil {
					if ctx.Err() == nil {
						r.opts.Logger.Error("webhook: fold a placement to refill an outbox", "placement", id, "err", err)
					}
					return // the outbox stays spilled from here: tried again when it is empty next
				}
				statuses[id] = info
			}
			j := newJob(rec, id, info.claim, info.customer, info.status, next)
			info.status = next
			if info.creditor != ob.creditor || ob.loaded.done(j.pos) {
				continue
			}
			r.mu.Lock()
			if ob.count >= r.opts.MaxQueued {
				ob.spillFrom = j.pos
				r.mu.Unlock()
				return
			}
			r.hold(ob, j)
			ob.spillFrom = j.pos + 1
			r.mu.Unlock()
		}
	}
}

// statusBefore folds a placement's stream up to (not including) position
// pos: its creditor, claim, customer and status then.
func (r *Reactor) statusBefore(ctx context.Context, id uuid.UUID, pos eventstore.Position) (*placementInfo, error) {
	var p domain.Placement
	errStop := errors.New("reached the notification")
	err := journal.ReadStream(ctx, r.store, journal.PlacementStream(id), 0, func(rec eventstore.RecordedEvent) error {
		if rec.Position >= pos {
			return errStop
		}
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		p = domain.Evolve(p, e)
		return err
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return &placementInfo{creditor: p.CreditorID, claim: p.ClaimNumber, customer: p.CustomerNumber, status: p.Status}, nil
}

// progressOf is what a creditor's progress is now (under r.mu): every
// notification up to what the outbox has been offered is settled except
// those it holds; at most MaxPendingRecorded are listed.
func (r *Reactor) progressOf(ob *outbox) progress {
	covered := r.readPos
	if ob.spilled {
		covered = ob.spillFrom - 1
	}
	var pending []eventstore.Position
	for _, q := range ob.queues {
		for _, j := range q {
			pending = append(pending, j.pos)
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
