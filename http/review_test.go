package http_test

// Regression tests for what the outside review of the running server found
// (docs/RELIABILITY.md, "Found by outside review"). Each failed on the code
// before its fix.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/collections-ledger/ledger/http"
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
			{"GET", "/v1/claimz", http.StatusNotFound, nil},
			{"GET", "/v1/claims", http.StatusMethodNotAllowed, []string{"POST"}},
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

// postForm posts a dashboard form with the given headers (name, value, …).
func (l *ledger) postForm(path, body string, headers ...string) response {
	l.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	l.server.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// signIn signs acme in and returns the session cookie ("name=value").
func (l *ledger) signIn() string {
	l.t.Helper()
	r := l.postForm("/signin", "key="+acmeKey)
	require.Equal(l.t, http.StatusSeeOther, r.Status, "%s", r.Body)
	return strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
}

// TestDashboardFormsAreBounded: POST /signin read form bodies of any size
// (a 400 MiB multipart upload was spooled to disk; eight 30 MiB fields took
// the server from 32 to 395 MB), and requests without a key had no bound in
// flight. Forms are now URL-encoded only, at most 8 KiB, and at most a
// configured number of keyless requests run at once.
func TestDashboardFormsAreBounded(t *testing.T) {
	l := MustLedger(t, "")
	big := "key=" + strings.Repeat("a", 30<<20)
	var r response
	used := allocatedBy(func() { r = l.postForm("/signin", big) })
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status, "%s", r.Body)
	assert.Empty(t, r.Header.Get("Set-Cookie"))
	assert.Less(t, used, uint64(1<<20), "a 30 MiB form must not be read: %d bytes allocated", used)

	multipart := "--x\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n" + acmeKey + "\r\n--x--\r\n"
	r = l.postForm("/signin", multipart, "Content-Type", "multipart/form-data; boundary=x")
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status, "multipart is refused, not spooled")
	assert.Empty(t, r.Header.Get("Set-Cookie"))

	// Two sign-ins whose bodies never finish hold the only two slots…
	keys, err := httpapi.ParseKeys("acme="+acmeKey, "")
	require.NoError(t, err)
	cfg := l.config(keys)
	cfg.MaxAnonymousInFlight = 2
	srv := httpapi.New(cfg)
	var writers []*io.PipeWriter
	done := make(chan int, 2)
	for range 2 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		go func() {
			req := httptest.NewRequest("POST", "/signin", pr)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		_, _ = pw.Write([]byte("key=")) // the handler is reading now
	}
	// …so a third keyless request is refused, while /v1 with a key is not.
	get := func(path, key string) int {
		req := httptest.NewRequest("GET", path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusTooManyRequests, get("/", ""))
	assert.Equal(t, http.StatusTooManyRequests, get("/static/app.css", ""))
	assert.Equal(t, http.StatusOK, get("/v1/placements", acmeKey))
	for _, w := range writers {
		_ = w.Close()
	}
	<-done
	<-done
	assert.Equal(t, http.StatusOK, get("/", ""), "the slots are free again")
}

// TestLoginCSRFAndBodyOnlyTokens: POST /signin from another origin signed
// the browser in, and the CSRF token was also taken from the query string.
func TestLoginCSRFAndBodyOnlyTokens(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-LOGIN-CSRF")
	for name, headers := range map[string][]string{
		"cross-site fetch metadata":    {"Sec-Fetch-Site", "cross-site"},
		"same-site is not same-origin": {"Sec-Fetch-Site", "same-site"},
		"another origin":               {"Origin", "https://evil.example"},
		"an opaque origin":             {"Origin", "null"},
		"origin on another port":       {"Origin", "http://example.com:8081"},
	} {
		r := l.postForm("/signin", "key="+acmeKey, append(headers, "Host", "example.com")...)
		assert.Equal(t, http.StatusForbidden, r.Status, name)
		assert.Empty(t, r.Header.Get("Set-Cookie"), "%s: no session", name)
	}
	for name, headers := range map[string][]string{
		"same-origin fetch metadata": {"Sec-Fetch-Site", "same-origin"},
		"own origin":                 {"Origin", "http://example.com"},
		"no browser headers (curl)":  {},
	} {
		r := l.postForm("/signin", "key="+acmeKey, append(headers, "Host", "example.com")...)
		assert.Equal(t, http.StatusSeeOther, r.Status, name)
		assert.NotEmpty(t, r.Header.Get("Set-Cookie"), name)
	}

	// The right token in the query string, none in the body: refused.
	session := l.signIn()
	page := string(l.do("GET", "/dashboard/placements/"+id, "", nil, "Cookie", session).Body)
	csrf := page[strings.Index(page, `name="csrf" value="`)+len(`name="csrf" value="`):]
	csrf = csrf[:strings.Index(csrf, `"`)]
	head := l.head()
	r := l.postForm("/dashboard/placements/"+id+"/recall?csrf="+csrf, "", "Cookie", session)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Equal(t, head, l.head(), "a token in the URL is not a token")
	r = l.postForm("/dashboard/placements/"+id+"/recall", "csrf="+csrf, "Cookie", session)
	assert.Equal(t, http.StatusSeeOther, r.Status)
	assert.Greater(t, l.head(), head, "the token in the body works")
}

