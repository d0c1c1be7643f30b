package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
)

// Errors of command handling itself; they are declared, with every other
// kind of error, in package domain.
var (
	ErrPreconditionFailed = domain.ErrPreconditionFailed
	ErrIdempotencyReused  = domain.ErrIdempotencyReused
	ErrTooMuchContention  = domain.ErrTooMuchContention
)

// Idempotency is the index of Idempotency-Keys a repeat is answered from:
// fed from the log by the projections, and told by the handler of each key
// it has just recorded, so a repeat that arrives before the projections
// have caught up is answered too.
type Idempotency interface {
	Lookup(actor, key string) (journal.IdempotencyRecord, bool)
	Record(actor, key string, r journal.IdempotencyRecord)
}

// Snapshots are placements' states as a read side has applied them. When
// the Idempotency index given to NewHandler is also Snapshots (the views'
// projections.WriteIndex is), a command on a placement the handler has not cached starts from the
// placement's snapshot and the events after it, rather than from its whole
// stream, so its cost does not grow with the placement's history; the
// payment and credit waiver numbers it names are looked up (see
// domain.NumbersNamed).
type Snapshots interface {
	// Snapshot returns a placement's state without processed numbers;
	// false when it is not known (yet).
	Snapshot(id uuid.UUID) (journal.Snapshot, bool, error)
	// Processed says what the placement processed under each number given;
	// ok is false when the snapshots no longer reach position through.
	Processed(id uuid.UUID, through eventstore.Position, payments, waivers []string) (pay, waive map[string]domain.Processed, ok bool, err error)
}

// DefaultMaxCachedNumbers bounds the processed numbers a cached placement
// keeps when the handler has snapshots to ask for the others.
const DefaultMaxCachedNumbers = 8

// maxAttempts bounds the retries of a command whose append lost a race.
const maxAttempts = 8

// Request describes who asks and how.
type Request struct {
	Actor          string // creditor id, agency id or "system"
	ActorType      string
	RequestID      string
	IdempotencyKey string
	RequestHash    string
	// BulkKey is the client's Idempotency-Key when this command is one item
	// of a bulk request (IdempotencyKey is then derived from it per item).
	BulkKey string
	// IfMatch, when set, makes the command conditional on the placement's
	// revision (If-Match: "<revision>").
	IfMatch *uint64
	// Creditor, when set, restricts the command to that creditor's
	// placements: another creditor's placement is not found.
	Creditor string
}

// Result is what a command did.
type Result struct {
	Placement domain.Placement
	// Revision is the placement stream's revision after the command.
	Revision uint64
	// Position is the $all position of the command's last event, or of the
	// placement's last event when the command recorded nothing.
	Position eventstore.Position
	// Recorded counts the events appended.
	Recorded int
	// Replayed is true when an Idempotency-Key repeat was answered from the
	// first execution; Placement is then the placement as it was right after it.
	Replayed  bool
	RequestID string
	// Hash is the hash-chain hash of the placement's last event.
	Hash journal.Hash
	// Events are the events the command recorded (for an Idempotency-Key
	// repeat, those its first execution recorded).
	Events []domain.Event
}

// Handler executes commands against a store.
type Handler struct {
	store eventstore.Store
	now   func() time.Time
	idem  Idempotency
	locks [64]sync.Mutex
	// streams serialises commands on one placement within this process, so
	// they do not race each other into retries; optimistic concurrency still
	// guards against writers in other processes.
	streams [256]sync.Mutex
	// cache holds placements as this process last wrote or read them, with
	// their revision, so a command need not re-read and decode its stream.
	// It is only read and written under the placement's stream lock. A
	// writer in another process shows up as a revision conflict on append,
	// which evicts the entry and reloads; a command that would append
	// nothing (a refusal) checks first that the stream has not moved on.
	cacheMu sync.Mutex
	cache   map[uuid.UUID]cachedPlacement
	// owners caches claim reservations, which never change once written.
	owners map[string]uuid.UUID
	// snapshots, when not nil, is where uncached placements start from.
	snapshots Snapshots
	// MaxCached bounds the placements (and claim owners) kept in memory;
	// NewHandler sets DefaultMaxCached. Set it before the first command.
	MaxCached int
	// MaxCachedNumbers bounds the payment and credit waiver numbers a cached
	// placement keeps (with snapshots to ask for the rest); NewHandler sets
	// DefaultMaxCachedNumbers.
	MaxCachedNumbers int
	// Personal is the key store debtors' personal data is sealed with and
	// erased from, and the HTTP server opens creditors' reads with; nil: the
	// ledger runs without a master key, and a command
	// that carries personal data is refused (ErrPersonalDataNotAccepted).
	// Set it before the first command.
	Personal pii.Keys
}

