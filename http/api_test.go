package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	httpapi "github.com/collections-ledger/ledger/http"
)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	l := MustLedger(t, "")
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(httpapi.OpenAPI(), &doc))
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	param := regexp.MustCompile(`:([A-Za-z]+)`)
	for _, r := range l.server.Routes() {
		if strings.HasPrefix(r.Method, "echo_") {
			continue // echo's own not-found routes for groups
		}
		if r.Path == "/" || strings.HasPrefix(r.Path, "/dashboard/") || strings.HasPrefix(r.Path, "/static/") || r.Path == "/signin" || r.Path == "/signout" {
			continue // the dashboard, for people, is not part of the API
		}
		routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	assert.Equal(t, sortedKeys(documented), sortedKeys(routed), "every route is documented and every documented route exists")
	r := l.do("GET", "/openapi.yaml", "", nil)
	assert.Equal(t, http.StatusOK, r.Status)
}

// TestOpenAPIDeclaresEveryStatus: every operation has a unique operationId
// and a description, and every /v1 operation declares the statuses the
// server's shared machinery can answer it with: 400, 401, 429 and 503
// always, 403 where one kind of key is refused, 404 with a path parameter,
// 412 with If-Match, 413 and 415 with a body, 422 with a body or an
// Idempotency-Key.
func TestOpenAPIDeclaresEveryStatus(t *testing.T) {
	type operation struct {
		OperationID string           `yaml:"operationId"`
		Description string           `yaml:"description"`
		Parameters  []map[string]any `yaml:"parameters"`
		RequestBody map[string]any   `yaml:"requestBody"`
		Responses   map[string]any   `yaml:"responses"`
	}
	var doc struct {
		Paths map[string]map[string]operation `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(httpapi.OpenAPI(), &doc))
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + path
			require.NotEmpty(t, op.OperationID, name)
			assert.Empty(t, ids[op.OperationID], "%s and %s share operationId %s", name, ids[op.OperationID], op.OperationID)
			ids[op.OperationID] = name
			assert.NotEmpty(t, op.Description, "%s has a description", name)
			if !strings.HasPrefix(path, "/v1/") {
				continue
			}
			refs := fmt.Sprint(op.Parameters)
			want := []string{"400", "401", "429", "503"}
			if path != "/v1/debtors/{customerNumber}/personal-data" { // creditor and agency keys alike
				want = append(want, "403")
			}
			if strings.Contains(path, "{") {
				want = append(want, "404")
			}
			if strings.Contains(refs, "IfMatch") {
				want = append(want, "412")
			}
			if op.RequestBody != nil {
				want = append(want, "413", "415", "422")
			}
			if strings.Contains(refs, "IdempotencyKey") {
				want = append(want, "422")
			}
			for _, status := range want {
				assert.Contains(t, op.Responses, status, "%s declares %s", name, status)
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestAuthAndTenancy(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-TENANT-1")
	head := l.head()
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
	}{
		{"ErrNoKey", "GET", "/v1/placements", "", nil, 401},
		{"ErrUnknownKey", "GET", "/v1/placements", "nope-nope-nope-nope", nil, 401},
		{"ErrAgencyKeyOnCreditorRoute", "GET", "/v1/placements", agencyKey, nil, 403},
		{"ErrCreditorKeyOnAgencyRoute", "POST", "/v1/placements/" + id + "/calls", acmeKey, map[string]any{"scheduledAt": "2030-01-01T10:00:00Z"}, 403},
		{"ErrOtherCreditorGet", "GET", "/v1/placements/" + id, otherKey, nil, 404},
		{"ErrOtherCreditorRecall", "POST", "/v1/placements/" + id + "/recall", otherKey, nil, 404},
		{"ErrOtherCreditorPayment", "POST", "/v1/placements/" + id + "/payment-received", otherKey, map[string]any{"amount": 1}, 404},
		{"ErrOtherCreditorAudit", "GET", "/v1/placements/" + id + "/audit", otherKey, nil, 404},
		{"ErrOtherCreditorClaimRecall", "POST", "/v1/claims/DE-TENANT-1/recalls", otherKey, nil, 404},
		{"ErrOtherCreditorClaimFeed", "GET", "/v1/claims/DE-TENANT-1/transactions", otherKey, nil, 404},
		{"ErrMissingPlacement", "GET", "/v1/placements/3fa85f64-5717-4562-b3fc-2c963f66afa6", acmeKey, nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := l.do(tc.method, tc.path, tc.key, tc.body)
			assert.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			assert.NotContains(t, string(r.Body), "K508647", "no other tenant's data in the body")
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	// A missing placement and another creditor's answer alike.
	a := l.do("GET", "/v1/placements/"+id, otherKey, nil).JSON(t)
	b := l.do("GET", "/v1/placements/3fa85f64-5717-4562-b3fc-2c963f66afa6", otherKey, nil).JSON(t)
	assert.Equal(t, a["code"], b["code"])
	assert.Equal(t, a["detail"], b["detail"])
}

func TestPlaceAndRead(t *testing.T) {
	l := MustLedger(t, "")
	r := l.do("POST", "/v1/placements", acmeKey, placeBody("DE-S242243704005"))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	p := r.JSON(t)
	assert.Equal(t, "active", p["status"])
	assert.Equal(t, "400.00", p["originalAmount"])
	assert.Equal(t, "400.00", p["outstandingAmount"])
	assert.Equal(t, "0.00", p["feeAmount"])
	assert.Equal(t, "acme", p["creditorId"])
	assert.Nil(t, p["resolvedAt"])
	assert.Equal(t, "/v1/placements/"+p["placementId"].(string), r.Header.Get("Location"))
	pos := r.Position(t)

	got := l.get("/v1/placements/"+p["placementId"].(string), acmeKey, pos)
	require.Equal(t, http.StatusOK, got.Status)
	assert.JSONEq(t, string(r.Body), string(got.Body), "the read model renders what the command returned")

	t.Run("ErrClaimNumberTaken", func(t *testing.T) {
		head := l.head()
		r := l.do("POST", "/v1/placements", acmeKey, placeBody("DE-S242243704005"))
		assert.Equal(t, http.StatusConflict, r.Status)
		assert.Equal(t, "claim_number_taken", r.JSON(t)["code"])
		assert.Equal(t, head, l.head(), "nothing appended")
	})
	t.Run("OKSameClaimNumberOtherCreditor", func(t *testing.T) {
		r := l.do("POST", "/v1/placements", otherKey, placeBody("DE-S242243704005"))
		assert.Equal(t, http.StatusCreated, r.Status, "claim numbers are unique per creditor")
	})
	t.Run("OKClaimNumberAssigned", func(t *testing.T) {
		b := placeBody("")
		delete(b, "claimNumber")
		r := l.do("POST", "/v1/placements", acmeKey, b)
		require.Equal(t, http.StatusCreated, r.Status)
		assert.Regexp(t, `^CL-[A-Z0-9]{12}$`, r.JSON(t)["claimNumber"])
	})
	t.Run("OKList", func(t *testing.T) {
		r := l.get("/v1/placements?limit=1", acmeKey, l.head())
		require.Equal(t, http.StatusOK, r.Status)
		page := r.JSON(t)
		assert.Len(t, page["items"], 1)
		require.NotNil(t, page["nextCursor"])
		r2 := l.do("GET", "/v1/placements?limit=1&cursor="+page["nextCursor"].(string), acmeKey, nil)
		page2 := r2.JSON(t)
		assert.Len(t, page2["items"], 1)
		assert.Nil(t, page2["nextCursor"])
		assert.Empty(t, l.do("GET", "/v1/placements?status=recalled", acmeKey, nil).JSON(t)["items"])
	})
}

// TestRefusalsAppendNothing: bad input gets a clear error naming the field
// and changes nothing.
func TestRefusalsAppendNothing(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REFUSE")
	withInvoice := func(mut func(map[string]any)) map[string]any {
		b := placeBody("DE-NEW")
		inv := b["invoices"].([]map[string]any)
		mut(inv[0])
		return b
	}
	with := func(k string, v any) map[string]any {
		b := placeBody("DE-NEW")
		b[k] = v
		return b
	}
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code, field        string
	}{
		{"ErrUnknownField", "POST", "/v1/placements", with("color", "red"), nil, 400, "unknown_field", "color"},
		{"ErrWrongType", "POST", "/v1/placements", with("customerNumber", 5), nil, 400, "wrong_type", "customerNumber"},
		{"ErrBrokenJSON", "POST", "/v1/placements", `{"claimNumber": `, nil, 400, "malformed_json", ""},
		{"ErrTrailingData", "POST", "/v1/placements", `{"customerNumber":"K"} {}`, nil, 400, "trailing_data", ""},
		{"ErrDuplicateKey", "POST", "/v1/placements", `{"customerNumber":"a","customerNumber":"b"}`, nil, 400, "duplicate_key", "customerNumber"},
		{"ErrTooManyDecimals", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["amount"] = "100.001" }), nil, 422, "validation_failed", "invoices[0].amount"},
		{"ErrNegativeAmount", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["amount"] = -5 }), nil, 422, "validation_failed", "invoices[0].amount"},
		{"ErrExponentScale", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["amount"] = json.Number("1e-3") }), nil, 422, "validation_failed", "invoices[0].amount"},
		{"ErrExponentAboveMax", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["amount"] = json.Number("1e400") }), nil, 422, "validation_failed", "invoices[0].amount"},
		{"ErrAmountArray", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["amount"] = []int{1} }), nil, 400, "wrong_type", "invoices[0].amount"},
		{"ErrAmountBoolean", "POST", "/v1/placements/" + id + "/payment-received", map[string]any{"amount": true}, nil, 400, "wrong_type", "amount"},
		{"ErrBadDate", "POST", "/v1/placements", withInvoice(func(m map[string]any) { m["dueDate"] = "2024-13-01" }), nil, 422, "validation_failed", "invoices[0].dueDate"},
		{"ErrUnknownCurrency", "POST", "/v1/placements", with("currency", "XYZ"), nil, 422, "validation_failed", "currency"},
		{"ErrMissingCustomer", "POST", "/v1/placements", with("customerNumber", ""), nil, 422, "validation_failed", "customerNumber"},
		{"ErrBadFeeRate", "POST", "/v1/placements", with("feeRate", "abc"), nil, 422, "validation_failed", "feeRate"},
		{"ErrWrongContentType", "POST", "/v1/placements", "customerNumber=x", []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"ErrBodyTooLarge", "POST", "/v1/placements", `{"customerNumber":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "body_too_large", ""},
		{"ErrBadUUID", "GET", "/v1/placements/not-a-uuid", nil, nil, 400, "invalid_id", "id"},
		{"ErrPaymentNoAmount", "POST", "/v1/placements/" + id + "/payment-received", map[string]any{}, nil, 422, "validation_failed", "amount"},
		{"ErrPaymentStringGarbage", "POST", "/v1/placements/" + id + "/payment-received", map[string]any{"amount": "12,50"}, nil, 422, "validation_failed", "amount"},
		{"ErrPaymentTooMuch", "POST", "/v1/placements/" + id + "/payment-received", map[string]any{"amount": "400.01"}, nil, 422, "amount_exceeds_outstanding", "amount"},
		{"ErrRecallBody", "POST", "/v1/placements/" + id + "/recall", map[string]any{"why": "x"}, nil, 400, "unexpected_body", ""},
		{"ErrWaiverUnknownInvoice", "POST", "/v1/claims/DE-REFUSE/recalls", waiver("NOPE", "10"), nil, 422, "unknown_invoice", "invoiceNumber"},
		{"ErrWaiverWrongCurrency", "POST", "/v1/claims/DE-REFUSE/recalls", func() map[string]any { w := waiver("I0417211448", "10"); w["currency"] = "USD"; return w }(), nil, 422, "currency_mismatch", "currency"},
		{"ErrWaiverZero", "POST", "/v1/claims/DE-REFUSE/recalls", waiver("I0417211448", "0"), nil, 422, "validation_failed", "amount"},
		{"ErrWaiverNegative", "POST", "/v1/claims/DE-REFUSE/recalls", waiver("I0417211448", "-1"), nil, 422, "validation_failed", "amount"},
		{"ErrPaymentZero", "POST", "/v1/placements/" + id + "/payment-received", map[string]any{"amount": 0}, nil, 422, "validation_failed", "amount"},
		{"ErrWaiverNoContract", "POST", "/v1/claims/DE-REFUSE/creditWaivers", func() map[string]any { w := waiver("I0417211448", "10"); delete(w, "contractNumber"); return w }(), nil, 422, "validation_failed", "contractNumber"},
		{"ErrWaiverAboveOpen", "POST", "/v1/claims/DE-REFUSE/recalls", waiver("I0417211448", "100.01"), nil, 422, "amount_exceeds_open", "amount"},
		{"ErrWaiverBadType", "POST", "/v1/claims/DE-REFUSE/recalls", func() map[string]any { w := waiver("I0417211448", "10"); w["type"] = "GIFT"; return w }(), nil, 422, "validation_failed", "type"},
		{"ErrWaiverEmptyArray", "POST", "/v1/claims/DE-REFUSE/recalls", `[]`, nil, 422, "validation_failed", "(body)"},
		{"ErrIfMatchGarbage", "POST", "/v1/placements/" + id + "/recall", nil, []string{"If-Match", "abc"}, 400, "invalid_if_match", ""},
		{"ErrIfMatchStale", "POST", "/v1/placements/" + id + "/recall", nil, []string{"If-Match", `"7"`}, 412, "precondition_failed", ""},
		{"ErrUnknownClaim", "POST", "/v1/claims/NO-SUCH-CLAIM/recalls", nil, nil, 404, "not_found", ""},
		{"ErrListBadStatus", "GET", "/v1/placements?status=open", nil, nil, 400, "invalid_query", "status"},
		{"ErrFeedBadLimit", "GET", "/v1/claims/DE-REFUSE/transactions?limit=0", nil, nil, 400, "invalid_query", "limit"},
		{"ErrWindowBackwards", "GET", "/v1/transactions?from=2024-02-01&to=2024-01-01", nil, nil, 400, "invalid_query", "to"},
		{"ErrReportWindowBackwards", "GET", "/v1/reports/reconciliation?from=2024-02-01&to=2024-02-01", nil, nil, 400, "invalid_query", "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do(tc.method, tc.path, acmeKey, tc.body, tc.headers...)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			p := r.JSON(t)
			assert.Equal(t, tc.code, p["code"])
			assert.NotEmpty(t, p["detail"])
			assert.EqualValues(t, tc.status, p["status"])
			if tc.field != "" {
				require.NotEmpty(t, p["errors"], "the problem names the field")
				assert.Equal(t, tc.field, p["errors"].([]any)[0].(map[string]any)["field"])
			}
			assert.Equal(t, head, l.head(), "a refused command appends nothing")
		})
	}
}

