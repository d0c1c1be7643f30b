package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
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
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/webhook"
)

const secret = "whsec_0123456789abcdef"

// receiver is a real local HTTP receiver that fails the first `fail`
// requests with 500 and records the payloads it accepts, after checking
// their signature.
type receiver struct {
	*httptest.Server
	fail     atomic.Int64
	mu       sync.Mutex
	accepted []webhook.Payload
	badSig   atomic.Int64
	// serving: the connections with a request read and not yet answered.
	serving map[net.Conn]bool
}

func newReceiver(t *testing.T, fail int64) *receiver {
	r := &receiver{serving: map[net.Conn]bool{}}
	r.fail.Store(fail)
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify(secret, req.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			r.badSig.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.fail.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		r.mu.Lock()
		r.accepted = append(r.accepted, p)
		r.mu.Unlock()
	}))
	r.Config.ConnState = func(c net.Conn, state http.ConnState) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if state == http.StateActive {
			r.serving[c] = true
		} else {
			delete(r.serving, c)
		}
	}
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// settle drops the connections of senders that are gone and waits until no
// request of theirs is being handled, so that a request a stopped reactor
// gave up on is not accepted after the receiver is told to accept (HTTP
// cannot tell a sender that gave up from one that did not; a receiver
// tells a repeat by its Ledger-Event-Id).
func (r *receiver) settle(t *testing.T) {
	r.CloseClientConnections()
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.serving) == 0
	}, wait, time.Millisecond, "requests of stopped senders still handled")
}

func (r *receiver) payloads() []webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Payload(nil), r.accepted...)
}

// ledger is a store with its views kept up to date for the test's life, as
// a running instance keeps them; reactors come and go over it.
type ledger struct {
	store  *embedded.Store
	views  *projections.Views
	runner *projections.Runner
	h      *command.Handler
}

func mustLedger(t *testing.T, dir string) *ledger {
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	v, err := projections.OpenViews(dir+".views", projections.ViewsOptions{Logger: quiet()})
	require.NoError(t, err)
	r := projections.NewRunner(s, v, quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = v.Close(); _ = s.Close() })
	return &ledger{store: s, views: v, runner: r, h: command.NewHandler(s, projections.NewWriteIndex(v), nil)}
}

func (l *ledger) configure(t *testing.T, url string) {
	_, err := journal.AppendSystem(context.Background(), l.store, journal.WebhookStream("acme"), "acme", journal.ActorCreditor,
		journal.WebhookConfiguredType, journal.WebhookConfigured{CreditorID: "acme", URL: url, Secret: secret}, time.Now())
	require.NoError(t, err)
}

func (l *ledger) placeAndRecall(t *testing.T, claim string) (uuid.UUID, eventstore.Position) {
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	res, err := l.h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: claim,
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	rec, err := l.h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
	return res.Placement.ID, rec.Position
}

// recalledAt returns the position of a placement's PlacementRecalled, the
// event its recall notifies (the command appends more after it).
func (l *ledger) recalledAt(t *testing.T, id uuid.UUID) eventstore.Position {
	recs, err := l.store.ReadStream(context.Background(), journal.PlacementStream(id), 0, 100)
	require.NoError(t, err)
	for _, rec := range recs {
		if rec.Type == domain.TypePlacementRecalled {
			return rec.Position
		}
	}
	t.Fatalf("placement %s has no PlacementRecalled", id)
	return 0
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a reactor until the returned stop is called.
func start(t *testing.T, l *ledger, opts webhook.Options) (*webhook.Reactor, func()) {
	opts.Logger = quiet()
	if opts.FirstBackoff == 0 {
		opts.FirstBackoff = 5 * time.Millisecond
	}
	opts.MaxBackoff = 20 * time.Millisecond
	if opts.ProgressEvery == 0 {
		opts.ProgressEvery = 10 * time.Millisecond
	}
	opts.Policy.AllowPrivate = true // the receivers listen on loopback
	r := webhook.New(l.store, l.views, l.runner, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return r, stop
}

const wait = 30 * time.Second // a liveness bound, not a timing assertion

func TestRetriedSignedInOrder(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 2)
	l.configure(t, rcv.URL)
	p1, _ := l.placeAndRecall(t, "CL-1")
	p2, last := l.placeAndRecall(t, "CL-2")
	r, _ := start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) == 2 }, wait, 5*time.Millisecond)
	got := rcv.payloads()
	// Placements do not wait for each other (a retried one holds back only
	// its own later notifications), so they may arrive in either order.
	if got[0].Data.PlacementID != p1.String() {
		got[0], got[1] = got[1], got[0]
	}
	assert.Equal(t, p1.String(), got[0].Data.PlacementID)
	assert.Equal(t, p2.String(), got[1].Data.PlacementID)
	assert.Equal(t, webhook.EventStatusChanged, got[0].Type)
	assert.Equal(t, "active", got[0].Data.PreviousStatus)
	assert.Equal(t, "recalled", got[0].Data.Status)
	assert.Equal(t, "CL-1", got[0].Data.ClaimNumber)
	assert.Zero(t, rcv.badSig.Load(), "every request carried a valid signature")
	// The receiver counts a payload before its answer reaches the reactor.
	require.Eventually(t, func() bool { return len(r.Deliveries("acme")) == 4 }, wait, 5*time.Millisecond, "two failures, then each delivered once")
	attempts := r.Deliveries("acme")
	outcomes := map[string]int{}
	for _, a := range attempts {
		outcomes[a.Outcome]++
		if a.Outcome == "retrying" {
			assert.Equal(t, 500, a.HTTPStatus)
			assert.Equal(t, "the receiver answered 500", a.Error)
		}
	}
	assert.Equal(t, map[string]int{"retrying": 2, "delivered": 2}, outcomes)
	notified := eventstore.Position(max(got[0].Position, got[1].Position))
	assert.Less(t, notified, last, "a recall notifies at its PlacementRecalled, before the command's last event")
	require.Eventually(t, func() bool { through, pending := r.Progress("acme"); return through >= notified && len(pending) == 0 }, wait, 5*time.Millisecond,
		"progress moves past delivered notifications")
}

func TestRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	l := mustLedger(t, dir)
	rcv := newReceiver(t, 1<<30) // fails until told otherwise
	l.configure(t, rcv.URL)
	id, _ := l.placeAndRecall(t, "CL-R")
	pos := l.recalledAt(t, id)
	r1, stop1 := start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(r1.Deliveries("acme")) >= 2 }, wait, 5*time.Millisecond)
	stop1()
	through, pending := r1.Progress("acme")
	assert.True(t, through < pos || slices.Contains(pending, pos), "an undelivered event is still owed: through %d, pending %v", through, pending)
	rcv.settle(t)
	rcv.fail.Store(0)
	r2, _ := start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) == 1 }, wait, 5*time.Millisecond, "delivered after the restart")
	require.Eventually(t, func() bool { through, pending := r2.Progress("acme"); return through >= pos && len(pending) == 0 }, wait, 5*time.Millisecond)
	// A third reactor, after the checkpoint moved, does not deliver it again.
	_, stop3 := start(t, l, webhook.Options{})
	time.Sleep(100 * time.Millisecond) // give it the chance to (wrongly) deliver; not a timing assertion
	stop3()
	assert.Len(t, rcv.payloads(), 1)
}

func TestGiveUpIsRecorded(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 1<<30)
	l.configure(t, rcv.URL)
	id, _ := l.placeAndRecall(t, "CL-G")
	recalled := l.recalledAt(t, id)
	var gaveUps atomic.Int64
	r, _ := start(t, l, webhook.Options{GiveUpAfter: 40 * time.Millisecond, OnGiveUp: func() { gaveUps.Add(1) }})
	require.Eventually(t, func() bool {
		through, pending := r.Progress("acme")
		return through >= recalled && len(pending) == 0
	}, wait, 5*time.Millisecond, "a given-up event is no longer owed")
	assert.EqualValues(t, 1, gaveUps.Load(), "the metrics are told of the give-up")
	recs, err := l.store.ReadStream(context.Background(), journal.WebhookProgressStream("acme"), 0, 100)
	require.NoError(t, err)
	var gaveUp *journal.WebhookGivenUp
	for _, rec := range recs {
		if rec.Type == journal.WebhookGivenUpType {
			gaveUp = &journal.WebhookGivenUp{}
			require.NoError(t, json.Unmarshal(rec.Data, gaveUp))
		}
	}
	require.NotNil(t, gaveUp, "the give-up is in the log")
	assert.Equal(t, uint64(recalled), gaveUp.Position, "the give-up names the status change it was for")
	assert.Contains(t, gaveUp.LastError, "500")
	attempts := r.Deliveries("acme")
	assert.Equal(t, "given_up", attempts[len(attempts)-1].Outcome)
}

func TestValidationAndSignature(t *testing.T) {
	for _, ok := range []string{"https://example.com/hook", "http://127.0.0.1:9000/x"} {
		assert.NoError(t, webhook.ValidateURL(ok), ok)
	}
	for _, bad := range []string{"ftp://x", "/relative", "https://", "https://user:pw@example.com/", "not a url"} {
		assert.Error(t, webhook.ValidateURL(bad), bad)
	}
	assert.Error(t, webhook.ValidateSecret("short"))
	assert.Error(t, webhook.ValidateSecret("has a space in it 123"))
	assert.NoError(t, webhook.ValidateSecret(secret))
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)
	h := webhook.Sign(secret, now, body)
	assert.Regexp(t, `^t=1700000000,v1=[0-9a-f]{64}$`, h)
	assert.NoError(t, webhook.Verify(secret, h, body, now, time.Minute))
	assert.Error(t, webhook.Verify(secret, h, []byte(`{"a":2}`), now, time.Minute), "another body")
	assert.Error(t, webhook.Verify("another-secret-0123456789", h, body, now, time.Minute), "another secret")
	assert.Error(t, webhook.Verify(secret, h, body, now.Add(time.Hour), time.Minute), "too old")
	assert.Error(t, webhook.Verify(secret, "garbage", body, now, time.Minute))
}

func TestPauseAndResumeAreNotified(t *testing.T) {
	l := mustLedger(t, t.TempDir())
	rcv := newReceiver(t, 0)
	l.configure(t, rcv.URL)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	res, err := l.h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-P",
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	for _, cmd := range []func(time.Time) domain.Command{
		func(at time.Time) domain.Command { return domain.Pause{Reason: domain.PauseDispute, At: at} },
		func(at time.Time) domain.Command { return domain.Resume{At: at} },
	} {
		_, err := l.h.Execute(context.Background(), res.Placement.ID, req, cmd)
		require.NoError(t, err)
	}
	start(t, l, webhook.Options{})
	require.Eventually(t, func() bool { return len(rcv.payloads()) == 2 }, wait, 5*time.Millisecond)
	got := rcv.payloads()
	assert.Equal(t, []string{"active→paused", "paused→active"}, []string{
		got[0].Data.PreviousStatus + "→" + got[0].Data.Status, got[1].Data.PreviousStatus + "→" + got[1].Data.Status})
}