type cachedPlacement struct {
	p    domain.Placement
	rev  uint64
	pos  eventstore.Position
	hash journal.Hash // the hash of the stream's last event
	// fromSnapshot: p holds only the processed numbers of the events after
	// position through (the snapshot's) and those looked up since; the
	// others are asked of the snapshots.
	fromSnapshot bool
	through      eventstore.Position
}

// DefaultMaxCached bounds the aggregate cache and the claim-owner cache
// unless Handler.MaxCached says otherwise; when one is full, an arbitrary
// entry makes room (Go's map iteration order is random), which under
// uniform access keeps a hit rate of MaxCached/N where dropping the whole
// cache would keep almost none. A miss costs a snapshot read when the
// handler has Snapshots, else a read of the placement's stream. 10,000:
// with 50,000, payments to random placements out of 100,000 hit half the
// time but ran 8–11% slower, the collector scanning a heap of 330 MB in use
// instead of 120 MB, and the server peaked at 590 MB resident instead of
// 400 MB (docs/PERFORMANCE.md).
const DefaultMaxCached = 10_000

func (h *Handler) cached(id uuid.UUID) (cachedPlacement, bool) {
	h.cacheMu.Lock()
	defer h.cacheMu.Unlock()
	c, ok := h.cache[id]
	return c, ok
}

func (h *Handler) remember(id uuid.UUID, c cachedPlacement) {
	h.cacheMu.Lock()
	defer h.cacheMu.Unlock()
	if _, present := h.cache[id]; !present && len(h.cache) >= h.MaxCached {
		for victim := range h.cache {
			delete(h.cache, victim)
			break
		}
	}
	h.cache[id] = c
}

func (h *Handler) forget(id uuid.UUID) {
	h.cacheMu.Lock()
	defer h.cacheMu.Unlock()
	delete(h.cache, id)
}

func (h *Handler) streamLock(id uuid.UUID) func() {
	m := &h.streams[(uint(id[14])<<8|uint(id[15]))%uint(len(h.streams))]
	m.Lock()
	return m.Unlock
}

// NewHandler returns a handler; idem is the index of idempotency keys (fed
// from the log by the projections runner as well): projections.WriteIndex,
// or projections.IdempotencyIndex where there are no views.
func NewHandler(store eventstore.Store, idem Idempotency, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	h := &Handler{store: store, now: now, idem: idem, cache: map[uuid.UUID]cachedPlacement{}, owners: map[string]uuid.UUID{}, MaxCached: DefaultMaxCached,
		MaxCachedNumbers: DefaultMaxCachedNumbers}
	h.snapshots, _ = idem.(Snapshots)
	return h
}

// keyLock serialises requests that carry the same idempotency key in this
// process, so a repeat that arrives while the first is running waits for it.
func (h *Handler) keyLock(req Request) func() {
	if req.IdempotencyKey == "" {
		return func() {}
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(req.Actor + "\x00" + req.IdempotencyKey))
	m := &h.locks[f.Sum32()%uint32(len(h.locks))]
	m.Lock()
	return m.Unlock
}

// Seen says whether a request's Idempotency-Key was used before by its
// actor (the command will be answered from the first, or refused as a
// reuse, without being decided again).
func (h *Handler) Seen(req Request) bool {
	if req.IdempotencyKey == "" {
		return false
	}
	_, found := h.idem.Lookup(req.Actor, req.IdempotencyKey)
	return found
}

// Recorded returns what is remembered of an actor's Idempotency-Key: the
// request hash it was first used with, among others.
func (h *Handler) Recorded(actor, key string) (journal.IdempotencyRecord, bool) {
	if key == "" {
		return journal.IdempotencyRecord{}, false
	}
	return h.idem.Lookup(actor, key)
}

