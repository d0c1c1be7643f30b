package httpapi_test

// Regression tests for what the outside review of the running server found
// (docs/RELIABILITY.md, "Found by outside review"). Each failed on the code
// before its fix.

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocatedBy returns the bytes the process allocated while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDeepNestingIsRefusedInBoundedMemory: a body of 30,000 '[' once drove
// the server to 9.7 GB, because the duplicate-key walk copied its whole path
// at every level. Nesting is now refused by a byte scan before any decoder
// runs: 10^4 and 10^5 levels of arrays, objects and both, open or closed,
// cost about the body's own size, whatever the depth.
func TestDeepNestingIsRefusedInBoundedMemory(t *testing.T) {
	l := MustLedger(t, "")
	shapes := []struct {
		name string
		body func(n int) string
	}{
		{"arrays", func(n int) string { return strings.Repeat("[", n) }},
		{"closed arrays", func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }},
		{"objects", func(n int) string { return strings.Repeat(`{"a":`, n) }},
		{"closed objects", func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }},
		{"mixed", func(n int) string { return strings.Repeat(`[{"claimNumber":`, n/2) }},
		{"inside a field", func(n int) string { return `{"claimNumber":"X","invoices":` + strings.Repeat("[", n) }},
	}
	// Smaller depths first: the first that grows memory stops the test.
	for _, depth := range []int{10_000, 100_000} {
		for _, shape := range shapes {
			name, body := shape.name, shape.body(depth)
			head := l.head()
			var r response
			used := allocatedBy(func() { r = l.do("POST", "/v1/placements", acmeKey, body) })
			// The body is read once (io.ReadAll may double its buffer); nothing
			// grows with the depth. The old walk needed ~1.5·depth² bytes.
			require.Less(t, used, uint64(8*len(body)+1<<20), "%s at %d levels allocated %d bytes for a %d-byte body", name, depth, used, len(body))
			require.Equal(t, http.StatusBadRequest, r.Status, "%s at %d levels: %s", name, depth, r.Body)
			assert.Equal(t, "too_deep", r.JSON(t)["code"], "%s at %d levels", name, depth)
			assert.Equal(t, head, l.head(), "a refusal appends nothing")
		}
	}
	// The bound is generous for real bodies: ten levels are still decoded.
	ten := strings.Repeat("[", 9) + "1" + strings.Repeat("]", 9)
	r := l.do("POST", "/v1/placements/bulk/recall", acmeKey, `{"placementIds":`+ten+`}`)
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "wrong_type", r.JSON(t)["code"], "ten levels reach the decoder, which names the wrong type")
}

// TestKeysDifferingOnlyInCaseAreDuplicates: encoding/json matches field names
// case-insensitively, so {"claimNumber":…,"ClaimNumber":…} silently kept the
// last one. Such keys are refused like exact duplicates, with their path.
func TestKeysDifferingOnlyInCaseAreDuplicates(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-CASE")
	cases := []struct{ path, body, field string }{
		{"/v1/placements", `{"claimNumber":"A","ClaimNumber":"B"}`, "ClaimNumber"},
		{"/v1/placements", `{"invoices":[{"amount":1},{"amount":2,"AMOUNT":3}]}`, "invoices[1].AMOUNT"},
		{"/v1/placements/" + id + "/payment-received", `{"amount":1,"Amount":1000}`, "Amount"},
		{"/v1/placements/" + id + "/payment-received", `{"amount":1,"amount":2}`, "amount"},
		// U+212A KELVIN SIGN folds to k: encoding/json would take it for "k".
		{"/v1/placements/bulk/recall", `{"placementIds":[],"placementIds":[]}`, "placementIds"},
		{"/v1/webhook", "{\"secret\":\"0123456789abcdefg\",\"url\":\"https://example.com/k\",\"\u212a\":1,\"k\":2}", "k"},
	}
	for _, tc := range cases {
		head := l.head()
		method := "POST"
		if tc.path == "/v1/webhook" {
			method = "PUT"
		}
		r := l.do(method, tc.path, acmeKey, tc.body)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s %s: %s", tc.path, tc.body, r.Body)
		p := r.JSON(t)
		assert.Equal(t, "duplicate_key", p["code"], tc.body)
		assert.Equal(t, tc.field, p["errors"].([]any)[0].(map[string]any)["field"], tc.body)
		assert.Equal(t, head, l.head(), "nothing appended for %s", tc.body)
	}
}

