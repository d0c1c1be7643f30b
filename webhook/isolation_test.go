package webhook_test

// Regression tests for what the outside review found: one creditor's
// failing webhook stalled every creditor's deliveries and survived
// restarts; progress was written about once a second with no webhook
// configured; webhooks reached internal addresses and followed redirects;
// delivery errors showed raw dial errors.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/webhook"
)

func (l *ledger) configureFor(t *testing.T, creditor, url string) {
	t.Helper()
	_, err := journal.AppendSystem(context.Background(), l.store, journal.WebhookStream(creditor), creditor, journal.ActorCreditor,
		journal.WebhookConfiguredType, journal.WebhookConfigured{CreditorID: creditor, URL: url, Secret: secret}, time.Now())
	require.NoError(t, err)
}

func (l *ledger) placeFor(t *testing.T, creditor, claim string) uuid.UUID {
	t.Helper()
	r := command.Request{Actor: creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	res, err := l.h.Place(context.Background(), r, domain.Place{PlacementID: uuid.New(), CreditorID: creditor, ClaimNumber: claim,
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	return res.Placement.ID
}

// cycle pauses, resumes, pauses, resumes and recalls a placement: five
// notifications that must arrive in this order.
func (l *ledger) cycle(t *testing.T, creditor string, id uuid.UUID) {
	t.Helper()
	r := command.Request{Actor: creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	for _, build := range []func(time.Time) domain.Command{
		func(at time.Time) domain.Command { return domain.Pause{Reason: domain.PauseDispute, At: at} },
		func(at time.Time) domain.Command { return domain.Resume{At: at} },
		func(at time.Time) domain.Command { return domain.Pause{Reason: domain.PauseOther, At: at} },
		func(at time.Time) domain.Command { return domain.Resume{At: at} },
		func(at time.Time) domain.Command { return domain.Recall{At: at} },
	} {
		_, err := l.h.Execute(context.Background(), id, r, build)
		require.NoError(t, err)
	}
}

// cycled places n placements for creditor and cycles each.
func (l *ledger) cycled(t *testing.T, creditor, prefix string, n int) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = l.placeFor(t, creditor, fmt.Sprintf("%s-%d", prefix, i))
		l.cycle(t, creditor, ids[i])
	}
	return ids
}

var cycleStatuses = []string{"active→paused", "paused→active", "active→paused", "paused→active", "active→recalled"}

// assertCycles checks that each placement's notifications arrived once
// each, in the order they happened.
func assertCycles(t *testing.T, got []webhook.Payload, ids []uuid.UUID) {
	t.Helper()
	per := map[string][]string{}
	seen := map[string]bool{}
	for _, p := range got {
		assert.False(t, seen[p.ID], "notification %s delivered twice", p.ID)
		seen[p.ID] = true
		per[p.Data.PlacementID] = append(per[p.Data.PlacementID], p.Data.PreviousStatus+"→"+p.Data.Status)
	}
	for _, id := range ids {
		assert.Equal(t, cycleStatuses, per[id.String()], "placement %s", id)
	}
}

// closedURL is a loopback address nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr + "/hook"
}

// TestDeadCreditorDoesNotDelayOthers: creditor acme's webhook points at a
// closed port with 1,100 notifications pending (the old log loop blocked on
// acme's full queue of 1,024); beta's notification still arrives; acme fixes
// its URL and everything pending drains there, each placement in order;
// after a restart nothing delivered is sent again.
func TestDeadCreditorDoesNotDelayOthers(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	l.configureFor(t, "acme", closedURL(t))
	ids := l.cycled(t, "acme", "A", 220)
	beta := newReceiver(t, 0)
	l.configureFor(t, "beta", beta.URL)
	r, stop := start(t, l, webhook.Options{})
	b := l.placeFor(t, "beta", "B-1")
	l.cycle(t, "beta", b)
	require.Eventually(t, func() bool { return len(beta.payloads()) == 5 }, wait, 5*time.Millisecond,
		"beta's notifications arrive while acme's 1,100 fail")
	assertCycles(t, beta.payloads(), []uuid.UUID{b})

	fixed := newReceiver(t, 0)
	l.configureFor(t, "acme", fixed.URL)
	require.Eventually(t, func() bool { return len(fixed.payloads()) == 1100 }, wait, 5*time.Millisecond,
		"acme's pending notifications drain to its new URL")
	assertCycles(t, fixed.payloads(), ids)
	// The receiver counts a notification before its answer reaches the
	// reactor; one stopped in between is sent again (at least once). Stop
	// once the reactor has settled them all.
	require.Eventually(t, func() bool { through, pending := r.Progress("acme"); return through > 0 && len(pending) == 0 }, wait, 5*time.Millisecond)
	stop()

	_, stop2 := start(t, l, webhook.Options{})
	late := l.placeFor(t, "acme", "A-LATE")
	l.cycle(t, "acme", late)
	require.Eventually(t, func() bool { return len(fixed.payloads()) >= 1105 }, wait, 5*time.Millisecond)
	stop2()
	assert.Len(t, fixed.payloads(), 1105, "after the restart only the new notifications were sent")
	assertCycles(t, fixed.payloads(), append(ids, late))
}

// TestHangingReceiverDoesNotDelayOthers: a receiver that accepts
// connections and never answers holds acme's deliveries, not beta's.
func TestHangingReceiverDoesNotDelayOthers(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(release) })
	l.configureFor(t, "acme", hanging.URL)
	l.cycled(t, "acme", "H", 20)
	beta := newReceiver(t, 0)
	l.configureFor(t, "beta", beta.URL)
	start(t, l, webhook.Options{})
	b := l.placeFor(t, "beta", "B-1")
	l.cycle(t, "beta", b)
	require.Eventually(t, func() bool { return len(beta.payloads()) == 5 }, wait, 5*time.Millisecond)
	assertCycles(t, beta.payloads(), []uuid.UUID{b})
}

