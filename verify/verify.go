// Package verify checks a ledger's history the way an auditor would: every
// stream's hash chain, the log's order, every event's decoding, the domain's
// invariants, every event's postings (balanced, and conserving its claim's
// money at every position), every placement's state folded from position 0
// as the views fold it, and with Deep the read models rebuilt from position
// 0, equal to those folded stream by stream (and, on a running server, to
// the live ones).
//
// It reports what it finds instead of stopping at the first problem; each
// finding names the stream, the revision, the log position and the field.
package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
)

// Finding is one problem.
type Finding struct {
	Stream   string              `json:"stream,omitempty"`
	Revision uint64              `json:"revision"`
	Position eventstore.Position `json:"position,omitempty"`
	Field    string              `json:"field"`
	Problem  string              `json:"problem"`
}

func (f Finding) String() string {
	where := fmt.Sprintf("position %d", f.Position)
	if f.Stream != "" {
		where = fmt.Sprintf("stream %s revision %d (position %d)", f.Stream, f.Revision, f.Position)
	}
	return fmt.Sprintf("%s: %s: %s", where, f.Field, f.Problem)
}

// Report is the outcome of a verification.
type Report struct {
	Events     int           `json:"events"`
	Streams    int           `json:"streams"`
	Placements int           `json:"placements"`
	Head       uint64        `json:"head"`
	Duration   time.Duration `json:"-"`
	Seconds    float64       `json:"seconds"`
	Findings   []Finding     `json:"findings"`
	// Debtors' sealed personal data: opened and authentic, erased (its key
	// destroyed), or not opened (no key store was given).
	PersonalChecked   int `json:"personalDataChecked"`
	PersonalErased    int `json:"personalDataErased"`
	PersonalUnchecked int `json:"personalDataUnchecked"`
}

// OK reports whether nothing was found.
func (r Report) OK() bool { return len(r.Findings) == 0 }

// maxFindings bounds a report, so a badly damaged store does not exhaust
// memory; the count of what was left out is reported as a last finding.
const maxFindings = 1000

// Options tune a verification.
type Options struct {
	// Progress, when set, is called now and then with the position reached
	// and the head.
	Progress func(pos, head eventstore.Position)
	// Live, when set, is a running ledger's views, to compare with the
	// views rebuilt from position 0: every key, byte for byte, when the live
	// views have applied exactly what verify read; otherwise every placement
	// that has not changed since.
	Live *projections.Views
	// Deep rebuilds the views from position 0 (without it, and without
	// Live, verify folds only the placements' states, see fold.go), reads
	// every placement through its own stream (the stream index, not $all),
	// folds it again and compares, and checks its feed. It costs a point
	// read per event and about five times the time.
	Deep bool
	// Dir is where verify keeps what it spills and the views it rebuilds,
	// in a temporary directory removed afterwards; empty: the system's
	// temporary directory.
	Dir string
	// Personal, when set, is the key store: every debtor's sealed personal
	// data that still has its key must authenticate (erased data, whose key
	// was destroyed, is skipped). Without it the sealed data is not opened
	// (Report.PersonalUnchecked counts it).
	Personal pii.Keys
}

type streamState struct {
	next uint64
	hash journal.Hash
}

type verifier struct {
	report  Report
	dropped int
	// quiet: findings at or before this position are not reported (a
	// replay's: the first pass reported them).
	quiet eventstore.Position
	// holding: findings are held, each with the index in its batch of the
	// event being checked (at), all of them, for foldBatch to merge in log
	// order.
	holding bool
	at      int
	held    []heldFinding
}

type heldFinding struct {
	at int
	f  Finding
}

func (v *verifier) add(f Finding) {
	if f.Position <= v.quiet && v.quiet > 0 {
		return
	}
	if v.holding {
		v.held = append(v.held, heldFinding{v.at, f})
		return
	}
	if len(v.report.Findings) < maxFindings {
		v.report.Findings = append(v.report.Findings, f)
	} else {
		v.dropped++
	}
}

