package verify

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/internal/bincodec"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// Without Deep and without live views to compare, verify reads nothing of
// the views but the placements' states, so it folds them itself (fold)
// instead of rebuilding the views: each placement's state is kept in a
// spillMap, encoded in the views' binary form (projections.AppendPlacement)
// while it waits for its placement's next event, folded (domain.EvolveFigures:
// the processed numbers, which the stored form leaves out, are not built)
// exactly as the views fold it and checked (books.check). The spillMap
// keeps the state it returned last decoded until another placement's is
// asked for: the events of one command follow each other in the log, so
// a state is decoded and encoded once per command, not once per event.
// What the views would add to it (feed items, indexes, postings records,
// notifications, the processed numbers) is neither computed nor written,
// nor the Pebble store the views were rebuilt in: over 1.1M events that
// was about a third of verify's time (docs/PERFORMANCE.md). -deep still
// rebuilds the views and checks every placement's feed and stream against
// them.

// folded is a placement's state as verify folds it: the revision of the
// last event folded, the state, and the claim's books (see books.check).
// They are kept together, so that an event finds both with one look-up.
type folded struct {
	rev   uint64
	p     domain.Placement
	books claimBooks
}

// newFolds keeps the placements' folded states: at most max in memory, the
// others in s (see spillMap), each encoded as its revision, the claim's
// books, then the state as the views store it.
func newFolds(s *scratch, max int) *spillMap[uuid.UUID, folded] {
	return newSpillMap(s, max, tFolded, uuidKey,
		func(b []byte, f *folded) []byte {
			b = appendClaimBooks(binary.AppendUvarint(b, f.rev), &f.books)
			enc, err := projections.AppendPlacement(b, f.p)
			if err != nil { // it clears what it could refuse (the processed numbers)
				s.fail(fmt.Errorf("verify: keep a folded state: %w", err))
				return b
			}
			return enc
		},
		func(b []byte, f *folded) error {
			r := bincodec.NewReader(b)
			f.rev = r.Uvarint()
			if err := readClaimBooks(&r, &f.books); err != nil {
				return err
			}
			return projections.DecodePlacement(r.Rest(), &f.p)
		})
}

// part is one part of the fold: the placements of the pass (see pass)
// whose ids fall in its share of the pass's range (see partOf), folded and
// checked by a goroutine of their own
// while the scan checks the batch's links and sealed data (see foldBatch).
// Every placement's events are folded in log order, as before, by its part;
// a part's findings and the payments to the agency its books keep are held
// until the batch is merged, in log order, with the rest of the scan's.
// At 1.1M events the fold on a single goroutine was half of verify's time
// (docs/PERFORMANCE.md).
type part struct {
	folds  *spillMap[uuid.UUID, folded]
	books  *books
	broken map[uuid.UUID]bool
	// v holds the findings of the batch being folded (see
	// verifier.holding).
	v verifier
	// nextFinding and nextItem are where the merge is in v.held and
	// books.held.
	nextFinding, nextItem int
}

// foldParts is how many parts fold (a variable for tests); 0: one for each
// core Go runs goroutines on (GOMAXPROCS).
var foldParts = 0

// newParts returns n parts of the fold, whose maps keep folds entries in
// memory between them, under the pass's prefix in the scratch store.
func newParts(sc *scratch, pass []byte, n, folds int) []*part {
	parts := make([]*part, n)
	for w := range parts {
		prefix := append(slices.Clip(pass), tPart, byte(w))
		b := &books{names: map[string]string{}, hold: true} // the claims' books are in folds
		parts[w] = &part{folds: newFolds(sc, max(1, folds/n)).under(prefix), books: b, broken: map[uuid.UUID]bool{}, v: verifier{holding: true}}
	}
	return parts
}

// partOf returns the part that folds placement id: the parts divide the
// pass's range of ids, so that the parts in order visit the placements in
// the order of their ids (checkFolds).
func (s *scan) partOf(id uuid.UUID) *part {
	return s.parts[s.pass.part(id[:], len(s.parts))]
}

// foldBatch checks a batch (checked: its order-independent checks) and
// folds it: each part folds its placements' events on a goroutine of its
// own while this one checks each stream's links, the handovers' sealed
// data and the documents; then the batch is merged in log order: the
// findings as they were made event by event, the remittances checked on
// the payments to the agency the parts' books kept before them.
func (s *scan) foldBatch(batch []eventstore.RecordedEvent, checked []checked) {
	degraded := s.degraded
	var wg sync.WaitGroup
	for _, p := range s.parts {
		p.v.held, p.books.held = p.v.held[:0], p.books.held[:0]
		p.nextFinding, p.nextItem = 0, 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, rec := range batch {
				c := &checked[i]
				if c.placement == uuid.Nil || c.skip || s.partOf(c.placement) != p {
					continue
				}
				p.v.at = i
				switch {
				case c.decodeErr != nil:
					p.broken[c.placement] = true
				case !p.broken[c.placement]:
					p.fold(rec, c, !degraded)
				}
			}
		}()
	}
	s.events(batch, checked)
	wg.Wait()
	s.merge(batch, checked)
}

