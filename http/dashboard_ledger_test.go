package http_test

import (
	"fmt"
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
	assert.Equal(t, len(api), strings.Count(table, `<tr class="posting">`), "a row per posting")
	assert.Contains(t, table, `<td>claim/DE-DLEDGER/costs</td>`)

	// A claim without them reads as before.
	before := string(l.do("GET", "/dashboard/placements/"+plain, "", nil, "Cookie", cookie).Body)
	for _, absent := range []string{`id="costs"`, `id="interests"`, `id="agency-paid"`, `id="written-off"`, `id="overpaid"`} {
		assert.NotContains(t, before, absent)
	}
	assert.Contains(t, before, `<td>claim/DE-PLAIN/principal/I0417211448</td>`)
}

func TestDashboardPostingsPaged(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-DPAGED")
	for i := range 60 {
		r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": "0.01", "paymentNumber": fmt.Sprintf("P-%d", i)})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	}
	cookie, _, _ := l.dashSession(t)
	total := len(l.get("/v1/claims/DE-DPAGED/postings", acmeKey, l.head()).Array(t))
	require.Greater(t, total, 100)
	rows := func(body string) int {
		return strings.Count(regexp.MustCompile(`(?s)<table id="postings">.*?</table>`).FindString(body), `<tr class="posting">`)
	}
	first := string(l.do("GET", "/dashboard/placements/"+id, "", nil, "Cookie", cookie).Body)
	assert.Equal(t, 100, rows(first))
	assert.Contains(t, first, `href="?feedFrom=0&amp;historyFrom=0&amp;postingsFrom=100#postings-title" id="postings-next"`)
	second := l.do("GET", "/dashboard/placements/"+id+"?postingsFrom=100", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, second.Status)
	assert.Equal(t, total-100, rows(string(second.Body)))
	assert.NotContains(t, string(second.Body), `id="postings-next"`)
	beyond := l.do("GET", "/dashboard/placements/"+id+"?postingsFrom=99999", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, beyond.Status)
	assert.Contains(t, string(beyond.Body), "No postings.")
}

func TestDashboardTrialBalance(t *testing.T) {
	l := MustLedger(t, "")
	l.chargedAgencyWrittenOff(t, "DE-DTRIAL")
	cookie, _, _ := l.dashSession(t)
	head := l.head()

	finance := l.do("GET", "/dashboard/finance", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, finance.Status)
	assert.Contains(t, string(finance.Body), `id="total-agency-collected">50.00 EUR`)
	assert.Contains(t, string(finance.Body), `<th scope="col" class="num">Paid to the agency</th>`, "the table has the column")
	assert.Regexp(t, `href="/dashboard/trial-balance\?basis=value&amp;currency=EUR&amp;asOf=\d{4}-\d\d-\d\d" id="trial-balance"`, string(finance.Body))

	page := l.do("GET", "/dashboard/trial-balance?asOf=9999-12-31&basis=booking", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Equal(t, "no-store, private", page.Header.Get("Cache-Control"))
	body := string(page.Body)
	api := l.get("/v1/reports/trial-balance?asOf=9999-12-31&basis=booking", acmeKey, head).JSON(t)
	accounts := api["accounts"].([]any)
	require.NotEmpty(t, accounts)
	for _, a := range accounts {
		assert.Contains(t, body, fmt.Sprintf(`<tr data-account="%s" data-currency="EUR">`, a.(map[string]any)["account"]))
	}
	totals := api["totals"].([]any)[0].(map[string]any)
	sum := fmt.Sprintf("%.2f", totals["totalDebit"])
	assert.Contains(t, body, `<td class="num" data-debit>`+sum+`</td><td class="num" data-credit>`+sum+`</td><td class="num">balanced</td>`)
	assert.Contains(t, body, `<option value="booking" selected>`)

	before := l.do("GET", "/dashboard/trial-balance?asOf=2000-01-01", "", nil, "Cookie", cookie)
	assert.Contains(t, string(before.Body), "No postings up to this date.")
	for _, bad := range []string{"asOf=yesterday", "basis=cash", "currency=XXX"} {
		r := l.do("GET", "/dashboard/trial-balance?"+bad, "", nil, "Cookie", cookie)
		require.Equal(t, http.StatusOK, r.Status, bad)
		assert.Contains(t, string(r.Body), "Please check", "%s: said in words", bad)
		assert.Equal(t, http.StatusUnprocessableEntity, l.do("GET", "/dashboard/trial-balance.csv?"+bad, "", nil, "Cookie", cookie).Status, bad)
	}

	csv := l.do("GET", "/dashboard/trial-balance.csv?asOf=9999-12-31&basis=booking", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, csv.Status)
	assert.Equal(t, "text/csv; charset=utf-8", csv.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", csv.Header.Get("Cache-Control"))
	assert.Contains(t, csv.Header.Get("Content-Disposition"), "attachment")
	apiCSV := l.do("GET", "/v1/reports/trial-balance?asOf=9999-12-31&basis=booking", acmeKey, nil, "Accept", "text/csv")
	assert.Equal(t, string(apiCSV.Body), string(csv.Body), "the same CSV as the API's")

	assert.Equal(t, http.StatusUnauthorized, l.do("GET", "/dashboard/trial-balance.csv", "", nil).Status, "signed out: no figures")
	assert.Equal(t, http.StatusSeeOther, l.do("GET", "/dashboard/trial-balance", "", nil).Status)
	assert.Equal(t, http.StatusSeeOther, l.do("GET", "/dashboard/trial-balance", "", nil, "Cookie", "ledger_session=forged").Status)
	assert.Equal(t, head, l.head(), "nothing appended")
}
