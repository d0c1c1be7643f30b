package projections

import (
	"container/list"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/pebbleutil"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/reconcile"
)

// placementState is what the views keep of a placement to apply its next
// event. The placement's processed payment and waiver numbers are left out:
// no read needs them (the command side folds its own state from the log).
type placementState struct {
	P        domain.Placement    `json:"p"`
	Opened   eventstore.Position `json:"opened"`
	Revision uint64              `json:"revision"`
	NextSort uint64              `json:"nextSort"`
	// Last and Hash are the position and hash-chain hash of the event at
	// Revision: with them the command side can continue the stream from
	// this state (see Snapshot).
	Last eventstore.Position `json:"last"`
	Hash stateHash           `json:"hash"`
	// Change is where the placement is in the change index (its latest
	// command's end; zero: not in it yet), when ChangeKnown. A state
	// decoded from a form before it (binary formats 1 and 2, JSON) does
	// not know it: recordChange then reads the index's row of the
	// placement, as it did before states carried it.
	Change      changeAt `json:"-"`
	ChangeKnown bool     `json:"-"`
}

// stateHash is the hash-chain hash of a state's last event, as its 32
// bytes: a state is encoded and decoded at nearly every event a build
// applies, and as hexadecimal text it cost a string and a conversion each
// way. Zero is none (a state of a form that kept none); no event's hash is
// zero but with a chance of one in 2^256. In the views' JSON form (before
// the binary one) it is the lowercase hex text.
type stateHash journal.Hash

func (h stateHash) none() bool { return h == stateHash{} }

// MarshalText writes h in hex, or nothing for none.
func (h stateHash) MarshalText() ([]byte, error) {
	if h.none() {
		return []byte{}, nil
	}
	return hex.AppendEncode(nil, h[:]), nil
}

// UnmarshalText reads 64 hex digits, or nothing for none; anything else
// leaves h none and is an error.
func (h *stateHash) UnmarshalText(b []byte) error {
	*h = stateHash{}
	if len(b) == 0 {
		return nil
	}
	var v stateHash
	if len(b) == hex.EncodedLen(len(v)) {
		if _, err := hex.Decode(v[:], b); err == nil {
			*h = v
			return nil
		}
	}
	return fmt.Errorf("projections: a state's hash %q is not 64 hex digits", b)
}

// creditorFigures is what the creditor-wide feed needs to find where a time
// window starts and ends (see CreditorFeed).
type creditorFigures struct {
	// RunMax is the latest occurredAt among the creditor's commands so far.
	RunMax time.Time `json:"runMax"`
	// Lateness is the most a command's occurredAt has been behind RunMax.
	Lateness time.Duration `json:"lateness"`
}

// webhookView is a creditor's webhook as the log has set it.
type webhookView struct {
	journal.WebhookConfigured
	// Since is the position it was configured at; RemovedAt, when not 0, the
	// position it was removed at.
	Since     eventstore.Position `json:"since"`
	RemovedAt eventstore.Position `json:"removedAt,omitempty"`
}

// Notification is what one event of the log calls for at a creditor's
// webhook, waiting to be delivered (the webhook package delivers it, in
// this order): a status change (Status not empty; EventID is its id) when
// the webhook subscribes to placement.status_changed, then Events, the
// notices of the other types it subscribes to (absent on notifications
// queued before there were other types). A personal-data erasure concerns
// a debtor, not a placement: Placement is uuid.Nil and Claim empty.
type Notification struct {
	Position   eventstore.Position `json:"position"`
	EventID    string              `json:"eventId"`
	Placement  uuid.UUID           `json:"placementId"`
	Claim      string              `json:"claimNumber"`
	Customer   string              `json:"customerNumber"`
	Previous   domain.Status       `json:"previousStatus"`
	Status     domain.Status       `json:"status"`
	OccurredAt time.Time           `json:"occurredAt"`
	Events     []Notice            `json:"events,omitempty"`
}

var payloadNamespace = uuid.MustParse("c9a3e8f1-4b62-4f0e-9d7a-2b5c8e1f6a33")

// statusAfter says whether an event changes a placement's status, and so
// calls for a notification to the creditor's webhook, and the status it
// leads to.
func statusAfter(e domain.Event) (domain.Status, bool) {
	switch e.(type) {
	case domain.PlacementRecalled:
		return domain.StatusRecalled, true
	case domain.PlacementWrittenOff:
		return domain.StatusWrittenOff, true
	case domain.PlacementPaid:
		return domain.StatusPaid, true
	case domain.PlacementPaused:
		return domain.StatusPaused, true
	case domain.PlacementResumed, domain.PlacementReopened:
		return domain.StatusActive, true
	case domain.PlacementOpened, domain.EmailSequenceStarted, domain.CallScheduled, domain.CallDialed, domain.CallCompleted,
		domain.SequencesPaused, domain.CallsCancelled, domain.OutcomeScoreSnapshotted, domain.AccountingDocumentIssued,
		domain.CreditWaiverIssued, domain.PaymentReceived, domain.PaymentReversed, domain.RecallRejected, domain.DebtorContactChanged,
		domain.DebitAdded, domain.CreditWaiverCancelled,
		domain.PaymentPlanAgreed, domain.PaymentPlanCompleted, domain.PaymentPlanBroken, domain.PaymentPlanCancelled:
		return "", false
	default:
		panic(fmt.Sprintf("projections: status-change detection has no rule for event type %s", e.EventType()))
	}
}

// StatusEvents sorts the event types for the status changes the webhooks
// deliver. A placement's opening is not a change (it has no status before);
// a payment or a reversal changes the status through the PlacementPaid or
// PlacementReopened that follows it.
var StatusEvents = domain.EventClasses{
	Handled: []string{domain.TypePlacementRecalled, domain.TypePlacementPaid, domain.TypePlacementPaused, domain.TypePlacementResumed,
		domain.TypePlacementReopened, domain.TypePlacementWrittenOff},
	Ignored: []string{domain.TypePlacementOpened, domain.TypeEmailSequenceStarted, domain.TypeCallScheduled, domain.TypeCallDialed,
		domain.TypeCallCompleted, domain.TypeSequencesPaused, domain.TypeCallsCancelled, domain.TypeOutcomeScoreSnapshotted,
		domain.TypeAccountingDocumentIssued, domain.TypeCreditWaiverIssued, domain.TypePaymentReceived, domain.TypePaymentReversed,
		domain.TypeRecallRejected, domain.TypeDebtorContactChanged, domain.TypeDebitAdded, domain.TypeCreditWaiverCancelled,
		domain.TypePaymentPlanAgreed, domain.TypePaymentPlanCompleted, domain.TypePaymentPlanBroken, domain.TypePaymentPlanCancelled},
}