// replay answers a repeated idempotency key, if it is one.
func (h *Handler) replay(ctx context.Context, req Request) (Result, bool, error) {
	if req.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	rec, found := h.idem.Lookup(req.Actor, req.IdempotencyKey)
	if !found {
		return Result{}, false, nil
	}
	if rec.Bulk {
		return Result{}, true, ErrIdempotencyReused // the key of a bulk request, sent with a single command
	}
	if rec.RequestHash != req.RequestHash {
		return Result{}, true, ErrIdempotencyReused
	}
	p, rev, err := h.LoadAt(ctx, rec.PlacementID, rec.Position)
	if err != nil {
		return Result{}, true, err
	}
	events, err := h.commandEvents(ctx, rec.PlacementID, rev)
	if err != nil {
		return Result{}, true, err
	}
	res := Result{Placement: p, Revision: rev, Position: rec.Position, Replayed: true, RequestID: rec.RequestID, Events: events}
	return res, true, refusal(res, rec.Outcome)
}

// commandEvents returns the events of the command whose last event is at
// revision last of a placement's stream, so a repeat answers with what the
// first execution recorded (a payment number the ledger chose, say).
func (h *Handler) commandEvents(ctx context.Context, id uuid.UUID, last uint64) ([]domain.Event, error) {
	stream := journal.PlacementStream(id)
	recs, err := h.store.ReadStream(ctx, stream, last, 1)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	m, err := journal.DecodeMetadata(recs[0].Metadata)
	if err != nil {
		return nil, err
	}
	if first := last - min(uint64(m.Index), last); first < last {
		if recs, err = h.store.ReadStream(ctx, stream, first, int(last-first+1)); err != nil {
			return nil, err
		}
	}
	events := make([]domain.Event, 0, len(recs))
	for _, rec := range recs {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return nil, fmt.Errorf("%s revision %d: %w", stream, rec.Revision, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// CheckBulkKey refuses a bulk request whose Idempotency-Key was used before
// with another request (another bulk body, or a single command): the whole
// request is refused before any item is done. The same bulk request again
// passes, and each item answers as it first did.
func (h *Handler) CheckBulkKey(req Request) error {
	if req.BulkKey == "" {
		return nil
	}
	rec, found := h.idem.Lookup(req.Actor, req.BulkKey)
	if found && (!rec.Bulk || rec.RequestHash != req.RequestHash) {
		return ErrIdempotencyReused
	}
	return nil
}

// metadata is what every event a command appends says about the request.
func (req Request) metadata(command string, at time.Time) journal.Metadata {
	return journal.Metadata{Actor: req.Actor, ActorType: req.ActorType, RequestID: req.RequestID,
		IdempotencyKey: req.IdempotencyKey, RequestHash: req.RequestHash, BulkKey: req.BulkKey,
		CausationID: req.RequestID, CorrelationID: req.RequestID,
		OccurredAt: at, Command: command}
}

// Load reads and folds a placement's stream. A placement that does not exist
// (or belongs to another creditor than creditor, when set) is
// domain.ErrNotFound.
func (h *Handler) Load(ctx context.Context, id uuid.UUID, creditor string) (domain.Placement, uint64, eventstore.Position, error) {
	c, err := h.load(ctx, id, eventstore.Position(^uint64(0)))
	if err != nil {
		return domain.Placement{}, 0, 0, err
	}
	if creditor != "" && c.p.CreditorID != creditor {
		return domain.Placement{}, 0, 0, domain.ErrNotFound
	}
	return c.p, c.rev, c.pos, nil
}

// LoadAt folds a placement's events up to and including position until.
// A placement that did not exist yet then is domain.ErrNotFound.
func (h *Handler) LoadAt(ctx context.Context, id uuid.UUID, until eventstore.Position) (domain.Placement, uint64, error) {
	c, err := h.load(ctx, id, until)
	if err == nil && !c.p.Exists() {
		err = domain.ErrNotFound
	}
	return c.p, c.rev, err
}

func (h *Handler) load(ctx context.Context, id uuid.UUID, until eventstore.Position) (cachedPlacement, error) {
	var c cachedPlacement
	err := h.fold(ctx, &c, id, 0, until)
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return cachedPlacement{}, domain.ErrNotFound
	case err != nil:
		return cachedPlacement{}, err
	}
	return c, nil
}

// fold applies a placement's events from revision from on, up to and
// including position until, to c.
func (h *Handler) fold(ctx context.Context, c *cachedPlacement, id uuid.UUID, from uint64, until eventstore.Position) error {
	errStop := errors.New("past the cut")
	stream := journal.PlacementStream(id)
	err := journal.ReadStream(ctx, h.store, stream, from, func(rec eventstore.RecordedEvent) error {
		if rec.Position > until {
			return errStop
		}
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return fmt.Errorf("%s revision %d: %w", stream, rec.Revision, err)
		}
		c.p = domain.Evolve(c.p, e)
		c.rev, c.pos, c.hash = rec.Revision, rec.Position, journal.LastHash(rec.Metadata)
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// latest returns a placement as it is now: from its snapshot and the events
// after it when there are snapshots that know it, else from its stream.
func (h *Handler) latest(ctx context.Context, id uuid.UUID) (cachedPlacement, error) {
	c, ok, err := h.snapshot(id)
	if err != nil {
		return cachedPlacement{}, err
	}
	if ok {
		err := h.fold(ctx, &c, id, c.rev+1, eventstore.Position(^uint64(0)))
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			return cachedPlacement{}, err
		}
	}
	return h.load(ctx, id, eventstore.Position(^uint64(0)))
}

// snapshot returns a placement as the snapshots last saw it, which may be
// behind the log; false when there are none or they do not know it.
func (h *Handler) snapshot(id uuid.UUID) (cachedPlacement, bool, error) {
	if h.snapshots == nil {
		return cachedPlacement{}, false, nil
	}
	s, ok, err := h.snapshots.Snapshot(id)
	if err != nil || !ok {
		return cachedPlacement{}, false, err
	}
	return cachedPlacement{p: s.Placement, rev: s.Revision, pos: s.Position, hash: s.Hash, fromSnapshot: true, through: s.Position}, true, nil
}

// startFrom returns the placement an attempt decides on: as cached; on a
// miss as its snapshot has it (speculative); after a lost race, or for a
// precondition, as the log has it. unchecked: it may be behind the log, as
// a cached placement is when another process shares the store, or a
// snapshot when the views have not applied its last events yet. An append
// finds that by its expected revision; an answer that appends nothing
// checks it first.
func (h *Handler) startFrom(ctx context.Context, id uuid.UUID, req Request, reload bool) (c cachedPlacement, unchecked, speculative bool,
	err error) {
	c, hit := h.cached(id)
	if hit && !reload {
		return c, true, false, nil
	}
	if !reload && req.IfMatch == nil {
		// On a miss, the snapshot alone: what followed it in the log is
		// nearly always nothing (the views are a batch behind at most), and
		// reading that costs more than the snapshot. A precondition is
		// checked against the placement as it is.
		if c, speculative, err = h.snapshot(id); err != nil {
			return c, false, false, err
		}
	}
	if !speculative {
		if c, err = h.latest(ctx, id); err != nil {
			return c, false, false, err
		}
	}
	h.remember(id, c)
	return c, speculative, speculative, nil
}

// errSnapshotBehind is what an attempt that decided on a snapshot alone
// returns when the snapshot turned out to be behind the log: the next
// attempt decides again, at once and at the same time, on the placement as
// the log has it.
var errSnapshotBehind = errors.New("command: the placement's snapshot is behind the log")

// withNumbers returns c's placement with what it processed under the
// numbers cmd names, asked of the snapshots when c came from one; false
// when they cannot say (the caller reads the stream instead).
func (h *Handler) withNumbers(id uuid.UUID, c cachedPlacement, cmd domain.Command) (domain.Placement, bool, error) {
	p := c.p
	if !c.fromSnapshot {
		return p, true, nil
	}
	var payments, waivers []string
	named, namedW := domain.NumbersNamed(cmd)
	for _, n := range named {
		if _, known := p.PaymentNumbers.Get(n); !known {
			payments = append(payments, n)
		}
	}
	for _, n := range namedW {
		if _, known := p.WaiverNumbers.Get(n); !known {
			waivers = append(waivers, n)
		}
	}
	if len(payments) == 0 && len(waivers) == 0 {
		return p, true, nil
	}
	pay, waive, ok, err := h.snapshots.Processed(id, c.through, payments, waivers)
	if err != nil || !ok {
		return p, false, err
	}
	for n, done := range pay {
		p.PaymentNumbers = p.PaymentNumbers.With(n, done)
	}
	for n, done := range waive {
		p.WaiverNumbers = p.WaiverNumbers.With(n, done)
	}
	return p, true, nil
}

// Execute runs a command on an existing placement. build receives the time
// the command is decided at. A refusal that nevertheless recorded events is
// a *Refused, returned with the Result of what it recorded.
func (h *Handler) Execute(ctx context.Context, id uuid.UUID, req Request, build func(at time.Time) domain.Command) (Result, error) {
	defer h.keyLock(req)()
	if res, repeated, err := h.replay(ctx, req); repeated {
		return res, err
	}
	defer h.streamLock(id)()
	var at time.Time
	behind := false
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 && !behind {
			// Another process won the race: back off a little, with jitter.
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))):
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
		}
		if !behind {
			at = h.now().UTC()
		}
		res, err := h.decideAndAppend(ctx, id, req, build, attempt > 0, at)
		if behind = errors.Is(err, errSnapshotBehind); behind {
			continue
		}
		if errors.Is(err, eventstore.ErrConcurrency) {
			if req.IfMatch != nil {
				return Result{}, ErrPreconditionFailed
			}
			continue
		}
		return res, err
	}
	return Result{}, ErrTooMuchContention
}