// Run verifies the store. What it keeps per stream, placement and payment
// beyond its maps' bounds, and the views it rebuilds with Deep or Live, go
// to a temporary directory on disk, so memory does not grow with the
// ledger.
func Run(ctx context.Context, store eventstore.Store, opts Options) (Report, error) {
	start := time.Now()
	v := &verifier{}
	head, err := store.Head(ctx)
	if err != nil {
		return v.report, err
	}
	v.report.Head = uint64(head)
	dir, err := os.MkdirTemp(opts.Dir, "ledger-verify-views-")
	if err != nil {
		return v.report, fmt.Errorf("verify: a directory to rebuild the views in: %w", err)
	}
	defer os.RemoveAll(dir)
	sc, err := openScratch(filepath.Join(dir, "scratch"))
	if err != nil {
		return v.report, err
	}
	defer sc.close()
	// Every event reads its stream's chain end and, for a placement, its
	// claim's books and its folded state: those maps keep more in memory
	// than spillEntries (kept encoded, see spillMap: a stream's entry is
	// about 85 bytes with its key, a claim's books 80, a payment to the
	// agency 100, a folded state 270), about 80 MB together when full. At
	// 1.1M events over 100,000 placements and 200,000 streams they hold
	// everything, and verify reads nothing back from its scratch store;
	// with spillEntries for each, a quarter of verify's time went to
	// reading back entries spilled at random and compacting the scratch
	// store. Only the deep checks and the comparison with live views read
	// the views; without them verify folds the states itself, in parts and
	// passes (fold.go, pass.go).
	if opts.Deep || opts.Live != nil {
		err = v.rebuild(ctx, store, head, sc, dir, opts)
	} else {
		err = v.foldPasses(ctx, store, head, sc, dir, opts)
	}
	if err != nil {
		return v.report, err
	}
	if v.dropped > 0 {
		v.report.Findings = append(v.report.Findings, Finding{Field: "report", Problem: fmt.Sprintf("%d more findings left out", v.dropped)})
	}
	v.report.Duration = time.Since(start)
	v.report.Seconds = v.report.Duration.Seconds()
	return v.report, nil
}

// rebuild checks the log in one pass that rebuilds the views from position
// 0 (Deep, or live views to compare), then the rebuilt views.
func (v *verifier) rebuild(ctx context.Context, store eventstore.Store, head eventstore.Position, sc *scratch, dir string, opts Options) error {
	s := &scan{v: v, personal: opts.Personal, applying: true, deep: opts.Deep, pass: pass{n: 1},
		broken: map[uuid.UUID]bool{}, streams: newStreams(sc, 4*spillEntries), owners: newOwners(sc, spillEntries), books: newBooks(sc, 2*spillEntries)}
	rebuilt, err := projections.OpenViews(filepath.Join(dir, "views"), projections.ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Bulk: true, Throwaway: true})
	if err != nil {
		return err
	}
	defer rebuilt.Discard() // thrown away with dir
	s.builder = rebuilt.Builder()
	s.builder.MaxBatch = 20_000
	defer s.builder.Abort()
	s.builder.Folded = s.folded
	if err := s.readAll(ctx, store, head, opts.Progress, s.batch); err != nil {
		return err
	}
	if err := sc.failed(); err != nil {
		return err
	}
	if s.degraded {
		replays.Add(1)
		if err := s.replay(ctx, store, head, filepath.Join(dir, "replay")); err != nil {
			return err
		}
	}
	v.report.Streams = s.streams.n
	v.report.Placements = s.owners.n
	if !s.applying {
		return nil
	}
	return v.checkRebuilt(ctx, store, s.builder, rebuilt, s.placements, opts)
}

// replays counts Run's replays of the books (for tests: a replay checks
// what the first pass did not, so a pass that skips the books still finds
// what they would).
var replays atomic.Int64

