package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Options tune a reactor. Zero values take the defaults.
type Options struct {
	Client          *http.Client
	Logger          *slog.Logger
	FirstBackoff    time.Duration // default 1 s
	MaxBackoff      time.Duration // default 1 h
	GiveUpAfter     time.Duration // default 24 h
	CheckpointEvery time.Duration // default 1 s
	Now             func() time.Time
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

type job struct {
	position eventstore.Position
	eventID  string
	creditor string
	payload  Payload
	body     []byte
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
	configs    map[string]Configured
	workers    map[string]chan job
	pending    []eventstore.Position // positions with a job, in order
	done       map[eventstore.Position]bool
	readPos    eventstore.Position
	saved      eventstore.Position
	history    map[string][]Attempt
	placements map[uuid.UUID]*placementInfo // only the Run goroutine touches it
	wg         sync.WaitGroup
	stopCh     chan struct{} // closed when Run returns: workers stop
}

// New returns a reactor over store.
func New(store eventstore.Store, opts Options) *Reactor {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: deliveryTimeout}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FirstBackoff == 0 {
		opts.FirstBackoff = DefaultFirstBackoff
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.GiveUpAfter == 0 {
		opts.GiveUpAfter = DefaultGiveUpAfter
	}
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reactor{store: store, opts: opts, configs: map[string]Configured{}, workers: map[string]chan job{},
		done: map[eventstore.Position]bool{}, history: map[string][]Attempt{}, placements: map[uuid.UUID]*placementInfo{},
		stopCh: make(chan struct{})}
}

// Run follows the log until ctx ends. It reads from position 0 (to learn the
// configurations and each placement's status), delivers only what lies past
// its saved checkpoint, and saves the checkpoint as deliveries complete.
func (r *Reactor) Run(ctx context.Context) error {
	last, found, err := command.LastEvent(ctx, r.store, CheckpointStream)
	if err != nil {
		return fmt.Errorf("webhook: read the checkpoint: %w", err)
	}
	if found {
		var cp Checkpointed
		if err := json.Unmarshal(last.Data, &cp); err != nil {
			return fmt.Errorf("webhook: decode the checkpoint: %w", err)
		}
		r.saved = eventstore.Position(cp.Position)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		close(r.stopCh)
		r.wg.Wait()
	}()
	r.wg.Add(1)
	go r.checkpointer(ctx)
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

func (r *Reactor) observe(ctx context.Context, rec eventstore.RecordedEvent) error {
	var j *job
	switch {
	case rec.Type == ConfiguredType && strings.HasPrefix(rec.Stream, journal.KindWebhook+"-"):
		var c Configured
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return fmt.Errorf("webhook: %s revision %d: %w", rec.Stream, rec.Revision, err)
		}
		r.mu.Lock()
		r.configs[c.CreditorID] = c
		r.mu.Unlock()
	case strings.HasPrefix(rec.Stream, journal.PlacementPrefix):
		j = r.statusChange(rec)
	}
	r.mu.Lock()
	if rec.Stream != CheckpointStream { // its own checkpoints are not progress to save
		r.readPos = rec.Position
	}
	_, configured := r.configs[jobCreditor(j)]
	deliver := j != nil && configured && rec.Position > r.saved
	if deliver {
		r.pending = append(r.pending, rec.Position)
	}
	r.mu.Unlock()
	if !deliver {
		return nil
	}
	select {
	case r.worker(j.creditor) <- *j:
		return nil
	case <-ctx.Done():
		return nil
	}
}

func jobCreditor(j *job) string {
	if j == nil {
		return ""
	}
	return j.creditor
}

// statusChange returns the notification an event calls for, if any.
func (r *Reactor) statusChange(rec eventstore.RecordedEvent) *job {
	switch rec.Type {
	case "PlacementOpened", "PlacementRecalled", "PlacementPaid", "PlacementPaused", "PlacementResumed":
	default:
		return nil
	}
	id, err := uuid.Parse(strings.TrimPrefix(rec.Stream, journal.PlacementPrefix))
	if err != nil {
		return nil
	}
	if rec.Type == "PlacementOpened" {
		var o domain.PlacementOpened
		if json.Unmarshal(rec.Data, &o) == nil {
			r.placements[id] = &placementInfo{creditor: o.CreditorID, claim: o.ClaimNumber, customer: o.CustomerNumber, status: domain.StatusActive}
		}
		return nil
	}
	info := r.placements[id]
	if info == nil {
		return nil
	}
	next := map[string]domain.Status{"PlacementRecalled": domain.StatusRecalled, "PlacementPaid": domain.StatusPaid,
		"PlacementPaused": domain.StatusPaused, "PlacementResumed": domain.StatusActive}[rec.Type]
	prev := info.status
	info.status = next
	var occurred time.Time
	if _, _, core, err := command.Unseal(rec.Metadata); err == nil {
		var m command.Metadata
		if json.Unmarshal(core, &m) == nil {
			occurred = m.OccurredAt
		}
	}
	p := Payload{ID: uuid.NewSHA1(payloadNamespace, rec.ID[:]).String(), Type: EventStatusChanged, OccurredAt: occurred, Position: uint64(rec.Position)}
	p.Data.PlacementID, p.Data.ClaimNumber, p.Data.CustomerNumber = id.String(), info.claim, info.customer
	p.Data.PreviousStatus, p.Data.Status = string(prev), string(next)
	body, _ := json.Marshal(p)
	return &job{position: rec.Position, eventID: p.ID, creditor: info.creditor, payload: p, body: body}
}

var payloadNamespace = uuid.MustParse("c9a3e8f1-4b62-4f0e-9d7a-2b5c8e1f6a33")

// worker returns the creditor's delivery queue, starting its worker.
func (r *Reactor) worker(creditor string) chan job {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.workers[creditor]
	if !ok {
		q = make(chan job, 1024)
		r.workers[creditor] = q
		r.wg.Add(1)
		go r.deliverAll(creditor, q)
	}
	return q
}

// deliverAll delivers a creditor's notifications one after another, so they
// arrive in log order (and so in order per placement).
func (r *Reactor) deliverAll(creditor string, q chan job) {
	defer r.wg.Done()
	for {
		var j job
		select {
		case j = <-q:
		case <-r.stopCh:
			return
		}
		if !r.deliver(creditor, j) {
			return // stopping: the job stays pending and is delivered after a restart
		}
		r.mu.Lock()
		r.done[j.position] = true
		r.mu.Unlock()
	}
}

// deliver tries one notification until it is delivered or given up; it
// returns false if the reactor stopped first.
func (r *Reactor) deliver(creditor string, j job) bool {
	first := r.opts.Now()
	backoff := r.opts.FirstBackoff
	var lastErr string
	for attempt := 1; ; attempt++ {
		r.mu.Lock()
		cfg := r.configs[creditor] // the newest configuration: fixing a URL helps pending deliveries
		r.mu.Unlock()
		status, err := r.post(cfg, j)
		a := Attempt{EventID: j.eventID, Position: uint64(j.position), Placement: j.payload.Data.PlacementID, Status: j.payload.Data.Status,
			Attempt: attempt, At: r.opts.Now().UTC(), HTTPStatus: status}
		if err == nil {
			a.Outcome = "delivered"
			r.record(creditor, a)
			return true
		}
		lastErr = err.Error()
		a.Error = lastErr
		if r.opts.Now().Sub(first) >= r.opts.GiveUpAfter {
			a.Outcome = "given_up"
			r.record(creditor, a)
			_, aerr := command.AppendSystem(context.Background(), r.store, journal.WebhookStream(creditor), "system", command.ActorSystem, GivenUpType,
				GivenUp{CreditorID: creditor, EventID: j.eventID, Position: uint64(j.position), Attempts: attempt, LastError: lastErr, GivenUpAt: r.opts.Now().UTC()}, r.opts.Now())
			if aerr != nil {
				r.opts.Logger.Error("webhook: could not record a given-up delivery; it will be retried after a restart", "creditor", creditor, "err", aerr)
				return false
			}
			r.opts.Logger.Warn("webhook: delivery given up", "creditor", creditor, "event", j.eventID, "attempts", attempt, "err", lastErr)
			return true
		}
		a.Outcome = "retrying"
		r.record(creditor, a)
		// Exponential backoff with jitter: a delay in [d/2, d].
		delay := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		backoff = min(backoff*2, r.opts.MaxBackoff)
		select {
		case <-time.After(delay):
		case <-r.stopCh:
			return false
		}
	}
}

func (r *Reactor) post(cfg Configured, j job) (int, error) {
	if cfg.URL == "" {
		return 0, fmt.Errorf("no webhook URL configured")
	}
	req, err := http.NewRequest(http.MethodPost, cfg.URL, bytes.NewReader(j.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "collections-ledger-webhook/1")
	req.Header.Set("Ledger-Event-Id", j.eventID)
	req.Header.Set(SignatureHeader, Sign(cfg.Secret, r.opts.Now(), j.body))
	resp, err := r.opts.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func (r *Reactor) record(creditor string, a Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := append(r.history[creditor], a)
	if len(h) > maxDeliveriesHistory {
		h = h[len(h)-maxDeliveriesHistory:]
	}
	r.history[creditor] = h
}

// Deliveries returns a creditor's recent attempts, newest last.
func (r *Reactor) Deliveries(creditor string) []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt{}, r.history[creditor]...)
}

// checkpoint is the position up to which every notification was delivered
// or given up.
func (r *Reactor) checkpoint() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) > 0 && r.done[r.pending[0]] {
		delete(r.done, r.pending[0])
		r.pending = r.pending[1:]
	}
	if len(r.pending) > 0 {
		return r.pending[0] - 1
	}
	return r.readPos
}

// Checkpoint returns the position the reactor has saved.
func (r *Reactor) Checkpoint() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.saved
}

func (r *Reactor) checkpointer(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cp := r.checkpoint()
		r.mu.Lock()
		moved := cp > r.saved
		r.mu.Unlock()
		if !moved {
			continue
		}
		if _, err := command.AppendSystem(ctx, r.store, CheckpointStream, "system", command.ActorSystem, CheckpointType,
			Checkpointed{Position: uint64(cp)}, r.opts.Now()); err != nil {
			if ctx.Err() == nil {
				r.opts.Logger.Error("webhook: save checkpoint", "err", err)
			}
			continue
		}
		r.mu.Lock()
		r.saved = cp
		r.mu.Unlock()
	}
}
