package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/collections-ledger/ledger/http"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/webhook"
)

const hookSecret = "whsec_0123456789abcdef"

func TestWebhookEventsRefused(t *testing.T) {
	l := MustLedger(t, "")
	cases := []struct {
		name, body, field string
	}{
		{"unknown type", `{"url":"https://hooks.example.com/l","secret":"` + hookSecret + `","events":["payment.received","payment.refunded"]}`, "events[1]"},
		{"duplicate", `{"url":"https://hooks.example.com/l","secret":"` + hookSecret + `","events":["claim.closed","claim.closed"]}`, "events[1]"},
		{"empty", `{"url":"https://hooks.example.com/l","secret":"` + hookSecret + `","events":[]}`, "events"},
		{"not strings", `{"url":"https://hooks.example.com/l","secret":"` + hookSecret + `","events":[1]}`, ""},
		{"not an array", `{"url":"https://hooks.example.com/l","secret":"` + hookSecret + `","events":"payment.received"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("PUT", "/v1/webhook", acmeKey, tc.body)
			require.Contains(t, []int{400, 422}, r.Status, "%s", r.Body)
			if tc.field != "" {
				require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
				errs := r.JSON(t)["errors"].([]any)
				require.NotEmpty(t, errs)
				assert.Equal(t, tc.field, errs[0].(map[string]any)["field"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", acmeKey, nil).Status, "no webhook was configured")
}

func TestWebhookEventsSubscription(t *testing.T) {
	l := MustLedger(t, "")
	put := l.do("PUT", "/v1/webhook", acmeKey, `{"url":"https://hooks.example.com/l","secret":"`+hookSecret+`","events":["payment.received","claim.closed"]}`)
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	assert.Equal(t, []any{"payment.received", "claim.closed"}, put.JSON(t)["events"])
	got := l.do("GET", "/v1/webhook", acmeKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, []any{"payment.received", "claim.closed"}, got.JSON(t)["events"])

	id := l.MustPlace("DE-HOOKS")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 100.5, "paymentNumber": "P-1"}`).Status)
	r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 20, "paymentNumber": "P-2"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	l.get("/v1/placements/"+id, acmeKey, r.Position(t))
	outbox, err := l.views.Outbox("acme", 0, 100)
	require.NoError(t, err)
	var notices []projections.Notice
	for _, n := range outbox {
		assert.Empty(t, n.Status, "no status changes: not subscribed")
		assert.Equal(t, "DE-HOOKS", n.Claim)
		assert.Equal(t, id, n.Placement.String())
		notices = append(notices, n.Events...)
	}
	require.Len(t, notices, 2, "one per payment")
	assert.Equal(t, "payment.received", notices[0].Type)
	assert.Equal(t, "100.50", notices[0].Amount)
	assert.Equal(t, "P-1", notices[0].PaymentNumber)
	assert.NotEmpty(t, notices[0].DocumentNumber)
	assert.Equal(t, "20.00", notices[1].Amount)
	assert.NotEqual(t, notices[0].DocumentNumber, notices[1].DocumentNumber)
	assert.Less(t, outbox[0].Position, outbox[1].Position, "in log order")
}

// A configuration without events (every one made before there were types)
// reads as the default subscription.
func TestWebhookWithoutEventsIsTheDefault(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusOK, l.do("PUT", "/v1/webhook", acmeKey, `{"url":"https://hooks.example.com/l","secret":"`+hookSecret+`"}`).Status)
	got := l.do("GET", "/v1/webhook", acmeKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, []any{"placement.status_changed"}, got.JSON(t)["events"])
	cfg, ok, err := l.views.WebhookOf("acme")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Nil(t, cfg.Events, "the default is recorded as before: no events field")
	id := l.MustPlace("DE-HOOKD")
	r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 10, "paymentNumber": "P-1"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	l.get("/v1/placements/"+id, acmeKey, r.Position(t))
	outbox, err := l.views.Outbox("acme", 0, 100)
	require.NoError(t, err)
	assert.Empty(t, outbox, "a partial payment changes no status")
}

// Configured through the API and delivered by a running reactor: a
// subscription to payment.received gets one signed delivery per payment,
// with its amount and document, in log order, and nothing else.
func TestWebhookEventsDelivered(t *testing.T) {
	l := MustLedger(t, "")
	var mu sync.Mutex
	var got []webhook.Payload
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify(hookSecret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	keys, err := httpapi.ParseKeys("acme="+acmeKey, "")
	require.NoError(t, err)
	cfg := l.config(keys)
	cfg.WebhookPolicy = webhook.Policy{AllowPrivate: true} // the receiver listens on loopback
	srv := httpapi.New(cfg)
	put := serve(t, srv, "PUT", "/v1/webhook", acmeKey, map[string]any{"url": rcv.URL, "secret": hookSecret, "events": []string{"payment.received"}})
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)

	id := l.MustPlace("DE-HOOKR")
	for _, body := range []string{`{"amount": 12.34, "paymentNumber": "P-1"}`, `{"amount": 300, "paymentNumber": "P-2"}`} {
		r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, body)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	recall := l.do("POST", "/v1/placements/"+id+"/recall", acmeKey, nil)
	require.Equal(t, http.StatusOK, recall.Status, "%s", recall.Body)

	reactor := webhook.New(l.store, l.views, l.runner, webhook.Options{Policy: webhook.Policy{AllowPrivate: true}, Logger: quietLogger(),
		FirstBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reactor.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	payloads := func() []webhook.Payload { mu.Lock(); defer mu.Unlock(); return append([]webhook.Payload(nil), got...) }
	require.Eventually(t, func() bool { return len(payloads()) >= 2 }, testWait, pollEvery)

	p := payloads()
	require.Len(t, p, 2, "one per payment; the recall is not subscribed to")
	for i, want := range []struct{ number, amount string }{{"P-1", "12.34"}, {"P-2", "300.00"}} {
		assert.Equal(t, "payment.received", p[i].Type)
		assert.Equal(t, id, p[i].Data.PlacementID)
		assert.Equal(t, "DE-HOOKR", p[i].Data.ClaimNumber)
		assert.Equal(t, want.number, p[i].Data.PaymentNumber)
		assert.Equal(t, want.amount, p[i].Data.Amount)
		assert.NotEmpty(t, p[i].Data.DocumentNumber)
	}
	assert.Less(t, p[0].Position, p[1].Position, "in log order")
	assert.NotEqual(t, p[0].Data.DocumentNumber, p[1].Data.DocumentNumber)
	// The feed books each payment on the document the payload names.
	feed := l.get("/v1/claims/DE-HOOKR/transactions", acmeKey, recall.Position(t))
	for _, d := range p {
		assert.Contains(t, string(feed.Body), `"`+d.Data.DocumentNumber+`"`)
	}
}
