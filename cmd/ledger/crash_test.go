package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	crashStoreEnv = "LEDGER_CRASH_SERVE_STORE"
	crashAddrEnv  = "LEDGER_CRASH_SERVE_ADDR"
	crashExtraEnv = "LEDGER_CRASH_SERVE_ENV" // more settings of the child server, as JSON
	crashKey      = "acme-key-0123456789abcdef"
	crashAgency   = "agency-key-0123456789abcdef"
)

// TestServeCrashChild is the server TestCrashUnderLoad kills; run on its own
// it does nothing.
func TestServeCrashChild(t *testing.T) {
	store := os.Getenv(crashStoreEnv)
	if store == "" {
		t.Skip("helper process for TestCrashUnderLoad; it runs only when that test starts it")
	}
	env := map[string]string{"LEDGER_API_KEYS": "acme=" + crashKey, "LEDGER_AGENCY_KEY": crashAgency}
	if extra := os.Getenv(crashExtraEnv); extra != "" {
		if err := json.Unmarshal([]byte(extra), &env); err != nil {
			t.Fatalf("%s: %v", crashExtraEnv, err)
		}
	}
	os.Exit(run(context.Background(), []string{"serve", "-LEDGER_ADDR", os.Getenv(crashAddrEnv), "-LEDGER_STORE", store},
		func(k string) string { return env[k] }, io.Discard, os.Stderr))
}

type crashClient struct {
	base   string
	client *http.Client
}