// scan is one pass of Run over the log, in order: each event checked and
// applied to the views being rebuilt.
type scan struct {
	v *verifier
	// builder rebuilds the views (Deep, or live views to compare);
	// otherwise the parts fold the placements' states (see part).
	builder  *projections.Builder
	parts    []*part
	personal pii.Keys
	// applying: the rebuild stops at the first event it cannot apply.
	applying bool
	broken   map[uuid.UUID]bool
	streams  *spillMap[streamKey, streamState]
	// placements are the placements opened, in order, for deep's checks
	// (kept only with deep).
	placements []uuid.UUID
	deep       bool
	// owners are the creditor and customer of each placement opened.
	owners *spillMap[uuid.UUID, [2]string]
	// books are the placements' postings, checked at every position on
	// the states the rebuild folds (folded), and the remittances that
	// settle them.
	books *books
	// posted: folded has checked the event being applied.
	posted bool
	// degraded: an event of a placement reached no fold of the rebuild
	// (the rebuild stopped before it, or an earlier event of its placement
	// did not decode), so the books are not checked past checkedTo here,
	// but by a replay (see replay).
	degraded  bool
	checkedTo eventstore.Position
	// checked is the room checkBatch checks each batch into.
	checked []checked
	// pass is which of the passes over the log this is (see pass);
	// remits, whether it checks the remittances (the last); priorDegraded
	// and priorCheckedTo, where the passes before it degraded the books.
	pass           pass
	remits         bool
	priorDegraded  bool
	priorCheckedTo eventstore.Position
}

// readAll reads the log up to head, in batches, the next batch read while
// the current one is checked.
// Each batch goes to each, which returns the position of its last event.
func (s *scan) readAll(ctx context.Context, store eventstore.Store, head eventstore.Position, progress func(pos, head eventstore.Position),
	each func([]eventstore.RecordedEvent) eventstore.Position) error {
	type read struct {
		batch []eventstore.RecordedEvent
		err   error
	}
	prefetch := func(from eventstore.Position) chan read {
		ch := make(chan read, 1)
		go func() {
			b, err := store.ReadAll(ctx, from, readBatch)
			ch <- read{b, err}
		}()
		return ch
	}
	var after eventstore.Position
	var next chan read
	for after < head {
		if next == nil {
			next = prefetch(after)
		}
		r := <-next
		next = nil
		batch, err := r.batch, r.err
		if err == nil && len(batch) > 0 && batch[len(batch)-1].Position < head {
			next = prefetch(batch[len(batch)-1].Position)
		}
		if errors.Is(err, eventstore.ErrCorrupt) {
			// Find the damaged event one at a time, report it, go on after it
			// (embedded positions are dense; its stream shows the gap too).
			one, oerr := store.ReadAll(ctx, after, 1)
			if oerr == nil && len(one) == 1 {
				batch = one
			} else {
				if s.pass.k == 0 { // the first pass reports it
					s.v.add(Finding{Position: after + 1, Field: "storage", Problem: firstLine(oerr)})
				}
				after++
				continue
			}
		} else if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		after = each(batch)
		if progress != nil {
			progress(after, head)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// readBatch is how many events readAll reads at once (a variable for
// tests).
var readBatch = 5000

// batch checks a batch and applies it to the rebuild, and returns the
// position of its last event. The per-event work (hashing, decoding) runs
// on every core; links between events and the rebuild run in log order.
func (s *scan) batch(batch []eventstore.RecordedEvent) eventstore.Position {
	s.checked = checkBatch(batch, s.checked, s.pass, s.builder != nil)
	checked := s.checked
	if s.parts != nil {
		s.foldBatch(batch, checked)
		return batch[len(batch)-1].Position
	}
	for i, rec := range batch {
		c := checked[i]
		st, _ := s.streams.get(c.key, true)
		s.v.link(rec, st, c.seal)
		switch {
		case c.badStream:
			s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "stream", Problem: "not a placement id"})
		case c.placement != uuid.Nil && c.decodeErr != nil:
			s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "data", Problem: c.decodeErr.Error()})
			s.broken[c.placement] = true
		case c.placement != uuid.Nil:
			s.placementEvent(rec, c.placement, c.rec.Event)
		case !s.degraded:
			s.books.remit(s.v, rec)
		}
		s.posted = false
		switch {
		case s.applying && !s.broken[c.placement] && (c.placement == uuid.Nil || c.decodeErr == nil):
			if err := s.builder.Apply(rec, c.placement, c.rec); err != nil {
				s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "projection",
					Problem: "the views cannot be rebuilt past this event: " + err.Error()})
				s.applying = false
			}
		}
		if c.placement != uuid.Nil && c.decodeErr == nil && !s.posted && !s.degraded {
			s.degraded, s.checkedTo = true, rec.Position-1
		}
		s.v.report.Events++
	}
	return batch[len(batch)-1].Position
}

