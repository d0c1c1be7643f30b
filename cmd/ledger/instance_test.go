package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
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
	"github.com/collections-ledger/ledger/lease"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/webhook"
)

// counter is a webhook receiver that counts the deliveries of each event.
type counter struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newCounter(t *testing.T) *counter {
	c := &counter{seen: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p webhook.Payload
		body, _ := io.ReadAll(req.Body)
		require.NoError(t, json.Unmarshal(body, &p))
		c.mu.Lock()
		c.seen[p.ID]++
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

// counts returns how many events were delivered and how many more than once.
func (c *counter) counts() (events, twice int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.seen {
		events++
		if n > 1 {
			twice++
		}
	}
	return events, twice
}

// twoInstances runs instances "a" and "b" over one store, each with its own
// views, both taking the reactors' lease, as instances sharing a KurrentDB
// cluster do. stop[i] stops instance i cleanly.
func twoInstances(t *testing.T, store eventstore.Store, dir string) (in [2]*instance, stop [2]func()) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, name := range []string{"a", "b"} {
		views, err := projections.OpenViews(filepath.Join(dir, name+".views"), projections.ViewsOptions{Logger: quiet})
		require.NoError(t, err)
		in[i] = newInstance(store, views, instanceOptions{Logger: quiet, Policy: webhook.Policy{AllowPrivate: true},
			Lease: true, LeaseTTL: 600 * time.Millisecond, Holder: name, ResumeEvery: 10 * time.Millisecond,
			Webhook: webhook.Options{FirstBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, ProgressEvery: 10 * time.Millisecond}})
		ctx, cancel := context.WithCancel(context.Background())
		runnerDone, reactorsDone := in[i].start(ctx)
		var once sync.Once
		stop[i] = func() {
			once.Do(func() {
				cancel()
				assert.NoError(t, <-reactorsDone)
				assert.NoError(t, <-runnerDone)
				assert.NoError(t, views.Close())
			})
		}
		t.Cleanup(stop[i])
	}
	return in, stop
}

// holder returns who holds the reactors' lease, "" when no one does.
func holder(t *testing.T, store eventstore.Store) string {
	last, found, err := journal.LastEvent(context.Background(), store, journal.LeaseStream("reactors"))
	require.NoError(t, err)
	if !found || last.Type != lease.TakenType {
		return ""
	}
	var taken lease.Taken
	require.NoError(t, json.Unmarshal(last.Data, &taken))
	return taken.Holder
}

func placeAndRecall(t *testing.T, h *command.Handler, claim string) {
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r-" + claim}
	res, err := h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: claim,
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	_, err = h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
}

const liveness = 30 * time.Second // a bound for things to happen, not a timing assertion

// Two instances share a store: only the lease holder delivers webhooks, so
// each notification goes out once; when the holder stops, the other takes
// the lease over and delivers what follows.
func TestOnlyTheLeaseHolderDelivers(t *testing.T) {
	dir := t.TempDir()
	store, err := embedded.Open(filepath.Join(dir, "ledger.db"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	in, stop := twoInstances(t, store, dir)
	recv := newCounter(t)
	_, err = in[0].commands.ConfigureWebhook(context.Background(),
		command.Request{Actor: "acme", ActorType: journal.ActorCreditor}, recv.URL, "whsec_0123456789abcdef")
	require.NoError(t, err)

	for i := range 20 {
		placeAndRecall(t, in[i%2].commands, "A"+string(rune('a'+i)))
	}
	// Each recall notifies PlacementRecalled; wait for all 20, then a while
	// longer, in which a second deliverer would show itself.
	require.Eventually(t, func() bool { n, _ := recv.counts(); return n >= 20 }, liveness, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	events, twice := recv.counts()
	assert.Equal(t, 0, twice, "no event delivered twice while one instance holds the lease")
	first := holder(t, store)
	require.NotEmpty(t, first)

	// The holder stops cleanly: it records its progress, releases the lease,
	// and the other instance takes it and delivers the next notifications.
	i := map[string]int{"a": 0, "b": 1}[first]
	stop[i]()
	other := in[1-i]
	require.Eventually(t, func() bool { h := holder(t, store); return h != "" && h != first }, liveness, 10*time.Millisecond)
	for j := range 10 {
		placeAndRecall(t, other.commands, "B"+string(rune('a'+j)))
	}
	require.Eventually(t, func() bool { n, _ := recv.counts(); return n >= events+10 }, liveness, 10*time.Millisecond)
	_, twice = recv.counts()
	assert.Equal(t, 0, twice, "a clean hand-over delivers nothing twice: the holder recorded its progress before releasing")
}

// A hold's automatic resume happens once even with two instances ready to
// resume it, and when the holder dies without releasing (its lease lapses),
// the other resumes the holds that fall due after.
func TestLeaseLapsesToTheOtherInstance(t *testing.T) {
	dir := t.TempDir()
	store, err := embedded.Open(filepath.Join(dir, "ledger.db"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	// A lease taken by a holder that then vanished without releasing it, as
	// a crashed instance leaves it: the instances must wait for it to lapse.
	ghostUntil := time.Now().Add(1500 * time.Millisecond)
	_, err = journal.AppendAfter(context.Background(), store, journal.LeaseStream("reactors"), nil, "ghost", journal.ActorSystem,
		lease.TakenType, lease.Taken{Holder: "ghost", Until: ghostUntil}, time.Now())
	require.NoError(t, err)
	in, _ := twoInstances(t, store, dir)

	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "hold"}
	res, err := in[0].commands.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "H1",
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	resumeAt := time.Now().Add(200 * time.Millisecond)
	_, err = in[0].commands.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command {
		return domain.Pause{Reason: "DISPUTE", ResumeAt: &resumeAt, At: at}
	})
	require.NoError(t, err)

	resumes := func() int {
		n := 0
		require.NoError(t, journal.ReadStream(context.Background(), store, journal.PlacementStream(res.Placement.ID), 0,
			func(e eventstore.RecordedEvent) error {
				if e.Type == domain.TypePlacementResumed {
					n++
				}
				return nil
			}))
		return n
	}
	// Until the ghost's lease lapses, the hold stays held although it is due.
	for {
		n, h := resumes(), holder(t, store)
		if !time.Now().Before(ghostUntil) {
			break // read too late to tell
		}
		require.Equal(t, 0, n, "nothing resumed while another holds the lease")
		require.Equal(t, "ghost", h)
		time.Sleep(20 * time.Millisecond)
	}
	require.Eventually(t, func() bool {
		h := holder(t, store)
		return h == "a" || h == "b"
	}, liveness, 10*time.Millisecond, "a live instance takes the lease once the ghost's lapses")
	require.Eventually(t, func() bool { return resumes() > 0 }, liveness, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // more resumer rounds of both instances
	n := resumes()
	assert.Equal(t, 1, n, "resumed once")
}