// decideAndAppend is one attempt of Execute: it decides the command at at on
// the placement as cached, or as its snapshot has it (reloaded when reload
// is set, after a lost race), and appends what was decided; a lost race is
// eventstore.ErrConcurrency, a snapshot found behind the log
// errSnapshotBehind.
func (h *Handler) decideAndAppend(ctx context.Context, id uuid.UUID, req Request, build func(at time.Time) domain.Command, reload bool,
	at time.Time) (Result, error) {
	c, unchecked, speculative, err := h.startFrom(ctx, id, req, reload)
	if err != nil {
		return Result{}, err
	}
	behind := func(err error) error {
		if speculative && errors.Is(err, eventstore.ErrConcurrency) {
			h.forget(id)
			return errSnapshotBehind
		}
		return err
	}
	if req.Creditor != "" && c.p.CreditorID != req.Creditor {
		return Result{}, domain.ErrNotFound
	}
	if req.IfMatch != nil && *req.IfMatch != c.rev {
		return Result{}, ErrPreconditionFailed
	}
	cmd := build(at)
	p, known, err := h.withNumbers(id, c, cmd)
	if err != nil {
		return Result{}, err
	}
	if !known {
		// The snapshots were rebuilt meanwhile: read the whole stream.
		if c, err = h.load(ctx, id, eventstore.Position(^uint64(0))); err != nil {
			return Result{}, err
		}
		h.remember(id, c)
		p = c.p
		unchecked, speculative = false, false
	}
	dec := domain.Decide(p, cmd)
	if dec.Repeat != nil {
		return h.firstAnswer(ctx, id, dec.Repeat.Revision)
	}
	if len(dec.Events) == 0 {
		if unchecked {
			if err := h.stillLatest(ctx, id, c.rev); err != nil {
				return Result{}, behind(err)
			}
		}
		if dec.Err != nil {
			return Result{}, dec.Err
		}
		return Result{Placement: p, Revision: c.rev, Position: c.pos, RequestID: req.RequestID}, nil
	}
	from := c
	from.p = p
	res, err := h.append(ctx, id, req, cmd, dec, from, at)
	if _, refused := AsRefused(err); err != nil && !refused {
		h.forget(id)
		return res, behind(err)
	}
	entry := cachedPlacement{p: res.Placement, rev: res.Revision, pos: res.Position, hash: res.Hash,
		fromSnapshot: c.fromSnapshot, through: c.through}
	if h.snapshots != nil && entry.p.PaymentNumbers.Len()+entry.p.WaiverNumbers.Len() > h.MaxCachedNumbers {
		// Every payment has a number: keep the cache's memory from growing
		// with them. The snapshots know them all, and are asked for the
		// ones a later command names.
		entry.p.PaymentNumbers, entry.p.WaiverNumbers = domain.Numbers{}, domain.Numbers{}
		entry.fromSnapshot, entry.through = true, res.Position
	}
	h.remember(id, entry)
	return res, err
}