// folded checks the postings of the placement event the rebuild is
// applying, on the states it folds (see projections.Builder.Folded).
func (s *scan) folded(id uuid.UUID, rec journal.Record, before, after domain.Placement) {
	if s.degraded {
		return
	}
	s.posted = true
	s.books.check(s.v, id, rec, before, after)
}

// replay checks the books again over the whole log, each claim folded by
// the books themselves as verify-export folds them, and reports what it
// finds past checkedTo: the postings and remittances the first pass did
// not check. Only a damaged log needs it. It keeps what the books fold in a
// scratch store of its own in dir, as the first pass does.
func (s *scan) replay(ctx context.Context, store eventstore.Store, head eventstore.Position, dir string) error {
	sc, err := openScratch(dir)
	if err != nil {
		return err
	}
	defer sc.close()
	r := &scan{v: &verifier{quiet: s.checkedTo}, books: newBooks(sc, spillEntries)}
	err = r.readAll(ctx, store, head, nil, func(batch []eventstore.RecordedEvent) eventstore.Position {
		for _, raw := range batch {
			id, isPlacement := strings.CutPrefix(raw.Stream, journal.PlacementPrefix)
			if !isPlacement {
				r.books.remit(r.v, raw)
				continue
			}
			placement, err := uuid.Parse(id)
			if err != nil {
				continue
			}
			if rec, err := journal.Decode(raw); err == nil {
				r.books.post(r.v, raw, placement, rec.Event, rec.Meta.OccurredAt)
			}
		}
		return batch[len(batch)-1].Position
	})
	for _, f := range r.v.report.Findings {
		switch f.Field {
		case "postings", "conservation", "remittance":
			s.v.add(f)
		}
	}
	s.v.dropped += r.v.dropped
	if err == nil {
		err = sc.failed()
	}
	return err
}

// placementEvent checks what one event of a placement says by itself:
// sealed personal data opens, a document balances. The other events are
// checked through the state they fold to (checkInvariants) and, with Deep,
// the feed they render.
func (s *scan) placementEvent(rec eventstore.RecordedEvent, placement uuid.UUID, e domain.Event) {
	switch e := e.(type) {
	case domain.PlacementOpened:
		if s.deep {
			s.placements = append(s.placements, placement)
		}
		o, _ := s.owners.get(placement, true)
		*o = [2]string{e.CreditorID, e.CustomerNumber}
		s.v.checkSealed(rec, placement, e.CreditorID, e.CustomerNumber, e.PersonalData, domain.TypePlacementOpened, s.personal)
	case domain.DebtorContactChanged:
		var o [2]string
		if p, _ := s.owners.get(placement, false); p != nil {
			o = *p
		}
		s.v.checkSealed(rec, placement, o[0], o[1], e.PersonalData, pii.Context(domain.TypeDebtorContactChanged, e.ChangeID.String()), s.personal)
	case domain.AccountingDocumentIssued:
		s.v.checkDocument(rec, e)
	case domain.EmailSequenceStarted, domain.CallScheduled, domain.CallDialed, domain.CallCompleted, domain.PlacementRecalled,
		domain.SequencesPaused, domain.CallsCancelled, domain.OutcomeScoreSnapshotted, domain.CreditWaiverIssued,
		domain.PaymentReceived, domain.PlacementPaid, domain.RecallRejected, domain.PlacementPaused, domain.PlacementResumed,
		domain.PaymentReversed, domain.PlacementReopened, domain.DebitAdded, domain.PlacementWrittenOff, domain.CreditWaiverCancelled,
		domain.PaymentPlanAgreed, domain.PaymentPlanCompleted, domain.PaymentPlanBroken, domain.PaymentPlanCancelled:
		// Checked through the state they fold to (see CheckedEvents).
	default:
		panic(fmt.Sprintf("verify: no rule for event type %s", e.EventType()))
	}
}