// TestFailingPlacementHoldsBackOnlyItself: while one placement's
// notifications are refused, another placement of the same creditor gets
// all of its own; then the first drains, in order.
func TestFailingPlacementHoldsBackOnlyItself(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	var blocked atomic.Value
	var mu sync.Mutex
	var got []webhook.Payload
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		_ = json.NewDecoder(r.Body).Decode(&p)
		if b, _ := blocked.Load().(string); b == p.Data.PlacementID {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	payloads := func() []webhook.Payload { mu.Lock(); defer mu.Unlock(); return append([]webhook.Payload(nil), got...) }
	l.configureFor(t, "acme", rcv.URL)
	p1, p2 := l.placeFor(t, "acme", "P-1"), l.placeFor(t, "acme", "P-2")
	blocked.Store(p1.String())
	l.cycle(t, "acme", p1)
	l.cycle(t, "acme", p2)
	start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(payloads()) == 5 }, wait, 5*time.Millisecond, "P-2 does not wait for P-1")
	assertCycles(t, payloads(), []uuid.UUID{p2})
	blocked.Store("")
	require.Eventually(t, func() bool { return len(payloads()) == 10 }, wait, 5*time.Millisecond)
	assertCycles(t, payloads(), []uuid.UUID{p1, p2})
}

// TestFullOutboxReadsTheRestFromTheLog: an outbox that holds at most 10
// notifications still delivers all 150 of a dead-then-fixed webhook, each
// once and in order per placement.
func TestFullOutboxReadsTheRestFromTheLog(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	l.configureFor(t, "acme", closedURL(t))
	ids := l.cycled(t, "acme", "S", 30)
	r, _ := start(t, l, webhook.Options{MaxQueued: 10})
	require.Eventually(t, func() bool { return len(r.Deliveries("acme")) >= 10 }, wait, 5*time.Millisecond)
	fixed := newReceiver(t, 0)
	l.configureFor(t, "acme", fixed.URL)
	require.Eventually(t, func() bool { return len(fixed.payloads()) == 150 }, wait, 5*time.Millisecond)
	assertCycles(t, fixed.payloads(), ids)
}

// progressEvents counts the events of every creditor's progress stream.
func progressEvents(t *testing.T, s eventstore.Store) int {
	n := 0
	require.NoError(t, eventstore.ScanAll(context.Background(), s, eventstore.Start, 1000, func(batch []eventstore.RecordedEvent, _ eventstore.Position) error {
		for _, rec := range batch {
			if kind, _, err := journal.ParseStream(rec.Stream); err == nil && kind == journal.KindWebhookProgress {
				n++
			}
		}
		return nil
	}))
	return n
}

