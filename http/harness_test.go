package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	httpapi "github.com/collections-ledger/ledger/http"
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
)

const (
	acmeKey   = "acme-key-0123456789abcdef"
	otherKey  = "other-key-0123456789abcdef"
	agencyKey = "agency-key-0123456789abcdef"
)

// ledger is a running server on an embedded store, driven through HTTP.
type ledger struct {
	t      testing.TB
	dir    string
	store  *embedded.Store
	views  *projections.Views
	server *httpapi.Server
	runner *projections.Runner
	keys   *pii.FileKeys
	master []byte
	stop   func()
}

// MustLedger starts a server on a store in dir (a fresh one when dir is ""),
// with its views in dir's sibling dir+".views".
func MustLedger(t testing.TB, dir string) *ledger {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "ledger.db")
	}
	store, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	views, err := projections.OpenViews(dir+".views", projections.ViewsOptions{Logger: quietLogger()})
	require.NoError(t, err)
	keys, err := httpapi.ParseKeys("acme="+acmeKey+",other="+otherKey, agencyKey)
	require.NoError(t, err)
	runner := projections.NewRunner(store, views, quietLogger())
	// The master key of the test's ledger: the same for every ledger started
	// on one store, as an operator's would be.
	sum := sha256.Sum256([]byte(dir))
	master := sum[:]
	personal, err := pii.OpenFileKeys(dir+".keys", master)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	commands := command.NewHandler(store, projections.NewWriteIndex(views), nil)
	commands.Personal = personal
	srv := httpapi.New(httpapi.Config{Commands: commands, Runner: runner, Keys: keys,
		Logger: quietLogger(), Verify: verifier(store)})
	l := &ledger{t: t, dir: dir, store: store, views: views, server: srv, runner: runner, keys: personal, master: master}
	stopped := false
	l.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		_ = views.Close()
		_ = store.Close()
	}
	t.Cleanup(l.stop)
	require.Eventually(t, func() bool { ok, _ := runner.Ready(); return ok }, testWait, pollEvery)
	return l
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// verifier is the admin route's check, as ledger serve wires it.
func verifier(store eventstore.Store) func(context.Context, *projections.Views) (verify.Report, error) {
	return func(ctx context.Context, live *projections.Views) (verify.Report, error) {
		return verify.Run(ctx, store, verify.Options{Live: live, Deep: true})
	}
}

// config is the test server's configuration, for tests that build their own.
func (l *ledger) config(keys httpapi.Keys) httpapi.Config {
	return httpapi.Config{Commands: command.NewHandler(l.store, projections.NewWriteIndex(l.views), nil), Runner: l.runner, Keys: keys, Logger: quietLogger()}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// ExactJSON decodes the body keeping numbers as written (json.Number), so
// that amounts are compared exactly, never through a float64.
func (r response) ExactJSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m), "body: %s", r.Body)
	return m
}

func (r response) Array(t testing.TB) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &a), "body: %s", r.Body)
	return a
}

func (r response) Position(t testing.TB) eventstore.Position {
	t.Helper()
	n, err := strconv.ParseUint(r.Header.Get("Ledger-Position"), 10, 64)
	require.NoError(t, err, "Ledger-Position header")
	return eventstore.Position(n)
}

// do sends a request; body may be a string (sent as is) or a value (JSON).
func (l *ledger) do(method, path, key string, body any, headers ...string) response {
	l.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(l.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	l.server.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// with returns the ledger reporting to another test (a fuzz input's t).
func (l *ledger) with(t testing.TB) *ledger {
	c := *l
	c.t = t
	return &c
}

func (l *ledger) head() eventstore.Position {
	l.t.Helper()
	h, err := l.store.Head(context.Background())
	require.NoError(l.t, err)
	return h
}

// placeBody is the API.md example placement with a given claim number.
func placeBody(claim string) map[string]any {
	return map[string]any{
		"claimNumber": claim, "customerNumber": "K508647", "currency": "EUR", "feeRate": "0.20",
		"invoices": []map[string]any{
			{"invoiceNumber": "I0417211448", "contractNumber": "166271782837", "amount": 100, "dueDate": "2024-05-01"},
			{"invoiceNumber": "I0417211449", "contractNumber": "166271782837", "amount": 300, "dueDate": "2024-06-01"},
		},
	}
}

// MustPlace places the example claim for acme and returns its id.
func (l *ledger) MustPlace(claim string) string {
	l.t.Helper()
	r := l.do("POST", "/v1/placements", acmeKey, placeBody(claim))
	require.Equal(l.t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.JSON(l.t)["placementId"].(string)
}

// get reads after the given position has been projected.
func (l *ledger) get(path, key string, after eventstore.Position) response {
	l.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return l.do("GET", path+sep+"minPosition="+strconv.FormatUint(uint64(after), 10), key, nil)
}

const (
	testWait  = 30 * time.Second // a liveness bound, not a timing assertion
	pollEvery = 5 * time.Millisecond
)