// CheckedEvents sorts the event types for verify's checks of an event by
// itself (placementEvent). Every event is also checked through its stream's
// hash chain, its decoding and the state its placement folds to.
var CheckedEvents = domain.EventClasses{
	Handled: []string{domain.TypePlacementOpened, domain.TypeDebtorContactChanged, domain.TypeAccountingDocumentIssued},
	Ignored: []string{domain.TypeEmailSequenceStarted, domain.TypeCallScheduled, domain.TypeCallDialed, domain.TypeCallCompleted,
		domain.TypePlacementRecalled, domain.TypeSequencesPaused, domain.TypeCallsCancelled, domain.TypeOutcomeScoreSnapshotted,
		domain.TypeCreditWaiverIssued, domain.TypePaymentReceived, domain.TypePlacementPaid, domain.TypeRecallRejected,
		domain.TypePlacementPaused, domain.TypePlacementResumed, domain.TypePaymentReversed, domain.TypePlacementReopened,
		domain.TypeDebitAdded, domain.TypePlacementWrittenOff, domain.TypeCreditWaiverCancelled,
		domain.TypePaymentPlanAgreed, domain.TypePaymentPlanCompleted, domain.TypePaymentPlanBroken, domain.TypePaymentPlanCancelled},
}

// checkRebuilt finishes the rebuild and checks it: each placement's
// invariants, with Deep each placement folded from its own stream, and the
// live views when given.
func (v *verifier) checkRebuilt(ctx context.Context, store eventstore.Store, builder *projections.Builder, rebuilt *projections.Views, placements []uuid.UUID, opts Options) error {
	if _, err := builder.Flush(); err != nil {
		return err
	}
	if err := rebuilt.SaveStates(); err != nil {
		return err
	}
	if err := rebuilt.EachPlacement(func(id uuid.UUID, p domain.Placement, rev uint64) error {
		v.checkInvariants(journal.PlacementStream(id), rev, p)
		return nil
	}); err != nil {
		return err
	}
	if opts.Deep {
		if err := v.checkPlacements(ctx, store, rebuilt, placements); err != nil {
			return err
		}
	}
	if opts.Live != nil {
		return v.compareLive(opts.Live, rebuilt)
	}
	return nil
}

// compareLive compares a running ledger's views with the rebuild: every key
// when the live views are at the same position, else every placement that
// has not changed since (its revision is the rebuild's).
func (v *verifier) compareLive(live, rebuilt *projections.Views) error {
	if live.Checkpoint() == rebuilt.Checkpoint() {
		return projections.Diff(live, rebuilt, func(table byte, k, got, want []byte) bool {
			problem := "the live views differ from views rebuilt from position 0"
			switch {
			case got == nil:
				problem = "the live views lack what a rebuild from position 0 holds"
			case want == nil:
				problem = "the live views hold what a rebuild from position 0 does not"
			}
			v.add(Finding{Field: fmt.Sprintf("views.%c", table), Problem: fmt.Sprintf("%s (key %x)", problem, k)})
			return len(v.report.Findings) < maxFindings
		})
	}
	return rebuilt.EachPlacement(func(id uuid.UUID, _ domain.Placement, rev uint64) error {
		want, wantRev, _, err := rebuilt.PlacementJSON("", id)
		if err != nil {
			return err
		}
		got, gotRev, found, err := live.PlacementJSON("", id)
		switch {
		case err != nil:
			return err
		case !found:
			v.add(Finding{Stream: journal.PlacementStream(id), Revision: rev, Field: "projection", Problem: "the live views do not know this placement"})
		case gotRev == wantRev && !bytes.Equal(got, want):
			v.add(Finding{Stream: journal.PlacementStream(id), Revision: rev, Field: "projection",
				Problem: "the live views differ from views rebuilt from position 0"})
		}
		return nil
	})
}

// checked is the order-independent part of checking one event.
type checked struct {
	seal      journal.Seal
	placement uuid.UUID
	badStream bool
	rec       journal.Record
	decodeErr error
	// posted: the fold checked the event's postings (see foldBatch).
	posted bool
	// key is the stream's key (see streamKey); streamIn, whether the
	// stream is the pass's (see pass), and skip, whether the placement is
	// another pass's (its event is not decoded).
	key      streamKey
	streamIn bool
	skip     bool
}

