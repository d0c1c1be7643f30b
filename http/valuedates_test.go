package http_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValueDatesOnEveryRoute: payment-received, a claims-API payment, a
// credit waiver and a reversal (both routes) take a value date, which the
// feed's CONFIRMATION and ACCOUNTING_DOCUMENT give as date beside bookedAt;
// a value date after today is 422 naming date, and appends nothing.
func TestValueDatesOnEveryRoute(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("VD-1")
	base := "/v1/placements/" + id
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	r := l.do("POST", "/v1/claims", acmeKey, handover("VD-2"))
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)

	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"ErrPaymentReceivedInTheFuture", "POST", base + "/payment-received", map[string]any{"amount": 10, "date": tomorrow}},
		{"ErrClaimPaymentInTheFuture", "POST", "/v1/claims/VD-2/payments", map[string]any{"amount": 10, "date": tomorrow}},
		{"ErrWaiverInTheFuture", "POST", "/v1/claims/VD-2/creditWaivers", map[string]any{"invoiceNumber": "INV-1", "contractNumber": "C-1", "date": tomorrow, "amount": 5, "currency": "EUR"}},
		{"ErrPartialRecallInTheFuture", "POST", "/v1/claims/VD-1/recalls", map[string]any{"type": "CREDIT_WAIVER", "invoiceNumber": "I0417211448", "contractNumber": "166271782837", "date": tomorrow, "amount": 5, "currency": "EUR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do(tc.method, tc.path, acmeKey, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			p := r.JSON(t)
			assert.Equal(t, "future_value_date", p["code"])
			assert.Equal(t, "date", p["errors"].([]any)[0].(map[string]any)["field"])
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	t.Run("ErrMalformedDate", func(t *testing.T) {
		head := l.head()
		r := l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": 10, "date": "1.8.2024"})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		assert.Contains(t, string(r.Body), `"field":"date"`)
		assert.Equal(t, head, l.head(), "nothing appended")
	})

	r = l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": 100, "paymentNumber": "P-1", "date": "2024-08-01"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	head := l.head()
	r = l.do("POST", base+"/payments/P-1/reversal", acmeKey, map[string]any{"reason": "RETURNED", "date": tomorrow})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"field":"date"`)
	assert.Equal(t, head, l.head(), "a refused reversal appends nothing")
	r = l.do("POST", "/v1/claims/VD-1/payments/P-1/reversal", acmeKey, map[string]any{"reason": "RETURNED", "date": "2024-08-03"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	r = l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": 20})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	today := time.Now().UTC().Format(time.DateOnly)
	var got []string
	for _, it := range l.feedOf("VD-1", r.Position(t)) {
		obj, _ := it["confirmation"].(map[string]any)
		if obj == nil {
			obj, _ = it["accountingDocument"].(map[string]any)
		}
		if obj == nil {
			continue
		}
		booked, _ := obj["bookedAt"].(string)
		assert.True(t, strings.HasPrefix(booked, today), "bookedAt %q is when it was booked", booked)
		got = append(got, it["type"].(string)+" "+obj["type"].(string)+" "+obj["date"].(string))
	}
	assert.Equal(t, []string{
		"CONFIRMATION INVOICE " + today, "CONFIRMATION INVOICE " + today,
		"CONFIRMATION DIRECT_PAYMENT 2024-08-01", "ACCOUNTING_DOCUMENT DIRECT_PAYMENT 2024-08-01",
		"ACCOUNTING_DOCUMENT REALLOCATION 2024-08-03",
		"CONFIRMATION DIRECT_PAYMENT " + today, "ACCOUNTING_DOCUMENT DIRECT_PAYMENT " + today,
	}, got)
}

// TestHandoverConfirmsEachInvoice: either route's handover starts the
// claim's feed with a CONFIRMATION of type INVOICE per invoice, sortNumbers
// from 0, number the invoice's, amount its remaining amount.
func TestHandoverConfirmsEachInvoice(t *testing.T) {
	l := MustLedger(t, "")
	r := l.do("POST", "/v1/claims", acmeKey, handover("HO-1"))
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	l.MustPlace("HO-2")
	today := time.Now().UTC().Format(time.DateOnly)
	for _, tc := range []struct {
		name, claim string
		want        [][4]any // sortNumber, number, contractNumber, amount
	}{
		{"OKClaimsAPI", "HO-1", [][4]any{{0.0, "INV-1", "C-1", 100.0}, {1.0, "INV-2", "C-1", 300.0}, {2.0, "INV-3", "C-2", 50.5}}},
		{"OKPlacements", "HO-2", [][4]any{{0.0, "I0417211448", "166271782837", 100.0}, {1.0, "I0417211449", "166271782837", 300.0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			feed := l.feedOf(tc.claim, l.head())
			require.Len(t, feed, len(tc.want))
			for i, w := range tc.want {
				it := feed[i]
				assert.Equal(t, "CONFIRMATION", it["type"])
				c := it["confirmation"].(map[string]any)
				assert.Equal(t, w, [4]any{it["sortNumber"], c["number"], c["contractNumber"], c["amount"]})
				assert.Equal(t, "INVOICE", c["type"])
				assert.Equal(t, "EUR", c["currency"])
				assert.Equal(t, today, c["date"])
				assert.NotEmpty(t, c["bookedAt"])
			}
		})
	}
}

// TestReconciliationBasis: the report selects by value date by default and
// by booking time with basis=booking; another basis is 400.
func TestReconciliationBasis(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("RB-1")
	r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": 100, "date": "2024-08-01"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	at := r.Position(t)
	today := time.Now().UTC().Format(time.DateOnly)
	for _, tc := range []struct {
		name, query string
		payments    float64
	}{
		{"OKValueByDefault", "?from=2024-08-01&to=2024-08-02", 1},
		{"OKValue", "?basis=value&from=2024-08-01&to=2024-08-02", 1},
		{"OKValueNotToday", "?from=" + today, 0},
		{"OKBookingToday", "?basis=booking&from=" + today, 1},
		{"OKBookingNotOnTheValueDate", "?basis=booking&from=2024-08-01&to=2024-08-02", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := l.get("/v1/reports/reconciliation"+tc.query, acmeKey, at)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			rep := r.JSON(t)
			var n float64
			if eur, ok := rep["totals"].(map[string]any)["EUR"].(map[string]any); ok {
				n = eur["payments"].(float64)
			}
			assert.Equal(t, tc.payments, n)
		})
	}
	r = l.get("/v1/reports/reconciliation?from=2024-08-01&to=2024-08-02", acmeKey, at)
	entry := r.JSON(t)["entries"].([]any)[0].(map[string]any)
	assert.Equal(t, "2024-08-01", entry["valueDate"])
	assert.Equal(t, today, entry["date"])
	r = l.get("/v1/reports/reconciliation?basis=booking", acmeKey, at)
	assert.Equal(t, "booking", r.JSON(t)["basis"])
	r = l.do("GET", "/v1/reports/reconciliation?from=2024-08-01", acmeKey, nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, string(r.Body), ",2024-08-01,")
	r = l.do("GET", "/v1/reports/reconciliation?basis=value-date", acmeKey, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"field":"basis"`)
}