func waiver(invoice, amount string) map[string]any {
	return map[string]any{"invoiceNumber": invoice, "contractNumber": "166271782837", "type": "CREDIT_WAIVER",
		"date": "2023-06-23", "description": "goodwill", "amount": json.Number(amount), "currency": "EUR"}
}

// TestRecallLifecycle walks the claim-recalls document and the recall page:
// outreach, partial recall, recall, rejection, feed and audit.
func TestRecallLifecycle(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-S242243704005")
	base := "/v1/placements/" + id
	seq := l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"})
	require.Equal(t, http.StatusCreated, seq.Status, "%s", seq.Body)
	c1 := l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-02T09:00:00Z"}).JSON(t)["callId"].(string)
	c2 := l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-03T09:00:00Z"}).JSON(t)["callId"].(string)
	require.Equal(t, http.StatusOK, l.do("POST", base+"/calls/"+c2+"/dial", agencyKey, nil).Status)

	// Partial recall through the claims API: 202 with a request id.
	pr := l.do("POST", "/v1/claims/DE-S242243704005/recalls", acmeKey, waiver("I0417211448", "100"))
	require.Equal(t, http.StatusAccepted, pr.Status, "%s", pr.Body)
	assert.Regexp(t, `^[0-9a-f-]{36}$`, pr.JSON(t)["requestId"])
	p := l.get(base, acmeKey, pr.Position(t)).JSON(t)
	assert.Equal(t, "100.00", p["waivedAmount"])
	assert.Equal(t, "300.00", p["outstandingAmount"])
	assert.Equal(t, "0.00", p["invoices"].([]any)[0].(map[string]any)["openAmount"])

	// Total recall through the placements API.
	rc := l.do("POST", base+"/recall", acmeKey, nil)
	require.Equal(t, http.StatusOK, rc.Status, "%s", rc.Body)
	p = rc.JSON(t)
	assert.Equal(t, "recalled", p["status"])
	assert.NotNil(t, p["resolvedAt"])
	assert.Equal(t, "0.0000", p["outcomeScore"])
	seqs := p["emailSequences"].([]any)
	assert.Equal(t, "paused", seqs[0].(map[string]any)["status"])
	assert.Nil(t, seqs[0].(map[string]any)["nextSendAt"])
	calls := map[string]string{}
	for _, c := range p["calls"].([]any) {
		calls[c.(map[string]any)["callId"].(string)] = c.(map[string]any)["status"].(string)
	}
	assert.Equal(t, map[string]string{c1: "failed", c2: "in_progress"}, calls, "scheduled calls cancelled, the call in progress left to finish")

	// Closed: a second recall is 409 and records a rejection; so does a claim recall (202).
	head := l.head()
	again := l.do("POST", base+"/recall", acmeKey, nil)
	assert.Equal(t, http.StatusConflict, again.Status)
	assert.Equal(t, "placement_closed", again.JSON(t)["code"])
	assert.Equal(t, head+1, l.head(), "the rejection is recorded")
	claimAgain := l.do("POST", "/v1/claims/DE-S242243704005/recalls", acmeKey, `{}`)
	assert.Equal(t, http.StatusAccepted, claimAgain.Status)
	partialAgain := l.do("POST", "/v1/claims/DE-S242243704005/recalls", acmeKey, []any{waiver("I0417211449", "1")})
	assert.Equal(t, http.StatusAccepted, partialAgain.Status)

	// Other commands on a closed placement: 409, nothing recorded.
	head = l.head()
	for name, r := range map[string]response{
		"payment":  l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": 1}),
		"sequence": l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"}),
		"call":     l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}),
		"dial":     l.do("POST", base+"/calls/"+c1+"/dial", agencyKey, nil),
	} {
		assert.Equal(t, http.StatusConflict, r.Status, name)
		assert.Equal(t, "placement_closed", r.JSON(t)["code"], name)
	}
	assert.Equal(t, head, l.head(), "refused commands on a closed placement record nothing")
	// The one exception: a call in progress may complete.
	done := l.do("POST", base+"/calls/"+c2+"/complete", agencyKey, map[string]any{"outcome": "debtor agreed"})
	require.Equal(t, http.StatusOK, done.Status, "%s", done.Body)

	// The feed, in sortNumber order, in the document's shape.
	feed := l.do("GET", "/v1/claims/DE-S242243704005/transactions", acmeKey, nil)
	require.Equal(t, http.StatusOK, feed.Status)
	items := feed.Array(t)
	var kinds []string
	for i, it := range items {
		assert.EqualValues(t, i, it["sortNumber"], "sortNumber from 0 with no gaps")
		assert.Equal(t, "K508647", it["customerNumber"])
		assert.Equal(t, "DE-S242243704005", it["claimNumber"])
		k := it["type"].(string)
		switch k {
		case "CONFIRMATION":
			k += ":" + it["confirmation"].(map[string]any)["type"].(string)
		case "CLOSING":
			k += ":" + it["closing"].(map[string]any)["type"].(string)
		case "ACCOUNTING_DOCUMENT":
			k += ":" + it["accountingDocument"].(map[string]any)["type"].(string)
		case "REJECTION":
			rej := it["rejection"].(map[string]any)
			assert.Equal(t, "Das Verfahren ist bereits eingestellt.", rej["description"])
			assert.Equal(t, "OTHER", rej["reason"])
			k += ":" + rej["type"].(string)
		}
		kinds = append(kinds, k)
	}
	assert.Equal(t, []string{
		"CONFIRMATION:INVOICE", "CONFIRMATION:INVOICE", // the handover confirms its two invoices
		"CONFIRMATION:PARTIAL_RECALL", "ACCOUNTING_DOCUMENT:CREDIT_WAIVER",
		"CONFIRMATION:RECALL", "ACCOUNTING_DOCUMENT:CANCELLATION", "CLOSING:RECALLED_BY_CLIENT",
		"REJECTION:RECALL", "REJECTION:RECALL", "REJECTION:PARTIAL_RECALL", // the partial recall's rejection says it was one
	}, kinds)
	// Amounts in the feed are JSON numbers written exactly.
	assert.Contains(t, string(feed.Body), `"amount":300,"bookedAt"`, "the RECALL confirmation's")
	assert.Contains(t, string(feed.Body), `"amount":-300,`)
	conf := items[0]["confirmation"].(map[string]any)
	assert.Equal(t, "166271782837", conf["contractNumber"])
	assert.Equal(t, "EUR", conf["currency"])
	// Paging.
	page := l.do("GET", "/v1/claims/DE-S242243704005/transactions?fromSortNumber=2&limit=2", acmeKey, nil).Array(t)
	require.Len(t, page, 2)
	assert.EqualValues(t, 2, page[0]["sortNumber"])

	// The audit trail shows the recall with both counts.
	audit := l.do("GET", base+"/audit", acmeKey, nil)
	require.Equal(t, http.StatusOK, audit.Status)
	entries := audit.Array(t)
	var recall map[string]any
	var last float64
	for _, e := range entries {
		assert.Greater(t, e["position"].(float64), last, "in order")
		last = e["position"].(float64)
		assert.NotEmpty(t, e["actor"])
		assert.NotEmpty(t, e["requestId"])
		assert.NotEmpty(t, e["occurredAt"])
		if e["type"] == "PlacementRecalled" {
			recall = e["data"].(map[string]any)
		}
	}
	require.NotNil(t, recall)
	assert.EqualValues(t, 1, recall["sequencesPaused"])
	assert.EqualValues(t, 1, recall["callsCancelled"])
}