// checkBatch checks the events of a batch in parallel, one slice per core.
//
// It checks into out's room (the batch before's, whose checks are done
// with), so a pass does not allocate a few hundred bytes per event for them.
// The metadata's hashes are decoded only with hashes (the views' rebuild
// stores them); the chain is checked from the stored bytes (CheckSeal).
func checkBatch(batch []eventstore.RecordedEvent, out []checked, in pass, hashes bool) []checked {
	decode := journal.DecodeWithoutHashes
	if hashes {
		decode = journal.Decode
	}
	out = slices.Grow(out[:0], len(batch))[:len(batch)]
	onEveryCore(len(batch), func(lo, hi int) {
		clear(out[lo:hi]) // here rather than before: a few hundred bytes an event, on every core
		for i := lo; i < hi; i++ {
			rec := batch[i]
			c := &out[i]
			r := routeOf(rec.Stream)
			c.placement, c.badStream = r.placement, r.bad
			if c.streamIn = in.owns(r.owner()); c.streamIn {
				c.key = r.streamKey(rec.Stream)
				c.seal = journal.CheckSeal(rec.Stream, rec.Revision, rec.ID, rec.Type, rec.Data, rec.Metadata)
			}
			// A placement's stream is its pass's (see route.owner).
			if c.placement != uuid.Nil {
				if c.skip = !c.streamIn; !c.skip {
					c.rec, c.decodeErr = decode(rec)
				}
			}
		}
	})
	return out
}

// onEveryCore calls fn with slices [lo, hi) that together cover [0, n)
// once, on a goroutine for each core Go runs goroutines on (GOMAXPROCS),
// and returns when every call has. The slices are small (chunk) and taken
// in turn by whichever goroutine is free, so that a goroutine whose events
// cost more, or that the scheduler set aside, does not leave the others
// waiting at the end.
func onEveryCore(n int, fn func(lo, hi int)) {
	workers := max(1, runtime.GOMAXPROCS(0))
	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, (n+chunk-1)/chunk) {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(n, lo+chunk))
			}
		})
	}
	wg.Wait()
}

// link checks the stream's revision order and the event's link to the
// previous event of its stream, given the event's own seal.
func (v *verifier) link(rec eventstore.RecordedEvent, st *streamState, seal journal.Seal) {
	if rec.Revision != st.next {
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "revision",
			Problem: fmt.Sprintf("expected revision %d: events %d..%d of this stream are missing or unreadable", st.next, st.next, rec.Revision-1)})
		st.hash, st.next = seal.Hash, rec.Revision+1 // the link across a gap cannot be checked
		return
	}
	switch {
	case seal.Field == "metadata":
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: seal.Field, Problem: seal.Err.Error()})
	case seal.Prev != st.hash:
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "prevHash",
			Problem: fmt.Sprintf("prevHash %s does not match the previous event's hash %s", seal.Prev, st.hash)})
	case seal.Err != nil:
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: seal.Field, Problem: seal.Err.Error()})
	}
	st.hash, st.next = seal.Hash, rec.Revision+1
}

// checkEvent checks one event's seal, its place in its stream and its link.
func (v *verifier) checkEvent(rec eventstore.RecordedEvent, st *streamState) {
	v.link(rec, st, journal.CheckSeal(rec.Stream, rec.Revision, rec.ID, rec.Type, rec.Data, rec.Metadata))
}

// checkSealed opens sealed personal data (a handover's, a contact
// change's) when a key store is given: damage is a finding, and so is data
// sealed for another event than the one it is in; erased data (its key
// destroyed) is not.
func (v *verifier) checkSealed(rec eventstore.RecordedEvent, placement uuid.UUID, creditor, customer string, sealed *domain.SealedData, context string, keys pii.Keys) {
	if sealed == nil {
		return
	}
	at := func(problem string) {
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "personalData", Problem: problem})
	}
	if sealed.Context != context {
		at(fmt.Sprintf("sealed for %q, but it is in %q", sealed.Context, context))
		return
	}
	if keys == nil {
		v.report.PersonalUnchecked++
		return
	}
	_, err := pii.Open(keys, creditor, customer, placement.String(), sealed)
	switch {
	case err == nil:
		v.report.PersonalChecked++
	case errors.Is(err, pii.ErrErased):
		v.report.PersonalErased++
	default:
		at(firstLine(err))
	}
}