// stateCache keeps placement states in two tiers: the most recently used
// decoded, least recently used first out, and behind them, within a byte
// budget, the ones the decoded tier let go of in their binary form (see
// encodeState), first in first out, in memory outside Go's heap (encRing).
// A state read back from the second tier costs a decode (about 3 µs)
// instead of a read of the store (a Pebble point read and often a block to
// decompress, about 10 µs), and in a bulk build a state it holds is not
// written to the store until it leaves it: a rebuild of 100,000 placements
// then writes each state once instead of at every eviction
// (docs/PERFORMANCE.md).
type stateCache struct {
	max   int
	order *list.List // of *cached, most recent at the front
	byID  map[uuid.UUID]*list.Element
	// enc is the encoded tier; nil keeps none.
	enc *encRing
	// settle is, when more than 0, the size the encoded tier takes once the
	// states it holds fill two thirds of it: a bulk build's starts larger
	// (startLarger), and the ring it started with is then emptied
	// (retiring).
	settle int
	// retiring is the ring the encoded tier started with, once it was two
	// thirds full: no state is put in it any more, and for each state put
	// in enc it lets go of its oldest, retireRate times the bytes, giving
	// its pages back as it goes (up to the offset retired), until it is
	// empty and released. retireErr is what releasing it returned.
	retiring  *encRing
	retired   uint64
	retireErr error
	scratch   []byte // to encode in
	// letGo is set once the cache has let a state go (from both tiers):
	// until then it holds every state applied since it was made, and the
	// decoders do not read states ahead (readAhead), which would read the
	// store for nothing. Read by them, so atomic.
	letGo atomic.Bool
	// holding is how many states it holds, for the goroutine that hands
	// events to the decoders (recentEvents).
	holding atomic.Int64
}

type cached struct {
	id uuid.UUID
	st *placementState
	// enc is, for a state the encoded tier let go of, its binary form (st
	// is then nil).
	enc []byte
	// unsaved: in a bulk build, changed since it was last written to the
	// store (states are written back when they leave the cache or are
	// saved, not with every batch).
	unsaved bool
}

// newStateCache keeps up to max states decoded and, when encMax is more
// than 0, encMax bytes of them encoded.
func newStateCache(max, encMax int) *stateCache {
	c := &stateCache{max: max, order: list.New(), byID: map[uuid.UUID]*list.Element{}}
	if encMax > 0 {
		c.enc = newTier(encMax)
	}
	return c
}

// startLarger makes the encoded tier times its size until the states it
// holds fill two thirds of it, and its size from then on (so a build over
// many placements never touches the last third of the larger ring, and
// writes 32 MiB of states, not 48, when it gives way). A bulk build over 100,000 placements (about 30 MB of
// states) then reads no state back from the store (docs/PERFORMANCE.md,
// the twenty-eighth round); over many more, its memory is what it was
// with 16 MiB from the start once the first ring is emptied.
func (c *stateCache) startLarger(times int) {
	if c.enc != nil && times > 1 {
		c.settle = c.enc.size
		c.enc = newTier(c.enc.size * times)
	}
}

// retireRate is how many bytes the retiring ring lets go of for each byte
// put in the encoded tier: the 48 MiB of a bulk build's first ring are
// written and given back while the next 16 MiB (or so) of states come.
const retireRate = 3

// newTier makes the encoded tier's ring of size bytes: it moves the states
// it holds rather than let them go while they fill at most two thirds of
// it (encRing.moveUnder).
func newTier(size int) *encRing {
	r := newEncRing(size)
	r.moveUnder = size / 3 * 2
	return r
}

// get returns a decoded state, or nil.
func (c *stateCache) get(id uuid.UUID) *placementState {
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*cached).st
	}
	return nil
}

// takeEncoded removes a state from the encoded tier and returns it, with
// whether it is unsaved. The bytes stay as they are until the next put.
func (c *stateCache) takeEncoded(id uuid.UUID) (enc []byte, unsaved, ok bool) {
	if c.enc == nil {
		return nil, false, false
	}
	if enc, unsaved, ok = c.enc.take(id); ok || c.retiring == nil {
		return enc, unsaved, ok
	}
	return c.retiring.take(id)
}

// put caches a placement's state decoded, and returns the unsaved states
// that left the cache for it (each decoded or encoded): the caller must
// write them.
func (c *stateCache) put(id uuid.UUID, st *placementState, unsaved bool) (left []*cached) {
	if e, ok := c.byID[id]; ok {
		ce := e.Value.(*cached)
		ce.st, ce.unsaved = st, ce.unsaved || unsaved
		c.order.MoveToFront(e)
		return nil
	}
	if _, wasUnsaved, ok := c.takeEncoded(id); ok {
		unsaved = unsaved || wasUnsaved
	}
	c.byID[id] = c.order.PushFront(&cached{id: id, st: st, unsaved: unsaved})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		ce := last.Value.(*cached)
		delete(c.byID, ce.id)
		if c.enc != nil {
			var err error
			if c.scratch, err = encodeState(c.scratch[:0], ce.st); err == nil {
				left, err = c.enc.put(ce.id, c.scratch, ce.unsaved, left)
			}
			if err == nil {
				left = c.retire(left, ringHeader+len(c.scratch))
				if c.enc.letGo {
					c.lettingGo()
				}
				if c.settle > 0 && c.enc.live > c.enc.moveUnder { // two thirds full (newTier)
					c.retiring, c.retired = c.enc, c.enc.tail
					c.enc, c.settle = newTier(c.settle), 0
				}
				continue
			}
			// A state the codec refuses, or one there is no memory for,
			// is written, or dropped, as it is.
		}
		c.lettingGo()
		if ce.unsaved {
			left = append(left, ce)
		}
	}
	c.holding.Store(int64(c.held()))
	return left
}

// retire lets the retiring ring go of its oldest states, retireRate
// times n bytes of them, appending the unsaved ones to left, and gives
// its pages back behind them; emptied, it is released.
func (c *stateCache) retire(left []*cached, n int) []*cached {
	r := c.retiring
	if r == nil {
		return left
	}
	for goal := r.tail + uint64(retireRate*n); r.tail < r.head && r.tail < goal; {
		left = r.evict(left)
	}
	switch {
	case r.tail == r.head:
		c.retireErr = errors.Join(c.retireErr, r.release())
		c.retiring = nil
	case r.tail-c.retired >= ringDrainStep:
		c.retired = r.discard(c.retired, r.tail)
	}
	return left
}

// held is how many states the cache holds.
func (c *stateCache) held() int {
	n := c.order.Len()
	if c.enc != nil {
		n += c.enc.len()
	}
	if c.retiring != nil {
		n += c.retiring.len()
	}
	return n
}

