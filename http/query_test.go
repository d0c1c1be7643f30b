package http_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	httpapi "github.com/collections-ledger/ledger/http"
)

// documentedQueries reads, independently of the server, every /v1
// operation's query parameters from the OpenAPI document.
func documentedQueries(t *testing.T) map[string][]string {
	t.Helper()
	type param struct {
		Ref  string `yaml:"$ref"`
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	var doc struct {
		Paths      map[string]map[string]struct{ Parameters []param } `yaml:"paths"`
		Components struct{ Parameters map[string]param }              `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(httpapi.OpenAPI(), &doc))
	out := map[string][]string{}
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for method, op := range ops {
			names := []string{}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
				}
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			sort.Strings(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out
}

// TestQueryParametersAreTheDocumentedOnes: on every /v1 operation, each
// query parameter the OpenAPI document declares gets past the check, a
// repeated one is 400 repeated_query_parameter, and any other is 400
// unknown_query_parameter naming it (API.md §14); none of them records
// anything.
func TestQueryParametersAreTheDocumentedOnes(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-QUERY")
	fill := strings.NewReplacer("{id}", id, "{claimNumber}", "DE-QUERY", "{paymentNumber}", "P-1",
		"{callId}", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "{customerNumber}", "NOBODY")
	ops := documentedQueries(t)
	require.NotEmpty(t, ops)
	head := l.head()
	for op, names := range ops {
		method, path, _ := strings.Cut(op, " ")
		path = fill.Replace(path)
		t.Run(op, func(t *testing.T) {
			key := acmeKey // the key is checked before the query: an agency route needs the agency's
			if l.do(method, path+"?zzNotAParameter=1", acmeKey, nil).Status == http.StatusForbidden {
				key = agencyKey
			}
			r := l.do(method, path+"?zzNotAParameter=1", key, nil)
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			p := r.JSON(t)
			assert.Equal(t, "unknown_query_parameter", p["code"])
			assert.Equal(t, "zzNotAParameter", firstField(p))
			for _, name := range names {
				once := l.do(method, path+"?"+name+"=1", key, nil)
				assert.NotContains(t, string(once.Body), "_query_parameter", "%s is declared: %s", name, once.Body)
				twice := l.do(method, path+"?"+name+"=1&"+name+"=2", key, nil)
				require.Equal(t, http.StatusBadRequest, twice.Status, "%s twice: %s", name, twice.Body)
				p := twice.JSON(t)
				assert.Equal(t, "repeated_query_parameter", p["code"], name)
				assert.Equal(t, name, firstField(p))
			}
		})
	}
	assert.Equal(t, head, l.head(), "nothing recorded")
}

// TestQueryParameterRefusals: the cases the review found, and the routes
// the rule leaves alone (the dashboard and the operational ones).
func TestQueryParameterRefusals(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-QREF")
	cases := []struct {
		name, method, path, key string
		status                  int
		code, field             string
	}{
		{"without a key, the key is checked first", "GET", "/v1/placements?customerNumber=x", "none", 401, "", ""},
		{"an agency route with a creditor key", "POST", "/v1/placements/" + id + "/calls?x=1", "", 403, "", ""},
		{"customerNumber on the list", "GET", "/v1/placements?customerNumber=x", "", 400, "unknown_query_parameter", "customerNumber"},
		{"status twice", "GET", "/v1/placements?status=active&status=paid", "", 400, "repeated_query_parameter", "status"},
		{"status once", "GET", "/v1/placements?status=active", "", 200, "", ""},
		{"pretty is not a parameter", "GET", "/v1/placements/" + id + "?pretty", "", 400, "unknown_query_parameter", "pretty"},
		{"several unknown, named in order", "GET", "/v1/placements?zeta=1&alpha=2", "", 400, "unknown_query_parameter", "alpha"},
		{"on a command", "POST", "/v1/placements/" + id + "/recall?dryRun=true", "", 400, "unknown_query_parameter", "dryRun"},
		{"on a route without parameters", "GET", "/v1/webhook/deliveries?limit=5", "", 400, "unknown_query_parameter", "limit"},
		{"an unknown /v1 path", "GET", "/v1/nope?x=1", "", 404, "route_not_found", ""},
		{"healthz is not /v1", "GET", "/healthz?x=1", "", 200, "", ""},
		{"the dashboard is not /v1", "GET", "/?x=1&status=paid&status=active", "", 200, "", ""},
	}
	head := l.head()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := acmeKey
			if tc.key == "none" {
				key = ""
			}
			r := l.do(tc.method, tc.path, key, nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				p := r.JSON(t)
				assert.Equal(t, tc.code, p["code"])
				if tc.field != "" {
					assert.Equal(t, tc.field, firstField(p))
					assert.Contains(t, p["detail"], tc.field)
				}
			}
			assert.Equal(t, head, l.head(), "nothing recorded")
		})
	}
	assert.Equal(t, "active", l.get("/v1/placements/"+id, acmeKey, head).JSON(t)["status"], "the refused recall did not run")
}

// TestClaimAsOf: GET /v1/claims/{n}?asOf= and ?atPosition= give the claim
// as it stood then, as the placement's do, without the debtor's data.
func TestClaimAsOf(t *testing.T) {
	l := MustLedger(t, "")
	before := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	id := l.MustPlace("DE-CASOF")
	placed := l.head()
	pay := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 100})
	require.Equal(t, http.StatusOK, pay.Status, "%s", pay.Body)
	now := l.get("/v1/claims/DE-CASOF", acmeKey, pay.Position(t)).JSON(t)
	require.Equal(t, "100.00", now["paidAmount"])
	cases := []struct {
		name   string
		query  string
		status int
		paid   string
	}{
		{"at the placement's position", "atPosition=" + strconv.FormatUint(uint64(placed), 10), 200, "0.00"},
		{"at the payment's position", "atPosition=" + strconv.FormatUint(uint64(pay.Position(t)), 10), 200, "100.00"},
		{"as of now", "asOf=" + url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339)), 200, "100.00"},
		{"before it existed", "asOf=" + url.QueryEscape(before), 404, ""},
		{"a malformed time", "asOf=yesterday", 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("GET", "/v1/claims/DE-CASOF?"+tc.query, acmeKey, nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, head, l.head(), "a read records nothing")
			if tc.status != http.StatusOK {
				return
			}
			cl := r.JSON(t)
			assert.Equal(t, tc.paid, cl["paidAmount"])
			assert.Equal(t, "DE-CASOF", cl["claimNumber"])
			assert.NotContains(t, cl, "customer", "the debtor's data only as it stands")
			assert.Equal(t, `"`+strconv.Itoa(int(cl["revision"].(float64)))+`"`, r.Header.Get("ETag"))
		})
	}
}

// TestReconciliationCurrency: ?currency= limits the report to one
// currency's entries, lines and totals.
func TestReconciliationCurrency(t *testing.T) {
	l := MustLedger(t, "")
	eur := l.MustPlace("DE-REC-EUR")
	body := placeBody("DE-REC-USD")
	body["currency"] = "USD"
	usd := l.do("POST", "/v1/placements", acmeKey, body)
	require.Equal(t, http.StatusCreated, usd.Status, "%s", usd.Body)
	usdID := usd.JSON(t)["placementId"].(string)
	for _, id := range []string{eur, usdID} {
		r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 10})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	const report = "/v1/reports/reconciliation?from=2000-01-01"
	cases := []struct {
		name, currency string
		status         int
		totals         []string
		lines          int
	}{
		{"all currencies", "", 200, []string{"EUR", "USD"}, 2},
		{"USD only", "USD", 200, []string{"USD"}, 1},
		{"a currency without entries", "GBP", 200, []string{"GBP"}, 0},
		{"lower case", "usd", 400, nil, 0},
		{"not a currency", "XYZ", 400, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := report
			if tc.currency != "" {
				path += "&currency=" + tc.currency
			}
			head := l.head()
			r := l.do("GET", path, acmeKey, nil)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, head, l.head(), "a report records nothing")
			if tc.status != http.StatusOK {
				assert.Equal(t, "currency", firstField(r.JSON(t)))
				return
			}
			var got struct {
				Totals  map[string]json.RawMessage  `json:"totals"`
				Lines   []struct{ Currency string } `json:"lines"`
				Entries []struct{ Currency string } `json:"entries"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &got))
			var totals []string
			for cur := range got.Totals {
				totals = append(totals, cur)
			}
			sort.Strings(totals)
			assert.Equal(t, tc.totals, totals)
			assert.Len(t, got.Lines, tc.lines)
			for _, e := range append(got.Lines, got.Entries...) {
				if tc.currency != "" {
					assert.Equal(t, tc.currency, e.Currency)
				}
			}
		})
	}
}

// firstField is the field a problem's first error names ("" when none).
func firstField(problem map[string]any) string {
	errs, _ := problem["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	f, _ := e["field"].(string)
	return f
}