// events checks what each event of the batch says by itself, and its link
// in its stream, holding the findings for merge (see foldBatch).
func (s *scan) events(batch []eventstore.RecordedEvent, checked []checked) {
	s.v.holding, s.v.held = true, s.v.held[:0]
	defer func() { s.v.holding = false }()
	for i, rec := range batch {
		c := &checked[i]
		s.v.at = i
		if c.streamIn {
			st, _ := s.streams.get(c.key, true)
			s.v.link(rec, st, c.seal)
		}
		switch {
		case c.badStream:
			if c.streamIn {
				s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "stream", Problem: "not a placement id"})
			}
		case c.skip:
		case c.placement != uuid.Nil && c.decodeErr != nil:
			s.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "data", Problem: c.decodeErr.Error()})
		case c.placement != uuid.Nil:
			s.placementEvent(rec, c.placement, c.rec.Event)
		}
	}
}

// merge merges the batch's findings and the parts' payments to the agency
// in log order, checks the remittances in the last pass, and marks where
// the books are degraded (see foldBatch).
func (s *scan) merge(batch []eventstore.RecordedEvent, checked []checked) {
	next := 0
	for i, rec := range batch {
		for ; next < len(s.v.held) && s.v.held[next].at == i; next++ {
			s.v.add(s.v.held[next].f)
		}
		c := &checked[i]
		switch {
		case c.badStream:
		case c.placement == uuid.Nil:
			// The remittances are checked in the last pass, on the
			// payments to the agency of every pass's placements before
			// them, up to where any pass's books were degraded.
			if s.remits && !s.degraded && (!s.priorDegraded || rec.Position <= s.priorCheckedTo) {
				s.books.remit(s.v, rec)
			}
		case c.skip:
		default:
			p := s.partOf(c.placement)
			for ; p.nextFinding < len(p.v.held) && p.v.held[p.nextFinding].at == i; p.nextFinding++ {
				// Books checked past a degraded point are the replay's.
				if f := p.v.held[p.nextFinding].f; !s.degraded || !isBooks(f) {
					s.v.add(f)
				}
			}
			for ; p.nextItem < len(p.books.held) && p.books.held[p.nextItem].at == i; p.nextItem++ {
				if !s.degraded {
					h := p.books.held[p.nextItem]
					it, _ := s.books.items.get(h.position, true)
					*it = h.item
					it.creditor, it.currency = s.books.intern(it.creditor), s.books.intern(it.currency)
				}
			}
			if c.decodeErr == nil && !c.posted && !s.degraded {
				s.degraded, s.checkedTo = true, rec.Position-1
			}
		}
		s.v.report.Events++
	}
}

// isBooks reports whether a finding is the books' (see books.check).
func isBooks(f Finding) bool { return f.Field == "postings" || f.Field == "conservation" }

// fold folds one decoded event of a placement (rec, c.rec) into the
// placement's state and, with books, checks its postings on the states
// before and after it (c.posted). An event that cannot be folded (a stream
// that does not begin with its handover, a state that does not decode) is
// reported, and the rest of its placement is not folded.
func (p *part) fold(rec eventstore.RecordedEvent, c *checked, books bool) {
	id, r := c.placement, c.rec
	at := func(problem string) {
		p.v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: "projection", Problem: problem})
		p.broken[id] = true
	}
	f, _ := p.folds.get(id, false)
	if f == nil {
		if !isOpening(r.Event) {
			at(fmt.Sprintf("the placement's first event is %s, not %s", rec.Type, domain.TypePlacementOpened))
			return
		}
		f, _ = p.folds.get(id, true)
	}
	before := f.p
	after := domain.EvolveFigures(before, r.Event) // the numbers are neither kept nor checked here
	if books {
		c.posted = true
		p.books.checkClaim(&p.v, &f.books, r, before, after)
	}
	f.rev, f.p = rec.Revision, after
}

func isOpening(e domain.Event) bool {
	_, opens := e.(domain.PlacementOpened)
	return opens
}

// checkFolds checks every folded state's invariants, in the order of the
// placements' ids: each part's states on a goroutine of its own, into a
// verifier of its own (as bounded as the scan's, see maxFindings), whose
// findings and count of those left out are then added part after part: the
// parts divide the ids in order, so the report is the one a single
// goroutine visiting the parts in turn makes. At the end of a pass the
// parts' states are all decoded once more, on every core rather than one.
func (s *scan) checkFolds() error {
	checked := make([]verifier, len(s.parts))
	errs := make([]error, len(s.parts))
	var wg sync.WaitGroup
	for i, part := range s.parts {
		wg.Go(func() {
			v := &checked[i]
			v.quiet = s.v.quiet
			errs[i] = part.folds.each(func(b []byte) (uuid.UUID, error) { return uuid.FromBytes(b) }, func(id uuid.UUID, f *folded) error {
				v.checkInvariants(journal.PlacementStream(id), f.rev, f.p)
				return nil
			})
		})
	}
	wg.Wait()
	for i := range s.parts {
		for _, f := range checked[i].report.Findings {
			s.v.add(f)
		}
		s.v.dropped += checked[i].dropped
		if errs[i] != nil {
			return errs[i]
		}
	}
	return nil
}