func TestPaymentsToPaid(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-PAY")
	base := "/v1/placements/" + id
	r := l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": 120.50})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p := r.JSON(t)
	assert.Equal(t, "120.50", p["recoveredAmount"])
	assert.Equal(t, "24.10", p["feeAmount"])
	assert.Equal(t, "279.50", p["outstandingAmount"])

	r = l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "279.50", "paymentNumber": "P-2"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p = r.JSON(t)
	assert.Equal(t, "paid", p["status"])
	assert.Equal(t, "80.00", p["feeAmount"])
	assert.Equal(t, "1.0000", p["outcomeScore"])

	feed := l.do("GET", "/v1/claims/DE-PAY/transactions", acmeKey, nil).Array(t)
	last := feed[len(feed)-1]
	assert.Equal(t, "CLOSING", last["type"], "within one command its CLOSING comes last")
	assert.Equal(t, "FULL_PAYMENT", last["closing"].(map[string]any)["type"])
	assert.Contains(t, fmt.Sprint(feed[0]["confirmation"]), "INVOICE", "the handover's confirmations come first")
	assert.Contains(t, fmt.Sprint(feed[2]["confirmation"]), "DIRECT_PAYMENT")

	// The global feed, by type and time window.
	all := l.get("/v1/transactions?type=CLOSING&from=2000-01-01", acmeKey, r.Position(t))
	require.Equal(t, http.StatusOK, all.Status, "%s", all.Body)
	assert.Len(t, all.JSON(t)["items"], 1)
	none := l.do("GET", "/v1/transactions?to=2000-01-01", acmeKey, nil)
	assert.Empty(t, none.JSON(t)["items"])
}