func (c crashClient) do(ctx context.Context, method, path, key, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// auditTrail reads a placement's whole audit trail, following its pages
// (the trail answers 100 events by default, and a Link to the next page).
func (c crashClient) auditTrail(t *testing.T, id string) []crashAuditItem {
	t.Helper()
	return auditTrailOf[crashAuditItem](t, c, id)
}

// auditTrailOf reads a placement's whole audit trail through c, decoding
// each event as a T (what the test reads of it).
func auditTrailOf[T any](t *testing.T, c crashClient, id string) []T {
	t.Helper()
	var all []T
	path := "/v1/placements/" + id + "/audit?limit=1000"
	for {
		req, err := http.NewRequest("GET", c.base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+crashKey)
		resp, err := c.client.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		var page []T
		require.NoError(t, json.Unmarshal(b, &page))
		all = append(all, page...)
		next := nextLink.FindStringSubmatch(resp.Header.Get("Link"))
		if next == nil {
			return all
		}
		path = next[1]
	}
}

// crashAuditItem is what the crash test reads of an audit trail's event.
type crashAuditItem struct {
	Type string
	Data struct {
		PaymentNumber string
		Type          string
	}
}

var nextLink = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// startServer starts the child server on store and waits until it is ready.
func startServer(t *testing.T, store string) (*exec.Cmd, crashClient) {
	t.Helper()
	return startServerWith(t, store, serverOptions{})
}

// serverOptions are what a test may set of a child server beyond its store.
type serverOptions struct {
	addr   string            // where it listens; empty: a free port
	env    map[string]string // settings added to the API keys (LEDGER_VIEWS, LEDGER_LEASE_TTL…)
	stderr io.Writer         // its log; nil: discarded
}

// startServerWith starts the child server on store with opts and waits
// until it is ready.
func startServerWith(t *testing.T, store string, opts serverOptions) (*exec.Cmd, crashClient) {
	t.Helper()
	addr := opts.addr
	if addr == "" {
		addr = freeAddr(t)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashStoreEnv+"="+store, crashAddrEnv+"="+addr)
	if len(opts.env) > 0 {
		extra, err := json.Marshal(opts.env)
		require.NoError(t, err)
		cmd.Env = append(cmd.Env, crashExtraEnv+"="+string(extra))
	}
	cmd.Stderr = io.Discard
	if opts.stderr != nil {
		cmd.Stderr = opts.stderr
	}
	require.NoError(t, cmd.Start())
	c := crashClient{base: "http://" + addr, client: &http.Client{Timeout: 10 * time.Second}}
	require.Eventually(t, func() bool {
		status, _, err := c.do(context.Background(), "GET", "/readyz", "", "")
		return err == nil && status == http.StatusOK
	}, 60*time.Second, 20*time.Millisecond, "the server did not become ready") // a liveness bound
	return cmd, c
}

type ackedPayment struct{ placement, number string }

// TestCrashUnderLoad kills a loaded server with SIGKILL at random moments and
// checks, after each restart, that nothing acknowledged is lost or doubled,
// no command is half there, and verification (chains, invariants, live
// projections against a rebuild from 0) holds; at the end ledger verify
// passes on the store. LEDGER_SOAK_ROUNDS makes it longer (make soak).
func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("LEDGER_SOAK_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	store := filepath.Join(t.TempDir(), "ledger.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var placements []string
	var acked []ackedPayment
	var waivers int
	for round := 0; round < rounds; round++ {
		cmd, c := startServer(t, store)
		if round > 0 {
			checkAfterCrash(t, c, placements, acked)
		} else {
			for i := range 20 {
				status, b, err := c.do(context.Background(), "POST", "/v1/placements", crashKey, fmt.Sprintf(
					`{"claimNumber":"CR-%d","customerNumber":"K%d","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"100000","dueDate":"2024-01-01"}]}`, i, i))
				require.NoError(t, err)
				require.Equal(t, http.StatusCreated, status, "%s", b)
				var p struct{ PlacementID string }
				require.NoError(t, json.Unmarshal(b, &p))
				placements = append(placements, p.PlacementID)
			}
		}
		// Load: 8 workers of payments and partial recalls until the kill.
		ctx, stop := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ctx.Err() == nil && n < 5000; n++ { // bounded in count too
					i := (w*31 + n) % len(placements)
					if n%4 == 3 {
						status, _, err := c.do(ctx, "POST", fmt.Sprintf("/v1/claims/CR-%d/recalls", i), crashKey,
							`{"invoiceNumber":"I1","contractNumber":"C1","type":"CREDIT_WAIVER","date":"2024-01-01","description":"crash","amount":"0.01","currency":"EUR"}`)
						if err == nil && status == http.StatusAccepted {
							mu.Lock()
							waivers++
							mu.Unlock()
						}
						continue
					}
					number := fmt.Sprintf("R%d-W%d-N%d", round, w, n)
					status, _, err := c.do(ctx, "POST", "/v1/placements/"+placements[i]+"/payment-received", crashKey,
						`{"amount":"0.01","paymentNumber":"`+number+`"}`)
					if err == nil && status == http.StatusOK {
						mu.Lock()
						acked = append(acked, ackedPayment{placements[i], number})
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond) // a random moment, not a timing assertion
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		stop()
		wg.Wait()
		t.Logf("round %d: killed with %d payments and %d partial recalls acknowledged so far", round, len(acked), waivers)
	}
	cmd, c := startServer(t, store)
	checkAfterCrash(t, c, placements, acked)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	var out, errOut syncBuffer
	code := run(context.Background(), []string{"verify", "-deep", "-LEDGER_STORE", store}, func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, 0, code, "ledger verify after the last crash: %s %s", out.String(), errOut.String())
	assert.NotEmpty(t, acked, "the load acknowledged payments")
}

// checkAfterCrash: every acknowledged payment is there exactly once, every
// payment has its accounting document (no command half there), and the
// server's verification holds.
func checkAfterCrash(t *testing.T, c crashClient, placements []string, acked []ackedPayment) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]int{}
	for _, id := range placements {
		payments, docs := 0, 0
		for _, it := range c.auditTrail(t, id) {
			switch {
			case it.Type == "PaymentReceived":
				payments++
				seen[id+"/"+it.Data.PaymentNumber]++
			case it.Type == "AccountingDocumentIssued" && it.Data.Type == "DIRECT_PAYMENT":
				docs++
			}
		}
		assert.Equal(t, payments, docs, "placement %s: every payment has its accounting document", id)
	}
	for _, a := range acked {
		assert.Equal(t, 1, seen[a.placement+"/"+a.number], "acknowledged payment %s", a.number)
	}
	status, b, err := c.do(ctx, "GET", "/v1/admin/verify", crashAgency, "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "verification after the crash: %s", b)
}
