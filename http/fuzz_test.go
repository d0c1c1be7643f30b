package http_test

import (
	"net/http"
	"testing"
)

// fuzzRoutes are the routes whose bodies come from outside.
var fuzzRoutes = []struct{ method, path, key string }{
	{"POST", "/v1/placements", acmeKey},
	{"POST", "/v1/placements/{id}/payment-received", acmeKey},
	{"POST", "/v1/placements/{id}/recall", acmeKey},
	{"POST", "/v1/placements/{id}/pause", acmeKey},
	{"POST", "/v1/claims/DE-FUZZ/recalls", acmeKey},
	{"POST", "/v1/placements/bulk/recall", acmeKey},
	{"POST", "/v1/placements/bulk/pause", acmeKey},
	{"PUT", "/v1/webhook", acmeKey},
	{"POST", "/v1/placements/{id}/email-sequences", agencyKey},
	{"POST", "/v1/placements/{id}/calls", agencyKey},
}

// FuzzCommandBody sends arbitrary bodies to every command route. Invariants:
// no panic, never a 5xx, and a refusal never appends anything.
func FuzzCommandBody(f *testing.F) {
	seeds := []string{
		`{"claimNumber":"X-1","customerNumber":"K","currency":"EUR","feeRate":"0.2","invoices":[{"invoiceNumber":"I","amount":1,"dueDate":"2024-01-01"}]}`,
		`{"amount":"10.50","paymentNumber":"P-1"}`, `{"amount":1e9}`, ``, `{}`, `null`, `[]`,
		`{"reason":"DISPUTE","resumeAt":"2031-01-01T00:00:00Z"}`,
		`{"invoiceNumber":"I0417211448","contractNumber":"166271782837","type":"CREDIT_WAIVER","date":"2024-01-01","description":"x","amount":1,"currency":"EUR"}`,
		`[{"invoiceNumber":"I0417211449","contractNumber":"166271782837","type":"CREDIT_WAIVER","date":"2024-01-01","description":"x","amount":"0.01","currency":"EUR"}]`,
		`{"placementIds":["3fa85f64-5717-4562-b3fc-2c963f66afa6"],"reason":"OTHER"}`,
		`{"url":"https://example.com/h","secret":"0123456789abcdefgh"}`, `{"nextSendAt":"2030-01-01T09:00:00Z"}`,
		`{"scheduledAt":"2030-01-01T09:00:00+02:00"}`, `{"a":{"a":{"a":[[[[1]]]]}}}`, `{"amount":"` + "9999999999999.999999999999" + `"}`,
		`{"amount":1e2}`, `{"amount":"1.2345E2"}`, `{"amount":1e-3}`, `{"amount":1e400}`, `{"amount":1e-999999999999}`, `{"amount":[1]}`, `{"amount":true}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	// One ledger for the whole target: it lives as long as the fuzzing does.
	l := MustLedger(f, "")
	id := l.MustPlace("DE-FUZZ")
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		l := l.with(t) // the shared ledger, reporting to this input's t
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := r.path
		if len(path) > 16 && path[:16] == "/v1/placements/{" {
			path = "/v1/placements/" + id + path[len("/v1/placements/{id}"):]
		}
		head := l.head()
		resp := l.do(r.method, path, r.key, body)
		if resp.Status >= 500 {
			t.Fatalf("%s %s answered %d to %q: %s", r.method, path, resp.Status, body, resp.Body)
		}
		if resp.Status >= 400 && resp.Status != http.StatusConflict && l.head() != head {
			// A 409 for a recall of a closed placement records its REJECTION by design.
			t.Fatalf("%s %s refused %q with %d but appended", r.method, path, body, resp.Status)
		}
	})
}