func TestIdempotencyKey(t *testing.T) {
	dir := t.TempDir()
	l := MustLedger(t, dir)
	id := l.MustPlace("DE-IDEM")
	path := "/v1/placements/" + id + "/payment-received"
	first := l.do("POST", path, acmeKey, `{"amount": 10}`, "Idempotency-Key", "pay-1")
	require.Equal(t, http.StatusOK, first.Status)
	head := l.head()
	again := l.do("POST", path, acmeKey, `{"amount": 10}`, "Idempotency-Key", "pay-1")
	assert.Equal(t, http.StatusOK, again.Status)
	assert.JSONEq(t, string(first.Body), string(again.Body), "the first response again")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, head, l.head(), "a repeat records nothing")
	reused := l.do("POST", path, acmeKey, `{"amount": 11}`, "Idempotency-Key", "pay-1")
	assert.Equal(t, http.StatusUnprocessableEntity, reused.Status)
	assert.Equal(t, "idempotency_key_reused", reused.JSON(t)["code"])
	// Another payment moves the placement on; a repeat still answers as the first did.
	l.do("POST", path, acmeKey, `{"amount": 5}`)
	again = l.do("POST", path, acmeKey, `{"amount": 10}`, "Idempotency-Key", "pay-1")
	assert.JSONEq(t, string(first.Body), string(again.Body))

	// It survives a restart: the key is in the events.
	l.stop()
	l2 := MustLedger(t, dir)
	head = l2.head()
	again = l2.do("POST", path, acmeKey, `{"amount": 10}`, "Idempotency-Key", "pay-1")
	assert.Equal(t, http.StatusOK, again.Status)
	assert.JSONEq(t, string(first.Body), string(again.Body))
	assert.Equal(t, head, l2.head())
	reused = l2.do("POST", path, acmeKey, `{"amount": 12}`, "Idempotency-Key", "pay-1")
	assert.Equal(t, http.StatusUnprocessableEntity, reused.Status)

	// Placing with a key is idempotent too.
	b := placeBody("DE-IDEM-2")
	p1 := l2.do("POST", "/v1/placements", acmeKey, b, "Idempotency-Key", "place-1")
	p2 := l2.do("POST", "/v1/placements", acmeKey, b, "Idempotency-Key", "place-1")
	require.Equal(t, http.StatusCreated, p1.Status)
	assert.Equal(t, http.StatusCreated, p2.Status)
	assert.JSONEq(t, string(p1.Body), string(p2.Body))
}

