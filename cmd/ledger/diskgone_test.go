package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestViewStoreGoneStopsTheServer removes a running server's view store
// from under it, as a disk that fails or fills would take it. Pebble
// retries the flush that then fails at once and forever: the server found
// so spun on a whole core, wrote a gigabyte of the same error to its log
// in four minutes, and did not stop on SIGTERM. Now the run of failures
// stops the process (pebbleutil.Failures, 10 s after the first); started
// again, the server rebuilds its views from the log and serves the
// payments it acknowledged.
func TestViewStoreGoneStopsTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a server stopped by its disk: skipped in -short mode")
	}
	store := filepath.Join(t.TempDir(), "ledger.db")
	var log syncBuffer
	cmd, c := startServerWith(t, store, serverOptions{stderr: &log})
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ctx := context.Background()
	status, b, err := c.do(ctx, "POST", "/v1/placements", crashKey,
		`{"claimNumber":"GONE-1","customerNumber":"K1","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"400","dueDate":"2024-01-01"}]}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", b)
	var p struct{ PlacementID string }
	require.NoError(t, json.Unmarshal(b, &p))
	status, b, err = c.do(ctx, "POST", "/v1/placements/"+p.PlacementID+"/payment-received", crashKey, `{"amount":"150","paymentNumber":"GONE-P1"}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)

	require.NoError(t, os.RemoveAll(store+".views"))
	// The views flush at the first commit 5 s after their last flush
	// (ViewsOptions.SyncEvery); this payment's commit is one.
	time.Sleep(6 * time.Second)
	status, b, err = c.do(ctx, "POST", "/v1/placements/"+p.PlacementID+"/payment-received", crashKey, `{"amount":"50","paymentNumber":"GONE-P2"}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)
	select {
	case err := <-exited:
		var exit interface{ ExitCode() int }
		require.ErrorAs(t, err, &exit, "the server stops with a failure")
		assert.NotZero(t, exit.ExitCode())
	case <-time.After(3 * time.Minute): // a liveness bound, not a timing assertion
		_ = cmd.Process.Signal(syscall.SIGKILL)
		t.Fatalf("the server did not stop; its log ends:\n%s", tail(log.String(), 3000))
	}
	assert.Contains(t, log.String(), "view store: background writes have failed")
	assert.Less(t, strings.Count(log.String(), "pebble: background error"), 60, "a line a second at most:\n%s", tail(log.String(), 3000))

	cmd2, c2 := startServer(t, store)
	defer func() { _ = cmd2.Process.Kill(); _ = cmd2.Wait() }()
	status, b, err = c2.do(ctx, "GET", "/v1/placements/"+p.PlacementID, crashKey, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)
	assert.Contains(t, string(b), `"recoveredAmount":"200.00"`, "both payments, acknowledged before the stop")
}
