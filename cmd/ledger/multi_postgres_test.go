package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/postgres"
	"github.com/collections-ledger/ledger/eventstore/postgres/pgtest"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/webhook"
)

const multiLeaseTTL = 2 * time.Second

// ledgerChild is one `ledger serve` process of the test, on the shared
// PostgreSQL database with views of its own.
type ledgerChild struct {
	name, views, addr string
	cmd               *exec.Cmd
	c                 crashClient
	log               *syncBuffer
}

// start starts (or restarts, on the same address and views) the child.
func (l *ledgerChild) start(t *testing.T, db, keys string) {
	t.Helper()
	l.log = &syncBuffer{}
	l.cmd, l.c = startServerWith(t, db, serverOptions{addr: l.addr, stderr: l.log, env: map[string]string{
		"LEDGER_VIEWS": l.views, "LEDGER_KEYS": keys, "LEDGER_LEASE_TTL": multiLeaseTTL.String(), "LEDGER_WEBHOOK_ALLOW_PRIVATE": "true"}})
	l.addr = strings.TrimPrefix(l.c.base, "http://")
}

func (l *ledgerChild) kill() {
	_ = l.cmd.Process.Signal(syscall.SIGKILL)
	_ = l.cmd.Wait()
}

// deliveryCounter is the creditor's webhook: it counts the deliveries of
// each notification (by the payload's id, which names it), before and after
// the moment the test marks (the kill of the lease holder).
type deliveryCounter struct {
	*httptest.Server
	mu        sync.Mutex
	before    map[string]int // deliveries per notification id before the mark
	after     map[string]int // and after it
	positions map[uint64]bool
	marked    bool
}

