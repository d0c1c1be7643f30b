package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/collections-ledger/ledger/client"
	"github.com/collections-ledger/ledger/domain"
)

// loadConfig bounds a load run: loopback only, limited in count and time.
type loadConfig struct {
	Addr        string
	Key         string
	Placements  int
	Connections int
	Duration    time.Duration
	Seed        uint64
}

const (
	maxLoadPlacements  = 1_000_000
	maxLoadConnections = 1024
	maxLoadDuration    = 10 * time.Minute
)

func parseLoadConfig(args []string, getenv func(string) string, stderr io.Writer) (loadConfig, error) {
	var c loadConfig
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	usageOf(fs, "load")
	fs.StringVar(&c.Addr, "addr", loopbackURL(getenv("LEDGER_ADDR")), "the ledger to load (loopback only; default: LEDGER_ADDR's port on 127.0.0.1)")
	fs.StringVar(&c.Key, "key", getenv("LEDGER_LOAD_KEY"), "a creditor API key (or LEDGER_LOAD_KEY)")
	fs.IntVar(&c.Placements, "placements", 1000, "placements to create first")
	fs.IntVar(&c.Connections, "connections", 64, "concurrent connections")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to drive the command mix")
	fs.Uint64Var(&c.Seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	fs.Bool("direct", false, "instead, append to a stopped ledger's store without HTTP, to build large stores (see ledger load -direct -h)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	u, err := url.Parse(c.Addr)
	if err != nil || u.Host == "" {
		return c, fmt.Errorf("-addr must be a URL like http://127.0.0.1:8080")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return c, fmt.Errorf("-addr must be a loopback address (127.0.0.0/8, ::1 or localhost), not %q", host)
	}
	switch {
	case c.Key == "":
		return c, fmt.Errorf("-key (or LEDGER_LOAD_KEY) is required")
	case c.Placements < 1 || c.Placements > maxLoadPlacements:
		return c, fmt.Errorf("-placements must be 1..%d", maxLoadPlacements)
	case c.Connections < 1 || c.Connections > maxLoadConnections:
		return c, fmt.Errorf("-connections must be 1..%d", maxLoadConnections)
	case c.Duration <= 0 || c.Duration > maxLoadDuration:
		return c, fmt.Errorf("-duration must be more than 0 and at most %s", maxLoadDuration)
	}
	c.Addr = strings.TrimSuffix(c.Addr, "/")
	return c, nil
}

// loopbackURL is the URL of a ledger listening on addr (LEDGER_ADDR, like
// ":8080" or "127.0.0.1:9090") as seen from this machine.
func loopbackURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

type loadOp string

const (
	opPlace   loadOp = "place"
	opPayment loadOp = "payment"
	opWaiver  loadOp = "partial_recall"
	opRecall  loadOp = "recall"
	opRead    loadOp = "read"
)

// loadStats collects latencies per operation and outcome counts.
type loadStats struct {
	mu      sync.Mutex
	lat     map[loadOp][]time.Duration
	refused map[loadOp]int
	failed  map[loadOp]int
}

func (s *loadStats) add(op loadOp, d time.Duration, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case status >= 200 && status < 300:
		s.lat[op] = append(s.lat[op], d)
	case status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		s.refused[op]++
		s.lat[op] = append(s.lat[op], d)
	default:
		s.failed[op]++
	}
}

// acked is a command the ledger acknowledged, to be found afterwards.
type acked struct {
	placement string
	kind      string // PaymentReceived (found by its number) or a claim recall (found by its request id)
	number    string
}

type loadRun struct {
	cfg    loadConfig
	runID  string // in every claim, payment and waiver number, so that runs do not collide
	client *http.Client
	// api is the generated client of the ledger's API (package client),
	// for placing and verifying; the command mix uses send, which keeps
	// its own accounting of positions and timing.
	api    *client.ClientWithResponses
	stats  *loadStats
	maxPos atomic.Uint64
}

func (r *loadRun) send(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.cfg.Addr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r.notePosition(resp.Header)
	return resp.StatusCode, b, err
}

// notePosition keeps the highest Ledger-Position answered so far: reads ask
// for at least it (?minPosition=), so they see every acknowledged command.
func (r *loadRun) notePosition(h http.Header) {
	var n uint64
	if _, err := fmt.Sscan(h.Get("Ledger-Position"), &n); err != nil {
		return
	}
	for {
		cur := r.maxPos.Load()
		if n <= cur || r.maxPos.CompareAndSwap(cur, n) {
			return
		}
	}
}

// waitReady waits, at most max, for the ledger to answer /readyz with 200,
// so a load can start right after the ledger does.
func (r *loadRun) waitReady(ctx context.Context, max time.Duration) error {
	deadline := time.Now().Add(max)
	for {
		status, _, err := r.send(ctx, "GET", "/readyz", nil)
		if err == nil && status == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready after %s (status %d, %v)", r.cfg.Addr, max, status, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// load drives a bounded load at a ledger on this machine over HTTP (or, with
// -direct, appends to a stopped ledger's store: see loadDirect). It places
// -placements claims, drives a mix of commands and reads for -duration,
// reports latencies, and then checks that every acknowledged command is in
// the audit trail exactly once. It returns 0 after -h or when every one was
// and no request failed, 2 for bad settings, and 1 otherwise.
func load(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if isDirect(args) {
		return loadDirect(ctx, args, getenv, stdout, stderr)
	}
	cfg, err := parseLoadConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledger load:", err)
		return 2
	}
	r, err := newLoadRun(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "ledger load:", err)
		return 2
	}
	if err := r.waitReady(ctx, 30*time.Second); err != nil {
		fmt.Fprintln(stderr, "ledger load:", err)
		return 1
	}

	// Phase 1: placements.
	fmt.Fprintf(stdout, "creating %d placements with %d connections…\n", cfg.Placements, cfg.Connections)
	start := time.Now()
	ids, err := r.placeAll(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "ledger load:", err)
		return 1
	}
	fmt.Fprintf(stdout, "placed %d in %s\n", cfg.Placements, time.Since(start).Round(time.Millisecond))

	// Phase 2: the mix, for the duration.
	fmt.Fprintf(stdout, "driving payments 45%%, partial recalls 20%%, recalls 1%%, reads 34%% for %s…\n", cfg.Duration)
	mixStart := time.Now()
	acks := r.drive(ctx, ids)
	elapsed := time.Since(mixStart)
	r.report(stdout, elapsed)

	// Phase 3: every acknowledged command is visible, exactly once.
	fmt.Fprintf(stdout, "verifying %d acknowledged commands through the API…\n", len(acks))
	missing, dup, err := r.verify(ctx, acks)
	if err != nil {
		fmt.Fprintln(stderr, "ledger load: verify:", err)
		return 1
	}
	failed := 0
	for _, n := range r.stats.failed {
		failed += n
	}
	fmt.Fprintf(stdout, "verified: %d acknowledged, %d missing, %d seen twice; %d requests failed (5xx or transport)\n", len(acks), missing, dup, failed)
	if missing > 0 || dup > 0 || failed > 0 {
		return 1
	}
	return 0
}

