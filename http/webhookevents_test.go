package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/projections"
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
