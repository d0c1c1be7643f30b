package http_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	httpapi "github.com/collections-ledger/ledger/http"
)

// TestTenantIsolationSweep walks every route of the OpenAPI document against
// creditor A's placement with creditor B's key, with the wrong kind of key
// and with no key: never a 2xx for A's resources, and never A's data in a
// body.
func TestTenantIsolationSweep(t *testing.T) {
	l := MustLedger(t, "")
	b := placeBody("DE-SECRET-A")
	b["customerNumber"] = "K-SECRET-A"
	created := l.do("POST", "/v1/placements", acmeKey, b)
	require.Equal(t, http.StatusCreated, created.Status)
	id := created.JSON(t)["placementId"].(string)
	call := l.do("POST", "/v1/placements/"+id+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-01T09:00:00Z"}).JSON(t)["callId"].(string)
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount":"10","paymentNumber":"PAY-SECRET-A"}`).Status)
	require.Equal(t, http.StatusOK, l.do("PUT", "/v1/webhook", acmeKey, map[string]any{"url": "https://a.example/hook-secret", "secret": "whsec_SECRET_A_0123456789"}).Status)
	before := l.get("/v1/placements/"+id, acmeKey, l.head())
	require.Equal(t, http.StatusOK, before.Status)
	secrets := []string{"DE-SECRET-A", "K-SECRET-A", "PAY-SECRET-A", "hook-secret", "whsec_SECRET_A"}

	var doc struct {
		Paths map[string]map[string]struct {
			Tags     []string `yaml:"tags"`
			Security []any    `yaml:"security"`
		} `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(httpapi.OpenAPI(), &doc))
	bodies := map[string]string{
		"POST /v1/placements":                              string(mustJSON(t, placeBody("DE-SWEEP"))),
		"POST /v1/placements/{id}/payment-received":        `{"amount":1}`,
		"POST /v1/placements/{id}/pause":                   `{"reason":"DISPUTE"}`,
		"POST /v1/claims/{claimNumber}/recalls":            `{}`,
		"POST /v1/placements/{id}/email-sequences":         `{"nextSendAt":"2030-01-01T09:00:00Z"}`,
		"POST /v1/placements/{id}/calls":                   `{"scheduledAt":"2030-01-01T09:00:00Z"}`,
		"POST /v1/placements/{id}/calls/{callId}/complete": `{"outcome":"x"}`,
		"POST /v1/placements/bulk/recall":                  `{"placementIds":["` + id + `"]}`,
		"POST /v1/placements/bulk/pause":                   `{"placementIds":["` + id + `"],"reason":"DISPUTE"}`,
		"PUT /v1/webhook":                                  `{"url":"https://b.example/h","secret":"whsec_B_0123456789abc"}`,
	}
	// Routes that address no resource of A's: B may use them for itself.
	collection := map[string]bool{
		"GET /v1/placements": true, "POST /v1/placements": true, "GET /v1/transactions": true,
		"GET /v1/reports/reconciliation": true, "GET /v1/webhook": true, "PUT /v1/webhook": true,
		"GET /v1/webhook/deliveries": true, "POST /v1/placements/bulk/recall": true, "POST /v1/placements/bulk/pause": true,
		"GET /v1/reports/trial-balance": true, "GET /v1/reports/remittances": true,
	}
	param := regexp.MustCompile(`\{(\w+)\}`)
	var routes []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Security != nil && len(op.Security) == 0 {
				continue // public operations routes
			}
			routes = append(routes, strings.ToUpper(method)+" "+path+" "+strings.Join(op.Tags, ","))
		}
	}
	sort.Strings(routes)
	require.NotEmpty(t, routes)
	defer func() {
		after := l.get("/v1/placements/"+id, acmeKey, l.head())
		assert.JSONEq(t, string(before.Body), string(after.Body), "nobody but A changed A's placement")
		hook := l.do("GET", "/v1/webhook", acmeKey, nil).JSON(t)
		assert.Equal(t, "https://a.example/hook-secret", hook["url"], "B's PUT did not touch A's webhook")
	}()
	for _, r := range routes {
		f := strings.Fields(r)
		method, path, tag := f[0], f[1], f[2]
		key := method + " " + path
		url := param.ReplaceAllStringFunc(path, func(m string) string {
			return map[string]string{"{id}": id, "{callId}": call, "{claimNumber}": "DE-SECRET-A"}[m]
		})
		var body any
		if b, ok := bodies[key]; ok {
			body = b
		}
		wrongKind := agencyKey
		if tag == "agency" {
			wrongKind = acmeKey
		}
		t.Run(key, func(t *testing.T) {
			check := func(who string, r response, allow2xx bool) {
				if !allow2xx {
					assert.GreaterOrEqual(t, r.Status, 400, "%s got %d: %s", who, r.Status, r.Body)
				}
				for _, s := range secrets {
					assert.NotContains(t, string(r.Body), s, "%s sees A's data", who)
				}
			}
			check("no key", l.do(method, url, "", body), false)
			if key != "GET /v1/reports/trial-balance" && key != "GET /v1/reports/remittances" { // the agency's trial balance and remittances are every creditor's, by design
				check("wrong kind of key", l.do(method, url, wrongKind, body), false)
			}
			if tag != "agency" {
				check("creditor B", l.do(method, url, otherKey, body), collection[key])
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
