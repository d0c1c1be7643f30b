package http_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// feedOf reads a claim's feed once the projections reached after.
func (l *ledger) feedOf(claim string, after eventstore.Position) []map[string]any {
	l.t.Helper()
	r := l.get("/v1/claims/"+claim+"/transactions", acmeKey, after)
	require.Equal(l.t, http.StatusOK, r.Status, "%s", r.Body)
	return r.Array(l.t)
}

func TestReversePaymentReopensAndRecomputesTheFee(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REV")
	base := "/v1/placements/" + id

	// A payment without a number is named after its accounting document.
	r := l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "120.50"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "DE-REV-AD001", r.Header.Get("Payment-Number"))
	r = l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "279.50", "paymentNumber": "P-2"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "P-2", r.Header.Get("Payment-Number"))
	p := r.JSON(t)
	require.Equal(t, "paid", p["status"])
	inv := p["invoices"].([]any)
	assert.Equal(t, "100.00", inv[0].(map[string]any)["paidAmount"])
	assert.Equal(t, "300.00", inv[1].(map[string]any)["paidAmount"])

	// Reversing the payment that paid the claim in full reopens it; the fee
	// is recomputed from what is left (120.50 × 0.20).
	r = l.do("POST", base+"/payments/P-2/reversal", acmeKey, `{"reason": "RETURNED"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p = r.JSON(t)
	assert.Equal(t, "active", p["status"])
	assert.Equal(t, "120.50", p["recoveredAmount"])
	assert.Equal(t, "24.10", p["feeAmount"])
	assert.Equal(t, "279.50", p["outstandingAmount"])
	assert.Nil(t, p["resolvedAt"])
	assert.Nil(t, p["outcomeScore"])
	inv = p["invoices"].([]any)
	assert.Equal(t, "100.00", inv[0].(map[string]any)["paidAmount"], "the first payment went to the oldest invoice")
	assert.Equal(t, "20.50", inv[1].(map[string]any)["paidAmount"])
	assert.Equal(t, "279.50", inv[1].(map[string]any)["openAmount"])
	reversedAt := r.Position(t)

	feed := l.feedOf("DE-REV", reversedAt)
	require.GreaterOrEqual(t, len(feed), 3)
	doc := feed[len(feed)-2]
	require.Equal(t, "ACCOUNTING_DOCUMENT", doc["type"], "%v", feed)
	ad := doc["accountingDocument"].(map[string]any)
	assert.Equal(t, "REALLOCATION", ad["type"])
	assert.Equal(t, 279.5, ad["amount"], "positive: it raises the claim again")
	assert.Equal(t, "DIRECT_PAYMENT", ad["originalType"])
	assert.Equal(t, "DE-REV-AD002", ad["originalNumber"], "P-2's document")
	assert.Equal(t, 279.5, ad["lineItems"].([]any)[0].(map[string]any)["amount"])
	status := feed[len(feed)-1]
	require.Equal(t, "STATUS", status["type"])
	assert.Equal(t, map[string]any{"date": status["status"].(map[string]any)["date"], "type": "REOPENED", "status": "active",
		"reason": "PAYMENT_REVERSED", "paymentNumber": "P-2", "resumedSequences": float64(0)}, status["status"])
	assert.Equal(t, "INVOICE", feed[0]["confirmation"].(map[string]any)["type"], "the handover's confirmations come first")
	assert.Equal(t, "DE-REV-AD001", feed[2]["confirmation"].(map[string]any)["paymentNumber"], "the feed names assigned numbers too")

	// The same reversal again answers as the first did and records nothing.
	head := l.head()
	again := l.do("POST", base+"/payments/P-2/reversal", acmeKey, `{"reason": "RETURNED"}`)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, r.JSON(t), again.JSON(t))
	assert.Equal(t, head, l.head())

	// The claims-API twin, on the payment whose number the ledger assigned.
	c := l.do("POST", "/v1/claims/DE-REV/payments/DE-REV-AD001/reversal", acmeKey, `{"reason": "ENTERED_IN_ERROR"}`)
	require.Equal(t, http.StatusAccepted, c.Status, "%s", c.Body)
	assert.NotEmpty(t, c.JSON(t)["requestId"])
	feed = l.feedOf("DE-REV", c.Position(t))
	ad = feed[len(feed)-1]["accountingDocument"].(map[string]any)
	assert.Equal(t, "CANCELLATION", ad["type"], "a payment entered in error is cancelled")
	assert.Equal(t, "DE-REV-AD001", ad["originalNumber"])
	p = l.get(base, acmeKey, c.Position(t)).JSON(t)
	assert.Equal(t, "0.00", p["recoveredAmount"])
	assert.Equal(t, "0.00", p["feeAmount"])
	assert.Equal(t, "400.00", p["outstandingAmount"])

	// Reconciliation: both payments and both reversals, netting to zero, each
	// entry citing the position and hash of its event.
	rec := l.get("/v1/reports/reconciliation?from=2000-01-01", acmeKey, c.Position(t))
	require.Equal(t, http.StatusOK, rec.Status, "%s", rec.Body)
	report := rec.JSON(t)
	eur := report["totals"].(map[string]any)["EUR"].(map[string]any)
	assert.EqualValues(t, 2, eur["payments"])
	assert.EqualValues(t, 2, eur["reversals"])
	assert.Equal(t, "400.00", eur["reversed"])
	assert.Equal(t, "0.00", eur["recovered"])
	assert.Equal(t, "0.00", eur["fees"])
	assert.Equal(t, "0.00", eur["netToCreditor"])
	entries := report["entries"].([]any)
	require.Len(t, entries, 4)
	kinds := []string{}
	for _, e := range entries {
		e := e.(map[string]any)
		kinds = append(kinds, e["kind"].(string))
		pos := eventstore.Position(e["position"].(float64))
		recs, err := l.store.ReadAll(context.Background(), pos-1, 1)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		m, err := journal.DecodeMetadata(recs[0].Metadata)
		require.NoError(t, err)
		assert.Equal(t, m.Hash, e["hash"], "entry at %d cites its event's hash", pos)
	}
	assert.Equal(t, []string{"payment", "payment", "reversal", "reversal"}, kinds)
	assert.Equal(t, "-279.50", entries[2].(map[string]any)["amount"])
	assert.Equal(t, "-55.90", entries[2].(map[string]any)["fee"], "80.00 → 24.10")
	csv := l.do("GET", "/v1/reports/reconciliation", acmeKey, nil, "Accept", "text/csv")
	assert.Contains(t, string(csv.Body), "TOTAL,,,EUR,2,0.00,0.00,0.00,0.00,0.00,2,400.00")

	ok := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Equal(t, true, ok.JSON(t)["ok"], "the live views equal a rebuild, byte for byte: %s", ok.Body)
}

func TestReversalRefusalsAppendNothing(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REVX")
	base := "/v1/placements/" + id
	r := l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "50", "paymentNumber": "2024/7"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	slash := base + "/payments/" + url.PathEscape("2024/7") + "/reversal"
	cases := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
	}{
		{"unknown payment", "POST", base + "/payments/P-404/reversal", acmeKey, `{"reason": "RETURNED"}`, 404, "payment_not_found"},
		{"unknown reason", "POST", slash, acmeKey, `{"reason": "BOUNCED"}`, 422, "validation_failed"},
		{"no reason", "POST", slash, acmeKey, `{}`, 422, "validation_failed"},
		{"no body", "POST", slash, acmeKey, ``, 400, ""},
		{"unknown field", "POST", slash, acmeKey, `{"reason": "RETURNED", "amount": 1}`, 400, ""},
		{"another creditor's placement", "POST", slash, otherKey, `{"reason": "RETURNED"}`, 404, "not_found"},
		{"agency key", "POST", slash, agencyKey, `{"reason": "RETURNED"}`, 403, ""},
		{"no key", "POST", slash, "", `{"reason": "RETURNED"}`, 401, ""},
		{"unknown claim", "POST", "/v1/claims/DE-NONE/payments/P-1/reversal", acmeKey, `{"reason": "RETURNED"}`, 404, "not_found"},
		{"another creditor's claim", "POST", "/v1/claims/DE-REVX/payments/P-1/reversal", otherKey, `{"reason": "RETURNED"}`, 404, "not_found"},
		{"claims route, bad reason", "POST", "/v1/claims/DE-REVX/payments/P-1/reversal", acmeKey, `{"reason": "returned"}`, 422, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := l.do(tc.method, tc.path, tc.key, body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.JSON(t)["code"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}

	// A number with a slash, percent-encoded in the path.
	r = l.do("POST", slash, acmeKey, `{"reason": "OTHER"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "0.00", r.JSON(t)["recoveredAmount"])
	// Reversed once: another reason is a conflict, and records nothing.
	head := l.head()
	r = l.do("POST", slash, acmeKey, `{"reason": "RETURNED"}`)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	assert.Equal(t, "payment_already_reversed", r.JSON(t)["code"])
	assert.Equal(t, head, l.head())
}

