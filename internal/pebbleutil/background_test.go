package pebbleutil

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/internal/syncbuf"
)

// TestFailuresLogOnceASecondAndStopARunThatLasts drives the policy with a
// clock of its own: a run of errors is logged once, then once a second
// with the count in between; a success ends it (and a short run stops
// nothing); a run of MinErrors errors that lasts Grace calls Fatalf, and
// not before both.
func TestFailuresLogOnceASecondAndStopARunThatLasts(t *testing.T) {
	var log syncbuf.Buffer
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var stopped []string
	f := &Failures{Logger: Logger{L: slog.New(slog.NewTextHandler(&log, nil))}, What: "view store", Grace: 10 * time.Second, MinErrors: 100,
		now: func() time.Time { return now }, fatalf: func(format string, a ...any) { stopped = append(stopped, fmt.Sprintf(format, a...)) }}
	l := f.Listen(&pebble.EventListener{})
	boom := errors.New("creating object 7: no space left on device")

	// 500 errors in half a second: one line, no stop.
	for range 500 {
		l.BackgroundError(boom)
		now = now.Add(time.Millisecond)
	}
	assert.Equal(t, 1, strings.Count(log.String(), "background error"))
	assert.Empty(t, stopped)
	// A flush that succeeds ends the run; the next error starts one.
	l.FlushEnd(pebble.FlushInfo{Done: true, Err: errors.New("pebble: empty table")}) // not a success
	now = now.Add(20 * time.Second)
	l.BackgroundError(boom)
	assert.Len(t, stopped, 1, "the run went on: 501 errors over 20 s")
	stopped = nil
	l.FlushEnd(pebble.FlushInfo{Done: true})
	assert.Contains(t, log.String(), "background work succeeds again")

	// Errors a second apart for 9 s: a line each; then past Grace, a stop.
	before := strings.Count(log.String(), "background error")
	for range 9 {
		for range 20 {
			l.BackgroundError(boom)
		}
		now = now.Add(time.Second)
	}
	assert.Equal(t, before+9, strings.Count(log.String(), "background error"))
	assert.Contains(t, log.String(), "unlogged=19")
	assert.Empty(t, stopped, "180 errors in 9 s: not yet Grace")
	now = now.Add(time.Second)
	l.BackgroundError(boom)
	require.Len(t, stopped, 1)
	assert.Contains(t, stopped[0], "view store: background writes have failed 181 times in a row for 10s")
	assert.Contains(t, stopped[0], boom.Error())

	// A compaction that succeeds ends a run too; a few errors over a long
	// time (fewer than MinErrors) stop nothing.
	l.CompactionEnd(pebble.CompactionInfo{Done: true})
	stopped = nil
	for range 50 {
		l.BackgroundError(boom)
		now = now.Add(time.Minute)
	}
	assert.Empty(t, stopped)
}

// TestFailuresStopAFlushThatKeepsFailing: a real Pebble database whose
// tables cannot be created (the disk full) retries its flush again and
// again; the policy logs a few lines and calls Fatalf once the run has
// lasted Grace. When the disk is healthy again, the flush succeeds.
func TestFailuresStopAFlushThatKeepsFailing(t *testing.T) {
	var full atomic.Bool
	fs := errorfs.Wrap(vfs.NewMem(), errorfs.InjectorFunc(func(op errorfs.Op) error {
		if full.Load() && strings.HasSuffix(op.Path, ".sst") && op.Kind == errorfs.OpCreate {
			return syscall.ENOSPC
		}
		return nil
	}))
	var log syncbuf.Buffer
	stopped := make(chan string, 1)
	f := &Failures{Logger: Logger{L: slog.New(slog.NewTextHandler(&log, nil))}, What: "test store", Grace: 200 * time.Millisecond,
		fatalf: func(format string, a ...any) {
			select {
			case stopped <- fmt.Sprintf(format, a...):
			default:
			}
		}}
	db, err := pebble.Open("/db", &pebble.Options{FS: fs, DisableWAL: true, Logger: f.Logger, EventListener: f.Listen(&pebble.EventListener{})})
	require.NoError(t, err)
	require.NoError(t, db.Set([]byte("k"), []byte("v"), pebble.NoSync))
	full.Store(true)
	_, err = db.AsyncFlush()
	require.NoError(t, err)
	select {
	case msg := <-stopped:
		assert.Contains(t, msg, "test store: background writes have failed")
		assert.Contains(t, msg, "no space left on device")
	case <-time.After(time.Minute): // a liveness bound, not a timing assertion
		t.Fatal("a flush failing again and again did not stop the process")
	}
	assert.Less(t, strings.Count(log.String(), "background error"), 10, "the first line, then a second at most")
	full.Store(false)
	require.NoError(t, db.Flush())
	require.NoError(t, db.Close())
}

// TestFailuresLogWriteStalls: a stop of writes is logged with its reason,
// and its end with how long writes waited.
func TestFailuresLogWriteStalls(t *testing.T) {
	var log syncbuf.Buffer
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := &Failures{Logger: Logger{L: slog.New(slog.NewTextHandler(&log, nil))}, What: "event store", now: func() time.Time { return now }}
	l := f.Listen(&pebble.EventListener{})

	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "L0 file count limit exceeded"})
	assert.Contains(t, log.String(), `msg="pebble: writes stopped until background work catches up" store="event store" reason="L0 file count limit exceeded"`)
	now = now.Add(1500 * time.Millisecond)
	l.WriteStallEnd()
	assert.Contains(t, log.String(), `msg="pebble: writes go on" store="event store" stopped=1.5s`)
	assert.Equal(t, 2, strings.Count(log.String(), "level=WARN"))
}