// TestProgressIsRecordedOnlyWhenItMoved: with commands flowing and no
// webhook, or a webhook with nothing to deliver, the reactor writes
// nothing; after deliveries it records their progress once.
func TestProgressIsRecordedOnlyWhenItMoved(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	r, _ := start(t, l, webhook.Options{ProgressEvery: time.Millisecond})
	rcv := newReceiver(t, 0)
	l.configureFor(t, "beta", rcv.URL) // configured, but nothing of beta's changes status
	for i := range 30 {
		l.placeAndRecall(t, fmt.Sprintf("Q-%d", i)) // acme has no webhook
		time.Sleep(2 * time.Millisecond)            // spread over many progress ticks; not a timing assertion
	}
	head, err := l.store.Head(context.Background())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(r.Deliveries("beta")) == 0 && progressEvents(t, l.store) == 0 }, wait, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	after, err := l.store.Head(context.Background())
	require.NoError(t, err)
	assert.Equal(t, head, after, "an idle reactor appends nothing")

	b := l.placeFor(t, "beta", "B-1")
	l.cycle(t, "beta", b)
	// The last notification is the recall's; the recall's later events
	// notify nobody, and progress is recorded only when a delivery settles,
	// so it need not reach the log's head.
	last := l.recalledAt(t, b)
	require.Eventually(t, func() bool { return len(rcv.payloads()) == 5 }, wait, 5*time.Millisecond)
	// Settled through the last notification. (A record owing nothing can
	// come earlier too: everything offered so far settled, more to come.)
	require.Eventually(t, func() bool { through, pending := r.Progress("beta"); return through >= last && len(pending) == 0 },
		wait, 5*time.Millisecond)
	n := progressEvents(t, l.store)
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, n, progressEvents(t, l.store), "nothing more to record, nothing recorded")
	assert.LessOrEqual(t, n, 5)
}

// TestRemovedWebhookDropsPending: after WebhookRemoved nothing more is
// delivered, pending notifications are dropped, and a restart with a new
// webhook does not bring them back.
func TestRemovedWebhookDropsPending(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	l.configureFor(t, "acme", closedURL(t))
	for i := range 10 {
		l.placeAndRecall(t, fmt.Sprintf("D-%d", i))
	}
	r, stop := start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(r.Deliveries("acme")) >= 10 }, wait, 5*time.Millisecond)
	res, err := journal.AppendSystem(context.Background(), l.store, journal.WebhookStream("acme"), "acme", journal.ActorCreditor,
		journal.WebhookRemovedType, journal.WebhookRemoved{CreditorID: "acme"}, time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		last, found, err := journal.LastEvent(context.Background(), l.store, journal.WebhookProgressStream("acme"))
		require.NoError(t, err)
		var p journal.WebhookProgressed
		return found && json.Unmarshal(last.Data, &p) == nil && p.Through >= uint64(res.Position)
	}, wait, 5*time.Millisecond, "the dropped notifications are recorded as settled")
	stop()

	rcv := newReceiver(t, 0)
	l.configureFor(t, "acme", rcv.URL)
	start(t, l, webhook.Options{})
	id, _ := l.placeAndRecall(t, "D-NEW")
	require.Eventually(t, func() bool { return len(rcv.payloads()) >= 1 }, wait, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // room for a wrong delivery of the dropped ones; not a timing assertion
	require.Len(t, rcv.payloads(), 1)
	assert.Equal(t, id.String(), rcv.payloads()[0].Data.PlacementID)
}

func TestCheckURLRefusesInternalTargets(t *testing.T) {
	ctx := context.Background()
	strict := webhook.Policy{}
	for _, bad := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/", "http://[::1]:8080/", "http://10.0.0.1/",
		"http://0.0.0.0:8080/", "http://2130706433:8080/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://127.1/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:169.254.169.254]/", "http://192.168.1.1/", "http://172.16.0.1/",
		"http://100.64.0.1/", "http://[fe80::1%25eth0]/", "http://[fd00::1]/", "http://localhost:8080/", "http://api.localhost/",
		"http://printer.local/", "http://metadata.google.internal/", "http://[64:ff9b::a9fe:a9fe]/", "http://198.18.0.1/",
		"http://255.255.255.255/", "http://224.0.0.1/", "ftp://example.com/", "http://user:pw@example.com/",
	} {
		assert.Error(t, webhook.CheckURL(ctx, bad, strict), bad)
	}
	for _, ok := range []string{"https://203.0.114.7/hook", "https://[2a00:1450:4001:82b::200e]/h", "https://hooks.example.com/x"} {
		assert.NoError(t, webhook.CheckURL(ctx, ok, strict), ok)
	}
	dev := webhook.Policy{AllowPrivate: true}
	assert.NoError(t, webhook.CheckURL(ctx, "http://127.0.0.1:9000/x", dev), "development allows private targets, and plain http")
	assert.Error(t, webhook.CheckURL(ctx, "http://2130706433/", dev), "but never numeric forms other than dotted quads")
}