// unsavedStates calls fn with each unsaved state (decoded, or encoded with
// st nil, the bytes valid during the call) and marks it saved.
func (c *stateCache) unsavedStates(fn func(id uuid.UUID, st *placementState, enc []byte) error) error {
	if err := c.unsavedDecoded(fn); err != nil || c.enc == nil {
		return err
	}
	encoded := func(id uuid.UUID, enc []byte) error { return fn(id, nil, enc) }
	if c.retiring != nil {
		if err := c.retiring.unsaved(encoded); err != nil {
			return err
		}
	}
	return c.enc.unsaved(encoded)
}

func (c *stateCache) unsavedDecoded(fn func(id uuid.UUID, st *placementState, enc []byte) error) error {
	for e := c.order.Front(); e != nil; e = e.Next() {
		if ce := e.Value.(*cached); ce.unsaved {
			if err := fn(ce.id, ce.st, nil); err != nil {
				return err
			}
			ce.unsaved = false
		}
	}
	return nil
}

// drain calls fn with each unsaved state as unsavedStates does, giving the
// encoded tier's memory back as it goes (encRing.drain), and then releases
// the cache, whether fn failed or not.
func (c *stateCache) drain(fn func(id uuid.UUID, st *placementState, enc []byte) error) error {
	err := c.unsavedDecoded(fn)
	encoded := func(id uuid.UUID, enc []byte) error { return fn(id, nil, enc) }
	if err == nil && c.retiring != nil {
		err = c.retiring.drain(encoded)
	}
	if err == nil && c.enc != nil {
		err = c.enc.drain(encoded)
	}
	if rerr := c.release(); err == nil {
		err = rerr
	}
	return err
}

// lettingGo sets letGo, writing it only the first time: the decoders read
// it at every event.
func (c *stateCache) lettingGo() {
	if !c.letGo.Load() {
		c.letGo.Store(true)
	}
}

func (c *stateCache) clear() {
	c.lettingGo() // every state it held
	c.order.Init()
	clear(c.byID)
	if c.enc != nil {
		c.enc.clear()
	}
	if c.retiring != nil {
		c.retiring.clear()
	}
}

// release forgets every state and gives its memory back: the encoded
// tier's buffer and both maps (clear keeps a map's buckets, about 7 MB
// at 1,000,000 placements); the cache can be used again.
func (c *stateCache) release() error {
	c.clear()
	c.holding.Store(0)
	c.byID = map[uuid.UUID]*list.Element{}
	err := c.retireErr
	c.retireErr = nil
	if c.retiring != nil {
		err = errors.Join(err, c.retiring.release())
		c.retiring = nil
	}
	if c.enc == nil {
		return err
	}
	return errors.Join(err, c.enc.release())
}

// idemOverlay holds the idempotency records the command handler has just
// written and the views have not applied yet, so a repeat that arrives in
// between is answered too. Records leave it once the views' checkpoint
// passes them.
type idemOverlay struct {
	mu   sync.Mutex
	recs map[[2]string]journal.IdempotencyRecord
}

func newIdemOverlay() *idemOverlay {
	return &idemOverlay{recs: map[[2]string]journal.IdempotencyRecord{}}
}

func (o *idemOverlay) clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.recs)
}

// tx applies events to the views; commit writes them with the position
// reached, atomically.
type tx struct {
	v   *Views
	gen *generations
	b   *pebble.Batch
	// states and trials: the views' (the runner's), or a background
	// build's own.
	states *stateCache
	trials *trialCache
	// build is the background build this batch is of; nil for the runner's.
	build *unitBuild
	dirty map[uuid.UUID]*placementState
	// folded is the builder's Folded.
	folded func(id uuid.UUID, rec journal.Record, before, after domain.Placement)
	// evicted and spilled hold, in a bulk build, the unsaved states the
	// cache let go of during this batch (decoded, and in their binary
	// form): they are written with it.
	evicted   map[uuid.UUID]*placementState
	spilled   map[uuid.UUID][]byte
	creditors map[string]*creditorFigures
	webhooks  map[string]*webhookView
	// trial holds the batch's trial-balance sums (debit, credit), added to
	// the stored aggregates when it commits.
	trial map[trialKey][2]int64
	// The command being applied: the views are committed only between
	// commands, so a command's feed items are written together.
	cmd        commandItems
	cmdOf      uuid.UUID
	events     int
	last       eventstore.Position
	lastEvent  eventstore.RecordedEvent // the event at last (its data not kept)
	midCommand bool
	// ahead is, while an event is applied, its placement's state as a
	// decoder read it from the store ahead of the applier (readAhead).
	ahead stateAhead
	// val is where a value is encoded before set copies it (into the
	// batch, or into a bulk build's sink): one buffer for the batch
	// rather than one grown for each feed item and entry.
	val []byte
	// items is where endCommand gathers a command's feed items, for the
	// batch; item is where it encodes one of them into a row of several.
	items []FeedItem
	item  []byte
	// stg is where a bulk build's batch stages its records for the sink
	// (see sinking): the sink's, or its books worker's.
	stg *stager
	// books, once the batch has applied booksAfter events, applies its
	// books and reconciliation beside it (see booksWorker).
	books *booksWorker
}

func (v *Views) begin() *tx { return v.beginAt(v.generation(), v.states, nil) }

// beginAt starts a batch writing in gens with states, for build when not nil
// (whose own cache of trial-balance aggregates it then uses).
func (v *Views) beginAt(gens *generations, states *stateCache, build *unitBuild) *tx {
	trials := v.trials
	if build != nil {
		trials = build.trials
	}
	t := &tx{v: v, gen: gens, b: v.db.NewBatch(), states: states, trials: trials, build: build, dirty: map[uuid.UUID]*placementState{},
		evicted: map[uuid.UUID]*placementState{}, spilled: map[uuid.UUID][]byte{}, creditors: map[string]*creditorFigures{}, webhooks: map[string]*webhookView{},
		trial: map[trialKey][2]int64{}}
	if t.sinking() {
		t.stg = &v.sink.stager
		// What a batch not committed staged:
		v.sink.stage, v.sink.books.stage = v.sink.stage[:0], v.sink.books.stage[:0]
	}
	return t
}

func (t *tx) set(k keyBuf, val []byte) error {
	if t.sinking() && sunk(k) {
		return t.stg.stageRecord(sinkSet, k, val)
	}
	return t.b.Set(k, val, nil)
}

