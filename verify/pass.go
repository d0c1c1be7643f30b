package verify

import (
	"cmp"
	"context"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/collections-ledger/ledger/eventstore"
)

// Without Deep and without live views to compare, verify reads the log in
// passes (foldPasses) when it is large: each pass folds and checks the
// placements whose ids fall in its range and checks their streams' hash
// chains, and those of the other streams whose keys (see streamKey) fall
// in it, and no other event is decoded; the last pass also checks the
// remittances, on the payments to the agency the books of every pass
// kept. So each pass's maps hold its streams and placements in memory,
// where one pass over a large log spilled them to the scratch store and
// read them back at random: at 3.3M events over 300,000 placements, in one
// pass, reading spilled entries back and compacting the scratch store were
// 40% of verify's CPU (docs/PERFORMANCE.md). Only the first pass reads the
// log: it spools each later pass's events for it (spool.go).

// pass is one of n passes over the log: k, from 0.
type pass struct{ k, n int }

// key16 is the first two bytes of a key (a placement's id, a stream's key)
// as a number, which the passes and their parts divide into ranges.
func key16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

// owns reports whether the pass checks the stream or the placement whose
// key begins with b.
func (p pass) owns(b []byte) bool { return p.n == 1 || passOf(b, p.n) == p.k }

// passOf returns which of n passes checks the stream or the placement whose
// key begins with b.
func passOf(b []byte, n int) int { return key16(b) * n >> 16 }

// part returns which of parts parts folds the placement whose id begins
// with b: the pass's range divided again, so that the passes' parts in
// order visit the placements in the order of their ids.
func (p pass) part(b []byte, parts int) int { return key16(b) * p.n * parts >> 16 % parts }

// passEvents is how many events of the log each pass is for (a variable
// for tests): at 1.1M events over 100,000 placements and 200,000 streams
// every map of one pass holds them all in memory (see foldPasses).
var passEvents = 1_500_000

// forcePasses, when not 0, is how many passes verify makes (for tests).
var forcePasses = 0

// passesFor returns how many passes verify makes over store's log, whose
// last position is head: one for each passEvents events where the store's
// positions count its events (eventstore.Dense), else one (KurrentDB's
// positions are offsets: a store there is read in one pass, whose maps
// spill what they cannot hold).
func passesFor(store eventstore.Store, head eventstore.Position) int {
	if d, ok := store.(eventstore.Dense); !ok || !d.DensePositions() {
		return 1
	}
	return max(1, int((uint64(head)+uint64(passEvents)-1)/uint64(passEvents)))
}

// foldPasses checks the log in passes (see pass), folding the placements'
// states itself, then the states' invariants. The findings of every pass
// are merged in log order, so the report is the one a single pass would
// give, finding for finding. Each pass's maps keep what Run's comment
// says.
func (v *verifier) foldPasses(ctx context.Context, store eventstore.Store, head eventstore.Position, sc *scratch, dir string, opts Options) error {
	n := cmp.Or(forcePasses, passesFor(store, head))
	parts := cmp.Or(foldParts, runtime.GOMAXPROCS(0))
	// The payments to the agency the remittances settle, from every pass.
	books := newBooks(sc, 2*spillEntries)
	var events, invariants []Finding
	dropped := 0
	degraded, checkedTo := false, eventstore.Position(0)
	// The first pass reads the log and spools for the others (spool.go).
	sp, err := spoolerFor(dir, n)
	if err != nil {
		return err
	}
	for k := range n {
		prefix := []byte{tPass, byte(k >> 8), byte(k)}
		pv := &verifier{}
		s := &scan{v: pv, personal: opts.Personal, pass: pass{k, n}, books: books, remits: k == n-1,
			priorDegraded: degraded, priorCheckedTo: checkedTo,
			streams: newStreams(sc, 4*spillEntries).under(prefix), owners: newOwners(sc, spillEntries).under(prefix),
			parts: newParts(sc, prefix, parts, 2*spillEntries)}
		progress := opts.Progress
		if progress != nil && n > 1 {
			progress = func(pos, head eventstore.Position) {
				opts.Progress((eventstore.Position(k)*head+pos)/eventstore.Position(n), head)
			}
		}
		if err := readPass(ctx, s, sp, k, store, head, progress); err != nil {
			return err
		}
		if err := sc.failed(); err != nil {
			return err
		}
		if s.degraded && (!degraded || s.checkedTo < checkedTo) {
			checkedTo = s.checkedTo
		}
		degraded = degraded || s.degraded
		v.count(s, pv.report)
		events = append(events, pv.report.Findings...)
		dropped += pv.dropped
		// The invariants of the pass's placements, in the order of their
		// ids, after every event's findings.
		pv.report.Findings, pv.dropped = nil, 0
		if err := s.checkFolds(); err != nil {
			return err
		}
		if err := sc.failed(); err != nil {
			return err
		}
		invariants = append(invariants, pv.report.Findings...)
		dropped += pv.dropped
	}
	if n > 1 {
		// A pass's books past where another's were degraded are the
		// replay's, as in a single pass.
		if degraded {
			events = slices.DeleteFunc(events, func(f Finding) bool { return isBooks(f) && f.Position > checkedTo })
		}
		slices.SortStableFunc(events, func(a, b Finding) int {
			return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(phaseOf(a), phaseOf(b)))
		})
	}
	for _, f := range events {
		v.add(f)
	}
	if degraded {
		replays.Add(1)
		s := &scan{v: v, checkedTo: checkedTo}
		if err := s.replay(ctx, store, head, filepath.Join(dir, "replay")); err != nil {
			return err
		}
	}
	for _, f := range invariants {
		v.add(f)
	}
	v.dropped += dropped
	return nil
}

// spoolerFor returns the spooler of n passes, in dir; nil for one pass.
func spoolerFor(dir string, n int) (*spooler, error) {
	if n == 1 {
		return nil, nil
	}
	return newSpooler(filepath.Join(dir, "spool"), n)
}

// count adds what pass s counted (r, its report) to v's report: the events
// the first pass read, and each pass's streams, placements and personal
// data.
func (v *verifier) count(s *scan, r Report) {
	if s.pass.k == 0 {
		v.report.Events = r.Events
	}
	v.report.Streams += s.streams.n
	v.report.Placements += s.owners.n
	v.report.PersonalChecked += r.PersonalChecked
	v.report.PersonalErased += r.PersonalErased
	v.report.PersonalUnchecked += r.PersonalUnchecked
}

// readPass reads pass k's events: the log for the first pass, which
// spools the others' events into sp (nil with one pass), its spool for
// any other.
func readPass(ctx context.Context, s *scan, sp *spooler, k int, store eventstore.Store, head eventstore.Position, progress func(pos, head eventstore.Position)) error {
	switch {
	case sp == nil:
		return s.readAll(ctx, store, head, progress, s.batch)
	case k > 0:
		return s.readSpool(ctx, sp.path(k), head, progress, s.batch)
	}
	err := s.readAll(ctx, store, head, progress, func(batch []eventstore.RecordedEvent) eventstore.Position {
		sp.add(batch)
		return s.batch(batch)
	})
	if cerr := sp.close(); err == nil {
		err = cerr
	}
	return err
}

// phaseOf orders the findings about one event as a single pass makes them:
// its link in its stream first, then what the event says by itself, then
// what folding it finds (the placement's state, the books, a remittance).
func phaseOf(f Finding) int {
	switch f.Field {
	case "storage", "revision", "metadata", "prevHash", "hash":
		return 0
	case "projection", "postings", "conservation", "remittance":
		return 2
	}
	return 1
}