func TestIfMatch(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-IFMATCH")
	path := "/v1/placements/" + id + "/payment-received"
	head := l.head()
	r := l.do("POST", path, acmeKey, `{"amount": 1}`, "If-Match", `"5"`)
	assert.Equal(t, http.StatusPreconditionFailed, r.Status)
	assert.Equal(t, head, l.head())
	r = l.do("POST", path, acmeKey, `{"amount": 1}`, "If-Match", `"0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, `"2"`, r.Header.Get("ETag"), "a payment appends two events: revision 0 → 2")
}

// TestConcurrentCommandsLoseNothing: 24 concurrent payments on one placement
// all land (optimistic concurrency, retried inside the server).
func TestConcurrentCommandsLoseNothing(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-RACE")
	var wg sync.WaitGroup
	statuses := make([]int, 24)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 10}`).Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, http.StatusOK, s, "payment %d", i)
	}
	p := l.get("/v1/placements/"+id, acmeKey, l.head()).JSON(t)
	assert.Equal(t, "240.00", p["recoveredAmount"], "no lost update")
	assert.Equal(t, "48.00", p["feeAmount"])
}

func TestOperations(t *testing.T) {
	l := MustLedger(t, "")
	l.MustPlace("DE-OPS")
	assert.Equal(t, http.StatusOK, l.do("GET", "/healthz", "", nil).Status)
	ready := l.do("GET", "/readyz", "", nil)
	assert.Equal(t, http.StatusOK, ready.Status)
	m := l.do("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, m.Status)
	assert.Contains(t, string(m.Body), `ledger_commands_total{command="place",outcome="ok"} 1`)
	assert.Contains(t, string(m.Body), "ledger_projection_lag_events")
	assert.Contains(t, string(m.Body), "ledger_command_duration_seconds")
	r := l.do("GET", "/v1/placements?minPosition=999999", acmeKey, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, "a position beyond the log's head: 400 at once")
	assert.Equal(t, "invalid_query", r.JSON(t)["code"])
}

func TestAgencyRefusals(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-AGENCY")
	base := "/v1/placements/" + id
	call := l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}).JSON(t)["callId"].(string)
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"ErrSequenceNoTime", base + "/email-sequences", `{}`, 422, "validation_failed", "nextSendAt"},
		{"ErrSequenceBadTime", base + "/email-sequences", map[string]any{"nextSendAt": "tomorrow"}, 422, "validation_failed", "nextSendAt"},
		{"ErrSequenceOtherField", base + "/email-sequences", map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}, 400, "unknown_field", "scheduledAt"},
		{"ErrCallNoTime", base + "/calls", `{}`, 422, "validation_failed", "scheduledAt"},
		{"ErrCallNoBody", base + "/calls", nil, 400, "body_required", ""},
		{"ErrCompleteScheduledCall", base + "/calls/" + call + "/complete", map[string]any{"outcome": "x"}, 409, "invalid_transition", ""},
		{"ErrDialUnknownCall", base + "/calls/3fa85f64-5717-4562-b3fc-2c963f66afa6/dial", nil, 404, "call_not_found", ""},
		{"ErrDialBadCallID", base + "/calls/nope/dial", nil, 400, "invalid_id", "callId"},
		{"ErrDialWithBody", base + "/calls/" + call + "/dial", map[string]any{"x": 1}, 400, "unexpected_body", ""},
		{"ErrMissingPlacement", "/v1/placements/3fa85f64-5717-4562-b3fc-2c963f66afa6/calls", map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}, 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("POST", tc.path, agencyKey, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			p := r.JSON(t)
			assert.Equal(t, tc.code, p["code"])
			if tc.field != "" {
				require.NotEmpty(t, p["errors"])
				assert.Equal(t, tc.field, p["errors"].([]any)[0].(map[string]any)["field"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	t.Run("OKIdempotentScheduleReturnsFirstID", func(t *testing.T) {
		a := l.do("POST", base+"/calls", agencyKey, `{"scheduledAt":"2030-02-01T09:00:00Z"}`, "Idempotency-Key", "call-1")
		b := l.do("POST", base+"/calls", agencyKey, `{"scheduledAt":"2030-02-01T09:00:00Z"}`, "Idempotency-Key", "call-1")
		require.Equal(t, http.StatusCreated, a.Status)
		require.Equal(t, http.StatusCreated, b.Status)
		assert.Equal(t, a.JSON(t)["callId"], b.JSON(t)["callId"])
	})
}

func TestAdminVerify(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-VERIFY")
	l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 10}`)
	assert.Equal(t, http.StatusForbidden, l.do("GET", "/v1/admin/verify", acmeKey, nil).Status)
	r := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, true, r.JSON(t)["ok"])
}

func TestTimeTravel(t *testing.T) {
	l := MustLedger(t, "")
	created := l.do("POST", "/v1/placements", acmeKey, placeBody("DE-TIME"))
	id := created.JSON(t)["placementId"].(string)
	base := "/v1/placements/" + id
	p1 := l.do("POST", base+"/payment-received", acmeKey, `{"amount": 100}`)
	afterFirst := p1.Position(t)
	time.Sleep(5 * time.Millisecond) // distinct occurredAt for the asOf cut (not a timing assertion)
	asOf := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(5 * time.Millisecond)
	l.do("POST", base+"/payment-received", acmeKey, `{"amount": 50}`)
	rc := l.do("POST", base+"/recall", acmeKey, nil)
	require.Equal(t, http.StatusOK, rc.Status)

	then := l.do("GET", fmt.Sprintf("%s?atPosition=%d", base, afterFirst), acmeKey, nil)
	require.Equal(t, http.StatusOK, then.Status, "%s", then.Body)
	assert.JSONEq(t, string(p1.Body), string(then.Body), "at the first payment's position: exactly what the payment returned")
	byTime := l.do("GET", base+"?asOf="+asOf, acmeKey, nil)
	assert.JSONEq(t, string(p1.Body), string(byTime.Body), "as of a time between the payments")
	now := l.do("GET", base+"?atPosition=999999", acmeKey, nil).JSON(t)
	assert.Equal(t, "recalled", now["status"])
	// A position inside the recall's append means the command before it.
	inside := l.do("GET", fmt.Sprintf("%s?atPosition=%d", base, rc.Position(t)-1), acmeKey, nil).JSON(t)
	assert.Equal(t, "active", inside["status"])
	assert.Equal(t, "150.00", inside["recoveredAmount"])
	// Before it existed: 404. Bad parameters: 400.
	assert.Equal(t, http.StatusNotFound, l.do("GET", base+"?asOf=2000-01-01T00:00:00Z", acmeKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, l.do("GET", base+"?atPosition=x", acmeKey, nil).Status)
	assert.Equal(t, http.StatusBadRequest, l.do("GET", base+"?asOf=yesterday", acmeKey, nil).Status)
	// Another creditor cannot travel either.
	assert.Equal(t, http.StatusNotFound, l.do("GET", base+"?asOf="+asOf, otherKey, nil).Status)
	// Feed and audit up to then.
	feed := l.do("GET", fmt.Sprintf("/v1/claims/DE-TIME/transactions?atPosition=%d", afterFirst), acmeKey, nil).Array(t)
	assert.Len(t, feed, 4, "the handover's two INVOICE confirmations, the first payment's confirmation and accounting document")
	audit := l.do("GET", base+"/audit?asOf="+asOf, acmeKey, nil).Array(t)
	assert.Len(t, audit, 3, "opened, payment received, accounting document")
}

func TestReconciliationReport(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REC")
	l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": "120.50", "paymentNumber": "P-1"}`)
	// The payment went to the oldest invoice first (I0417211448 is paid), so waive the other.
	w := l.do("POST", "/v1/claims/DE-REC/recalls", acmeKey, waiver("I0417211449", "100"))
	require.Equal(t, http.StatusAccepted, w.Status, "%s", w.Body)
	l.do("POST", "/v1/placements/"+id+"/recall", acmeKey, nil)
	r := l.do("GET", "/v1/reports/reconciliation?from=2000-01-01", acmeKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	eur := r.JSON(t)["totals"].(map[string]any)["EUR"].(map[string]any)
	assert.EqualValues(t, 1, eur["payments"])
	assert.Equal(t, "120.50", eur["recovered"])
	assert.Equal(t, "24.10", eur["fees"])
	assert.Equal(t, "96.40", eur["netToCreditor"])
	assert.Equal(t, "100.00", eur["waived"])
	assert.Equal(t, "179.50", eur["recalled"])
	csv := l.do("GET", "/v1/reports/reconciliation", acmeKey, nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, csv.Status)
	assert.Equal(t, "text/csv; charset=utf-8", csv.Header.Get("Content-Type"))
	assert.Contains(t, string(csv.Body), "TOTAL,,,EUR,1,120.50,24.10,96.40,100.00,179.50")
	other := l.do("GET", "/v1/reports/reconciliation", otherKey, nil)
	assert.Empty(t, other.JSON(t)["lines"], "another creditor sees none of it")
	assert.Equal(t, http.StatusBadRequest, l.do("GET", "/v1/reports/reconciliation?from=yesterday", acmeKey, nil).Status)
}

func TestWebhookConfiguration(t *testing.T) {
	l := MustLedger(t, "")
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", acmeKey, nil).Status)
	head := l.head()
	for name, body := range map[string]any{
		"ErrNotHTTP":     map[string]any{"url": "ftp://example.com", "secret": "whsec_0123456789abcdef"},
		"ErrShortSecret": map[string]any{"url": "https://example.com/hook", "secret": "short"},
		"ErrUnknown":     map[string]any{"url": "https://example.com/hook", "secret": "whsec_0123456789abcdef", "x": 1},
	} {
		t.Run(name, func(t *testing.T) {
			r := l.do("PUT", "/v1/webhook", acmeKey, body)
			assert.Contains(t, []int{400, 422}, r.Status, "%s", r.Body)
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	put := l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://example.com/hook", "secret": "whsec_0123456789abcdef"})
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	assert.NotContains(t, string(put.Body), "whsec_")
	got := l.do("GET", "/v1/webhook", acmeKey, nil)
	require.Equal(t, http.StatusOK, got.Status)
	assert.Equal(t, "https://example.com/hook", got.JSON(t)["url"])
	assert.NotContains(t, string(got.Body), "whsec_", "the secret is never returned")
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", otherKey, nil).Status, "per creditor")
	d := l.do("GET", "/v1/webhook/deliveries", acmeKey, nil)
	require.Equal(t, http.StatusOK, d.Status)
	assert.Empty(t, d.JSON(t)["items"])
	// The configuration is part of the verified history.
	v := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	assert.Equal(t, http.StatusOK, v.Status, "%s", v.Body)
}

func TestPauseAndResumeThroughHTTP(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-PAUSE")
	base := "/v1/placements/" + id
	require.Equal(t, http.StatusCreated, l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"}).Status)
	call := l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-02T09:00:00Z"}).JSON(t)["callId"].(string)

	head := l.head()
	for name, body := range map[string]any{
		"ErrReason":   map[string]any{"reason": "BORED"},
		"ErrResumeAt": map[string]any{"reason": "DISPUTE", "resumeAt": "2000-01-01T00:00:00Z"},
		"ErrNoReason": map[string]any{},
	} {
		r := l.do("POST", base+"/pause", acmeKey, body)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, name)
		assert.Equal(t, head, l.head(), "%s: nothing appended", name)
	}
	assert.Equal(t, http.StatusConflict, l.do("POST", base+"/resume", acmeKey, nil).Status, "not paused")

	p := l.do("POST", base+"/pause", acmeKey, map[string]any{"reason": "DISPUTE", "resumeAt": "2031-01-01T00:00:00Z"})
	require.Equal(t, http.StatusOK, p.Status, "%s", p.Body)
	got := p.JSON(t)
	assert.Equal(t, "paused", got["status"])
	assert.Equal(t, "paused", got["emailSequences"].([]any)[0].(map[string]any)["status"])
	assert.Equal(t, "failed", got["calls"].([]any)[0].(map[string]any)["status"])
	assert.Equal(t, "paused", l.get(base, acmeKey, p.Position(t)).JSON(t)["status"], "in the read model too")
	assert.Len(t, l.get("/v1/placements?status=paused", acmeKey, p.Position(t)).JSON(t)["items"], 1)

	head = l.head()
	for name, r := range map[string]response{
		"sequence": l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"}),
		"call":     l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}),
		"dial":     l.do("POST", base+"/calls/"+call+"/dial", agencyKey, nil),
		"pause":    l.do("POST", base+"/pause", acmeKey, map[string]any{"reason": "OTHER"}),
	} {
		assert.Equal(t, http.StatusConflict, r.Status, name)
	}
	assert.Equal(t, head, l.head(), "refused while paused: nothing appended")
	pay := l.do("POST", base+"/payment-received", acmeKey, `{"amount": 10}`)
	assert.Equal(t, http.StatusOK, pay.Status, "payments still work while paused")
	assert.Equal(t, "paused", pay.JSON(t)["status"])

	rs := l.do("POST", base+"/resume", acmeKey, nil)
	require.Equal(t, http.StatusOK, rs.Status, "%s", rs.Body)
	seq := rs.JSON(t)["emailSequences"].([]any)[0].(map[string]any)
	assert.Equal(t, "active", seq["status"])
	assert.Equal(t, "2030-01-01T09:00:00Z", seq["nextSendAt"], "the sequence keeps its time")
	assert.Equal(t, "active", rs.JSON(t)["status"])
}

func TestBulkOperations(t *testing.T) {
	l := MustLedger(t, "")
	a, b, closed := l.MustPlace("DE-B1"), l.MustPlace("DE-B2"), l.MustPlace("DE-B3")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+closed+"/recall", acmeKey, nil).Status)
	theirs := l.do("POST", "/v1/placements", otherKey, placeBody("DE-THEIRS")).JSON(t)["placementId"].(string)
	missing := "3fa85f64-5717-4562-b3fc-2c963f66afa6"

	head := l.head()
	for name, body := range map[string]any{
		"ErrEmpty":      map[string]any{"placementIds": []string{}},
		"ErrNotUUID":    map[string]any{"placementIds": []string{a, "nope"}},
		"ErrDuplicate":  map[string]any{"placementIds": []string{a, a}},
		"ErrTooMany":    map[string]any{"placementIds": make([]string, 1001)},
		"ErrPauseField": map[string]any{"placementIds": []string{a}, "reason": "DISPUTE"},
	} {
		r := l.do("POST", "/v1/placements/bulk/recall", acmeKey, body)
		assert.Contains(t, []int{400, 422}, r.Status, "%s: %s", name, r.Body)
		assert.Equal(t, head, l.head(), "%s: nothing appended", name)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, l.do("POST", "/v1/placements/bulk/pause", acmeKey, map[string]any{"placementIds": []string{a}, "reason": "x"}).Status)
	assert.Equal(t, head, l.head())

	body := map[string]any{"placementIds": []string{a, closed, theirs, missing}}
	r := l.do("POST", "/v1/placements/bulk/recall", acmeKey, body, "Idempotency-Key", "bulk-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out struct {
		Results []struct {
			PlacementID string         `json:"placementId"`
			Outcome     string         `json:"outcome"`
			Problem     map[string]any `json:"problem"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out))
	require.Len(t, out.Results, 4)
	assert.Equal(t, "recalled", out.Results[0].Outcome)
	assert.Nil(t, out.Results[0].Problem)
	assert.Equal(t, "rejected", out.Results[1].Outcome)
	assert.Equal(t, "placement_closed", out.Results[1].Problem["code"])
	assert.Equal(t, "not_found", out.Results[2].Outcome, "another creditor's placement is not found")
	assert.Equal(t, "not_found", out.Results[3].Outcome)
	feed := l.do("GET", "/v1/claims/DE-B3/transactions", acmeKey, nil).Array(t)
	assert.Equal(t, "REJECTION", feed[len(feed)-1]["type"], "the rejected recall is recorded")

	head = l.head()
	again := l.do("POST", "/v1/placements/bulk/recall", acmeKey, body, "Idempotency-Key", "bulk-1")
	assert.JSONEq(t, string(r.Body), string(again.Body), "a repeated bulk call answers as the first did")
	assert.Equal(t, head, l.head(), "and changes nothing")

	p := l.do("POST", "/v1/placements/bulk/pause", acmeKey, map[string]any{"placementIds": []string{b, a}, "reason": "DISPUTE"})
	require.Equal(t, http.StatusOK, p.Status, "%s", p.Body)
	require.NoError(t, json.Unmarshal(p.Body, &out))
	assert.Equal(t, "paused", out.Results[0].Outcome)
	assert.Equal(t, "rejected", out.Results[1].Outcome, "a recalled placement cannot be paused")
}

func TestDashboardSessionAndCSRF(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-CSRF")
	page := l.do("GET", "/", "", nil)
	assert.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, string(page.Body), `id="signin"`, "signed out: the sign-in form")
	form := func(path, body string, cookie string) response {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		l.server.ServeHTTP(rec, req)
		return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	bad := form("/signin", "key=nope", "")
	assert.Equal(t, http.StatusUnauthorized, bad.Status)
	assert.Contains(t, string(bad.Body), "That key is not a creditor key")
	assert.Equal(t, http.StatusUnauthorized, form("/signin", "key="+agencyKey, "").Status, "the agency key does not sign in here")
	ok := form("/signin", "key="+acmeKey, "")
	require.Equal(t, http.StatusSeeOther, ok.Status)
	cookie := ok.Header.Get("Set-Cookie")
	assert.Contains(t, cookie, "HttpOnly")
	assert.Contains(t, cookie, "SameSite=Strict")
	assert.NotContains(t, cookie, acmeKey, "the key never goes to the browser")
	session := strings.Split(cookie, ";")[0]

	head := l.head()
	for name, body := range map[string]string{"ErrNoCSRF": "action=recall&id=" + id, "ErrWrongCSRF": "csrf=forged&action=recall&id=" + id} {
		r := form("/dashboard/bulk", body, session)
		assert.Equal(t, http.StatusSeeOther, r.Status, name)
		assert.Equal(t, "/", r.Header.Get("Location"), "%s: messages never travel in the URL", name)
		assert.Contains(t, string(l.do("GET", "/", "", nil, "Cookie", session).Body), "the form is out of date", "%s: shown once, on the next page", name)
		assert.Equal(t, head, l.head(), "%s: nothing appended", name)
	}
	r := form("/dashboard/placements/"+id+"/recall", "csrf=forged", session)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Contains(t, string(l.do("GET", "/", "", nil, "Cookie", session).Body), "the form is out of date")
	assert.Equal(t, head, l.head(), "a forged form recalls nothing")
	noSession := form("/dashboard/bulk", "csrf=x&action=recall&id="+id, "")
	assert.Equal(t, "/?error=session_end", noSession.Header.Get("Location"))
	assert.Equal(t, head, l.head())
	wctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	require.NoError(t, l.runner.WaitFor(wctx, l.head()), "the list reads the read model: let it catch up")
	list := l.do("GET", "/", "", nil, "Cookie", session)
	assert.Contains(t, string(list.Body), "DE-CSRF")
	assert.Equal(t, "DENY", list.Header.Get("X-Frame-Options"))
	assert.Contains(t, list.Header.Get("Content-Security-Policy"), "default-src 'self'")
}

func TestTooManyRequestsPerKey(t *testing.T) {
	l := MustLedger(t, "")
	keys := func() httpapi.Keys { k, _ := httpapi.ParseKeys("acme="+acmeKey, ""); return k }()
	cfg := l.config(keys)
	cfg.MaxConcurrentPerKey = 1
	srv := httpapi.New(cfg)
	// One request holds the key's only slot (its body is still coming)…
	body, sender := io.Pipe()
	started := make(chan struct{})
	finished := make(chan int, 1)
	go func() {
		req := httptest.NewRequest("POST", "/v1/placements", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+acmeKey)
		rec := httptest.NewRecorder()
		close(started)
		srv.ServeHTTP(rec, req)
		finished <- rec.Code
	}()
	<-started
	// …so another is refused with 429 and Retry-After while it lasts.
	var got int
	require.Eventually(t, func() bool {
		req := httptest.NewRequest("GET", "/v1/placements", nil)
		req.Header.Set("Authorization", "Bearer "+acmeKey)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		got = rec.Code
		if got == http.StatusTooManyRequests {
			assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		}
		return got == http.StatusTooManyRequests
	}, testWait, time.Millisecond)
	sender.CloseWithError(io.ErrUnexpectedEOF) // the client gives up
	assert.Equal(t, http.StatusBadRequest, <-finished, "unreadable_body")
	req := httptest.NewRequest("GET", "/v1/placements", nil)
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, "the slot is free again")
}

// TestMalformedJSONDoesNotSpin: found by FuzzCommandBody. A malformed value
// inside an array made the duplicate-key check loop forever (a request that
// pinned a core); each must be refused at once.
func TestMalformedJSONDoesNotSpin(t *testing.T) {
	l := MustLedger(t, "")
	for _, body := range []string{`{"placementIds":["a",}`, `[1,2,}`, `{"a":[{"b":}]}`, `[[[[`, `{"a":[1 2]}`, `[{"x":1},{"x":}]`} {
		done := make(chan int, 1)
		go func() { done <- l.do("POST", "/v1/placements/bulk/recall", acmeKey, body).Status }()
		select {
		case status := <-done:
			assert.Equal(t, http.StatusBadRequest, status, body)
		case <-time.After(testWait):
			t.Fatalf("%q is still being decoded", body)
		}
	}
}

// TestEveryChangeIsCounted: the changes that are not a placement's command
// (a webhook's configuration and removal, an erasure, the access log's
// record of a read of personal data) are counted in ledger_commands_total
// as the commands are, by the one observer every change goes through.
func TestEveryChangeIsCounted(t *testing.T) {
	l := MustLedger(t, "")
	placed := l.do("POST", "/v1/claims", acmeKey, handover("DE-COUNTED"))
	require.Equal(t, http.StatusAccepted, placed.Status, "%s", placed.Body)
	steps := []struct{ method, path string }{
		{"PUT", "/v1/webhook"},
		{"DELETE", "/v1/webhook"},
		{"GET", "/v1/claims/DE-COUNTED"},
		{"DELETE", "/v1/debtors/" + handover("DE-COUNTED")["customer"].(map[string]any)["customerNumber"].(string) + "/personal-data"},
	}
	for _, st := range steps {
		var body any
		if st.method == "PUT" {
			body = map[string]any{"url": "https://example.com/hook", "secret": "whsec_0123456789abcdef"}
		}
		r := l.do(st.method, st.path, acmeKey, body)
		require.Less(t, r.Status, 300, "%s %s: %s", st.method, st.path, r.Body)
	}
	m := string(l.do("GET", "/metrics", "", nil).Body)
	for _, name := range []string{"configure_webhook", "remove_webhook", "record_personal_data_read", "erase_personal_data"} {
		assert.Contains(t, m, `ledger_commands_total{command="`+name+`",outcome="ok"} 1`)
	}
}
