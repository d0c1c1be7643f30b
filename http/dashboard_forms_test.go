package http_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashSession signs in to the dashboard and returns its cookie and CSRF
// token, and a function that posts a form with them.
func (l *ledger) dashSession(t *testing.T) (cookie, csrf string, post func(path string, form url.Values) response) {
	t.Helper()
	req := httptest.NewRequest("POST", "/signin", strings.NewReader("key="+acmeKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	l.server.ServeHTTP(rec, req)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	cookie = strings.Split(rec.Header().Get("Set-Cookie"), ";")[0]
	page := l.do("GET", "/", "", nil, "Cookie", cookie)
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(page.Body)
	require.NotNil(t, m, "the page carries a CSRF token")
	csrf = string(m[1])
	post = func(path string, form url.Values) response {
		form.Set("csrf", csrf)
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		l.server.ServeHTTP(rec, req)
		return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	return cookie, csrf, post
}

func TestDashboardReverseAndWaiveRefusalsAppendNothing(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-FORMS")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": 10, "paymentNumber": "P-1"}`).Status)
	cookie, _, post := l.dashSession(t)
	base := "/dashboard/placements/" + id
	for _, tc := range []struct {
		name, action string
		form         url.Values
		says         string
	}{
		{"unknown payment", "reverse", url.Values{"payment": {"P-404"}, "reason": {"RETURNED"}}, "That payment could not be found on this placement."},
		{"unknown reason", "reverse", url.Values{"payment": {"P-1"}, "reason": {"BOUNCED"}}, "Please check reason"},
		{"waive above the open amount", "waive", url.Values{"invoice": {"I0417211448"}, "contract": {"166271782837"}, "amount": {"95"}, "currency": {"EUR"}}, "That is more than is still open on the invoice."},
		{"waive nothing", "waive", url.Values{"invoice": {"I0417211448"}, "contract": {"166271782837"}, "amount": {""}, "currency": {"EUR"}}, "needs an amount for at least one invoice"},
		{"waive a bad amount", "waive", url.Values{"invoice": {"I0417211448"}, "contract": {"166271782837"}, "amount": {"ten"}, "currency": {"EUR"}}, "is not an amount"},
		{"waive with fields out of step", "waive", url.Values{"invoice": {"I0417211448", "I0417211449"}, "contract": {"166271782837"}, "amount": {"1"}, "currency": {"EUR"}}, "does not match the invoices"},
		{"waive an unknown invoice", "waive", url.Values{"invoice": {"I-NONE"}, "contract": {"166271782837"}, "amount": {"1"}, "currency": {"EUR"}}, "the claim has no invoice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := post(base+"/"+tc.action, tc.form)
			require.Equal(t, http.StatusSeeOther, r.Status)
			assert.Equal(t, base, r.Header.Get("Location"))
			page := l.do("GET", base, "", nil, "Cookie", cookie)
			assert.Contains(t, string(page.Body), tc.says)
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
}

func TestDashboardFinancePeriodAndCSV(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-FINCSV")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": "120.50"}`).Status)
	cookie, _, _ := l.dashSession(t)
	page := l.do("GET", "/dashboard/finance", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, string(page.Body), `id="total-recovered">120.50 EUR`)
	assert.Contains(t, string(page.Body), `<svg`)
	for _, bad := range []string{"from=yesterday", "from=2024-05-02&to=2024-05-01", "from=2020-01-01&to=2024-01-01", "by=week", "currency=XXX", "by=month&from=2000-01-01&to=2024-01-01"} {
		r := l.do("GET", "/dashboard/finance?"+bad, "", nil, "Cookie", cookie)
		require.Equal(t, http.StatusOK, r.Status, bad)
		assert.Contains(t, string(r.Body), "Please check the period", "%s: said in words, the default period shown", bad)
		csv := l.do("GET", "/dashboard/finance.csv?"+bad, "", nil, "Cookie", cookie)
		assert.Equal(t, http.StatusUnprocessableEntity, csv.Status, bad)
	}
	csv := l.do("GET", "/dashboard/finance.csv?by=month", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, csv.Status)
	assert.Equal(t, "text/csv; charset=utf-8", csv.Header.Get("Content-Type"))
	assert.Contains(t, csv.Header.Get("Content-Disposition"), "attachment")
	assert.Contains(t, string(csv.Body), "TOTAL,EUR,1,120.50,24.10,96.40,0.00,0.00,0,0.00")
	assert.Equal(t, http.StatusUnauthorized, l.do("GET", "/dashboard/finance.csv", "", nil).Status, "signed out: no figures")
	signedOut := l.do("GET", "/dashboard/finance", "", nil)
	assert.Equal(t, http.StatusSeeOther, signedOut.Status)
	other := l.do("GET", "/dashboard/finance", "", nil, "Cookie", "ledger_session=forged")
	assert.Equal(t, http.StatusSeeOther, other.Status)
}