// setOnce writes a key that is never read while views are built, of
// whatever table: in a bulk build, to its sink (see bulkSink).
func (t *tx) setOnce(k keyBuf, val []byte) error {
	if t.sinking() {
		return t.stg.stageRecord(sinkSet, k, val)
	}
	return t.b.Set(k, val, nil)
}

// sinking reports whether this batch writes to a bulk build's sink.
func (t *tx) sinking() bool { return t.v.sink != nil && t.build == nil }

func (t *tx) setJSON(k keyBuf, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.set(k, b)
}

func (t *tx) del(k keyBuf) error {
	if t.sinking() && sunk(k) {
		return t.stg.stageRecord(sinkDel, k, nil)
	}
	return t.b.Delete(k, nil)
}

// delOnce deletes a key this code wrote once, with one Set, and never
// again (a row whose key holds the position of the event that wrote it):
// a single delete, which Pebble drops together with that Set when the two
// meet in a flush or a compaction, where a delete would be carried down to
// the bottom level.
func (t *tx) delOnce(k keyBuf) error {
	if t.sinking() && sunk(k) {
		return t.stg.stageRecord(sinkDel, k, nil)
	}
	return t.b.SingleDelete(k, nil)
}

// state returns a placement's state as this batch has left it, for its
// event at revision rev: from the batch, the cache, what Snapshot handed on,
// or the store; nil when the placement is not known.
func (t *tx) state(id uuid.UUID, rev uint64) (*placementState, error) {
	if st, ok := t.dirty[id]; ok {
		return st, nil
	}
	if st := t.states.get(id); st != nil {
		return st, nil
	}
	if st, ok := t.evicted[id]; ok {
		delete(t.evicted, id)
		t.cache(id, st, true)
		return st, nil
	}
	enc, unsaved, ok := t.states.takeEncoded(id)
	if !ok {
		if enc, ok = t.spilled[id]; ok {
			delete(t.spilled, id)
			unsaved = true
		}
	}
	if !ok && t.v.written != nil && !t.v.written.mayHold(id) {
		return nil, nil // a bulk build from nothing never wrote it
	}
	if !ok && rev > 0 {
		if b := t.v.handed.take(id, t.gen, rev-1); b != nil {
			enc, ok = b, true
		}
	}
	if !ok && t.ahead.usable(id, t.gen, rev) {
		st := t.ahead.st
		t.ahead = stateAhead{}
		t.v.statesAhead.Add(1)
		t.cache(id, st, unsaved)
		return st, nil
	}
	if !ok {
		t.v.stateReads.Add(1)
		b, err := t.v.get(key(t.gen, tPlacement).id(id))
		if err != nil || b == nil {
			return nil, err
		}
		enc = b
	}
	st := &placementState{}
	if err := decodeState(enc, st); err != nil {
		return nil, fmt.Errorf("projections: placement %s's state in the views: %w", id, err)
	}
	t.cache(id, st, unsaved)
	return st, nil
}

// cache keeps a state in the views' cache; an unsaved state that leaves it
// is written with this batch.
func (t *tx) cache(id uuid.UUID, st *placementState, unsaved bool) {
	for _, ce := range t.states.put(id, st, unsaved) {
		if ce.st != nil {
			t.evicted[ce.id] = ce.st
		} else {
			t.spilled[ce.id] = ce.enc
		}
	}
}

// writeState writes a placement's state (in its binary form, see
// encodeState); its resource is rendered from it when read.
func (t *tx) writeState(id uuid.UUID, st *placementState) error {
	b, err := encodeState(make([]byte, 0, 256+160*len(st.P.Invoices)), st)
	if err != nil {
		return err
	}
	return t.setState(id, b)
}

// setState writes a placement's encoded state, and notes in a bulk build
// that it did (see idFilter).
func (t *tx) setState(id uuid.UUID, enc []byte) error {
	if t.v.written != nil {
		t.v.written.add(id)
	}
	return t.set(key(t.gen, tPlacement).id(id), enc)
}

// writeCached writes a state the cache kept: decoded (st), or already in
// its binary form (enc).
func (t *tx) writeCached(id uuid.UUID, st *placementState, enc []byte) error {
	if st == nil {
		return t.setState(id, enc)
	}
	return t.writeState(id, st)
}

func (t *tx) creditor(c string) (*creditorFigures, error) {
	if f, ok := t.creditors[c]; ok {
		return f, nil
	}
	f := &creditorFigures{}
	b, err := t.v.get(key(t.gen, tCreditor).str(c))
	if err == nil && b != nil {
		err = json.Unmarshal(b, f)
	}
	t.creditors[c] = f
	return f, err
}

func (t *tx) webhook(c string) (*webhookView, error) {
	if w, ok := t.webhooks[c]; ok {
		return w, nil
	}
	b, err := t.v.get(key(t.gen, tWebhook).str(c))
	if err != nil || b == nil {
		t.webhooks[c] = nil
		return nil, err
	}
	w := &webhookView{}
	if err := json.Unmarshal(b, w); err != nil {
		return nil, err
	}
	t.webhooks[c] = w
	return w, nil
}

// apply applies one recorded event. rec is decoded already when it is a
// placement's (placement != uuid.Nil).
func (t *tx) apply(raw eventstore.RecordedEvent, placement uuid.UUID, rec journal.Record) error {
	t.events++
	if t.events == booksAfter {
		t.startBooks()
	}
	t.last = raw.Position
	t.lastEvent = eventstore.RecordedEvent{ID: raw.ID, Stream: raw.Stream, Revision: raw.Revision, Position: raw.Position}
	if placement != uuid.Nil {
		return t.applyPlacement(placement, rec, journal.LastHash(raw.Metadata))
	}
	t.midCommand = false
	kind, parts, err := journal.ParseStream(raw.Stream)
	if err != nil {
		return nil // a stream of the ledger's past (format 1) or of another tool
	}
	switch {
	case kind == journal.KindWebhook && raw.Type == journal.WebhookConfiguredType:
		var c journal.WebhookConfigured
		if err := json.Unmarshal(raw.Data, &c); err != nil {
			return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
		}
		w := &webhookView{WebhookConfigured: c, Since: raw.Position}
		if old, err := t.webhook(parts[0]); err != nil {
			return err
		} else if old != nil && old.RemovedAt == 0 {
			w.Since = old.Since
		}
		t.webhooks[parts[0]] = w
		return t.setJSON(key(t.gen, tWebhook).str(parts[0]), w)
	case kind == journal.KindWebhook && raw.Type == journal.WebhookRemovedType:
		w, err := t.webhook(parts[0])
		if err != nil || w == nil {
			return err
		}
		w.RemovedAt = raw.Position
		// Pending notifications are dropped.
		if err := t.b.DeleteRange(key(t.gen, tOutbox).str(parts[0]), key(t.gen, tOutbox).str(parts[0]).upper(), nil); err != nil {
			return err
		}
		return t.setJSON(key(t.gen, tWebhook).str(parts[0]), w)
	case kind == journal.KindDebtor && raw.Type == journal.DebtorPersonalDataErasedType:
		return t.notifyErased(raw)
	case kind == journal.KindRemittance && raw.Type == journal.RemittanceIssuedType:
		return t.remit(raw, parts[0])
	case kind == journal.KindWebhookProgress && raw.Type == journal.WebhookProgressedType:
		// Settled notifications leave every instance's outbox.
		var p journal.WebhookProgressed
		if err := json.Unmarshal(raw.Data, &p); err != nil {
			return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
		}
		upto := p.Through + 1
		for _, pending := range p.Pending {
			upto = min(upto, pending)
		}
		prefix := key(t.gen, tOutbox).str(parts[0])
		return t.b.DeleteRange(prefix, prefix.u64(upto), nil)
	}
	return nil
}