// stillLatest checks, before a refusal or an answer that appends nothing
// is given from the cache, that no other process has written the placement
// since revision rev (they share the store with KurrentDB or PostgreSQL):
// eventstore.ErrConcurrency if one has, so that Execute reloads and decides
// again. An append finds a stale cache by itself, by its expected revision.
func (h *Handler) stillLatest(ctx context.Context, id uuid.UUID, rev uint64) error {
	newer, err := h.store.ReadStream(ctx, journal.PlacementStream(id), rev+1, 1)
	if err != nil {
		return err
	}
	if len(newer) > 0 {
		return eventstore.ErrConcurrency
	}
	return nil
}

// firstAnswer answers a command the domain recognised as a repeat (a payment
// or credit waivers whose numbers were processed with the same content) as
// its first execution was answered: the placement as it stood right after
// that command, its revision and position, and its request id. revision is
// one of that command's events; its metadata says where the command ended.
func (h *Handler) firstAnswer(ctx context.Context, id uuid.UUID, revision uint64) (Result, error) {
	stream := journal.PlacementStream(id)
	at := func(rev uint64) (eventstore.RecordedEvent, error) {
		recs, err := h.store.ReadStream(ctx, stream, rev, 1)
		if err == nil && len(recs) == 0 {
			err = fmt.Errorf("%s has no revision %d", stream, rev)
		}
		if err != nil {
			return eventstore.RecordedEvent{}, err
		}
		return recs[0], nil
	}
	rec, err := at(revision)
	if err != nil {
		return Result{}, err
	}
	m, err := journal.DecodeMetadata(rec.Metadata)
	if err != nil {
		return Result{}, err
	}
	if last := revision - uint64(m.Index) + uint64(max(m.Count, 1)) - 1; last != revision {
		if rec, err = at(last); err != nil {
			return Result{}, err
		}
	}
	p, rev, err := h.LoadAt(ctx, id, rec.Position)
	if err != nil {
		return Result{}, err
	}
	res := Result{Placement: p, Revision: rev, Position: rec.Position, Replayed: true, RequestID: m.RequestID}
	return res, refusal(res, m.Outcome)
}

