package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClaimPostingsAndTrialBalance(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-POST")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": "120.50", "paymentNumber": "P-1"}`).Status)
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims/DE-POST/recalls", acmeKey, waiver("I0417211449", "100")).Status)
	last := l.do("POST", "/v1/placements/"+id+"/recall", acmeKey, nil)
	require.Equal(t, http.StatusOK, last.Status, "%s", last.Body)
	head := l.head()

	postings := l.get("/v1/claims/DE-POST/postings", acmeKey, head)
	require.Equal(t, http.StatusOK, postings.Status, "%s", postings.Body)
	items := postings.Array(t)
	require.Len(t, items, 12, "handover 3, payment 3 and its fee 2, waiver 2, recall 2")
	assert.Equal(t, "claim/DE-POST/principal/I0417211448", items[0]["account"])
	assert.Equal(t, "debit", items[0]["side"])
	assert.Contains(t, string(postings.Body), `"amount":20.5,`, "amounts are JSON numbers written exactly")
	docs := []string{}
	for _, it := range items {
		docs = append(docs, it["documentNumber"].(string))
		assert.NotEmpty(t, it["valueDate"])
		assert.NotEmpty(t, it["bookedAt"])
		assert.NotZero(t, it["position"])
	}
	assert.Equal(t, []string{"", "", "", "DE-POST-AD001", "DE-POST-AD001", "DE-POST-AD001", "DE-POST-AD001", "DE-POST-AD001", "DE-POST-AD002", "DE-POST-AD002", "DE-POST-AD003", "DE-POST-AD003"}, docs)

	tb := l.get("/v1/reports/trial-balance?currency=EUR&basis=booking&asOf=9999-12-31", acmeKey, head)
	require.Equal(t, http.StatusOK, tb.Status, "%s", tb.Body)
	totals := tb.JSON(t)["totals"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 824.1, totals["totalDebit"], "800 and the fee of 24.10")
	assert.EqualValues(t, 824.1, totals["totalCredit"])
	csv := l.do("GET", "/v1/reports/trial-balance?asOf=9999-12-31", acmeKey, nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, csv.Status)
	assert.Equal(t, "text/csv; charset=utf-8", csv.Header.Get("Content-Type"))
	assert.Contains(t, string(csv.Body), "acme,creditor/placed,EUR,0,400,-400\n")
	assert.Contains(t, string(csv.Body), ",TOTAL,EUR,824.1,824.1,0\n")

	assert.Empty(t, l.get("/v1/reports/trial-balance", otherKey, head).JSON(t)["accounts"], "another creditor sees none of it")
	assert.Empty(t, l.get("/v1/reports/trial-balance?asOf=2000-01-01", acmeKey, head).JSON(t)["accounts"], "nothing before it was booked")
	agency := l.get("/v1/reports/trial-balance?asOf=9999-12-31", agencyKey, head).JSON(t)["accounts"].([]any)
	require.NotEmpty(t, agency, "the agency sees every creditor")
	assert.Equal(t, "acme", agency[0].(map[string]any)["creditorId"])

	refusals := map[string]struct {
		path, key string
		status    int
	}{
		"ErrUnknownClaim":    {"/v1/claims/NO-SUCH/postings", acmeKey, http.StatusNotFound},
		"ErrOtherCreditor":   {"/v1/claims/DE-POST/postings", otherKey, http.StatusNotFound},
		"ErrBadBasis":        {"/v1/reports/trial-balance?basis=cash", acmeKey, http.StatusBadRequest},
		"ErrBadAsOf":         {"/v1/reports/trial-balance?asOf=yesterday", acmeKey, http.StatusBadRequest},
		"ErrBadCurrency":     {"/v1/reports/trial-balance?currency=XXX", acmeKey, http.StatusBadRequest},
		"ErrUnknownParam":    {"/v1/reports/trial-balance?from=2024-01-01", acmeKey, http.StatusBadRequest},
		"ErrNoKey":           {"/v1/reports/trial-balance", "", http.StatusUnauthorized},
		"ErrPostingsByAgent": {"/v1/claims/DE-POST/postings", agencyKey, http.StatusForbidden},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			r := l.do("GET", tc.path, tc.key, nil)
			assert.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
}
