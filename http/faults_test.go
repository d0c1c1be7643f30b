package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/storetest"
	httpapi "github.com/collections-ledger/ledger/http"
	"github.com/collections-ledger/ledger/projections"
)

// TestStorageFaults injects a failing WAL sync, and a full disk, under a
// running API: the command in flight answers 503 with a problem body, the
// engine takes no more writes, the projections stop (so /readyz says so and
// ledger serve exits non-zero for its supervisor), and a restart from the
// files on disk has every acknowledged command.
func TestStorageFaults(t *testing.T) {
	for name, fault := range map[string]error{"ErrSync": errorfs.ErrInjected, "ErrDiskFull": syscall.ENOSPC} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var on atomic.Bool
			fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
				if on.Load() && strings.HasSuffix(op.Path, ".log") &&
					(op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileWrite) {
					return fault
				}
				return nil
			}))
			store, err := embedded.Open(dir, embedded.Options{FS: fs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(t, err)
			keys, err := httpapi.ParseKeys("acme="+acmeKey, agencyKey)
			require.NoError(t, err)
			views, err := projections.OpenViews(filepath.Join(t.TempDir(), "views"), projections.ViewsOptions{Logger: quietLogger()})
			require.NoError(t, err)
			defer views.Close()
			runner := projections.NewRunner(store, views, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			runnerDone := make(chan error, 1)
			go func() { runnerDone <- runner.Run(ctx) }()
			srv := httpapi.New(httpapi.Config{Commands: command.NewHandler(store, projections.NewWriteIndex(views), nil), Runner: runner, Keys: keys,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			l := &ledger{t: t, store: store, views: views, server: srv, runner: runner}
			id := l.MustPlace("DE-FAULT")
			ok := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount":"10","paymentNumber":"P-OK"}`)
			require.Equal(t, http.StatusOK, ok.Status)

			on.Store(true)
			r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount":"5","paymentNumber":"P-LOST"}`)
			assert.Equal(t, http.StatusServiceUnavailable, r.Status)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			assert.Equal(t, "store_unavailable", r.JSON(t)["code"])
			assert.NotEmpty(t, r.Header.Get("Retry-After"))
			on.Store(false) // the disk is fine again; the engine still refuses: nothing is retried after a failed sync
			again := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount":"5","paymentNumber":"P-2"}`)
			assert.Equal(t, http.StatusServiceUnavailable, again.Status)
			require.Error(t, <-runnerDone, "the projections stop, which makes ledger serve exit non-zero")
			assert.Equal(t, http.StatusServiceUnavailable, l.do("GET", "/readyz", "", nil).Status)
			_ = store.Close()

			// A restart (from the files as they are on disk) has the acknowledged payment.
			l2 := MustLedger(t, storetest.CopyStoreFiles(t, dir))
			audit := string(l2.do("GET", "/v1/placements/"+id+"/audit", acmeKey, nil).Body)
			assert.Contains(t, audit, "P-OK", "the acknowledged payment survived")
			assert.NotContains(t, audit, "P-2", "nothing was written after the fault")
		})
	}
}