// startWith runs a reactor with opts exactly as given (start allows
// private targets; these tests must not).
func startWith(t *testing.T, l *ledger, opts webhook.Options) *webhook.Reactor {
	opts.Logger, opts.FirstBackoff, opts.MaxBackoff = quiet(), 5*time.Millisecond, 20*time.Millisecond
	r := webhook.New(l.store, l.views, l.runner, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return r
}

// TestConnectTimeAddressCheck: a URL that passed configuration but leads to
// a loopback address now (as a name can, later) is never connected to, and
// the attempt says why without naming the address.
func TestConnectTimeAddressCheck(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 0)
	port := rcv.URL[strings.LastIndex(rcv.URL, ":")+1:]
	// https, so that the address check (not the scheme's) is what refuses them.
	for i, url := range []string{"https://127.0.0.1:" + port + "/hook", "https://localhost:" + port + "/hook"} {
		creditor := fmt.Sprintf("c%d", i)
		l.configureFor(t, creditor, url) // as if DNS answered otherwise when it was configured
		l.cycle(t, creditor, l.placeFor(t, creditor, "C-1"))
	}
	r := startWith(t, l, webhook.Options{})
	for _, creditor := range []string{"c0", "c1"} {
		require.Eventually(t, func() bool { return len(r.Deliveries(creditor)) >= 3 }, wait, 5*time.Millisecond)
		for _, a := range r.Deliveries(creditor) {
			assert.Equal(t, "retrying", a.Outcome)
			assert.Contains(t, a.Error, "not allowed")
			assert.NotContains(t, a.Error, "127.0.0.1")
			assert.NotContains(t, a.Error, port)
		}
	}
	assert.Empty(t, rcv.payloads(), "nothing reached the loopback receiver")
}

// TestRedirectsAreNotFollowed: a 307 from the receiver is a failed
// delivery; the signed body never goes where it points.
func TestRedirectsAreNotFollowed(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	target := newReceiver(t, 0)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	l.configureFor(t, "acme", redirector.URL)
	l.placeAndRecall(t, "R-1")
	r, _ := start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(r.Deliveries("acme")) >= 2 }, wait, 5*time.Millisecond)
	a := r.Deliveries("acme")[0]
	assert.Equal(t, http.StatusTemporaryRedirect, a.HTTPStatus)
	assert.Equal(t, "the receiver answered 307; redirects are not followed", a.Error)
	assert.Empty(t, target.payloads())
}

// TestDeliveryFailuresRevealNoNetworkDetail: GET /v1/webhook/deliveries
// showed raw dial errors ("dial tcp 10.0.0.5:22: connect: connection
// refused"), which made webhooks a port scanner.
func TestDeliveryFailuresRevealNoNetworkDetail(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	closed := closedURL(t)
	l.configureFor(t, "acme", closed)
	l.configureFor(t, "beta", "http://no-such-host.invalid/hook")
	l.placeAndRecall(t, "N-1")
	l.cycle(t, "beta", l.placeFor(t, "beta", "N-2"))
	r, _ := start(t, l, webhook.Options{})
	for _, creditor := range []string{"acme", "beta"} {
		require.Eventually(t, func() bool { return len(r.Deliveries(creditor)) >= 2 }, wait, 5*time.Millisecond)
		for _, a := range r.Deliveries(creditor) {
			assert.Equal(t, "the receiver could not be reached, or did not answer in time", a.Error)
		}
	}
}

// TestCheckURLRequiresHTTPS: a plain http URL to a public host passed, so
// notifications crossed the internet unencrypted. Only https is accepted,
// unless the policy allows private targets (development).
func TestCheckURLRequiresHTTPS(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		url    string
		policy webhook.Policy
		ok     bool
	}{
		"ErrHTTPName":       {url: "http://hooks.example.com/x", policy: webhook.Policy{}},
		"ErrHTTPAddress":    {url: "http://203.0.114.7/hook", policy: webhook.Policy{}},
		"ErrHTTPUpperCase":  {url: "HTTP://hooks.example.com/x", policy: webhook.Policy{}},
		"OKHTTPS":           {url: "https://hooks.example.com/x", policy: webhook.Policy{}, ok: true},
		"OKHTTPDevelopment": {url: "http://hooks.example.com/x", policy: webhook.Policy{AllowPrivate: true}, ok: true},
	} {
		t.Run(name, func(t *testing.T) {
			err := webhook.CheckURL(ctx, tc.url, tc.policy)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "https")
		})
	}
}

// TestPlainHTTPIsNeverDelivered: a plain http URL configured before https
// was required is never sent to (no connection is made); each attempt says
// why.
func TestPlainHTTPIsNeverDelivered(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	l.configureFor(t, "plain", "http://203.0.114.7/hook")
	l.cycle(t, "plain", l.placeFor(t, "plain", "C-1"))
	r := startWith(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(r.Deliveries("plain")) >= 2 }, wait, 5*time.Millisecond)
	for _, a := range r.Deliveries("plain") {
		assert.Equal(t, "retrying", a.Outcome)
		assert.Contains(t, a.Error, "plain http, which is not allowed")
	}
}
