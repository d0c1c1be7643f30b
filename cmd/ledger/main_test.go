package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/internal/syncbuf"
	"github.com/collections-ledger/ledger/journal"
)

func TestRedactStore(t *testing.T) {
	assert.Equal(t, "./data/ledger.db", redactStore("./data/ledger.db"))
	assert.Equal(t, "esdb://admin:xxxxx@localhost:2113?tls=false", redactStore("esdb://admin:changeit@localhost:2113?tls=false"))
	assert.NotContains(t, redactStore("kurrentdb://admin:s3cret@a:2113,b:2113"), "s3cret")
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"LEDGER_ADDR": ":9000"}
	var stderr bytes.Buffer
	c, err := parseConfig(nil, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	assert.Equal(t, config{Addr: ":9000", Store: "./data/ledger.db", LeaseTTL: 30 * time.Second}, c, "environment first, defaults after")
	c, err = parseConfig([]string{"-LEDGER_ADDR", ":7000", "-LEDGER_STORE", "/tmp/x"}, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	assert.Equal(t, config{Addr: ":7000", Store: "/tmp/x", LeaseTTL: 30 * time.Second}, c, "a flag overrides the environment")
	_, err = parseConfig([]string{"extra"}, func(string) string { return "" }, &stderr)
	assert.Error(t, err)
	for _, bad := range []string{"0s", "500ms", "soon"} {
		_, err = parseConfig([]string{"-LEDGER_LEASE_TTL", bad}, func(string) string { return "" }, &stderr)
		assert.ErrorContains(t, err, "LEDGER_LEASE_TTL", bad)
	}
	c, err = parseConfig(nil, func(k string) string { return map[string]string{"LEDGER_STORE_CACHE_MB": "256"}[k] }, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 256, c.StoreCacheMiB)
	for _, bad := range []string{"4", "lots", "1.5", "100000"} {
		_, err = parseConfig([]string{"-LEDGER_STORE_CACHE_MB", bad}, func(string) string { return "" }, &stderr)
		assert.ErrorContains(t, err, "LEDGER_STORE_CACHE_MB", bad)
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, ok := range []string{"", "https://ledger.example.com", "http://localhost:8080/", "https://ledger.example.com:8443"} {
		_, err := parsePublicURL(ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"ledger.example.com", "ftp://x", "https://", "https://u:p@x", "https://x/ledger", "https://x?a=1", "https://x#f"} {
		_, err := parsePublicURL(bad)
		assert.Error(t, err, bad)
	}
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"serve", "-LEDGER_PUBLIC_URL", "ledger.example.com"}, func(string) string { return "" }, &stdout, &stderr)
	assert.Equal(t, 2, code, "a bad setting stops serve before it starts")
	assert.Contains(t, stderr.String(), "LEDGER_PUBLIC_URL")
}

func TestRunUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"nope"}, func(string) string { return "" }, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "nope"`)
	assert.Equal(t, 2, run(context.Background(), nil, func(string) string { return "" }, &out, &errOut))
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer = syncbuf.Buffer

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// serveReady runs serve on the store in dir with env until the test ends
// and returns its base URL once /readyz says ready.
func serveReady(t *testing.T, dir string, env map[string]string) string {
	t.Helper()
	base, _ := serveStoppable(t, dir, env)
	return base
}

// serveStoppable is serveReady that also returns a function stopping the
// server before the test ends (it then waits for serve to return).
func serveStoppable(t *testing.T, dir string, env map[string]string) (string, func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, logs syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", dir}, func(k string) string { return env[k] }, &out, &logs)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "serve: %s", logs.String())
	return base, stop
}

// TestServeOnEmbeddedStore starts the server on a fresh embedded store,
// checks its health endpoints, and stops it as SIGTERM would: exit code 0.
func TestServeOnEmbeddedStore(t *testing.T) {
	addr := freeAddr(t)
	store := filepath.Join(t.TempDir(), "ledger.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", store}, func(string) string { return "" }, &stdout, &stderr)
	}()
	var resp *http.Response
	require.Eventually(t, func() bool {
		var err error
		resp, err = http.Get("http://" + addr + "/healthz")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "server did not start: %s", stderr.String())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))

	// Readiness is reached asynchronously: the views catch up to the format
	// marker the new store was given, which may take a moment after healthz.
	require.Eventually(t, func() bool {
		r, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "the server did not become ready: %s", stderr.String())
	assert.JSONEq(t, `{"status":"ready","position":1}`, string(body), "a new store is declared to be in the current log format")
	assert.Contains(t, stdout.String(), "DEVELOPMENT MODE", "no keys configured: the development key is printed")

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, stderr.String(), "stopped cleanly")
	assert.DirExists(t, store, "the embedded store was created")
}

func TestServeRefusesBadStore(t *testing.T) {
	var stdout, stderr syncBuffer
	keys := filepath.Join(t.TempDir(), "keys") // with KurrentDB the default is ./data/keys: not in the source tree
	code := run(context.Background(), []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", "kurrentdb://", "-keys", keys}, func(string) string { return "" }, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "cannot open the event store")
}

func TestServerBoundsClients(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	assert.Equal(t, 5*time.Second, srv.ReadHeaderTimeout)
	assert.Equal(t, 30*time.Second, srv.ReadTimeout)
	assert.Equal(t, 30*time.Second, srv.WriteTimeout)
	assert.Equal(t, 120*time.Second, srv.IdleTimeout)
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes)

	// A slowloris that never finishes its headers is cut off.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.ReadHeaderTimeout = 200 * time.Millisecond // shortened for the test; the production value is asserted above
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and then nothing
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	buf := make([]byte, 512)
	_, err = conn.Read(buf)
	assert.Error(t, err, "the server closed the connection instead of waiting forever")
}

// TestKeysNeverLogged runs a server with its log captured and uses every kind
// of key, right and wrong: no key appears in the log.
func TestKeysNeverLogged(t *testing.T) {
	addr := freeAddr(t)
	keys := []string{"acme-key-0123456789abcdef", "agency-key-0123456789abcdef"}
	env := map[string]string{"LEDGER_API_KEYS": "acme=" + keys[0], "LEDGER_AGENCY_KEY": keys[1]}
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", filepath.Join(t.TempDir(), "s")}, func(k string) string { return env[k] }, &out, &logs)
	}()
	require.Eventually(t, func() bool { return len(out.String()) > 0 }, 30*time.Second, 10*time.Millisecond)
	wrong := "wrong-key-0123456789abcdef-SECRET"
	for _, k := range append(keys, wrong) {
		for _, path := range []string{"/v1/placements", "/v1/placements/nope", "/v1/admin/verify"} {
			req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
			req.Header.Set("Authorization", "Bearer "+k)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	cancel()
	require.Equal(t, 0, <-done)
	for _, k := range append(keys, wrong) {
		assert.NotContains(t, logs.String(), k, "a key in the log")
		assert.NotContains(t, out.String(), k, "a key on standard output")
	}
	assert.Contains(t, logs.String(), "stopped cleanly", "the log was captured")
}

// TestServeExitsWhenProjectionsStop: a store holding an event the ledger
// cannot apply stops the projections, and serve exits non-zero (so a
// supervisor restarts it or pages someone) instead of serving stale reads.
func TestServeExitsWhenProjectionsStop(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	require.NoError(t, journal.DeclareFormat(context.Background(), s))
	_, err = s.Append(context.Background(), "placement-3fa85f64-5717-4562-b3fc-2c963f66afa6", eventstore.NoStream(),
		[]eventstore.EventData{{ID: uuid.New(), Type: "SomethingUnknown", Data: []byte(`{}`), Metadata: []byte(`{}`)}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	var out, logs syncBuffer
	code := run(context.Background(), []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir},
		func(string) string { return "" }, &out, &logs)
	assert.Equal(t, 1, code)
	assert.Contains(t, logs.String(), "projections stopped")
	assert.Contains(t, logs.String(), "unknown event type")
}

// TestServeRefusesReservedCreditorIDs: a creditor named "agency" shared the
// agency key's idempotency keys and in-flight limit, and "system" is the
// ledger's own actor in the log. Either (in any case) is refused at start,
// before the store is opened, naming the creditor and never the key.
func TestServeRefusesReservedCreditorIDs(t *testing.T) {
	for name, id := range map[string]string{"ErrAgency": "agency", "ErrSystem": "system", "ErrAgencyOtherCase": "Agency"} {
		t.Run(name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef," + id + "=reserved-key-0123456789abcdef"}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // were the settings accepted, serve would stop at once rather than run
			var stdout, stderr syncBuffer
			code := run(ctx, []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", store},
				func(k string) string { return env[k] }, &stdout, &stderr)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), `names creditor \"`+id+`\", which is reserved`)
			assert.NotContains(t, stderr.String(), "reserved-key-0123456789abcdef", "the key is never quoted")
			assert.NoDirExists(t, store, "nothing was created")
		})
	}
}