// TestDashboardHeadersAndNotices: /static/ listed its directory, responses
// lacked nosniff, the session cookie was not Secure behind a TLS proxy, and
// the dashboard showed free text from ?notice= and ?error=.
func TestDashboardHeadersAndNotices(t *testing.T) {
	l := MustLedger(t, "")
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/static/", "", nil).Status, "no directory listing")
	assert.Equal(t, http.StatusOK, l.do("GET", "/static/app.css", "", nil).Status)
	for _, path := range []string{"/healthz", "/", "/static/app.css", "/v1/placements", "/v1/nope", "/openapi.yaml"} {
		assert.Equal(t, "nosniff", l.do("GET", path, acmeKey, nil).Header.Get("X-Content-Type-Options"), path)
	}

	lure := "Your account is locked and must be verified today"
	for _, q := range []string{"?notice=", "?error="} {
		signedOut := string(l.do("GET", "/"+q+url.QueryEscape(lure), "", nil).Body)
		assert.NotContains(t, signedOut, "must be verified today", "signed out: a URL cannot put words on the page")
		signedIn := string(l.do("GET", "/"+q+url.QueryEscape(lure), "", nil, "Cookie", l.signIn()).Body)
		assert.NotContains(t, signedIn, "must be verified today", "signed in: a URL cannot put words on the page")
	}
	assert.Contains(t, string(l.do("GET", "/?notice=signed_out", "", nil).Body), "You are signed out.", "known codes are shown")

	// Behind a proxy that terminates TLS, LEDGER_PUBLIC_URL says so.
	keys, err := httpapi.ParseKeys("acme="+acmeKey, "")
	require.NoError(t, err)
	public, err := url.Parse("https://ledger.example.com")
	require.NoError(t, err)
	cfg := l.config(keys)
	cfg.PublicURL = public
	srv := httpapi.New(cfg)
	req := httptest.NewRequest("POST", "/signin", strings.NewReader("key="+acmeKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://ledger.example.com")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Set-Cookie"), "Secure")
	req = httptest.NewRequest("POST", "/signin", strings.NewReader("key="+acmeKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://ledger.example.com")
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code, "the public URL's scheme is part of its origin")
}

// TestWebhookTargetsMustBePublic: PUT /v1/webhook accepted the metadata
// service, loopback, private and unspecified addresses and numeric forms
// such as 2130706433. Each is refused, naming the field, appending nothing.
func TestWebhookTargetsMustBePublic(t *testing.T) {
	l := MustLedger(t, "")
	for _, url := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/", "http://[::1]:8080/", "http://10.0.0.1/",
		"http://0.0.0.0:8080/", "http://2130706433:8080/", "http://localhost:8080/", "http://[::ffff:10.0.0.1]/",
	} {
		head := l.head()
		r := l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": url, "secret": "whsec_0123456789abcdef"})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", url, r.Body)
		assert.Equal(t, "url", r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"], url)
		assert.Equal(t, head, l.head(), "%s: nothing appended", url)
	}
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", acmeKey, nil).Status)
}

// TestDeleteWebhook: there was no way to remove a webhook (url "" was 422,
// no DELETE). DELETE /v1/webhook removes it and records the removal.
func TestDeleteWebhook(t *testing.T) {
	l := MustLedger(t, "")
	head := l.head()
	assert.Equal(t, http.StatusNotFound, l.do("DELETE", "/v1/webhook", acmeKey, nil).Status, "nothing to remove")
	assert.Equal(t, head, l.head())
	put := l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://hooks.example.com/h", "secret": "whsec_0123456789abcdef"})
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	assert.Equal(t, http.StatusNotFound, l.do("DELETE", "/v1/webhook", otherKey, nil).Status, "another creditor's is not touched")
	del := l.do("DELETE", "/v1/webhook", acmeKey, nil)
	require.Equal(t, http.StatusNoContent, del.Status, "%s", del.Body)
	assert.Greater(t, del.Position(t), head, "the removal is recorded")
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/webhook", acmeKey, nil).Status)
	assert.Equal(t, http.StatusNotFound, l.do("DELETE", "/v1/webhook", acmeKey, nil).Status)
	put = l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://hooks.example.com/2", "secret": "whsec_0123456789abcdef"})
	require.Equal(t, http.StatusOK, put.Status)
	assert.Equal(t, "https://hooks.example.com/2", l.do("GET", "/v1/webhook", acmeKey, nil).JSON(t)["url"], "and can be set again")
	v := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	assert.Equal(t, http.StatusOK, v.Status, "%s", v.Body)
}

// numbered is a credit waiver line of the example claim with its number.
func numbered(number, invoice, amount string) map[string]any {
	w := waiver(invoice, amount)
	w["creditWaiverNumber"] = number
	return w
}

// TestNumberedRetriesAnswerAsTheFirstDid (API.md section 8): a payment with
// a paymentNumber that paid the claim answered 200, its retry 409; waivers
// that closed the claim, sent again, recorded a false REJECTION; a repeated
// waiver on an open claim answered with a new requestId that appears
// nowhere; the same paymentNumber with another amount was accepted as a
// repeat. Each repeat now answers exactly as the first request (status,
// body, requestId), records nothing, and survives a restart; another
// content under the same number is 409.
func TestNumberedRetriesAnswerAsTheFirstDid(t *testing.T) {
	dir := t.TempDir()
	l := MustLedger(t, dir)
	paid := l.MustPlace("DE-REPEAT-PAY")
	pay := "/v1/placements/" + paid + "/payment-received"
	first := l.do("POST", pay, acmeKey, `{"amount": "400.00", "paymentNumber": "PN-1"}`)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	require.Equal(t, "paid", first.JSON(t)["status"])

	open := l.MustPlace("DE-REPEAT-OPEN")
	closing := "/v1/claims/DE-REPEAT-OPEN/recalls"
	wOpen := l.do("POST", closing, acmeKey, []any{numbered("W-1", "I0417211448", "40")})
	require.Equal(t, http.StatusAccepted, wOpen.Status, "%s", wOpen.Body)
	wClose := l.do("POST", closing, acmeKey, []any{numbered("W-2", "I0417211448", "60"), numbered("W-3", "I0417211449", "300")})
	require.Equal(t, http.StatusAccepted, wClose.Status, "%s", wClose.Body)
	require.Equal(t, "recalled", l.get("/v1/placements/"+open, acmeKey, wClose.Position(t)).JSON(t)["status"], "the waivers closed it")

	check := func(l *ledger) {
		t.Helper()
		head := l.head()
		again := l.do("POST", pay, acmeKey, `{"amount": 400, "paymentNumber": "PN-1"}`)
		assert.Equal(t, http.StatusOK, again.Status, "a retry of the payment that paid the claim: %s", again.Body)
		assert.JSONEq(t, string(first.Body), string(again.Body), "the same body")
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, first.Header.Get("Ledger-Position"), again.Header.Get("Ledger-Position"))

		for _, tc := range []struct {
			body  any
			first response
		}{
			{[]any{numbered("W-1", "I0417211448", "40")}, wOpen},
			{numbered("W-1", "I0417211448", "40.00"), wOpen},
			{[]any{numbered("W-2", "I0417211448", "60"), numbered("W-3", "I0417211449", "300")}, wClose},
			{[]any{numbered("W-3", "I0417211449", "300"), numbered("W-2", "I0417211448", "60")}, wClose},
		} {
			again := l.do("POST", closing, acmeKey, tc.body)
			assert.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
			assert.Equal(t, tc.first.JSON(t)["requestId"], again.JSON(t)["requestId"], "the first request's id, which the audit trail shows")
		}
		assert.Equal(t, head, l.head(), "repeats record nothing")
		feed := string(l.do("GET", "/v1/claims/DE-REPEAT-OPEN/transactions", acmeKey, nil).Body)
		assert.NotContains(t, feed, "REJECTION", "no false rejection")
		audit := string(l.do("GET", "/v1/placements/"+open+"/audit", acmeKey, nil).Body)
		assert.Contains(t, audit, wOpen.JSON(t)["requestId"].(string))

		for _, tc := range []struct {
			path string
			body any
			code string
		}{
			{pay, `{"amount": 399, "paymentNumber": "PN-1"}`, "payment_number_reused"},
			{closing, []any{numbered("W-1", "I0417211448", "41")}, "credit_waiver_number_reused"},
			{closing, []any{numbered("W-2", "I0417211449", "60"), numbered("W-9", "I0417211448", "1")}, "credit_waiver_number_reused"},
		} {
			r := l.do("POST", tc.path, acmeKey, tc.body)
			require.Equal(t, http.StatusConflict, r.Status, "%v: %s", tc.body, r.Body)
			assert.Equal(t, tc.code, r.JSON(t)["code"])
			assert.Equal(t, head, l.head(), "a reused number records nothing")
		}
	}
	check(l)
	l.stop()
	check(MustLedger(t, dir)) // the numbers are in the events
}

// TestBulkIdempotencyKeyReuseIsRefusedWhole: a bulk request's key reused
// with another body was answered 200 with a problem per item (and items the
// first request did not have were done). The whole request is now refused
// with 422 idempotency_key_reused, appending nothing, also after a restart.
func TestBulkIdempotencyKeyReuseIsRefusedWhole(t *testing.T) {
	dir := t.TempDir()
	l := MustLedger(t, dir)
	a, b, c := l.MustPlace("DE-BULK-A"), l.MustPlace("DE-BULK-B"), l.MustPlace("DE-BULK-C")
	first := l.do("POST", "/v1/placements/bulk/recall", acmeKey, map[string]any{"placementIds": []string{a, b}}, "Idempotency-Key", "bulk-1")
	require.Equal(t, http.StatusOK, first.Status)
	check := func(l *ledger) {
		t.Helper()
		head := l.head()
		for _, body := range []map[string]any{
			{"placementIds": []string{c}},
			{"placementIds": []string{a, b, c}},
			{"placementIds": []string{b, a}},
		} {
			r := l.do("POST", "/v1/placements/bulk/recall", acmeKey, body, "Idempotency-Key", "bulk-1")
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%v: %s", body, r.Body)
			assert.Equal(t, "idempotency_key_reused", r.JSON(t)["code"])
		}
		r := l.do("POST", "/v1/placements/bulk/pause", acmeKey, map[string]any{"placementIds": []string{a, b}, "reason": "OTHER"}, "Idempotency-Key", "bulk-1")
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "another route, same key")
		r = l.do("POST", "/v1/placements/"+c+"/recall", acmeKey, nil, "Idempotency-Key", "bulk-1")
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, "a single command with the bulk's key")
		assert.Equal(t, head, l.head(), "nothing appended")
		same := l.do("POST", "/v1/placements/bulk/recall", acmeKey, map[string]any{"placementIds": []string{a, b}}, "Idempotency-Key", "bulk-1")
		assert.Equal(t, http.StatusOK, same.Status)
		assert.JSONEq(t, string(first.Body), string(same.Body), "the same request answers as it first did")
		assert.Equal(t, head, l.head())
		assert.Equal(t, "active", l.do("GET", "/v1/placements/"+c, acmeKey, nil).JSON(t)["status"])
	}
	check(l)
	l.stop()
	check(MustLedger(t, dir))
}