func (t *tx) applyPlacement(id uuid.UUID, rec journal.Record, hash journal.Hash) error {
	if t.build != nil && t.build.stateless {
		return t.applyEventAlone(id, rec)
	}
	st, err := t.state(id, rec.Revision)
	if err != nil {
		return err
	}
	opened, isOpen := rec.Event.(domain.PlacementOpened)
	if st == nil {
		if !isOpen {
			return fmt.Errorf("projections: %s revision %d: the placement's first event is %s", rec.Stream, rec.Revision, rec.Type)
		}
		st = &placementState{Opened: rec.Position, ChangeKnown: true} // not in the change index yet
	}
	// The state is changed in place: the cache holds it, and a batch that
	// fails is aborted, which empties the cache (tx.abort). before keeps
	// what it was; Evolve shares none of its slices' arrays to write in.
	before := st.P
	next := st
	next.P = domain.Evolve(before, rec.Event)
	if t.folded != nil {
		t.folded(id, rec, before, next.P)
	}
	if err := t.processed(id, next.P, rec.Event); err != nil {
		return err
	}
	next.P.PaymentNumbers, next.P.WaiverNumbers = domain.Numbers{}, domain.Numbers{}
	next.Revision, next.Last, next.Hash = rec.Revision, rec.Position, stateHash(hash)
	creditor := next.P.CreditorID

	if isOpen {
		if err := t.file(creditor, id, next.Opened, opened); err != nil {
			return err
		}
	}
	if err := t.moveIndexes(creditor, id, next.Opened, before, next.P, rec); err != nil {
		return err
	}
	if t.builds(tChange) || t.builds(tPlacement) { // the state carries where it is in the index
		if err := t.recordChange(creditor, id, next, rec); err != nil {
			return err
		}
	}
	if t.builds(tReconcile) || t.builds(tPosting) {
		if err := t.book(creditor, id, before, next.P, rec, hash); err != nil {
			return err
		}
	}
	if err := t.idempotency(id, rec); err != nil {
		return err
	}
	if err := t.notify(creditor, id, before, next.P, rec); err != nil {
		return err
	}
	return t.feedAndKeep(creditor, id, next, rec)
}

// applyEventAlone applies a placement's event for a build of units whose
// rows come from the event alone (Unit.FromEvents): no state is folded.
func (t *tx) applyEventAlone(id uuid.UUID, rec journal.Record) error {
	t.midCommand = !endsCommand(rec.Meta)
	if opened, isOpen := rec.Event.(domain.PlacementOpened); isOpen && t.builds(tSearch) {
		if err := t.index(opened.CreditorID, id, rec.Position, opened); err != nil {
			return err
		}
	}
	return t.idempotency(id, rec)
}

// builds reports whether this batch writes table's rows. Every batch does,
// but a background build's (unitBuild), which keeps only the tables of the
// units it rebuilds: it does their work alone, and folds the placements'
// states they are derived from. A step whose table is not built is skipped
// unless a table that is built needs what it computes; a unit rebuilt alone
// is checked against a rebuild of every unit
// (TestEachUnitRebuiltAloneIsAsRebuiltWithAll).
func (t *tx) builds(table byte) bool { return t.build == nil || t.build.own[table] }

// file lists a new placement under its claim number, in the creditor's
// list, and in the claims search.
func (t *tx) file(creditor string, id uuid.UUID, at eventstore.Position, opened domain.PlacementOpened) error {
	if t.builds(tClaim) { // and tList: the placements'
		if err := t.set(key(t.gen, tClaim).str(creditor).str(opened.ClaimNumber), id[:]); err != nil {
			return err
		}
		if err := t.set(key(t.gen, tList).str(creditor).pos(at), id[:]); err != nil {
			return err
		}
	}
	if !t.builds(tSearch) {
		return nil
	}
	return t.index(creditor, id, at, opened)
}

