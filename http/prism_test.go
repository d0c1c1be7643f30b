package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// prismCLI is the validating proxy's pinned version (the Makefile pins the
// linters the same way).
const prismCLI = "@stoplight/prism-cli@5.16.0"

// prism starts Prism as a validating proxy in front of upstream, with the
// OpenAPI document, and returns its base URL. Without npx the test skips,
// except in CI, where .ci/run installs it.
func prism(t *testing.T, upstream string) string {
	t.Helper()
	npx, err := exec.LookPath("npx")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("npx is missing in CI: .ci/run installs Debian's nodejs and npm")
		}
		t.Skip("no npx to run Prism (@stoplight/prism-cli): apt-get install -y nodejs npm")
	}
	doc := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(doc, openAPIDoc(t), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	cache, err := filepath.Abs(filepath.Join("..", ".cache", "npm"))
	require.NoError(t, err)
	var logs bytes.Buffer
	cmd := exec.Command(npx, "--yes", "--cache", cache, prismCLI, "proxy", doc, upstream, "--port", fmt.Sprint(port), "--host", "127.0.0.1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(3 * time.Minute) // npx may fetch Prism first; a liveness bound
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not start: %s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func openAPIDoc(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	return b
}

// TestPrismTour drives every operation of the API, on its success paths and
// its refusals, through Prism as a validating proxy: no request and no
// response may violate the OpenAPI document. (Prism re-encodes JSON bodies,
// so the malformed-body and duplicate-key tests stay direct, in
// badinput_test.go.)
func TestPrismTour(t *testing.T) {
	l := MustLedger(t, "")
	upstream := httptest.NewServer(l.server)
	t.Cleanup(upstream.Close)
	base := prism(t, upstream.URL)

	operations := map[string]bool{}
	var ledgerPos string
	// send sends a request through Prism. Every response must conform; the
	// request must too, unless outside says it is meant to be outside the
	// document (no key, the wrong kind of key: refusals Prism sees coming).
	send := func(outside bool, method, path, key string, body any, want int, headers ...string) map[string]any {
		t.Helper()
		var rd io.Reader
		switch b := body.(type) {
		case nil:
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			require.NoError(t, err)
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, base+path, rd)
		require.NoError(t, err)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if v := resp.Header.Get("sl-violations"); v != "" {
			var violations []struct {
				Location []string `json:"location"`
			}
			require.NoError(t, json.Unmarshal([]byte(v), &violations), v)
			for _, x := range violations {
				if len(x.Location) > 0 && x.Location[0] == "request" && outside {
					continue
				}
				t.Errorf("%s %s: the document and the server disagree: %s", method, path, v)
				break
			}
		}
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		if p := resp.Header.Get("Ledger-Position"); p != "" {
			ledgerPos = p
		}
		operations[method+" "+strings.SplitN(path, "?", 2)[0]] = true
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	call := func(method, path, key string, body any, want int, headers ...string) map[string]any {
		t.Helper()
		return send(false, method, path, key, body, want, headers...)
	}
	fresh := func(path string) string {
		if strings.Contains(path, "?") {
			return path + "&minPosition=" + ledgerPos
		}
		return path + "?minPosition=" + ledgerPos
	}

	// Operations, without a key.
	call("GET", "/healthz", "", nil, 200)
	call("GET", "/readyz", "", nil, 200)
	call("GET", "/metrics", "", nil, 200)
	call("GET", "/openapi.yaml", "", nil, 200)

	// Placements.
	p := call("POST", "/v1/placements", acmeKey, placeBody("PT-1"), 201, "Idempotency-Key", "pt-1")
	id := p["placementId"].(string)
	call("POST", "/v1/placements", acmeKey, placeBody("PT-1"), 409)
	send(true, "POST", "/v1/placements", "", placeBody("PT-X"), 401)
	call("POST", "/v1/placements", agencyKey, placeBody("PT-X"), 403)
	badRate := placeBody("PT-X")
	badRate["feeRate"] = "2"
	call("POST", "/v1/placements", acmeKey, badRate, 422)
	call("GET", fresh("/v1/placements"), acmeKey, nil, 200)
	call("GET", "/v1/placements?status=active&limit=1", acmeKey, nil, 200)
	call("GET", "/v1/placements/"+id, acmeKey, nil, 200)
	call("GET", "/v1/placements/"+id+"?asOf=2000-01-01T00:00:00Z", acmeKey, nil, 404)
	call("GET", "/v1/placements/"+id, otherKey, nil, 404)
	call("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": "20.50", "paymentNumber": "PT-P1"}, 200)
	call("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 9999}, 422)
	call("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 1}, 412, "If-Match", `"0"`)
	call("POST", "/v1/placements/"+id+"/payments/PT-P1/reversal", acmeKey, map[string]any{"reason": "RETURNED"}, 200)
	call("POST", "/v1/placements/"+id+"/payments/PT-NONE/reversal", acmeKey, map[string]any{"reason": "OTHER"}, 404)
	call("POST", "/v1/placements/"+id+"/payments/PT-P1/reversal", acmeKey, map[string]any{"reason": "OTHER"}, 409)
	call("POST", "/v1/placements/"+id+"/pause", acmeKey, map[string]any{"reason": "DISPUTE", "resumeAt": nil}, 200)
	call("POST", "/v1/placements/"+id+"/pause", acmeKey, map[string]any{"reason": "DISPUTE"}, 409)
	call("POST", "/v1/placements/"+id+"/resume", acmeKey, map[string]any{}, 200)
	call("GET", "/v1/placements/"+id+"/audit", acmeKey, nil, 200)

	// The agency's routes.
	call("POST", "/v1/placements/"+id+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"}, 201)
	c := call("POST", "/v1/placements/"+id+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-02T09:00:00Z"}, 201)
	callID := c["callId"].(string)
	call("POST", "/v1/placements/"+id+"/calls", acmeKey, map[string]any{"scheduledAt": "2030-01-02T09:00:00Z"}, 403)
	call("POST", "/v1/placements/"+id+"/calls/"+callID+"/complete", agencyKey, map[string]any{"outcome": "PROMISE_TO_PAY"}, 409)
	call("POST", "/v1/placements/"+id+"/calls/"+callID+"/dial", agencyKey, nil, 200)
	call("POST", "/v1/placements/"+id+"/calls/"+callID+"/complete", agencyKey, map[string]any{"outcome": "PROMISE_TO_PAY"}, 200)
	debit := map[string]any{"amount": "5.00", "type": "COSTS", "number": "PT-D1", "date": "2024-08-01", "description": "postage"}
	call("POST", "/v1/placements/"+id+"/debits", agencyKey, debit, 201)
	call("POST", "/v1/placements/"+id+"/debits", agencyKey, debit, 201)
	call("POST", "/v1/placements/"+id+"/debits", acmeKey, debit, 403)
	call("POST", "/v1/placements/"+id+"/debits", agencyKey, map[string]any{"amount": "6.00", "type": "COSTS", "number": "PT-D1", "date": "2024-08-01", "description": "postage"}, 409)
	call("POST", "/v1/placements/"+id+"/agency-payments", agencyKey, map[string]any{"amount": "10.00", "paymentNumber": "PT-A1", "date": "2024-08-01"}, 200)
	call("POST", "/v1/placements/"+id+"/agency-payments", agencyKey, map[string]any{"amount": "11.00", "paymentNumber": "PT-A1"}, 409)
	call("POST", "/v1/placements/"+id+"/agency-payments", agencyKey, map[string]any{"amount": "1", "paymentNumber": "PT-A2", "date": "2999-01-01"}, 422)
	call("POST", "/v1/placements/"+id+"/agency-payments", acmeKey, map[string]any{"amount": "1", "paymentNumber": "PT-A2"}, 403)
	remit := map[string]any{"creditorId": "acme", "currency": "EUR", "to": "2024-08-31", "remittanceNumber": "PT-R1"}
	call("POST", "/v1/agency/remittances", agencyKey, remit, 201)
	call("POST", "/v1/agency/remittances", agencyKey, remit, 200)
	call("POST", "/v1/agency/remittances", agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": "2024-08-30", "remittanceNumber": "PT-R1"}, 409)
	call("POST", "/v1/agency/remittances", agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": "2024-08-31", "remittanceNumber": "PT-R2"}, 422)
	call("POST", "/v1/agency/remittances", agencyKey, map[string]any{"creditorId": "nobody", "currency": "EUR", "to": "2024-08-31", "remittanceNumber": "PT-R2"}, 404)
	call("POST", "/v1/agency/remittances", acmeKey, remit, 403)
	call("GET", fresh("/v1/reports/remittances"), acmeKey, nil, 200)
	call("GET", fresh("/v1/reports/remittances?creditorId=acme&remittanceNumber=PT-R1"), agencyKey, nil, 200)
	wo := call("POST", "/v1/placements", acmeKey, placeBody("PT-3"), 201)
	send(true, "POST", "/v1/placements/"+wo["placementId"].(string)+"/write-off", agencyKey, map[string]any{"reason": "BORED"}, 422) // outside the enum
	call("POST", "/v1/placements/"+wo["placementId"].(string)+"/write-off", agencyKey, map[string]any{"reason": "UNCOLLECTIBLE"}, 200)
	call("POST", "/v1/placements/"+wo["placementId"].(string)+"/write-off", agencyKey, map[string]any{"reason": "UNCOLLECTIBLE"}, 409)
	call("GET", "/v1/placements/"+wo["placementId"].(string), acmeKey, nil, 200)

	// The claims API.
	h := handover("PT-C")
	r := call("POST", "/v1/claims", acmeKey, h, 202)
	assert.Equal(t, "PT-C", r["claimNumber"])
	call("GET", fresh("/v1/claims/PT-C"), acmeKey, nil, 200)
	call("GET", "/v1/claims/PT-NONE", acmeKey, nil, 404)
	call("POST", "/v1/claims", acmeKey, chargedHandover("PT-K", "EUR", func(s string) string { return s + ".00" }), 202)
	call("POST", "/v1/claims/PT-K/payments", acmeKey, map[string]any{"paymentNumber": "PT-KP1", "amount": "140.00", "currency": "EUR"}, 202)
	call("GET", fresh("/v1/claims/PT-K"), acmeKey, nil, 200)
	call("GET", "/v1/claims/PT-C/invoices?page=1&pageSize=2", acmeKey, nil, 200)
	call("GET", "/v1/claims/search?customerNumber=K77", acmeKey, nil, 200)
	call("GET", "/v1/claims/search", acmeKey, nil, 400)
	call("POST", "/v1/claims/PT-C/payments", acmeKey, map[string]any{"invoiceNumber": "INV-2", "paymentNumber": "PT-CP1", "contractNumber": "C-1",
		"date": "2024-08-01", "description": "transfer", "amount": "30.00", "currency": "EUR", "allocateTo": "PRINCIPAL_CLAIM"}, 202)
	call("POST", "/v1/claims/PT-C/payments", acmeKey, map[string]any{"invoiceNumber": "INV-9", "amount": 1}, 422)
	call("POST", "/v1/claims/PT-C/creditWaivers", acmeKey, map[string]any{"invoiceNumber": "INV-3", "creditWaiverNumber": "PT-W1", "contractNumber": "C-2",
		"date": "2024-08-02", "description": "goodwill", "amount": 5, "currency": "EUR"}, 202)
	call("PUT", "/v1/claims/PT-C/customer", acmeKey, map[string]any{"addresses": []any{map[string]any{"street": "Neue Straße 1"}}}, 202)
	call("POST", "/v1/claims/PT-C/payments/PT-CP1/reversal", acmeKey, map[string]any{"reason": "ENTERED_IN_ERROR"}, 202)
	cancellations := "/v1/claims/PT-C/accountingDocuments/cancellations"
	call("POST", cancellations, acmeKey, map[string]any{"referenceNumber": "PT-W9", "amount": "5", "currency": "EUR"}, 404)
	call("POST", cancellations, acmeKey, map[string]any{"referenceNumber": "PT-W1", "amount": "6", "currency": "EUR"}, 422)
	call("POST", cancellations, acmeKey, map[string]any{"referenceNumber": "PT-W1", "amount": "5.00", "currency": "EUR", "date": "2024-08-03"}, 202)
	call("POST", "/v1/claims/PT-C/recalls", acmeKey, waiver("I0417211448", "1"), 422) // no such invoice on this claim
	call("POST", "/v1/claims/PT-C/recalls", acmeKey, map[string]any{}, 202)
	call("POST", "/v1/claims/PT-C/recalls", acmeKey, nil, 202) // closed: its REJECTION is in the feed
	call("GET", fresh("/v1/claims/PT-C/transactions"), acmeKey, nil, 200)
	call("GET", "/v1/claims/PT-C/transactions?fromSortNumber=2&limit=2", acmeKey, nil, 200)
	call("GET", fresh("/v1/transactions?type=accountingDocument&limit=2"), acmeKey, nil, 200)
	call("GET", "/v1/transactions?from=2024-02-01&to=2024-01-01", acmeKey, nil, 400)
	call("GET", fresh("/v1/reports/reconciliation?from=2000-01-01"), acmeKey, nil, 200)
	call("GET", fresh("/v1/claims/PT-C/postings"), acmeKey, nil, 200)
	tourPaymentPlans(l, call, fresh)
	call("GET", fresh("/v1/reports/trial-balance?asOf=2999-01-01&basis=booking"), agencyKey, nil, 200)
	call("DELETE", "/v1/debtors/K77/personal-data", acmeKey, nil, 200)
	call("DELETE", "/v1/debtors/K404/personal-data", acmeKey, nil, 404)
	call("DELETE", "/v1/debtors/K77/personal-data?creditorId=acme", agencyKey, map[string]any{"reason": "RETENTION_EXPIRED"}, 200)

	// Bulk, webhooks, verification.
	b := call("POST", "/v1/placements", acmeKey, placeBody("PT-2"), 201)
	call("POST", "/v1/placements/bulk/pause", acmeKey, map[string]any{"placementIds": []any{b["placementId"], "00000000-0000-4000-8000-000000000000"}, "reason": "OTHER"}, 200)
	call("POST", "/v1/placements/bulk/recall", acmeKey, map[string]any{"placementIds": []any{b["placementId"], id}}, 200)
	call("POST", "/v1/placements/"+id+"/recall", acmeKey, nil, 409)
	call("GET", "/v1/webhook", acmeKey, nil, 404)
	call("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://hooks.example.com/ledger", "secret": "whsec_0123456789abcdef"}, 200)
	call("GET", "/v1/webhook", acmeKey, nil, 200)
	call("GET", "/v1/webhook/deliveries", acmeKey, nil, 200)
	call("DELETE", "/v1/webhook", acmeKey, nil, 204)
	call("GET", "/v1/admin/verify", agencyKey, nil, 200)

	// Every operation of the document was toured.
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(openAPIDoc(t), &doc))
	toured := strings.Join(sortedKeys(operations), "\n")
	for path, ops := range doc.Paths {
		for method := range ops {
			pattern := "(?m)^" + strings.ToUpper(method) + " " + pathPattern(path) + "$"
			assert.Regexp(t, pattern, toured, "%s %s was toured", strings.ToUpper(method), path)
		}
	}
}

// pathPattern turns an OpenAPI path into a regular expression of the paths
// it matches.
func pathPattern(path string) string {
	var b strings.Builder
	for _, part := range strings.Split(path, "/") {
		if part == "" {
			continue
		}
		b.WriteString("/")
		if strings.HasPrefix(part, "{") {
			b.WriteString("[^/]+")
		} else {
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	return b.String()
}

// tourPaymentPlans tours the payment plan routes on a claim of its own.
func tourPaymentPlans(l *ledger, call func(method, path, key string, body any, want int, headers ...string) map[string]any, fresh func(string) string) {
	l.MustPlace("PT-PLAN")
	call("POST", "/v1/claims/PT-PLAN/payment-plans", acmeKey, planBody("PT-P1"), 201)
	call("POST", "/v1/claims/PT-PLAN/payment-plans", acmeKey, planBody("PT-P2"), 409)
	call("GET", fresh("/v1/claims/PT-PLAN/payment-plans"), acmeKey, nil, 200)
	call("GET", fresh("/v1/claims/PT-PLAN/payment-plans?creditorId=acme"), agencyKey, nil, 200)
	call("POST", "/v1/claims/PT-PLAN/payment-plans/PT-P1/cancellation", acmeKey, nil, 202)
	call("POST", "/v1/claims/PT-PLAN/payment-plans/PT-P9/cancellation", acmeKey, nil, 404)
}
