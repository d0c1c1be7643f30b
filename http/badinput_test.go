package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInputCatalogue sends malformed requests to every route: each is
// answered 4xx with a problem body (naming the field where one is at fault),
// and the log's last position does not move.
func TestBadInputCatalogue(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-BAD")
	call := l.do("POST", "/v1/placements/"+id+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}).JSON(t)["callId"].(string)
	p := "/v1/placements/" + id
	huge := `{"amount":"` + strings.Repeat("9", 2<<20) + `"}`
	place := func(mut func(map[string]any)) string {
		b := placeBody("DE-NEW")
		mut(b)
		raw, _ := json.Marshal(b)
		return string(raw)
	}
	inv := func(mut func(map[string]any)) string {
		return place(func(b map[string]any) { mut(b["invoices"].([]map[string]any)[0]) })
	}
	type tc struct {
		name, method, path, key, body string
		headers                       []string
		field                         string
	}
	cases := []tc{
		// Placing.
		{"place/broken json", "POST", "/v1/placements", acmeKey, `{"claimNumber": `, nil, ""},
		{"place/not an object", "POST", "/v1/placements", acmeKey, `[1,2]`, nil, ""},
		{"place/string body", "POST", "/v1/placements", acmeKey, `"hello"`, nil, ""},
		{"place/empty body", "POST", "/v1/placements", acmeKey, ``, nil, ""},
		{"place/null", "POST", "/v1/placements", acmeKey, `null`, nil, "feeRate"},
		{"place/trailing data", "POST", "/v1/placements", acmeKey, place(func(map[string]any) {}) + `{}`, nil, ""},
		{"place/unknown field", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["extra"] = 1 }), nil, "extra"},
		{"place/duplicate key", "POST", "/v1/placements", acmeKey, `{"currency":"EUR","currency":"USD"}`, nil, "currency"},
		{"place/customer number type", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["customerNumber"] = 7 }), nil, "customerNumber"},
		{"place/missing customer", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { delete(b, "customerNumber") }), nil, "customerNumber"},
		{"place/currency lower case", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["currency"] = "eur" }), nil, "currency"},
		{"place/currency unknown", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["currency"] = "ABC" }), nil, "currency"},
		{"place/fee rate above 1", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["feeRate"] = "1.5" }), nil, "feeRate"},
		{"place/fee rate negative", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["feeRate"] = "-0.1" }), nil, "feeRate"},
		{"place/fee rate too precise", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["feeRate"] = "0.123456" }), nil, "feeRate"},
		{"place/fee rate words", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["feeRate"] = "twenty" }), nil, "feeRate"},
		{"place/claim number spaces", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["claimNumber"] = "a b" }), nil, "claimNumber"},
		{"place/claim number too long", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["claimNumber"] = strings.Repeat("x", 65) }), nil, "claimNumber"},
		{"place/claim number type", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["claimNumber"] = true }), nil, "claimNumber"},
		{"place/no invoices", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["invoices"] = []any{} }), nil, "invoices"},
		{"place/invoices not array", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) { b["invoices"] = "x" }), nil, "invoices"},
		{"place/too many invoices", "POST", "/v1/placements", acmeKey, place(func(b map[string]any) {
			many := make([]map[string]any, 501)
			for i := range many {
				many[i] = map[string]any{"invoiceNumber": "I", "amount": 1, "dueDate": "2024-01-01"}
			}
			b["invoices"] = many
		}), nil, "invoices"},
		{"place/amount too many decimals", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = json.Number("100.001") }), nil, "invoices[0].amount"},
		{"place/amount negative", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = json.Number("-1") }), nil, "invoices[0].amount"},
		{"place/amount zero", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = 0 }), nil, "invoices[0].amount"},
		{"place/amount exponent", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = json.Number("1e400") }), nil, "invoices[0].amount"},
		{"place/amount huge", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = json.Number("99999999999999999999") }), nil, "invoices[0].amount"},
		{"place/amount bool", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = true }), nil, "invoices[0].amount"},
		{"place/amount comma", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["amount"] = "12,50" }), nil, "invoices[0].amount"},
		{"place/amount missing", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { delete(m, "amount") }), nil, "invoices[0].amount"},
		{"place/due date format", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["dueDate"] = "01.05.2024" }), nil, "invoices[0].dueDate"},
		{"place/due date impossible", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["dueDate"] = "2024-02-30" }), nil, "invoices[0].dueDate"},
		{"place/invoice number empty", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["invoiceNumber"] = "" }), nil, "invoices[0].invoiceNumber"},
		{"place/invoice unknown field", "POST", "/v1/placements", acmeKey, inv(func(m map[string]any) { m["vat"] = 1 }), nil, "vat"},
		{"place/text/plain", "POST", "/v1/placements", acmeKey, place(func(map[string]any) {}), []string{"Content-Type", "text/plain"}, ""},
		{"place/form encoded", "POST", "/v1/placements", acmeKey, "a=b", []string{"Content-Type", "application/x-www-form-urlencoded"}, ""},
		{"place/over 1 MiB", "POST", "/v1/placements", acmeKey, huge, nil, ""},
		{"place/bad idempotency key", "POST", "/v1/placements", acmeKey, place(func(map[string]any) {}), []string{"Idempotency-Key", "has space"}, ""},
		// Reading.
		{"get/bad uuid", "GET", "/v1/placements/123", acmeKey, "", nil, "id"},
		{"get/uuid without dashes", "GET", "/v1/placements/3fa85f6457174562b3fc2c963f66afa6", acmeKey, "", nil, "id"},
		{"get/bad asOf", "GET", p + "?asOf=yesterday", acmeKey, "", nil, "asOf"},
		{"get/bad atPosition", "GET", p + "?atPosition=-1", acmeKey, "", nil, "atPosition"},
		{"get/bad minPosition", "GET", p + "?minPosition=abc", acmeKey, "", nil, ""},
		{"list/bad status", "GET", "/v1/placements?status=deleted", acmeKey, "", nil, "status"},
		{"list/limit zero", "GET", "/v1/placements?limit=0", acmeKey, "", nil, "limit"},
		{"list/limit huge", "GET", "/v1/placements?limit=100000", acmeKey, "", nil, "limit"},
		{"list/bad cursor", "GET", "/v1/placements?cursor=!!!", acmeKey, "", nil, "cursor"},
		{"feed/negative from", "GET", "/v1/claims/DE-BAD/transactions?fromSortNumber=-1", acmeKey, "", nil, "fromSortNumber"},
		{"feed/limit words", "GET", "/v1/claims/DE-BAD/transactions?limit=all", acmeKey, "", nil, "limit"},
		{"transactions/bad from", "GET", "/v1/transactions?from=someday", acmeKey, "", nil, "from"},
		{"transactions/bad type", "GET", "/v1/transactions?type=PAYMENT", acmeKey, "", nil, "type"},
		{"report/bad to", "GET", "/v1/reports/reconciliation?to=2024-13-01", acmeKey, "", nil, "to"},
		{"audit/bad uuid", "GET", "/v1/placements/zzz/audit", acmeKey, "", nil, "id"},
		// Commands on a placement.
		{"pay/amount string words", "POST", p + "/payment-received", acmeKey, `{"amount":"ten"}`, nil, "amount"},
		{"pay/amount array", "POST", p + "/payment-received", acmeKey, `{"amount":[10]}`, nil, "amount"},
		{"pay/amount object", "POST", p + "/payment-received", acmeKey, `{"amount":{"v":10}}`, nil, "amount"},
		{"pay/amount null", "POST", p + "/payment-received", acmeKey, `{"amount":null}`, nil, "amount"},
		{"pay/too many decimals", "POST", p + "/payment-received", acmeKey, `{"amount":1.001}`, nil, "amount"},
		{"pay/above outstanding", "POST", p + "/payment-received", acmeKey, `{"amount":"400.01"}`, nil, "amount"},
		{"pay/payment number spaces", "POST", p + "/payment-received", acmeKey, `{"amount":1,"paymentNumber":"a b"}`, nil, "paymentNumber"},
		{"pay/payment number type", "POST", p + "/payment-received", acmeKey, `{"amount":1,"paymentNumber":5}`, nil, "paymentNumber"},
		{"pay/unknown field", "POST", p + "/payment-received", acmeKey, `{"amount":1,"currency":"EUR"}`, nil, "currency"},
		{"pay/bad if-match", "POST", p + "/payment-received", acmeKey, `{"amount":1}`, []string{"If-Match", "latest"}, ""},
		{"pay/stale if-match", "POST", p + "/payment-received", acmeKey, `{"amount":1}`, []string{"If-Match", `"99"`}, ""},
		{"recall/with body", "POST", p + "/recall", acmeKey, `{"reason":"x"}`, nil, ""},
		{"recall/broken json", "POST", p + "/recall", acmeKey, `{`, nil, ""},
		{"pause/bad reason", "POST", p + "/pause", acmeKey, `{"reason":"VACATION"}`, nil, "reason"},
		{"pause/resumeAt not a time", "POST", p + "/pause", acmeKey, `{"reason":"DISPUTE","resumeAt":"tomorrow"}`, nil, "resumeAt"},
		{"pause/resumeAt in the past", "POST", p + "/pause", acmeKey, `{"reason":"DISPUTE","resumeAt":"2001-01-01T00:00:00Z"}`, nil, "resumeAt"},
		{"resume/not paused", "POST", p + "/resume", acmeKey, ``, nil, ""},
		// Claims.
		{"claim recall/type", "POST", "/v1/claims/DE-BAD/recalls", acmeKey, `{"invoiceNumber":"I0417211448","contractNumber":"166271782837","type":"REFUND","date":"2024-01-01","description":"","amount":1,"currency":"EUR"}`, nil, "type"},
		{"claim recall/date", "POST", "/v1/claims/DE-BAD/recalls", acmeKey, `{"invoiceNumber":"I0417211448","contractNumber":"166271782837","type":"CREDIT_WAIVER","date":"yesterday","description":"","amount":1,"currency":"EUR"}`, nil, "date"},
		{"claim recall/array item", "POST", "/v1/claims/DE-BAD/recalls", acmeKey, `[{"invoiceNumber":"I0417211448","contractNumber":"166271782837","type":"CREDIT_WAIVER","date":"2024-01-01","description":"","amount":"x","currency":"EUR"}]`, nil, "[0].amount"},
		{"claim recall/unknown claim", "POST", "/v1/claims/NOPE/recalls", acmeKey, `{}`, nil, ""},
		{"claim recall/number", "POST", "/v1/claims/DE-BAD/recalls", acmeKey, `42`, nil, ""},
		// Agency.
		{"sequence/no time", "POST", p + "/email-sequences", agencyKey, `{}`, nil, "nextSendAt"},
		{"sequence/time type", "POST", p + "/email-sequences", agencyKey, `{"nextSendAt":1}`, nil, "nextSendAt"},
		{"call/date only", "POST", p + "/calls", agencyKey, `{"scheduledAt":"2030-01-01"}`, nil, "scheduledAt"},
		{"dial/bad call id", "POST", p + "/calls/xyz/dial", agencyKey, ``, nil, "callId"},
		{"complete/no outcome", "POST", p + "/calls/" + call + "/complete", agencyKey, `{}`, nil, ""},
		{"complete/outcome type", "POST", p + "/calls/" + call + "/complete", agencyKey, `{"outcome":["x"]}`, nil, "outcome"},
		// Bulk and webhook.
		{"bulk/ids not array", "POST", "/v1/placements/bulk/recall", acmeKey, `{"placementIds":"x"}`, nil, "placementIds"},
		{"bulk/bad id", "POST", "/v1/placements/bulk/recall", acmeKey, `{"placementIds":["x"]}`, nil, "placementIds[0]"},
		{"bulk pause/no reason", "POST", "/v1/placements/bulk/pause", acmeKey, `{"placementIds":["` + id + `"]}`, nil, "reason"},
		{"webhook/not a url", "PUT", "/v1/webhook", acmeKey, `{"url":"example","secret":"0123456789abcdefgh"}`, nil, "url"},
		{"webhook/no secret", "PUT", "/v1/webhook", acmeKey, `{"url":"https://example.com/h"}`, nil, "secret"},
	}
	require.GreaterOrEqual(t, len(cases), 60)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := l.head()
			var body any
			if c.body != "" {
				body = c.body
			}
			r := l.do(c.method, c.path, c.key, body, c.headers...)
			require.GreaterOrEqual(t, r.Status, 400, "%s", r.Body)
			require.Less(t, r.Status, 500, "%s", r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			var prob struct {
				Code, Detail string
				Status       int
				Errors       []struct{ Field, Message string }
			}
			require.NoError(t, json.Unmarshal(r.Body, &prob), "%s", r.Body)
			assert.NotEmpty(t, prob.Code)
			assert.NotEmpty(t, prob.Detail)
			assert.Equal(t, r.Status, prob.Status)
			if c.field != "" {
				require.NotEmpty(t, prob.Errors, "the problem names the field: %s", r.Body)
				assert.Equal(t, c.field, prob.Errors[0].Field)
			}
			assert.Equal(t, head, l.head(), "the log did not move")
		})
	}
}