// moveIndexes moves a placement, which opened at opened and went from
// before to p with rec, in the indexes of its status, its closing, its
// contact changes after the closing, its pause's end and its active payment
// plan's breaking.
func (t *tx) moveIndexes(creditor string, id uuid.UUID, opened eventstore.Position, before, p domain.Placement, rec journal.Record) error {
	if before.Status != p.Status && t.builds(tListStatus) {
		if before.Status != "" {
			if err := t.del(key(t.gen, tListStatus).str(creditor).b(statusByte[string(before.Status)]).pos(opened)); err != nil {
				return err
			}
		}
		if err := t.set(key(t.gen, tListStatus).str(creditor).b(statusByte[string(p.Status)]).pos(opened), id[:]); err != nil {
			return err
		}
	}
	if old, now := closedAt(before), closedAt(p); !old.Equal(now) && t.builds(tClosed) {
		if !old.IsZero() {
			if err := t.del(key(t.gen, tClosed).time(old).str(creditor).str(before.CustomerNumber).id(id)); err != nil {
				return err
			}
		}
		if !now.IsZero() {
			if err := t.set(key(t.gen, tClosed).time(now).str(creditor).str(p.CustomerNumber).id(id), nil); err != nil {
				return err
			}
		}
	}
	if _, changed := rec.Event.(domain.DebtorContactChanged); changed && p.Status.Closed() && t.builds(tClosedChange) {
		// New personal data after the closing: retention looks at it again.
		if err := t.set(key(t.gen, tClosedChange).pos(rec.Position).str(creditor).str(p.CustomerNumber).id(id), nil); err != nil {
			return err
		}
	}
	if t.builds(tPlanBreak) {
		if err := t.movePlanBreak(id, before, p); err != nil {
			return err
		}
	}
	if old, now := resumeAt(before), resumeAt(p); !old.Equal(now) && t.builds(tHold) {
		if !old.IsZero() {
			if err := t.del(key(t.gen, tHold).time(old).id(id)); err != nil {
				return err
			}
		}
		if !now.IsZero() {
			if err := t.set(key(t.gen, tHold).time(now).id(id), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// idempotency records the idempotency keys the event's command answers.
func (t *tx) idempotency(id uuid.UUID, rec journal.Record) error {
	if !t.builds(tIdempotency) {
		return nil
	}
	var err error
	journal.IdempotencyRecords(id, rec.Position, rec.Meta, func(actor, k string, r journal.IdempotencyRecord) {
		if err == nil {
			err = t.setJSON(key(t.gen, tIdempotency).str(actor).str(k), r)
		}
	})
	return err
}

// feedAndKeep adds the event's feed items to its command's, writes them
// when the command ends, and keeps the placement's new state.
func (t *tx) feedAndKeep(creditor string, id uuid.UUID, next *placementState, rec journal.Record) error {
	t.midCommand = !endsCommand(rec.Meta)
	if t.builds(tFeed) || t.builds(tPlacement) { // the state carries the claim feed's next sort number
		t.cmd.add(next.P, rec)
		t.cmdOf = id
		if !t.midCommand {
			if err := t.endCommand(creditor, id, next, rec); err != nil {
				return err
			}
		}
	}
	if t.v.opts.Bulk || t.build != nil {
		// Written back when the cache lets it go, or at the end.
		t.cache(id, next, true)
		return nil
	}
	t.dirty[id] = next
	t.cache(id, next, false)
	return nil
}

// processed records a numbered payment's or credit waiver's number with
// what it was processed as (p has just applied e), for the command side to
// tell a repeat from a reuse (see Processed).
func (t *tx) processed(id uuid.UUID, p domain.Placement, e domain.Event) error {
	if !t.builds(tNumber) {
		return nil
	}
	var kind byte
	var number string
	var done domain.Processed
	switch e := e.(type) {
	case domain.PaymentReceived:
		kind, number = numberPayment, domain.PaymentNumberOf(p, e)
		done, _ = p.PaymentNumbers.Get(number)
	case domain.PaymentReversed:
		kind, number = numberPayment, e.PaymentNumber
		done, _ = p.PaymentNumbers.Get(number)
	case domain.CreditWaiverIssued:
		kind, number = numberWaiver, e.CreditWaiverNumber
		done, _ = p.WaiverNumbers.Get(number)
	case domain.CreditWaiverCancelled: // what a repeat of the cancellation is answered from
		kind, number = numberWaiver, e.CreditWaiverNumber
		done, _ = p.WaiverNumbers.Get(number)
	}
	if number == "" {
		return nil
	}
	return t.set(key(t.gen, tNumber).id(id).b(kind).str(number), encodeProcessed(nil, &done, p.Currency))
}

// index files a new placement under its customer number and each of its
// contract and invoice numbers, for the claims search.
func (t *tx) index(creditor string, id uuid.UUID, at eventstore.Position, e domain.PlacementOpened) error {
	if err := t.set(key(t.gen, tSearch).str(creditor).b(SearchCustomer).str(e.CustomerNumber).pos(at), id[:]); err != nil {
		return err
	}
	for _, inv := range e.Invoices {
		if inv.ContractNumber != "" {
			if err := t.set(key(t.gen, tSearch).str(creditor).b(SearchContract).str(inv.ContractNumber).pos(at), id[:]); err != nil {
				return err
			}
		}
		if err := t.set(key(t.gen, tSearch).str(creditor).b(SearchInvoice).str(inv.InvoiceNumber).pos(at), id[:]); err != nil {
			return err
		}
	}
	return nil
}

// What the claims search looks claims up by.
const (
	SearchCustomer = 'u'
	SearchContract = 'k'
	SearchInvoice  = 'v'
)

// The kinds of number in the 'n' table.
const (
	numberPayment = 'p'
	numberWaiver  = 'w'
)

// closedAt is when a closed placement closed; zero while it is open.
func closedAt(p domain.Placement) time.Time {
	if p.Status.Closed() && p.ResolvedAt != nil {
		return *p.ResolvedAt
	}
	return time.Time{}
}

func resumeAt(p domain.Placement) time.Time {
	if p.Status == domain.StatusPaused && p.Pause != nil && p.Pause.ResumeAt != nil {
		return *p.Pause.ResumeAt
	}
	return time.Time{}
}

// endCommand writes the command's feed items to the claim's feed and one
// row for them to the creditor's, and moves the creditor's time envelope
// on.
func (t *tx) endCommand(creditor string, id uuid.UUID, st *placementState, rec journal.Record) error {
	items := t.cmd.end(t.items[:0], rec.Position)
	t.items = items[:0]
	if len(items) == 0 {
		return nil
	}
	f, err := t.creditor(creditor)
	if err != nil {
		return err
	}
	at := rec.Meta.OccurredAt
	before := envelopeStep(timeKey(f.RunMax))
	if at.After(f.RunMax) {
		f.RunMax = at
	}
	f.Lateness = max(f.Lateness, f.RunMax.Sub(at))
	if mark := envelopeStep(timeKey(f.RunMax)); mark != before || feedVersion2 {
		if feedVersion2 {
			mark = timeKey(f.RunMax)
		}
		if err := t.set(key(t.gen, tEnvelope).str(creditor).u64(mark).pos(rec.Position), nil); err != nil {
			return err
		}
	}
	first := st.NextSort
	st.NextSort += uint64(len(items))
	if len(items) == 1 || feedVersion2 {
		for i := range items {
			t.val = encodeFeedItem(t.val[:0], &items[i])
			if err := t.set(key(t.gen, tFeed).id(id).u64(first+uint64(i)), t.val); err != nil {
				return err
			}
		}
	} else {
		t.val, t.item = appendFeedRow(t.val[:0], t.item, items)
		if err := t.set(key(t.gen, tFeed).id(id).u64(first), t.val); err != nil {
			return err
		}
	}
	if feedVersion2 {
		return t.creditorRowsVersion2(creditor, id, first, items, rec)
	}
	// The creditor's feed points at the claim's items rather than holding
	// a second copy of them: one row for the command's items, which are
	// the claim's from sortNumber first on (see creditorRow).
	t.val = appendCreditorRow(t.val[:0], at, id, first, items)
	return t.set(key(t.gen, tCreditorFeed).str(creditor).pos(rec.Position), t.val)
}

// creditorRowsVersion2 writes the creditor feed's rows of a command's items
// as the feed's version 2 did: a row for each.
func (t *tx) creditorRowsVersion2(creditor string, id uuid.UUID, first uint64, items []FeedItem, rec journal.Record) error {
	for i, it := range items {
		t.val = binary.BigEndian.AppendUint64(t.val[:0], timeKey(rec.Meta.OccurredAt))
		t.val = append(append(t.val, itemTypeByte[it.Type]), id[:]...)
		if err := t.set(key(t.gen, tCreditorFeed).str(creditor).pos(rec.Position).u64(first+uint64(i)), t.val); err != nil {
			return err
		}
	}
	return nil
}

// feedVersion2 is true only in the test of an upgrade from the feed's
// version 2, whose writes it then makes: a mark of the envelope for every
// command, at its runMax, and a creditor feed row for every item.
var feedVersion2 = false

// envelopeNanos is how far apart, at most, the creditor's time envelope
// ('e') has its marks: a mark is written when a command's runMax enters a
// new step of this length, not for every command, and a window's read
// scans at most a step's commands more at either end.
const envelopeNanos = uint64(10 * time.Millisecond)

// envelopeStep is the start of the step of the envelope a time key is in.
func envelopeStep(k uint64) uint64 { return k - k%envelopeNanos }

// itemTypeByte codes a feed item's type in the creditor feed, for filtering.
var itemTypeByte = map[string]byte{ItemConfirmation: 'c', ItemClosing: 'l', ItemRejection: 'r', ItemAccountingDocument: 'a', ItemStatus: 's'}

// bookedOnValueDate says that a value date (YYYY-MM-DD) is the day, in
// UTC, of the time booked: what an entry or a posting needs to be found by
// its booking time alone (Reconciliation, TrialBalance), and so what their
// writers and readers decide by.
func bookedOnValueDate(valueDate string, booked time.Time) bool {
	return valueDate == domain.DateOnly(booked)
}

// reconcileVersion3 is true only in the test of an upgrade from the
// reconciliation's version 3, whose writes it then makes: every entry
// indexed by its value date.
var reconcileVersion3 = false

// reconcile records what finance counts of an event (payments and their
// reversals, waivers and their cancellations, recalls, write-offs: what
// their postings move the creditor's accounts by), by the time they were
// booked ('x', the entry) and by their value date ('y', an index into 'x').
// ps are the event's postings (domain.Postings).
func (t *tx) reconcile(creditor string, id uuid.UUID, before, after domain.Placement, rec journal.Record, hash journal.Hash, ps []domain.Posting) error {
	e, counted := reconcileEntry(id, before, after, rec, hash, ps)
	if !counted {
		return nil
	}
	t.val = encodeEntry(t.val[:0], &e)
	if err := t.set(key(t.gen, tReconcile).str(creditor).time(rec.Meta.OccurredAt).pos(rec.Position), t.val); err != nil {
		return err
	}
	// By value date, an index: where the entry is in 'x' (its booking
	// time; the position is the key's). An entry whose value date is the
	// day it was booked (in UTC) needs none: it is found by its booking
	// time (see Reconciliation).
	if bookedOnValueDate(e.ValueDate, rec.Meta.OccurredAt) && !reconcileVersion3 {
		return nil
	}
	day, _ := domain.ParseDate(e.ValueDate) // well-formed: Decide checked it
	return t.set(key(t.gen, tReconcileVal).str(creditor).time(day).pos(rec.Position), u64bytes(timeKey(rec.Meta.OccurredAt)))
}

// reconcileEntry is what finance counts of an event, which took the
// placement id from before to after, whose hash in the chain is hash (the
// one its state keeps: Decode leaves the metadata's out of rec; an event
// not sealed as the ledger seals has none there, nor here); false for an
// event it does not count.
// The entry's figures are its event's postings (ps, which the caller has
// from domain.Postings), summed per account (reconcile.MovesOf); a
// recall's are those of the CANCELLATION document it issues
// (domain.RecallDocument), which its PlacementRecalled, the event the entry
// cites, comes before in the same command.
func reconcileEntry(id uuid.UUID, before, after domain.Placement, rec journal.Record, hash journal.Hash, ps []domain.Posting) (reconcile.Entry, bool) {
	booked := rec.Meta.OccurredAt
	e := reconcile.Entry{Placement: id, ClaimNumber: after.ClaimNumber, Currency: after.Currency, Position: uint64(rec.Position),
		OccurredAt: booked, ValueDate: domain.ValueDate(rec.Event, booked)}
	if hash != (journal.Hash{}) {
		e.Hash = hash.String()
	}
	moved := rec.Event
	switch ev := rec.Event.(type) {
	case domain.PaymentReceived:
		e.Kind, e.PaymentNumber, e.Agency = reconcile.KindPayment, domain.PaymentNumberOf(before, ev), ev.ReceivedBy == domain.ReceivedByAgency
	case domain.PaymentReversed:
		e.Kind, e.PaymentNumber, e.Reason = reconcile.KindReversal, ev.PaymentNumber, ev.Reason
		e.Agency, e.ReturnedTo = ev.ReceivedBy == domain.ReceivedByAgency, ev.ReturnedTo
	case domain.CreditWaiverIssued:
		e.Kind = reconcile.KindWaiver
	case domain.CreditWaiverCancelled:
		e.Kind, e.ReturnedTo = reconcile.KindWaiverCancellation, ev.ReturnedTo
	case domain.PlacementRecalled:
		e.Kind, moved = reconcile.KindRecall, nil
		if doc, issued := domain.RecallDocument(before, ev.RecalledAt); issued {
			moved, e.ValueDate = doc, domain.ValueDate(doc, booked)
			ps = domain.Postings(before, doc, booked)
		}
	case domain.PlacementWrittenOff:
		e.Kind, e.Reason = reconcile.KindWriteOff, ev.Reason
	case domain.PlacementOpened, domain.EmailSequenceStarted, domain.CallScheduled, domain.CallDialed, domain.CallCompleted,
		domain.SequencesPaused, domain.CallsCancelled, domain.OutcomeScoreSnapshotted, domain.AccountingDocumentIssued,
		domain.PlacementPaid, domain.PlacementPaused, domain.PlacementResumed, domain.PlacementReopened, domain.RecallRejected,
		domain.DebtorContactChanged, domain.DebitAdded,
		domain.PaymentPlanAgreed, domain.PaymentPlanCompleted, domain.PaymentPlanBroken, domain.PaymentPlanCancelled:
		return reconcile.Entry{}, false
	default:
		panic(fmt.Sprintf("projections: reconciliation has no rule for event type %s", rec.Event.EventType()))
	}
	if moved != nil {
		e.Moves = reconcile.MovesOf(entryPostings(moved, ps), after.ClaimNumber, after.Currency)
	}
	return e, true
}

// entryPostings gives the postings of event e reconciliation entries read
// from its postings by the rule (ps): those; a variable only so that a test
// can mutate them and see the reconciliation differ from the trial balance.
var entryPostings = func(_ domain.Event, ps []domain.Posting) []domain.Posting { return ps }

// ReconciledEvents sorts the event types for reconciliation: it counts the
// money that moves (payments, their reversals, waivers and their
// cancellations, recalls, write-offs); the documents restate those amounts
// and are not counted twice.
var ReconciledEvents = domain.EventClasses{
	Handled: []string{domain.TypePaymentReceived, domain.TypePaymentReversed, domain.TypeCreditWaiverIssued, domain.TypePlacementRecalled,
		domain.TypeCreditWaiverCancelled, domain.TypePlacementWrittenOff},
	Ignored: []string{domain.TypePlacementOpened, domain.TypeEmailSequenceStarted, domain.TypeCallScheduled, domain.TypeCallDialed,
		domain.TypeCallCompleted, domain.TypeSequencesPaused, domain.TypeCallsCancelled, domain.TypeOutcomeScoreSnapshotted,
		domain.TypeAccountingDocumentIssued, domain.TypePlacementPaid, domain.TypePlacementPaused, domain.TypePlacementResumed,
		domain.TypePlacementReopened, domain.TypeRecallRejected, domain.TypeDebtorContactChanged, domain.TypeDebitAdded,
		domain.TypePaymentPlanAgreed, domain.TypePaymentPlanCompleted, domain.TypePaymentPlanBroken, domain.TypePaymentPlanCancelled},
}

// notify queues what a placement's event calls for at the creditor's
// webhook, if it has one and subscribes to any of it: a status change
// (placement.status_changed) and the notices of the other types.
func (t *tx) notify(creditor string, id uuid.UUID, before, after domain.Placement, rec journal.Record) error {
	status, changes := statusAfter(rec.Event) // first: it refuses event types without a rule
	if !t.builds(tOutbox) {
		return nil
	}
	w, err := t.webhook(creditor)
	if err != nil || w == nil || w.RemovedAt != 0 {
		return err
	}
	return t.queue(w, status, changes, creditor, id, before, after, rec)
}

// queue is notify's for a creditor with a webhook. It is a function of its
// own because what it does with rec moves rec to the heap: in notify that
// cost every event an allocation, with a webhook or not.
func (t *tx) queue(w *webhookView, status domain.Status, changes bool, creditor string, id uuid.UUID, before, after domain.Placement, rec journal.Record) error {
	n := Notification{Position: rec.Position, EventID: uuid.NewSHA1(payloadNamespace, rec.ID[:]).String(), Placement: id,
		Claim: before.ClaimNumber, Customer: before.CustomerNumber, OccurredAt: rec.Meta.OccurredAt,
		Events: notices(w.WebhookConfigured, before, after, rec)}
	if changes && w.Subscribes(journal.DefaultWebhookEvent) {
		n.Previous, n.Status = before.Status, status
	}
	if n.Status == "" && len(n.Events) == 0 {
		return nil
	}
	return t.setJSON(key(t.gen, tOutbox).str(creditor).pos(rec.Position), n)
}

// notifyErased queues a personal_data.erased notice for the creditor's
// webhook, if it subscribes to it.
func (t *tx) notifyErased(raw eventstore.RecordedEvent) error {
	var e journal.DebtorPersonalDataErased
	if err := json.Unmarshal(raw.Data, &e); err != nil {
		return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
	}
	w, err := t.webhook(e.CreditorID)
	if err != nil || w == nil || w.RemovedAt != 0 || !w.Subscribes(NoticePersonalDataErased) {
		return err
	}
	meta, err := journal.DecodeMetadata(raw.Metadata)
	if err != nil {
		return fmt.Errorf("projections: %s revision %d: %w", raw.Stream, raw.Revision, err)
	}
	id := noticeID(raw.ID, NoticePersonalDataErased)
	n := Notification{Position: raw.Position, EventID: id, Customer: e.CustomerNumber, OccurredAt: meta.OccurredAt,
		Events: []Notice{{Type: NoticePersonalDataErased, ID: id, NoticeData: NoticeData{Reason: e.Reason}}}}
	return t.setJSON(key(t.gen, tOutbox).str(e.CreditorID).pos(raw.Position), n)
}

// commit writes the batch's placement states, their resources, the
// creditors' figures and trial-balance aggregates, and the position
// reached, in one atomic batch (for a background build, see
// unitBuild.commit).
func (t *tx) commit() error {
	if err := t.joinBooks(); err != nil {
		return err
	}
	if err := t.commitTrial(); err != nil {
		return err
	}
	for _, states := range []map[uuid.UUID]*placementState{t.dirty, t.evicted} {
		for id, st := range states {
			if err := t.writeState(id, st); err != nil {
				return err
			}
		}
	}
	for id, enc := range t.spilled {
		if err := t.setState(id, enc); err != nil {
			return err
		}
	}
	for c, f := range t.creditors {
		if err := t.setJSON(key(t.gen, tCreditor).str(c), f); err != nil {
			return err
		}
	}
	if t.build != nil {
		if err := t.build.commit(t); err != nil {
			return err
		}
		t.keepTrials()
		return nil
	}
	if err := t.set(keyCheckpoint, u64bytes(uint64(t.last))); err != nil {
		return err
	}
	if err := t.set(keyCheckpointEvent, encodeCheckpointEvent(t.lastEvent)); err != nil {
		return err
	}
	opts, now := pebble.NoSync, time.Now().UnixNano()
	due := now-t.v.synced.Load() >= int64(t.v.opts.SyncEvery)
	if due {
		opts = t.v.syncOpts()
	}
	if err := pebbleutil.Commit(t.b, opts); err != nil {
		return fmt.Errorf("projections: write the views: %w", err)
	}
	if t.sinking() {
		for _, st := range []*stager{&t.v.sink.stager, &t.v.sink.books} {
			if err := t.v.sink.add(st.stage); err != nil {
				return err
			}
			st.stage = st.stage[:0]
		}
	}
	if due {
		started, err := t.v.flushDue()
		if err != nil {
			return err
		}
		if started {
			t.v.synced.Store(now)
		}
	}
	t.v.checkpoint.Store(uint64(t.last))
	t.keepTrials()
	return t.b.Close()
}

// keepTrials caches the aggregates a committed batch wrote.
func (t *tx) keepTrials() {
	for k, sums := range t.trial {
		t.trials.put(k, sums)
	}
}

func (t *tx) abort() {
	t.dropBooks()
	_ = t.b.Close()
	t.states.clear() // it may hold states this batch changed
	t.trials.clear()
}
