package projections

import (
	"bytes"
	"runtime"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// booksAfter is how many events a batch applies before it hands the books'
// and the reconciliation's rows to a worker of their own (booksWorker): the
// batches of a catch-up or a build do, not the few events of a live one,
// whose hand-off would cost more than it saves.
var booksAfter = 256

// booksChunk is how many events the applier hands the worker at a time:
// one channel send and one wake-up for that many.
const booksChunk = 64

// booksJob is an event whose postings and reconciliation entry (a
// placement's: its id, its state before and after it) or whose remittance
// (raw, with id uuid.Nil) the books worker applies.
type booksJob struct {
	creditor      string
	id            uuid.UUID
	before, after domain.Placement
	rec           journal.Record
	hash          journal.Hash
	raw           eventstore.RecordedEvent
}

// booksWorker applies a batch's books and reconciliation (the tables of the
// units "books" and "reconciliation") on a goroutine of its own, beside the
// applier, which folds the states and writes every other table: a catch-up
// or a build is otherwise one goroutine's work, and these are about a
// quarter of it. The worker writes to a batch of its own (side), put after
// the applier's when the batch commits, so the views still commit as one
// batch. The two read nothing the other writes: only the books read the
// batch's trial-balance sums (trial, which the worker takes over from the
// applier until it is joined), and the states the worker is handed are
// not written after (domain.Evolve writes in none of its argument's
// arrays; the applier replaces a state's fields, it does not write in
// them).
type booksWorker struct {
	side    *tx
	jobs    chan []booksJob
	free    chan []booksJob // chunks the worker is done with, for reuse
	pending []booksJob
	done    chan struct{}
	err     error // the worker's first error, read once done is closed
}

// startBooks starts the batch's books worker, when the batch writes the
// books or the reconciliation (a stateless build, whose units come from the
// events alone, writes neither) and the process may run two goroutines at
// once.
func (t *tx) startBooks() {
	if !(t.builds(tReconcile) || t.builds(tPosting)) || runtime.GOMAXPROCS(0) < 2 {
		return
	}
	side := &tx{v: t.v, gen: t.gen, b: t.v.db.NewBatch(), trials: t.trials, build: t.build, trial: t.trial}
	if side.sinking() {
		side.stg = &t.v.sink.books
	}
	w := &booksWorker{side: side, jobs: make(chan []booksJob, 16), free: make(chan []booksJob, 18), done: make(chan struct{})}
	t.books = w
	go w.run()
}

func (w *booksWorker) run() {
	defer close(w.done)
	for chunk := range w.jobs {
		for i := range chunk {
			if w.err == nil {
				w.err = w.side.applyBooks(&chunk[i])
			}
		}
		clear(chunk) // what the jobs hold, for the collector
		select {
		case w.free <- chunk[:0]:
		default:
		}
	}
}

// add hands the worker an event.
func (w *booksWorker) add(j booksJob) {
	if w.pending == nil {
		select {
		case w.pending = <-w.free:
		default:
			w.pending = make([]booksJob, 0, booksChunk)
		}
	}
	w.pending = append(w.pending, j)
	if len(w.pending) == booksChunk {
		w.jobs <- w.pending
		w.pending = nil
	}
}

// stop waits until the worker has applied what it was handed, and returns
// its first error.
func (w *booksWorker) stop() error {
	if len(w.pending) > 0 {
		w.jobs <- w.pending
	}
	close(w.jobs)
	<-w.done
	return w.err
}

// book applies the books and the reconciliation of a placement's event
// that took it from before to after, or hands them to the batch's worker.
func (t *tx) book(creditor string, id uuid.UUID, before, after domain.Placement, rec journal.Record, hash journal.Hash) error {
	if t.books != nil {
		rec.Data = nil // the worker reads the event decoded; the raw bytes may be reused
		t.books.add(booksJob{creditor: creditor, id: id, before: before, after: after, rec: rec, hash: hash})
		return nil
	}
	ps := domain.Postings(before, rec.Event, rec.Meta.OccurredAt) // once, for both
	if err := t.reconcile(creditor, id, before, after, rec, hash, ps); err != nil {
		return err
	}
	return t.post(id, before, after, rec, ps)
}

// remit applies a remittance, or hands it to the batch's worker (in order
// with the postings it settles).
func (t *tx) remit(raw eventstore.RecordedEvent, creditor string) error {
	if t.books == nil {
		return t.applyRemittance(raw, creditor)
	}
	raw.Data, raw.Metadata = bytes.Clone(raw.Data), bytes.Clone(raw.Metadata)
	t.books.add(booksJob{creditor: creditor, raw: raw})
	return nil
}

// applyBooks is the worker's book and remit.
func (t *tx) applyBooks(j *booksJob) error {
	if j.id == uuid.Nil {
		return t.applyRemittance(j.raw, j.creditor)
	}
	return t.book(j.creditor, j.id, j.before, j.after, j.rec, j.hash)
}

// joinBooks waits for the books worker and puts the rows it wrote after the
// applier's, in the batch or the sink's stage (tx.commit adds them after
// the applier's); the trial-balance sums are the applier's again.
func (t *tx) joinBooks() error {
	w := t.books
	if w == nil {
		return nil
	}
	t.books = nil
	defer w.side.b.Close()
	if err := w.stop(); err != nil {
		return err
	}
	return t.b.Apply(w.side.b, nil)
}

// dropBooks stops the books worker of a batch that is aborted.
func (t *tx) dropBooks() {
	if w := t.books; w != nil {
		t.books = nil
		_ = w.stop()
		_ = w.side.b.Close() // what it staged for a sink, the next batch drops (beginAt)
	}
}
