package http_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecallAndWriteOffCountTheirCharges: a claim of 100 with costs of 20
// and interests of 10 is recalled, another written off; the reconciliation
// (JSON and CSV), the finance page and its CSV count 130 recalled and 130
// written off, the movements of creditor/recalled and creditor/written-off
// in the trial balance.
func TestRecallAndWriteOffCountTheirCharges(t *testing.T) {
	l := MustLedger(t, "")
	eur := func(s string) string { return s + ".00" }
	var ids []string
	for _, claim := range []string{"RC-RECALL", "RC-WRITEOFF"} {
		r := l.do("POST", "/v1/claims", acmeKey, chargedHandover(claim, "EUR", eur))
		require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
		ids = append(ids, r.JSON(t)["placementId"].(string))
	}
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+ids[0]+"/recall", acmeKey, nil).Status)
	w := l.do("POST", "/v1/placements/"+ids[1]+"/write-off", agencyKey, map[string]any{"reason": "UNCOLLECTIBLE"})
	require.Equal(t, http.StatusOK, w.Status, "%s", w.Body)

	rep := l.get("/v1/reports/reconciliation?from=2000-01-01", acmeKey, w.Position(t)).JSON(t)
	total := rep["totals"].(map[string]any)["EUR"].(map[string]any)
	assert.Equal(t, "130.00", total["recalled"], "principal 100, costs 20, interests 10")
	assert.Equal(t, "130.00", total["writtenOff"])
	kinds := map[string]string{}
	for _, e := range rep["entries"].([]any) {
		e := e.(map[string]any)
		kinds[e["kind"].(string)] = e["amount"].(string)
	}
	assert.Equal(t, map[string]string{"recall": "130.00", "write_off": "130.00"}, kinds)
	csv := l.do("GET", "/v1/reports/reconciliation?from=2000-01-01", acmeKey, nil, "Accept", "text/csv")
	assert.Contains(t, string(csv.Body), "\nTOTAL,,,EUR,0,0.00,0.00,0.00,0.00,130.00,0,0.00,,,,,,,,0.00,130.00\n")

	tb := l.do("GET", "/v1/reports/trial-balance?currency=EUR", acmeKey, nil).ExactJSON(t)
	balances := map[string]json.Number{}
	for _, a := range tb["accounts"].([]any) {
		a := a.(map[string]any)
		balances[a["account"].(string)] = a["balance"].(json.Number)
	}
	assert.Equal(t, json.Number("130"), balances["creditor/recalled"])
	assert.Equal(t, json.Number("130"), balances["creditor/written-off"])

	cookie, _, _ := l.dashSession(t)
	page := l.do("GET", "/dashboard/finance", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, string(page.Body), `id="total-recalled">130.00 EUR`)
	fcsv := l.do("GET", "/dashboard/finance.csv", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, fcsv.Status)
	assert.Contains(t, string(fcsv.Body), "\nTOTAL,EUR,0,0.00,0.00,0.00,0.00,130.00,0,0.00,0.00,130.00\n")
}