// checkDocument checks that an accounting document balances its lines and
// has its sign: a debit raises the claim, a reversal raises it again, any
// other document lowers it.
func (v *verifier) checkDocument(rec eventstore.RecordedEvent, doc domain.AccountingDocumentIssued) {
	sum := domain.AmountOf(domain.ZeroOf(doc.Currency)) // the lines' scale (domain.DecodeEvent): no rescaling
	for _, l := range doc.LineItems {
		sum = sum.Add(l.Amount)
	}
	if !sum.Equal(doc.Amount) {
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "accountingDocument.amount",
			Problem: fmt.Sprintf("document %s is %s but its lines add up to %s", doc.DocumentNumber, doc.Amount, sum)})
	}
	switch {
	case doc.Type == domain.DocDebit && !doc.Amount.IsPositive():
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "accountingDocument.amount",
			Problem: fmt.Sprintf("debit %s is not positive (%s); a debit raises the claim", doc.DocumentNumber, doc.Amount)})
	case doc.Type == domain.DocDebit:
	case doc.OriginalNumber == "" && doc.Amount.IsPositive():
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "accountingDocument.amount",
			Problem: fmt.Sprintf("document %s is positive (%s); documents lower the claim", doc.DocumentNumber, doc.Amount)})
	case doc.OriginalNumber != "" && !doc.Amount.IsPositive():
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "accountingDocument.amount",
			Problem: fmt.Sprintf("document %s reverses %s but is not positive (%s); a reversal raises the claim again", doc.DocumentNumber, doc.OriginalNumber, doc.Amount)})
	}
}

// checkInvariants checks the domain's invariants on a placement's state.
func (v *verifier) checkInvariants(stream string, rev uint64, p domain.Placement) {
	at := func(field, problem string) Finding {
		return Finding{Stream: stream, Revision: rev, Field: field, Problem: problem}
	}
	outstanding := p.OutstandingAmount()
	if outstanding.IsNegative() {
		v.add(at("outstandingAmount", fmt.Sprintf("original %s − waived %s − recovered %s − written off %s is negative", p.Original, p.Waived, p.Recovered, p.WrittenOff)))
	}
	zero := domain.AmountOf(domain.ZeroOf(p.Currency)) // the figures' scale: no rescaling
	open, paid, waived, writtenOff := zero, zero, zero, zero
	for _, inv := range p.Invoices {
		if inv.Open.IsNegative() {
			v.add(at("invoices.openAmount", fmt.Sprintf("invoice %s has a negative open amount %s", inv.InvoiceNumber, inv.Open)))
		}
		if inv.Paid.IsNegative() || inv.Waived.IsNegative() || inv.WrittenOff.IsNegative() {
			v.add(at("invoices.paidAmount", fmt.Sprintf("invoice %s has %s paid, %s waived and %s written off; none may be negative", inv.InvoiceNumber, inv.Paid, inv.Waived, inv.WrittenOff)))
		}
		if !inv.Amount.Sub(inv.Waived).Sub(inv.Paid).Sub(inv.WrittenOff).Equal(inv.Open) {
			v.add(at("invoices.openAmount", fmt.Sprintf("invoice %s: %s − waived %s − paid %s − written off %s is not its open amount %s", inv.InvoiceNumber, inv.Amount, inv.Waived, inv.Paid, inv.WrittenOff, inv.Open)))
		}
		open, paid, waived, writtenOff = open.Add(inv.Open), paid.Add(inv.Paid), waived.Add(inv.Waived), writtenOff.Add(inv.WrittenOff)
	}
	if !paid.Equal(p.Recovered) || !waived.Equal(p.Waived) || !writtenOff.Equal(p.WrittenOff) {
		v.add(at("recoveredAmount", fmt.Sprintf("the invoices were paid %s, waived %s and written off %s, but the placement recovered %s, waived %s and wrote off %s",
			paid, waived, writtenOff, p.Recovered, p.Waived, p.WrittenOff)))
	}
	collected := p.Recovered // everything payments brought: the principal, and the costs, interests and overpayment
	if p.Charges != nil {
		collected = collected.AddDecimal(p.Charges.Paid.Total())
	}
	if p.AgencyPaid.IsNegative() || p.AgencyPaid.Cmp(collected) > 0 {
		v.add(at("agencyPaidAmount", fmt.Sprintf("paid to the agency %s is not between 0 and what payments brought, %s", p.AgencyPaid, collected)))
	}
	if !open.Equal(outstanding) {
		v.add(at("outstandingAmount", fmt.Sprintf("the invoices' open amounts add up to %s, but original − waived − recovered is %s", open, outstanding)))
	}
	if want := domain.Fee(p.Recovered.Decimal(), p.FeeRate, p.Currency); !want.Equal(p.Fee.Decimal()) {
		v.add(at("feeAmount", fmt.Sprintf("fee is %s; recovered %s × rate %s rounded half-up is %s", p.Fee, p.Recovered, p.FeeRate, want)))
	}
	if p.Status == domain.StatusPaid && !outstanding.IsZero() {
		v.add(at("status", fmt.Sprintf("paid with %s still outstanding", outstanding)))
	}
	if p.CostsOpen().IsNegative() || p.InterestsOpen().IsNegative() || p.Overpaid().IsNegative() {
		v.add(at("costsOpenAmount", fmt.Sprintf("costs open %s, interests open %s, overpaid %s: none may be negative", p.CostsOpen(), p.InterestsOpen(), p.Overpaid())))
	}
	if p.Status == domain.StatusPaid && !p.TotalOpen().IsZero() {
		v.add(at("status", fmt.Sprintf("paid with %s of costs and interests still open", p.TotalOpen())))
	}
}