// append writes a decision's events in one append, chained to the
// placement's last event (from is the placement before the command; a zero
// from means a new stream), and records the idempotency key.
func (h *Handler) append(ctx context.Context, id uuid.UUID, req Request, cmd domain.Command, dec domain.Decision, from cachedPlacement, at time.Time) (Result, error) {
	outcome := ""
	if e, ok := domain.AsError(dec.Err); ok {
		outcome = e.Code
	}
	expected, rev := eventstore.NoStream(), uint64(0)
	if from.p.Exists() {
		expected, rev = eventstore.Exact(from.rev), from.rev+1
	}
	stream := journal.PlacementStream(id)
	p, prev := from.p, from.hash
	events := make([]eventstore.EventData, len(dec.Events))
	for i, e := range dec.Events {
		typ, data, err := domain.EncodeEvent(e)
		if err != nil {
			return Result{}, err
		}
		m := req.metadata(cmd.CommandType(), at)
		m.Outcome, m.Index, m.Count = outcome, i, len(dec.Events)
		if events[i], prev, err = journal.Chain(prev, stream, rev+uint64(i), eventID(req.Actor, req.IdempotencyKey, id, i), typ, data, m); err != nil {
			return Result{}, err
		}
		p = domain.Evolve(p, e)
	}
	ar, err := h.store.Append(ctx, stream, expected, events)
	if err != nil {
		return Result{}, err
	}
	if req.IdempotencyKey != "" {
		h.idem.Record(req.Actor, req.IdempotencyKey, journal.IdempotencyRecord{
			RequestHash: req.RequestHash, PlacementID: id, Position: ar.Position, Outcome: outcome, RequestID: req.RequestID,
		})
	}
	if req.BulkKey != "" {
		h.idem.Record(req.Actor, req.BulkKey, journal.IdempotencyRecord{RequestHash: req.RequestHash, Position: ar.Position, Bulk: true})
	}
	res := Result{Placement: p, Revision: ar.Revision, Position: ar.Position, Recorded: len(events), RequestID: req.RequestID, Hash: prev, Events: dec.Events}
	if dec.Err != nil {
		return res, &Refused{Err: dec.Err, Result: res}
	}
	return res, nil
}

