package pebbleutil

import (
	"cmp"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Failures is what the ledger does with the errors Pebble meets in its
// background work (flushes, compactions). Pebble retries a failed flush or
// compaction at once, with no backoff, and forever ("count consecutive
// flush errors and backoff" is a to-do in its flush loop). So an error
// that does not go away (a disk that is full, failing or gone) kept a
// server on a whole core and wrote the same two lines to its log thousands
// of times a second (a gigabyte in four minutes, found on a test's ledger
// whose directory was removed under it), and SIGTERM could not stop it:
// its shutdown waited for a flush that could not succeed.
//
// Now the first error of a run of failures is logged, then one a second at
// most, with how many came between; a flush or compaction that succeeds
// ends the run. A run of at least MinErrors errors that has lasted Grace
// is what Pebble cannot continue from, and Fatalf stops the process (see
// Logger): a supervisor restarts it, the event store recovers what it
// acknowledged from its write-ahead log and the views catch up from their
// checkpoint, or the restart fails as loudly while the disk stays broken.
//
// Listen also logs when Pebble stops writes (its memtables or L0 are full,
// until flushes and compactions catch up; see L0StopWritesThreshold) and
// when they go on, with how long they waited: while writes are stopped,
// commands and the views wait too, and nothing else says why.
type Failures struct {
	Logger Logger
	// What names the database in the log ("view store").
	What string
	// Grace and MinErrors: 0 means 10 s and 100.
	Grace     time.Duration
	MinErrors int

	now    func() time.Time              // time.Now unless a test sets it
	fatalf func(format string, a ...any) // Logger.Fatalf unless a test sets it

	mu       sync.Mutex
	inRun    bool
	began    time.Time // the run's first error
	errors   int       // in the run
	logged   time.Time // the run's latest error logged
	unlogged int       // errors since
	stalled  time.Time // when writes last stopped
}

// Listen routes l's background errors, its ends of flushes and
// compactions, and its write stalls to f.
func (f *Failures) Listen(l *pebble.EventListener) *pebble.EventListener {
	l.BackgroundError = f.failed
	l.WriteStallBegin = f.stallBegins
	l.WriteStallEnd = f.stallEnds
	l.FlushEnd = func(info pebble.FlushInfo) {
		if info.Err == nil {
			f.succeeded()
		}
	}
	l.CompactionEnd = func(info pebble.CompactionInfo) {
		if info.Err == nil {
			f.succeeded()
		}
	}
	return l
}

func (f *Failures) failed(err error) {
	f.mu.Lock()
	now := f.clock()
	if !f.inRun {
		f.inRun, f.began, f.errors, f.unlogged, f.logged = true, now, 0, 0, time.Time{}
	}
	f.errors++
	stop := f.errors >= cmp.Or(f.MinErrors, 100) && now.Sub(f.began) >= cmp.Or(f.Grace, 10*time.Second)
	logNow := f.logged.IsZero() || now.Sub(f.logged) >= time.Second // a stop logs through Fatalf
	more := f.unlogged
	if logNow {
		f.logged, f.unlogged = now, 0
	} else {
		f.unlogged++
	}
	errors, began := f.errors, f.began
	f.mu.Unlock()

	if logNow {
		f.Logger.L.Error("pebble: background error", "store", f.What, "err", err, "failures", errors,
			"since", began.UTC().Format(time.RFC3339Nano), "unlogged", more)
	}
	if stop {
		fatalf := f.fatalf
		if fatalf == nil {
			fatalf = f.Logger.Fatalf
		}
		fatalf("%s: background writes have failed %d times in a row for %s, and Pebble retries them at once; stopping the process (last error: %v)",
			f.What, errors, f.clock().Sub(began).Round(time.Millisecond), err)
	}
}

func (f *Failures) succeeded() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inRun {
		f.inRun = false
		if f.errors > 1 {
			f.Logger.L.Warn("pebble: background work succeeds again", "store", f.What, "failures", f.errors,
				"for", f.clock().Sub(f.began).Round(time.Millisecond))
		}
	}
}

func (f *Failures) stallBegins(info pebble.WriteStallBeginInfo) {
	f.mu.Lock()
	f.stalled = f.clock()
	f.mu.Unlock()
	f.Logger.L.Warn("pebble: writes stopped until background work catches up", "store", f.What, "reason", info.Reason)
}

func (f *Failures) stallEnds() {
	f.mu.Lock()
	waited := f.clock().Sub(f.stalled)
	f.mu.Unlock()
	f.Logger.L.Warn("pebble: writes go on", "store", f.What, "stopped", waited.Round(time.Millisecond))
}

func (f *Failures) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}