func newDeliveryCounter(t *testing.T) *deliveryCounter {
	d := &deliveryCounter{before: map[string]int{}, after: map[string]int{}, positions: map[uint64]bool{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p webhook.Payload
		body, _ := io.ReadAll(req.Body)
		if !assert.NoError(t, json.Unmarshal(body, &p)) {
			return
		}
		assert.Equal(t, p.ID, req.Header.Get("Ledger-Event-Id"))
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.marked {
			d.after[p.ID]++
		} else {
			d.before[p.ID]++
		}
		d.positions[p.Position] = true
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *deliveryCounter) mark() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.marked = true
}

func (d *deliveryCounter) delivered(pos uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.positions[pos]
}

// TestThreeLedgersOnOnePostgres runs three `ledger serve` processes on one
// PostgreSQL database, loads all three at once (ledger load against each,
// and workers of status changes: recalls, pauses that resume by themselves,
// payments that pay claims off), SIGKILLs the holder of the reactors' lease
// mid-run and restarts it. The lease moves within its TTL; afterwards every
// acknowledged command is in the log once, ledger verify passes, each
// instance's views equal a rebuild, every status change reached the webhook
// (a second time only if it was delivered before the kill: deliveries are
// at least once, and the killed holder's unrecorded progress is redone),
// every hold resumed automatically once, and a read on an instance that did
// not take a command honours ?minPosition=.
func TestThreeLedgersOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("three ledger processes skipped in -short mode")
	}
	started := time.Now()
	db := pgtest.Database(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	ctx := context.Background()
	var ledgers [3]*ledgerChild
	for i, name := range []string{"a", "b", "c"} {
		ledgers[i] = &ledgerChild{name: name, views: filepath.Join(dir, name+".views")}
		ledgers[i].start(t, db, keys)
		l := ledgers[i]
		t.Cleanup(func() { l.kill() })
	}
	store, err := postgres.Open(ctx, db, postgres.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })

	recv := newDeliveryCounter(t)
	status, b, err := ledgers[0].c.do(ctx, "PUT", "/v1/webhook", crashKey, `{"url":"`+recv.URL+`","secret":"whsec_0123456789abcdef"}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", b)
	clients := []crashClient{ledgers[0].c, ledgers[1].c, ledgers[2].c}
	work := newStatusWork(t, clients)

	first := waitHolder(t, store, ledgers, "")
	t.Logf("instance %s holds the lease (after %s)", first.name, time.Since(started).Round(time.Millisecond))
	loads := startLoads(t, ledgers)
	workCtx, stopWork := context.WithCancel(ctx)
	workDone := work.run(workCtx)
	for _, l := range loads {
		require.Eventually(t, func() bool { return strings.Contains(l.out.String(), "placed ") }, time.Minute, 20*time.Millisecond,
			"ledger load placed its claims: %s %s", l.out.String(), l.errOut.String()) // a liveness bound
	}
	time.Sleep(time.Second) // into the command mix: a moment, not a timing assertion

	first.kill()
	recv.mark()
	killedAt := time.Now()
	second := waitHolderWithin(t, store, ledgers, first.name, multiLeaseTTL+5*time.Second) // a liveness bound: the TTL and slack
	t.Logf("SIGKILLed %s; %s took the lease %s later (TTL %s)", first.name, second.name, time.Since(killedAt).Round(time.Millisecond), multiLeaseTTL)
	first.start(t, db, keys)
	t.Logf("%s restarted on its views %s after the kill", first.name, time.Since(killedAt).Round(time.Millisecond))

	var others []*ledgerChild
	for _, l := range ledgers {
		if l != first {
			others = append(others, l)
		}
	}
	checkMinPosition(t, others[0].c, others[1].c, work.readPlacement)
	for _, l := range loads {
		<-l.done
		l.check(t, l.target == first)
	}
	stopWork()
	<-workDone
	work.settle(t, ledgers)
	work.check(t)
	checkDeliveries(t, store, recv)
	checkInstancesAndLog(t, ledgers, db)
	t.Logf("the whole test took %s", time.Since(started).Round(time.Millisecond))
}

// waitHolder waits for an instance other than not to hold the lease and
// returns it.
func waitHolder(t *testing.T, store eventstore.Store, ledgers [3]*ledgerChild, not string) *ledgerChild {
	t.Helper()
	return waitHolderWithin(t, store, ledgers, not, time.Minute)
}

func waitHolderWithin(t *testing.T, store eventstore.Store, ledgers [3]*ledgerChild, not string, within time.Duration) *ledgerChild {
	t.Helper()
	var found *ledgerChild
	require.Eventually(t, func() bool {
		h := holder(t, store)
		if h == "" {
			return false
		}
		for _, l := range ledgers {
			if l.name != not && strings.Contains(l.log.String(), "holder="+h) {
				found = l
				return true
			}
		}
		return false
	}, within, 20*time.Millisecond, "the lease is held by an instance other than %q", not)
	return found
}

// ledgerLoad is one `ledger load` run against one instance.
type ledgerLoad struct {
	target      *ledgerChild
	out, errOut syncBuffer
	code        int
	done        chan struct{}
}

func startLoads(t *testing.T, ledgers [3]*ledgerChild) []*ledgerLoad {
	var loads []*ledgerLoad
	for i, l := range ledgers {
		ld := &ledgerLoad{target: l, done: make(chan struct{})}
		loads = append(loads, ld)
		go func() {
			defer close(ld.done)
			ld.code = run(context.Background(), []string{"load", "-addr", l.c.base, "-key", crashKey, "-placements", "20",
				"-connections", "3", "-duration", "12s", "-seed", strconv.Itoa(1000 + i)}, func(string) string { return "" }, &ld.out, &ld.errOut)
		}()
	}
	return loads
}

// check: every command the load had acknowledged is in the audit trail
// once. Against the killed instance, requests failed while it was down.
func (ld *ledgerLoad) check(t *testing.T, killed bool) {
	t.Helper()
	t.Logf("ledger load against %s (killed: %v):\n%s", ld.target.name, killed, ld.out.String())
	assert.Contains(t, ld.out.String(), " 0 missing, 0 seen twice;", "ledger load against %s: %s", ld.target.name, ld.errOut.String())
	if !killed {
		assert.Equal(t, 0, ld.code, "ledger load against %s: %s", ld.target.name, ld.errOut.String())
	}
}

// checkMinPosition takes payments on a and reads the placement on b with
// ?minPosition= the position a answered: b shows each one.
func checkMinPosition(t *testing.T, a, b crashClient, id string) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		resp, body, err := a.send(ctx, "POST", "/v1/placements/"+id+"/payment-received", fmt.Sprintf(`{"amount":"1.00","paymentNumber":"MP-%d"}`, i))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		pos := resp.Header.Get("Ledger-Position")
		require.NotEmpty(t, pos)
		resp, body, err = b.send(ctx, "GET", "/v1/placements/"+id+"?minPosition="+pos, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var p struct{ RecoveredAmount string }
		require.NoError(t, json.Unmarshal(body, &p))
		assert.Equal(t, fmt.Sprintf("%d.00", i), p.RecoveredAmount, "read on the other instance at minPosition=%s", pos)
	}
}

// send is do that also returns the answer's headers.
func (c crashClient) send(ctx context.Context, method, path, body string) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+crashKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// checkDeliveries: every status change in the log reaches the webhook (a
// bounded wait), none is delivered twice after the kill, and one delivered
// twice was delivered before it (the killed holder's work, redone).
func checkDeliveries(t *testing.T, store eventstore.Store, recv *deliveryCounter) {
	t.Helper()
	status := map[string]bool{}
	for _, typ := range projections.StatusEvents.Handled {
		status[typ] = true
	}
	var want []uint64
	for after := eventstore.Start; ; {
		batch, err := store.ReadAll(context.Background(), after, eventstore.MaxReadBatch)
		require.NoError(t, err)
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			if status[e.Type] {
				want = append(want, uint64(e.Position))
			}
		}
		after = batch[len(batch)-1].Position
	}
	require.NotEmpty(t, want, "the load changed statuses")
	require.Eventually(t, func() bool {
		for _, p := range want {
			if !recv.delivered(p) {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "every status change in the log reaches the webhook") // a liveness bound
	time.Sleep(2 * multiLeaseTTL / 3) // a renewal period, in which a second deliverer would show itself
	recv.mu.Lock()
	defer recv.mu.Unlock()
	again := 0
	for id, n := range recv.after {
		assert.LessOrEqual(t, n, 1, "notification %s delivered twice after the kill", id)
		if recv.before[id] > 0 {
			again++
		}
	}
	for id, n := range recv.before {
		assert.LessOrEqual(t, n, 1, "notification %s delivered twice before the kill", id)
	}
	assert.Len(t, recv.positions, len(want), "no notification of a status change the log does not hold")
	t.Logf("webhooks: %d status changes in the log, %d notifications delivered before the kill, %d after, %d of them again after the kill",
		len(want), len(recv.before), len(recv.after), again)
}

// checkInstancesAndLog: each instance's views equal a rebuild, and ledger
// verify passes on the PostgreSQL store once the instances are stopped.
func checkInstancesAndLog(t *testing.T, ledgers [3]*ledgerChild, db string) {
	t.Helper()
	for _, l := range ledgers {
		// The check rebuilds the views from 0 beside the live ones: on a
		// busy machine it takes longer than the client's usual timeout (a
		// liveness bound, not a measure).
		slow := crashClient{base: l.c.base, client: &http.Client{Timeout: 3 * time.Minute}}
		status, b, err := slow.do(context.Background(), "GET", "/v1/admin/verify", crashAgency, "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status, "verification on %s: %s", l.name, b)
	}
	for _, l := range ledgers {
		_ = l.cmd.Process.Signal(syscall.SIGTERM)
		_ = l.cmd.Wait()
	}
	var out, errOut syncBuffer
	code := run(context.Background(), []string{"verify", "-deep", "-LEDGER_STORE", db}, func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, 0, code, "ledger verify on PostgreSQL: %s %s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "all hash chains, invariants and projections hold")
}

// statusWork places claims of its own through the three instances and
// changes their statuses: payments that pay small claims off, pauses whose
// resumeAt comes a few seconds later, recalls.
type statusWork struct {
	t                       *testing.T
	clients                 []crashClient
	payoff, pause, recall   []string
	readPlacement           string // for the ?minPosition= check
	mu                      sync.Mutex
	payments                []ackedPayment
	paused, pauseUnanswered map[string]int
	recalled                map[string]bool
	lastResumeAt            time.Time
}

func newStatusWork(t *testing.T, clients []crashClient) *statusWork {
	w := &statusWork{t: t, clients: clients, paused: map[string]int{}, pauseUnanswered: map[string]int{}, recalled: map[string]bool{}}
	place := func(i int, claim, amount string) string {
		status, b, err := clients[i%3].do(context.Background(), "POST", "/v1/placements", crashKey, fmt.Sprintf(
			`{"claimNumber":"%s","customerNumber":"K%d","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":"%s","dueDate":"2024-01-01"}]}`,
			claim, i, amount))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status, "%s", b)
		var p struct{ PlacementID string }
		require.NoError(t, json.Unmarshal(b, &p))
		return p.PlacementID
	}
	for i := range 6 {
		w.payoff = append(w.payoff, place(i, fmt.Sprintf("PAYOFF-%d", i), "5.00"))
		w.pause = append(w.pause, place(i+1, fmt.Sprintf("PAUSE-%d", i), "100000"))
		w.recall = append(w.recall, place(i+2, fmt.Sprintf("RECALL-%d", i), "100000"))
	}
	w.readPlacement = place(0, "MINPOS", "100000")
	return w
}

// run starts one worker per instance until ctx ends (bounded in count too).
func (w *statusWork) run(ctx context.Context) chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil && n < 2000; n++ {
				w.step(ctx, c, i, n)
				time.Sleep(15 * time.Millisecond) // a pace, so the ledger loads keep most of the machine
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

// step sends worker i's n-th command: a payment of 1.00 on a 5.00 claim,
// a pause until 2 to 4 s later, or a recall.
func (w *statusWork) step(ctx context.Context, c crashClient, i, n int) {
	j := (i*7 + n) % 6
	switch n % 3 {
	case 0:
		number := fmt.Sprintf("SW-%d-%d", i, n)
		status, _, err := c.do(ctx, "POST", "/v1/placements/"+w.payoff[j]+"/payment-received", crashKey, `{"amount":"1.00","paymentNumber":"`+number+`"}`)
		if err == nil && status == http.StatusOK {
			w.mu.Lock()
			w.payments = append(w.payments, ackedPayment{w.payoff[j], number})
			w.mu.Unlock()
		}
	case 1:
		at := time.Now().Add(2*time.Second + time.Duration(n%3)*time.Second).UTC()
		status, _, err := c.do(ctx, "POST", "/v1/placements/"+w.pause[j]+"/pause", crashKey, `{"reason":"DISPUTE","resumeAt":"`+at.Format(time.RFC3339Nano)+`"}`)
		w.mu.Lock()
		switch {
		case err != nil && ctx.Err() == nil:
			w.pauseUnanswered[w.pause[j]]++
		case err == nil && status == http.StatusOK:
			w.paused[w.pause[j]]++
			if at.After(w.lastResumeAt) {
				w.lastResumeAt = at
			}
		}
		w.mu.Unlock()
	default:
		if n%30 == 2 { // now and then: each recall placement once or twice
			status, _, err := c.do(ctx, "POST", "/v1/placements/"+w.recall[j]+"/recall", crashKey, "")
			if err == nil && status == http.StatusOK {
				w.mu.Lock()
				w.recalled[w.recall[j]] = true
				w.mu.Unlock()
			}
		}
	}
}

// multiAuditItem is what this test reads of an audit trail's event.
type multiAuditItem struct {
	Type string
	Data struct {
		PaymentNumber string
		Automatic     bool
		ResumeAt      *time.Time
	}
}

// settle waits until every hold was resumed (a bounded wait past the last
// resumeAt).
func (w *statusWork) settle(t *testing.T, ledgers [3]*ledgerChild) {
	t.Helper()
	defer func() {
		if t.Failed() { // what the instances said, to see why a hold stayed
			for _, l := range ledgers {
				t.Logf("log of %s:\n%s", l.name, l.log.String())
			}
		}
	}()
	time.Sleep(time.Until(w.lastResumeAt))
	var open []string
	require.Eventually(t, func() bool {
		open = nil
		for _, id := range w.pause {
			pauses, resumes := 0, 0
			var last *time.Time
			for _, it := range auditTrailOf[multiAuditItem](t, w.clients[0], id) {
				switch it.Type {
				case domain.TypePlacementPaused:
					pauses, last = pauses+1, it.Data.ResumeAt
				case domain.TypePlacementResumed:
					resumes++
				}
			}
			if pauses != resumes {
				open = append(open, fmt.Sprintf("%s (resumeAt %v)", id, last))
			}
		}
		return len(open) == 0
	}, 30*time.Second, 100*time.Millisecond, "every hold is resumed after its resumeAt: %v", &open) // a liveness bound
}

// check: every acknowledged command is in the log once, and every hold was
// resumed automatically once.
func (w *statusWork) check(t *testing.T) {
	t.Helper()
	seen := map[string]int{}
	kinds := map[string]int{}
	for _, id := range append(append(append([]string{}, w.payoff...), w.pause...), w.recall...) {
		var pauses, recalls int
		var open bool // a hold not yet resumed
		for _, it := range auditTrailOf[multiAuditItem](t, w.clients[1], id) {
			kinds[it.Type]++
			switch it.Type {
			case domain.TypePaymentReceived:
				seen[id+"/"+it.Data.PaymentNumber]++
			case domain.TypePlacementPaused:
				assert.False(t, open, "placement %s paused twice without a resume", id)
				assert.NotNil(t, it.Data.ResumeAt)
				pauses, open = pauses+1, true
			case domain.TypePlacementResumed:
				assert.True(t, open, "placement %s resumed once per hold", id)
				assert.True(t, it.Data.Automatic, "placement %s: the ledger resumed it", id)
				open = false
				kinds["automatic"]++
			case domain.TypePlacementRecalled:
				recalls++
			}
		}
		assert.False(t, open, "placement %s: its last hold was resumed", id)
		assert.GreaterOrEqual(t, pauses, w.paused[id], "placement %s: every acknowledged pause is in the log", id)
		assert.LessOrEqual(t, pauses, w.paused[id]+w.pauseUnanswered[id], "placement %s: no pause the ledger refused", id)
		if w.recalled[id] {
			assert.Equal(t, 1, recalls, "placement %s: the acknowledged recall once", id)
		}
	}
	for _, a := range w.payments {
		assert.Equal(t, 1, seen[a.placement+"/"+a.number], "acknowledged payment %s", a.number)
	}
	assert.NotZero(t, kinds[domain.TypePlacementPaid], "claims were paid off")
	assert.NotZero(t, kinds["automatic"], "holds were resumed automatically")
	assert.NotZero(t, kinds[domain.TypePlacementRecalled], "placements were recalled")
	t.Logf("status work: %d payments acknowledged, events %v", len(w.payments), kinds)
}