// TestUnknownRoutesAre404AndWrongMethods405: with a creditor key every
// unknown /v1 path or wrong method answered 403 "this route is for agency
// keys" (the agency group's middleware ran for the group's catch-all). Now
// the router decides first, the same for every kind of key or none.
func TestUnknownRoutesAre404AndWrongMethods405(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-ROUTES")
	for _, key := range []string{acmeKey, agencyKey, "", "not-a-key-0123456789"} {
		for _, tc := range []struct {
			method, path string
			status       int
			allow        []string
		}{
			{"GET", "/v1/nope", http.StatusNotFound, nil},
			{"POST", "/v1/placements/" + id + "/nope", http.StatusNotFound, nil},
			{"GET", "/v1/claims", http.StatusNotFound, nil},
			{"DELETE", "/v1/placements", http.StatusMethodNotAllowed, []string{"GET", "POST"}},
			{"PUT", "/v1/placements/" + id + "/recall", http.StatusMethodNotAllowed, []string{"POST"}},
			{"GET", "/v1/placements/" + id + "/calls", http.StatusMethodNotAllowed, []string{"POST"}},
			{"PATCH", "/v1/admin/verify", http.StatusMethodNotAllowed, []string{"GET"}},
		} {
			head := l.head()
			r := l.do(tc.method, tc.path, key, nil)
			require.Equal(t, tc.status, r.Status, "%s %s with key %q: %s", tc.method, tc.path, key, r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			for _, m := range tc.allow {
				assert.Contains(t, r.Header.Get("Allow"), m, "%s %s", tc.method, tc.path)
			}
			assert.Equal(t, head, l.head())
		}
	}
	// A route that exists still tells the kinds of key apart.
	assert.Equal(t, http.StatusForbidden, l.do("GET", "/v1/admin/verify", acmeKey, nil).Status)
	assert.Equal(t, http.StatusForbidden, l.do("GET", "/v1/placements", agencyKey, nil).Status)
	assert.Equal(t, http.StatusUnauthorized, l.do("GET", "/v1/placements", "", nil).Status)
}

// TestMetricsLabelsAreBounded: 2,000 requests with made-up methods grew
// /metrics from 13 KB to 7.7 MB for the life of the process. Unknown methods
// and unmatched routes now share one label each.
func TestMetricsLabelsAreBounded(t *testing.T) {
	l := MustLedger(t, "")
	size := func() int { return len(l.do("GET", "/metrics", "", nil).Body) }
	for i := 0; i < 50; i++ { // every series a normal client creates
		l.do("GET", "/healthz", "", nil)
		l.do("GET", "/v1/placements", acmeKey, nil)
	}
	before := size()
	for i := 0; i < 2000; i++ {
		l.do(fmt.Sprintf("M%d", i), "/healthz", "", nil)
		l.do("GET", fmt.Sprintf("/no/such/path/%d", i), "", nil)
		l.do(fmt.Sprintf("X%d", i), fmt.Sprintf("/v1/x/%d", i), acmeKey, nil)
	}
	after := size()
	assert.Less(t, after-before, 16<<10, "/metrics grew from %d to %d bytes", before, after)
	metrics := string(l.do("GET", "/metrics", "", nil).Body)
	assert.Contains(t, metrics, `method="OTHER"`)
	assert.Contains(t, metrics, `route="unmatched"`)
	assert.NotContains(t, metrics, "/no/such/path")
}
