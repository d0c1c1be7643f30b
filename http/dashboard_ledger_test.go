package http_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chargedAgencyWrittenOff hands a claim over with costs 20 and interests 10
// on an invoice of 100 (EUR), has the agency collect 50 and writes off the
// rest; it returns the placement id.
func (l *ledger) chargedAgencyWrittenOff(t *testing.T, claim string) string {
	t.Helper()
	r := l.do("POST", "/v1/claims", acmeKey, chargedHandover(claim, "EUR", func(s string) string { return s + ".00" }))
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	id := r.JSON(t)["placementId"].(string)
	pay := l.do("POST", "/v1/placements/"+id+"/agency-payments", agencyKey, map[string]any{"amount": "50", "paymentNumber": "AG-1"})
	require.Equal(t, http.StatusOK, pay.Status, "%s", pay.Body)
	wo := l.do("POST", "/v1/placements/"+id+"/write-off", agencyKey, map[string]any{"reason": "INSOLVENCY"})
	require.Equal(t, http.StatusOK, wo.Status, "%s", wo.Body)
	return id
}

func TestDashboardClaimShowsChargesAndPostings(t *testing.T) {
	l := MustLedger(t, "")
	id := l.chargedAgencyWrittenOff(t, "DE-DLEDGER")
	plain := l.MustPlace("DE-PLAIN")
	cookie, _, _ := l.dashSession(t)
	head := l.head()

	page := l.do("GET", "/dashboard/placements/"+id, "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Equal(t, "no-store, private", page.Header.Get("Cache-Control"))
	body := string(page.Body)
	for _, want := range []string{
		`<dd id="costs">20.00 EUR</dd>`, `<dd id="costs-open">0.00 EUR</dd>`,
		`<dd id="interests">10.00 EUR</dd>`, `<dd id="interests-open">0.00 EUR</dd>`,
		`<dd id="agency-paid">50.00 EUR</dd>`, `<dd id="written-off">80.00 EUR</dd>`,
		`<h2 id="postings-title">Postings</h2>`,
	} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, `id="overpaid"`, "no overpayment, no line")
	assert.NotContains(t, body, `id="postings-next"`, "one page")

	// The postings table has a row per posting the API serves.
	api := l.get("/v1/claims/DE-DLEDGER/postings", acmeKey, head).Array(t)
	table := regexp.MustCompile(`(?s)<table id="postings">.*?</table>`).FindString(body)
	assert.Equal(t, len(api), strings.Count(table, "<tr><td>"), "a row per posting")
	assert.Contains(t, table, `<td>claim/DE-DLEDGER/costs</td>`)

	// A claim without them reads as before.
	before := string(l.do("GET", "/dashboard/placements/"+plain, "", nil, "Cookie", cookie).Body)
	for _, absent := range []string{`id="costs"`, `id="interests"`, `id="agency-paid"`, `id="written-off"`, `id="overpaid"`} {
		assert.NotContains(t, before, absent)
	}
	assert.Contains(t, before, `<td>claim/DE-PLAIN/principal/I0417211448</td>`)
}