// TestCreditorFeedPagesAndKeepsCommandOrder: GET /v1/transactions cut at
// limit with no way to continue, and listed a total recall's CLOSING before
// that command's accounting document (sortNumbers 0, 2, 1). It now pages
// with a cursor and keeps each command's items in sortNumber order.
func TestCreditorFeedPagesAndKeepsCommandOrder(t *testing.T) {
	l := MustLedger(t, "")
	var last response
	for i := range 4 {
		claim := fmt.Sprintf("DE-FEED-%d", i)
		id := l.MustPlace(claim)
		last = l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 10}`)
		require.Equal(t, http.StatusOK, last.Status)
		last = l.do("POST", "/v1/placements/"+id+"/recall", acmeKey, nil)
		require.Equal(t, http.StatusOK, last.Status)
	}
	whole := l.get("/v1/transactions?limit=1000", acmeKey, last.Position(t))
	require.Equal(t, http.StatusOK, whole.Status, "%s", whole.Body)
	var all feedPageJSON
	require.NoError(t, json.Unmarshal(whole.Body, &all))
	require.Len(t, all.Items, 4*7, "per claim: two INVOICE confirmations, payment confirmation and document, recall confirmation, document, closing")
	assert.Nil(t, all.NextCursor, "everything fit: no cursor")
	sorts := map[string][]float64{}
	for _, it := range all.Items {
		sorts[it["claimNumber"].(string)] = append(sorts[it["claimNumber"].(string)], it["sortNumber"].(float64))
	}
	for claim, s := range sorts {
		assert.Equal(t, []float64{0, 1, 2, 3, 4, 5, 6}, s, "%s: each command's items in sortNumber order, CLOSING last", claim)
	}

	var paged []map[string]any
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		r := l.do("GET", "/v1/transactions?limit=3"+cursor, acmeKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var page feedPageJSON
		require.NoError(t, json.Unmarshal(r.Body, &page))
		assert.LessOrEqual(t, len(page.Items), 3)
		paged = append(paged, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	assert.Equal(t, all.Items, paged, "the pages, in turn, are the whole feed: nothing cut, nothing twice")

	closings := l.do("GET", "/v1/transactions?type=closing&limit=2", acmeKey, nil)
	var page feedPageJSON
	require.NoError(t, json.Unmarshal(closings.Body, &page))
	assert.Len(t, page.Items, 2)
	assert.NotNil(t, page.NextCursor, "two more closings")
	for _, it := range page.Items {
		assert.Equal(t, "CLOSING", it["type"])
	}
	for _, bad := range []string{"?cursor=nope", "?cursor=MTIz", "?limit=0", "?limit=1001"} {
		r := l.do("GET", "/v1/transactions"+bad, acmeKey, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, bad)
	}
}

type feedPageJSON struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

// TestWindowFromAfterToIsRefused: from after to answered 200 with nothing;
// it is a bad query parameter, 400 as docs/API.md says of every one (it
// was 422).
func TestWindowFromAfterToIsRefused(t *testing.T) {
	l := MustLedger(t, "")
	for _, path := range []string{"/v1/reports/reconciliation", "/v1/transactions"} {
		for _, q := range []string{"?from=2024-05-01&to=2024-04-01", "?from=2024-05-01&to=2024-05-01", "?from=2024-05-01T10:00:00Z&to=2024-05-01T09:00:00Z"} {
			r := l.do("GET", path+q, acmeKey, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s%s: %s", path, q, r.Body)
			assert.Equal(t, "invalid_query", r.JSON(t)["code"])
			assert.Equal(t, "to", r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"])
		}
		assert.Equal(t, http.StatusOK, l.do("GET", path+"?from=2024-04-01&to=2024-05-01", acmeKey, nil).Status)
	}
}

// TestClaimNumbersInPathsAndInvisibleCharacters: claim numbers with '/'
// were accepted but unreachable on /v1/claims/{claimNumber}/…; control and
// bidirectional-override characters were accepted in identifiers and text
// and shown in the dashboard. Each is now refused, naming the field, with
// nothing appended; right-to-left text stays allowed in descriptions.
func TestClaimNumbersInPathsAndInvisibleCharacters(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-TEXT")
	with := func(field, value string) map[string]any {
		b := placeBody("DE-TEXT-2")
		b[field] = value
		return b
	}
	cases := []struct {
		name, method, path, key string
		body                    any
		field                   string
	}{
		{"slash in claim number", "POST", "/v1/placements", acmeKey, with("claimNumber", "DE/1"), "claimNumber"},
		{"NUL in customer number", "POST", "/v1/placements", acmeKey, with("customerNumber", "K\u00001"), "customerNumber"},
		{"escape in customer number", "POST", "/v1/placements", acmeKey, with("customerNumber", "\u001b[31mK1"), "customerNumber"},
		{"RLO in customer number", "POST", "/v1/placements", acmeKey, with("customerNumber", "K1\u202egpj.exe"), "customerNumber"},
		{"zero-width space in customer number", "POST", "/v1/placements", acmeKey, with("customerNumber", "K\u200b1"), "customerNumber"},
		{"line separator in customer number", "POST", "/v1/placements", acmeKey, with("customerNumber", "K\u20281"), "customerNumber"},
		{"NUL in a description", "POST", "/v1/claims/DE-TEXT/recalls", acmeKey,
			map[string]any{"invoiceNumber": "I0417211448", "contractNumber": "166271782837", "type": "CREDIT_WAIVER", "date": "2024-01-01",
				"description": "good\u0000will", "amount": 1, "currency": "EUR"}, "description"},
		{"escape in a description", "POST", "/v1/claims/DE-TEXT/recalls", acmeKey,
			map[string]any{"invoiceNumber": "I0417211448", "contractNumber": "166271782837", "type": "CREDIT_WAIVER", "date": "2024-01-01",
				"description": "\u001b]8;;https://evil.example\u0007click", "amount": 1, "currency": "EUR"}, "description"},
		{"control in a webhook URL", "PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://hooks.example.com/\u202eh", "secret": "whsec_0123456789abcdef"}, "url"},
	}
	for _, tc := range cases {
		head := l.head()
		r := l.do(tc.method, tc.path, tc.key, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.name, r.Body)
		assert.Equal(t, tc.field, r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"], tc.name)
		assert.Equal(t, head, l.head(), "%s: nothing appended", tc.name)
	}
	rtl := l.do("POST", "/v1/claims/DE-TEXT/recalls", acmeKey, map[string]any{"invoiceNumber": "I0417211448", "contractNumber": "166271782837",
		"type": "CREDIT_WAIVER", "date": "2024-01-01", "description": "تنازل\tgoodwill\r\nline two", "amount": 1, "currency": "EUR"})
	assert.Equal(t, http.StatusAccepted, rtl.Status, "right-to-left text, tabs and line breaks are text: %s", rtl.Body)

	// Agency text: a call's outcome.
	call := l.do("POST", "/v1/placements/"+id+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"})
	require.Equal(t, http.StatusCreated, call.Status, "%s", call.Body)
	callID := call.JSON(t)["callId"].(string)
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/calls/"+callID+"/dial", agencyKey, nil).Status)
	head := l.head()
	r := l.do("POST", "/v1/placements/"+id+"/calls/"+callID+"/complete", agencyKey, map[string]any{"outcome": "promised\u0008 to pay"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Equal(t, head, l.head())
}

// TestEveryISO4217CurrencyWithMinorUnits: only 31 currencies were
// accepted, from a hand list. The ledger now takes ISO 4217's own table:
// every currency with a minor unit, at its scale; metals and test codes
// are refused.
func TestEveryISO4217CurrencyWithMinorUnits(t *testing.T) {
	l := MustLedger(t, "")
	place := func(claim, currency, amount string) response {
		b := placeBody(claim)
		b["currency"] = currency
		b["invoices"] = []map[string]any{{"invoiceNumber": "I1", "contractNumber": "C1", "amount": amount, "dueDate": "2024-05-01"}}
		return l.do("POST", "/v1/placements", acmeKey, b)
	}
	for i, tc := range []struct {
		currency, amount string
		status           int
	}{
		{"VND", "250000", 201}, {"CLF", "12.3456", 201}, {"IQD", "100.125", 201}, {"UYW", "1.2345", 201}, {"SLE", "10.50", 201},
		{"VND", "1.5", 422}, {"CLF", "1.23456", 422}, {"JPY", "1.1", 422},
		{"XAU", "1", 422}, {"XTS", "1", 422}, {"XXX", "1", 422}, {"DEM", "1", 422}, {"eur", "1", 422},
	} {
		head := l.head()
		r := place(fmt.Sprintf("DE-CCY-%d", i), tc.currency, tc.amount)
		assert.Equal(t, tc.status, r.Status, "%s %s: %s", tc.currency, tc.amount, r.Body)
		if tc.status != 201 {
			assert.Equal(t, head, l.head())
		}
	}
}
