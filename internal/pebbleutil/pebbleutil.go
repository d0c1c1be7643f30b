// Package pebbleutil is what the ledger's two Pebble databases (the embedded
// event store and each instance's view store) share: a logger that never
// lets Pebble continue after a fatal error, a commit that turns that
// error into a value, their memory (memory.go) and the depth of their L0
// (levels.go).
package pebbleutil

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// Commit commits a batch with opts (pebble.Sync or pebble.NoSync). Pebble
// reports a failed WAL write or sync through Logger.Fatalf and, should
// Fatalf return, goes on to report the commit as a success. So Logger's
// Fatalf never returns: it panics with fatal, which is recovered here, on the
// goroutine that called Commit, and returned as an error the caller must
// treat as permanent.
func Commit(b *pebble.Batch, opts *pebble.WriteOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = errors.New(f.msg)
		}
	}()
	return b.Commit(opts)
}

type fatal struct{ msg string }

// Logger routes Pebble's messages to slog. Fatalf panics: in Commit the
// panic becomes an error; on one of Pebble's background goroutines nothing
// recovers it and the process dies, the only safe reaction to a state Pebble
// cannot continue from (a supervisor restarts it and recovery runs from the
// write-ahead log).
type Logger struct{ L *slog.Logger }

func (p Logger) Infof(format string, args ...any) {
	p.L.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p Logger) Errorf(format string, args ...any) {
	p.L.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (p Logger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.L.Error("pebble: fatal: " + msg)
	panic(fatal{msg: msg})
}