// checkPlacements folds each placement again from its own stream (the
// stream index, not $all), compares with the rebuilt views, and checks its
// feed.
func (v *verifier) checkPlacements(ctx context.Context, store eventstore.Store, rebuilt *projections.Views, ids []uuid.UUID) error {
	for _, id := range ids {
		stream := journal.PlacementStream(id)
		events, err := journal.ReadPlacement(ctx, store, id)
		if err != nil {
			if errors.Is(err, eventstore.ErrCorrupt) || errors.Is(err, domain.ErrNotFound) {
				v.add(Finding{Stream: stream, Field: "storage", Problem: firstLine(err)})
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			v.add(Finding{Stream: stream, Field: "data", Problem: firstLine(err)})
			continue
		}
		var p domain.Placement
		for _, se := range events {
			p = domain.Evolve(p, se.Event)
		}
		last := events[len(events)-1]
		at := func(field, problem string) Finding {
			return Finding{Stream: stream, Revision: last.Revision, Position: last.Position, Field: field, Problem: problem}
		}
		got, _, found, err := rebuilt.PlacementJSON("", id)
		if err != nil {
			return err
		}
		if want, err := json.Marshal(projections.Render(p, last.Revision)); err != nil || !found || !bytes.Equal(got, want) {
			v.add(at("projection", "the placement folded from $all differs from the one folded from its stream"))
		}
		items := projections.FeedItems(events)
		for i, it := range items {
			if it.SortNumber != uint64(i) {
				v.add(at("feed.sortNumber", fmt.Sprintf("item %d has sortNumber %d", i, it.SortNumber)))
				break
			}
		}
		stored, err := rebuilt.PlacementFeed(id, 0, 0)
		if err != nil {
			return err
		}
		if len(stored) != len(items) {
			v.add(at("feed", fmt.Sprintf("the views hold %d feed items, the stream folds to %d", len(stored), len(items))))
			continue
		}
		for i, it := range items {
			if b, err := json.Marshal(it); err != nil || !bytes.Equal(b, stored[i]) {
				v.add(at("feed", fmt.Sprintf("feed item %d differs between the views and the stream", i)))
				break
			}
		}
	}
	return nil
}

func firstLine(err error) string {
	if err == nil {
		return "unreadable"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