func TestReversalKeepsARecalledPlacementRecalled(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REVR")
	base := "/v1/placements/" + id
	require.Equal(t, http.StatusOK, l.do("POST", base+"/payment-received", acmeKey, `{"amount": 40, "paymentNumber": "P-1"}`).Status)
	require.Equal(t, http.StatusOK, l.do("POST", base+"/recall", acmeKey, nil).Status)
	r := l.do("POST", base+"/payments/P-1/reversal", acmeKey, `{"reason": "RETURNED"}`, "Idempotency-Key", "rev-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p := r.JSON(t)
	assert.Equal(t, "recalled", p["status"])
	assert.Equal(t, "0.00", p["recoveredAmount"])
	assert.NotNil(t, p["resolvedAt"])
	head := l.head()
	again := l.do("POST", base+"/payments/P-1/reversal", acmeKey, `{"reason": "RETURNED"}`, "Idempotency-Key", "rev-1")
	assert.Equal(t, r.Body, again.Body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	reused := l.do("POST", base+"/payments/P-1/reversal", acmeKey, `{"reason": "OTHER"}`, "Idempotency-Key", "rev-1")
	assert.Equal(t, http.StatusUnprocessableEntity, reused.Status)
	assert.Equal(t, head, l.head())
	feed := l.feedOf("DE-REVR", r.Position(t))
	for _, it := range feed {
		assert.NotEqual(t, "STATUS", it["type"], "a recalled placement is not reopened")
	}
}

func TestPauseAndResumeAreStatusItems(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-STAT")
	base := "/v1/placements/" + id
	require.Equal(t, http.StatusOK, l.do("POST", base+"/pause", acmeKey, `{"reason": "DISPUTE"}`).Status)
	r := l.do("POST", base+"/resume", acmeKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	feed := l.feedOf("DE-STAT", r.Position(t))
	require.Len(t, feed, 4, "the handover's two INVOICE confirmations, then the pause and the resume")
	assert.Equal(t, "PAUSED", feed[2]["status"].(map[string]any)["type"])
	assert.Equal(t, "DISPUTE", feed[2]["status"].(map[string]any)["reason"])
	assert.Equal(t, "paused", feed[2]["status"].(map[string]any)["status"])
	assert.Equal(t, "RESUMED", feed[3]["status"].(map[string]any)["type"])
	page := l.get("/v1/transactions?type=status", acmeKey, r.Position(t)).JSON(t)
	assert.Len(t, page["items"], 2)
	assert.Empty(t, l.get("/v1/transactions?type=closing", acmeKey, r.Position(t)).JSON(t)["items"])
}

func TestReopeningNotifiesTheWebhook(t *testing.T) {
	l := MustLedger(t, "")
	w := l.do("PUT", "/v1/webhook", acmeKey, `{"url": "https://hooks.example.com/ledger", "secret": "whsec_0123456789abcdef"}`)
	require.Equal(t, http.StatusOK, w.Status, "%s", w.Body)
	id := l.MustPlace("DE-REVW")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 400, "paymentNumber": "P-1"}`).Status)
	r := l.do("POST", "/v1/placements/"+id+"/payments/P-1/reversal", acmeKey, `{"reason": "RETURNED"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	l.get("/v1/placements/"+id, acmeKey, r.Position(t))
	outbox, err := l.views.Outbox("acme", 0, 100)
	require.NoError(t, err)
	var changes []string
	for _, n := range outbox {
		changes = append(changes, string(n.Previous)+"→"+string(n.Status))
	}
	assert.Equal(t, []string{"active→paid", "paid→active"}, changes, "paid, then active again: each a placement.status_changed")
}