// Place opens a placement. The claim number is reserved first by appending
// to its reservation stream with "no stream" expected, so two requests for
// the same number can never both succeed. A reservation whose placement was
// never opened (the process died in between) is adopted by the next request
// that wins the "no stream" append to that placement's stream.
func (h *Handler) Place(ctx context.Context, req Request, cmd domain.Place) (Result, error) {
	defer h.keyLock(req)()
	if res, repeated, err := h.replay(ctx, req); repeated {
		return res, err
	}
	cmd.At = h.now().UTC()
	// Validate before reserving, so a refused request burns no claim number.
	if dec := domain.Decide(domain.Placement{}, cmd); dec.Err != nil {
		return Result{}, dec.Err
	}
	reservation, err := json.Marshal(journal.ClaimNumberReserved{PlacementID: cmd.PlacementID, CreditorID: cmd.CreditorID, ClaimNumber: cmd.ClaimNumber})
	if err != nil {
		return Result{}, err
	}
	m := req.metadata(cmd.CommandType(), cmd.At)
	m.IdempotencyKey, m.RequestHash, m.Count = "", "", 1 // the key belongs to the placement's events
	claimStream := journal.ClaimStream(cmd.CreditorID, cmd.ClaimNumber)
	event, _, err := journal.Chain(journal.Hash{}, claimStream, 0, eventID(req.Actor, req.IdempotencyKey, cmd.PlacementID, -1),
		journal.ClaimReservedType, reservation, m)
	if err != nil {
		return Result{}, err
	}
	_, err = h.store.Append(ctx, claimStream, eventstore.NoStream(), []eventstore.EventData{event})
	switch {
	case err == nil:
	case errors.Is(err, eventstore.ErrConcurrency):
		owner, found, lerr := h.ClaimOwner(ctx, cmd.CreditorID, cmd.ClaimNumber)
		if lerr != nil {
			return Result{}, lerr
		}
		if !found {
			return Result{}, domain.ErrClaimNumberTaken
		}
		cmd.PlacementID = owner // the placement stream's "no stream" decides below
	default:
		return Result{}, err
	}
	dec := domain.Decide(domain.Placement{}, cmd)
	res, err := h.append(ctx, cmd.PlacementID, req, cmd, dec, cachedPlacement{}, cmd.At)
	if errors.Is(err, eventstore.ErrConcurrency) {
		return Result{}, domain.ErrClaimNumberTaken
	}
	if err == nil {
		h.remember(cmd.PlacementID, cachedPlacement{p: res.Placement, rev: res.Revision, pos: res.Position, hash: res.Hash})
	}
	return res, err
}

// ClaimOwner returns the placement that holds a creditor's claim number.
func (h *Handler) ClaimOwner(ctx context.Context, creditor, claimNumber string) (uuid.UUID, bool, error) {
	if !domain.ValidIdentifier(claimNumber) || !domain.ValidCreditorID(creditor) {
		return uuid.Nil, false, nil
	}
	stream := journal.ClaimStream(creditor, claimNumber)
	h.cacheMu.Lock()
	owner, known := h.owners[stream]
	h.cacheMu.Unlock()
	if known {
		return owner, true, nil
	}
	recs, err := h.store.ReadStream(ctx, stream, 0, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(recs) == 0) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, err
	}
	var r journal.ClaimNumberReserved
	if err := json.Unmarshal(recs[0].Data, &r); err != nil {
		return uuid.Nil, false, fmt.Errorf("claim reservation %s: %w", recs[0].Stream, err)
	}
	h.cacheMu.Lock()
	if len(h.owners) >= h.MaxCached {
		for victim := range h.owners {
			delete(h.owners, victim)
			break
		}
	}
	h.owners[stream] = r.PlacementID
	h.cacheMu.Unlock()
	return r.PlacementID, true, nil
}