// newLoadRun prepares a load run of cfg: its HTTP client, with as many
// connections to the ledger as cfg asks for, and the generated API client,
// which sends cfg's key.
func newLoadRun(cfg loadConfig) (*loadRun, error) {
	r := &loadRun{cfg: cfg, runID: fmt.Sprintf("%x", cfg.Seed&0xffffffff),
		stats:  &loadStats{lat: map[loadOp][]time.Duration{}, refused: map[loadOp]int{}, failed: map[loadOp]int{}},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Connections, MaxConnsPerHost: cfg.Connections}}}
	var err error
	r.api, err = client.NewClientWithResponses(cfg.Addr, client.WithHTTPClient(r.client),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+cfg.Key)
			return nil
		}))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// placeAll places cfg.Placements claims on cfg.Connections connections and
// returns their placement ids, by claim number. It stops at the first
// placement not created.
func (r *loadRun) placeAll(ctx context.Context) ([]string, error) {
	ids := make([]string, r.cfg.Placements)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	var placeErr atomic.Pointer[error]
	for range r.cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < r.cfg.Placements; i = int(next.Add(1) - 1) {
				t0 := time.Now()
				id, status, err := r.place(ctx, fmt.Sprintf("LOAD-%s-%07d", r.runID, i), fmt.Sprintf("K%07d", i))
				r.stats.add(opPlace, time.Since(t0), status)
				if err != nil || status != http.StatusCreated {
					e := fmt.Errorf("placing: status %d, %v", status, err)
					placeErr.Store(&e)
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	if e := placeErr.Load(); e != nil {
		return nil, *e
	}
	return ids, nil
}

// drive runs the command mix on the placements ids (by claim number) on
// cfg.Connections connections for cfg.Duration, each connection with its
// own random sequence, and returns the commands the ledger acknowledged.
func (r *loadRun) drive(ctx context.Context, ids []string) []acked {
	var wg sync.WaitGroup
	var ackMu sync.Mutex
	var acks []acked
	deadline := time.Now().Add(r.cfg.Duration)
	for w := range r.cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(w)))
			for n := 0; time.Now().Before(deadline); n++ {
				if a, ok := r.step(ctx, ids, rng, w, n); ok {
					ackMu.Lock()
					acks = append(acks, a)
					ackMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return acks
}

// step sends the n-th request of connection w, picked by rng: a payment
// (45%), a claim recall of a credit waiver (20%), a recall (1%) or a read of
// what was acknowledged (34%), on a random placement of ids. It returns the
// command to look for afterwards and true when the ledger acknowledged a
// payment or a claim recall.
func (r *loadRun) step(ctx context.Context, ids []string, rng *rand.Rand, w, n int) (acked, bool) {
	idx := rng.IntN(len(ids))
	id := ids[idx]
	roll := rng.IntN(100)
	t0 := time.Now()
	switch {
	case roll < 45:
		num := fmt.Sprintf("P-%s-%d-%d", r.runID, w, n)
		status, _, _ := r.send(ctx, "POST", "/v1/placements/"+id+"/payment-received", map[string]any{"amount": "1.00", "paymentNumber": num})
		r.stats.add(opPayment, time.Since(t0), status)
		if status == http.StatusOK {
			return acked{id, domain.TypePaymentReceived, num}, true
		}
	case roll < 65:
		num := fmt.Sprintf("W-%s-%d-%d", r.runID, w, n)
		claim := fmt.Sprintf("LOAD-%s-%07d", r.runID, idx)
		status, b, _ := r.send(ctx, "POST", "/v1/claims/"+claim+"/recalls", map[string]any{"creditWaiverNumber": num, "invoiceNumber": "I2",
			"contractNumber": "C1", "type": "CREDIT_WAIVER", "date": "2024-08-07", "description": "load", "amount": "0.50", "currency": "EUR"})
		r.stats.add(opWaiver, time.Since(t0), status)
		var accepted struct {
			RequestID string `json:"requestId"`
		}
		if status == http.StatusAccepted && json.Unmarshal(b, &accepted) == nil {
			// Accepted: a CreditWaiverIssued, or the REJECTION of a closed claim.
			return acked{id, "request", accepted.RequestID}, true
		}
	case roll < 66:
		status, _, _ := r.send(ctx, "POST", "/v1/placements/"+id+"/recall", nil)
		r.stats.add(opRecall, time.Since(t0), status)
	default:
		// Read what was acknowledged: the views may lag the log a moment.
		status, _, _ := r.send(ctx, "GET", fmt.Sprintf("/v1/placements/%s?minPosition=%d", id, r.maxPos.Load()), nil)
		r.stats.add(opRead, time.Since(t0), status)
	}
	return acked{}, false
}

func (r *loadRun) report(w io.Writer, elapsed time.Duration) {
	fmt.Fprintf(w, "\n%-16s %9s %10s %9s %9s %9s %9s %8s %7s\n", "operation", "count", "per sec", "p50 ms", "p95 ms", "p99 ms", "max ms", "refused", "failed")
	total, commands := 0, 0
	for _, op := range []loadOp{opPayment, opWaiver, opRecall, opRead} {
		lat := slices.Clone(r.stats.lat[op])
		slices.Sort(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
		}
		n := len(lat) + r.stats.failed[op]
		total += n
		if op != opRead {
			commands += n
		}
		fmt.Fprintf(w, "%-16s %9d %10.0f %9.2f %9.2f %9.2f %9.2f %8d %7d\n", op, n, float64(n)/elapsed.Seconds(),
			pct(0.50), pct(0.95), pct(0.99), pct(1.0), r.stats.refused[op], r.stats.failed[op])
	}
	var all []time.Duration
	for _, op := range []loadOp{opPayment, opWaiver, opRecall} {
		all = append(all, r.stats.lat[op]...)
	}
	slices.Sort(all)
	p99 := 0.0
	if len(all) > 0 {
		p99 = float64(all[len(all)*99/100].Microseconds()) / 1000
	}
	fmt.Fprintf(w, "\ncommands: %d in %s = %.0f/s (p99 %.2f ms); all requests: %.0f/s\n\n", commands, elapsed.Round(time.Millisecond),
		float64(commands)/elapsed.Seconds(), p99, float64(total)/elapsed.Seconds())
}

// place places one claim of two invoices (400.00 EUR, fee rate 0.20)
// through the generated client and returns its id and the status.
func (r *loadRun) place(ctx context.Context, claim, customer string) (string, int, error) {
	var fee client.PlaceRequest_FeeRate
	if err := fee.FromPlaceRequestFeeRate1("0.20"); err != nil {
		return "", 0, err
	}
	body := client.CreatePlacementJSONRequestBody{ClaimNumber: &claim, CustomerNumber: customer, Currency: "EUR", FeeRate: fee}
	contract := "C1"
	for _, inv := range []struct{ number, amount, due string }{{"I1", "100.00", "2024-05-01"}, {"I2", "300.00", "2024-06-01"}} {
		var amount client.AmountIn
		if err := amount.FromAmountIn1(inv.amount); err != nil {
			return "", 0, err
		}
		var due openapi_types.Date
		if err := due.UnmarshalText([]byte(inv.due)); err != nil {
			return "", 0, err
		}
		body.Invoices = append(body.Invoices, struct {
			Amount         client.AmountIn    `json:"amount"`
			ContractNumber *string            `json:"contractNumber,omitempty"`
			DueDate        openapi_types.Date `json:"dueDate"`
			InvoiceNumber  string             `json:"invoiceNumber"`
		}{Amount: amount, ContractNumber: &contract, DueDate: due, InvoiceNumber: inv.number})
	}
	resp, err := r.api.CreatePlacementWithResponse(ctx, nil, body)
	if err != nil {
		return "", 0, err
	}
	r.notePosition(resp.HTTPResponse.Header)
	if resp.JSON201 == nil {
		return "", resp.StatusCode(), fmt.Errorf("%s", resp.Body)
	}
	return resp.JSON201.PlacementId.String(), resp.StatusCode(), nil
}

// verify reads the audit trail of every placement that has acknowledged
// commands, after the projections reached the highest position seen.
func (r *loadRun) verify(ctx context.Context, acks []acked) (missing, dup int, err error) {
	byPlacement := map[string][]acked{}
	for _, a := range acks {
		byPlacement[a.placement] = append(byPlacement[a.placement], a)
	}
	for id, list := range byPlacement {
		pid, err := uuid.Parse(id)
		if err != nil {
			return 0, 0, err
		}
		items, err := r.auditTrail(ctx, pid)
		if err != nil {
			return 0, 0, err
		}
		seen := map[string]int{}
		for _, it := range items {
			switch it.Type {
			case domain.TypePaymentReceived:
				seen["PaymentReceived/"+it.Data.PaymentNumber]++
			case domain.TypeCreditWaiverIssued, domain.TypeRecallRejected:
				seen["request/"+it.RequestID]++
			}
		}
		for _, a := range list {
			switch seen[a.kind+"/"+a.number] {
			case 0:
				missing++
			case 1:
			default:
				dup++
			}
		}
	}
	return missing, dup, nil
}

// auditItem is what verify reads of an audit trail's event.
type auditItem struct {
	Type      string
	RequestID string
	Data      struct {
		PaymentNumber      string `json:"paymentNumber"`
		CreditWaiverNumber string `json:"creditWaiverNumber"`
	}
}

// auditTrail reads a placement's whole audit trail, a page at a time,
// following the pages until one has no Link to a next.
func (r *loadRun) auditTrail(ctx context.Context, pid uuid.UUID) ([]auditItem, error) {
	var items []auditItem
	limit := 1000
	params := &client.GetPlacementAuditParams{Limit: &limit}
	for {
		resp, err := r.api.GetPlacementAuditWithResponse(ctx, pid, params)
		if err != nil || resp.JSON200 == nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode()
			}
			return nil, fmt.Errorf("audit of %s: status %d, %v", pid, status, err)
		}
		page := *resp.JSON200
		for _, it := range page {
			item := auditItem{Type: it.Type, RequestID: it.RequestId}
			if err := json.Unmarshal(it.Data, &item.Data); err != nil {
				return nil, err
			}
			items = append(items, item)
		}
		if len(page) == 0 || !strings.Contains(resp.HTTPResponse.Header.Get("Link"), `rel="next"`) {
			return items, nil
		}
		next := page[len(page)-1].Position + 1
		params.FromPosition = &next
	}
}
