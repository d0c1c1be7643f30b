package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lastOfType is the last feed item of the type.
func lastOfType(t *testing.T, feed []map[string]any, typ string) map[string]any {
	t.Helper()
	for i := len(feed) - 1; i >= 0; i-- {
		if feed[i]["type"] == typ {
			return feed[i]
		}
	}
	require.FailNow(t, "no "+typ+" item", "%v", feed)
	return nil
}

// problemCode is a problem document's code.
func problemCode(t *testing.T, r response) string {
	t.Helper()
	code, _ := r.JSON(t)["code"].(string)
	return code
}

func TestAgencyPayments(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-AG")
	base := "/v1/placements/" + id
	pay := map[string]any{"amount": "150", "paymentNumber": "AG-1", "date": "2024-08-01"}

	r := l.do("POST", base+"/agency-payments", agencyKey, pay)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p := r.JSON(t)
	assert.Equal(t, "active", p["status"])
	assert.Equal(t, "150.00", p["agencyPaidAmount"])
	assert.Equal(t, "150.00", p["recoveredAmount"], "recovered includes what was paid to the agency")
	assert.Equal(t, "30.00", p["feeAmount"])
	assert.Equal(t, "250.00", p["outstandingAmount"])
	inv := p["invoices"].([]any)
	assert.Equal(t, "100.00", inv[0].(map[string]any)["paidAmount"], "allocated as a payment: oldest due first")
	assert.Equal(t, "50.00", inv[1].(map[string]any)["paidAmount"])

	feed := l.feedOf("DE-AG", r.Position(t))
	conf := lastOfType(t, feed, "CONFIRMATION")["confirmation"].(map[string]any)
	assert.Equal(t, "AGENCY_PAYMENTS", conf["type"])
	assert.Equal(t, "AG-1", conf["paymentNumber"])
	doc := lastOfType(t, feed, "ACCOUNTING_DOCUMENT")["accountingDocument"].(map[string]any)
	assert.Equal(t, "AGENCY_PAYMENTS", doc["type"])
	assert.Equal(t, -150.0, doc["amount"])

	rec := l.get("/v1/reports/reconciliation?from=2000-01-01", acmeKey, r.Position(t)).JSON(t)
	eur := rec["totals"].(map[string]any)["EUR"].(map[string]any)
	assert.Equal(t, "150.00", eur["agencyCollected"], "what the agency owes the creditor")
	assert.Equal(t, "150.00", eur["recovered"])

	// Once per number: the same payment answers as the first; other content
	// is refused; neither records anything.
	head := l.head()
	again := l.do("POST", base+"/agency-payments", agencyKey, pay)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, "150.00", again.JSON(t)["agencyPaidAmount"])
	assert.Equal(t, head, l.head())
	for name, tc := range map[string]struct {
		key    string
		body   map[string]any
		status int
		code   string
	}{
		"ErrOtherContent":      {agencyKey, map[string]any{"amount": "151", "paymentNumber": "AG-1", "date": "2024-08-01"}, http.StatusConflict, "payment_number_reused"},
		"ErrFutureDate":        {agencyKey, map[string]any{"amount": "1", "paymentNumber": "AG-2", "date": "2999-01-01"}, http.StatusUnprocessableEntity, "future_value_date"},
		"ErrNoNumber":          {agencyKey, map[string]any{"amount": "1"}, http.StatusUnprocessableEntity, "validation_failed"},
		"ErrCreditorKey":       {acmeKey, map[string]any{"amount": "1", "paymentNumber": "AG-2"}, http.StatusForbidden, ""},
		"ErrUnknownProperties": {agencyKey, map[string]any{"amount": "1", "paymentNumber": "AG-2", "allocateTo": "CLIENT_COSTS"}, http.StatusBadRequest, ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := l.do("POST", base+"/agency-payments", tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, problemCode(t, r))
			}
			assert.Equal(t, head, l.head(), "a refusal records nothing")
		})
	}

	// Paying what is left closes the claim paid, what is more is an
	// overpayment (the agency holds it); a closed claim refuses more.
	r = l.do("POST", base+"/agency-payments", agencyKey, map[string]any{"amount": "250.01", "paymentNumber": "AG-2"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "paid", r.JSON(t)["status"])
	assert.Equal(t, "400.01", r.JSON(t)["agencyPaidAmount"])
	assert.Equal(t, "0.01", r.JSON(t)["overpaidAmount"])
	head = l.head()
	closed := l.do("POST", base+"/agency-payments", agencyKey, map[string]any{"amount": "1", "paymentNumber": "AG-3"})
	require.Equal(t, http.StatusConflict, closed.Status, "%s", closed.Body)
	assert.Equal(t, "placement_closed", problemCode(t, closed))
	assert.Equal(t, head, l.head())
}

func TestWriteOff(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-WO")
	base := "/v1/placements/" + id
	require.Equal(t, http.StatusCreated, l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2030-01-01T09:00:00Z"}).Status)
	require.Equal(t, http.StatusCreated, l.do("POST", base+"/calls", agencyKey, map[string]any{"scheduledAt": "2030-01-02T09:00:00Z"}).Status)
	require.Equal(t, http.StatusOK, l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "150", "paymentNumber": "P-1"}).Status)

	head := l.head()
	for name, tc := range map[string]struct {
		key    string
		body   any
		status int
	}{
		"ErrUnknownReason": {agencyKey, map[string]any{"reason": "BORED"}, http.StatusUnprocessableEntity},
		"ErrNoReason":      {agencyKey, map[string]any{}, http.StatusUnprocessableEntity},
		"ErrCreditorKey":   {acmeKey, map[string]any{"reason": "OTHER"}, http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) {
			r := l.do("POST", base+"/write-off", tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, head, l.head(), "a refusal records nothing")
		})
	}

	r := l.do("POST", base+"/write-off", agencyKey, map[string]any{"reason": "INSOLVENCY"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	p := r.JSON(t)
	assert.Equal(t, "written_off", p["status"])
	assert.Equal(t, "250.00", p["writtenOffAmount"])
	assert.Equal(t, "0.00", p["outstandingAmount"])
	assert.NotNil(t, p["resolvedAt"])
	assert.Equal(t, "paused", p["emailSequences"].([]any)[0].(map[string]any)["status"])
	assert.Equal(t, "failed", p["calls"].([]any)[0].(map[string]any)["status"])
	inv := p["invoices"].([]any)[1].(map[string]any)
	assert.Equal(t, "250.00", inv["writtenOffAmount"])
	assert.Equal(t, "0.00", inv["openAmount"])

	feed := l.feedOf("DE-WO", r.Position(t))
	last := feed[len(feed)-1]
	require.Equal(t, "CLOSING", last["type"], "%v", feed)
	assert.Equal(t, "WRITTEN_OFF", last["closing"].(map[string]any)["type"])
	doc := feed[len(feed)-2]["accountingDocument"].(map[string]any)
	assert.Equal(t, "WRITE_OFF", doc["type"])
	assert.Equal(t, -250.0, doc["amount"])

	list := l.get("/v1/placements?status=written_off", acmeKey, r.Position(t))
	require.Equal(t, http.StatusOK, list.Status, "%s", list.Body)
	assert.Contains(t, string(list.Body), id)

	head = l.head()
	again := l.do("POST", base+"/write-off", agencyKey, map[string]any{"reason": "INSOLVENCY"})
	require.Equal(t, http.StatusConflict, again.Status, "%s", again.Body)
	assert.Equal(t, "placement_closed", problemCode(t, again))
	assert.Equal(t, head, l.head(), "a refusal records nothing")

	// A payment cancelled on the written-off claim is written off again: the
	// claim stays closed and every bucket still adds up to what was placed.
	c := l.do("POST", "/v1/claims/DE-WO/accountingDocuments/cancellations", acmeKey,
		map[string]any{"referenceNumber": "P-1", "amount": "150.00", "currency": "EUR"})
	require.Equal(t, http.StatusAccepted, c.Status, "%s", c.Body)
	p = l.get(base, acmeKey, c.Position(t)).JSON(t)
	assert.Equal(t, "written_off", p["status"])
	assert.Equal(t, "400.00", p["writtenOffAmount"])
	assert.Equal(t, "0.00", p["recoveredAmount"])
	assert.Equal(t, "0.00", p["outstandingAmount"])
	claim := l.get("/v1/claims/DE-WO", acmeKey, c.Position(t)).JSON(t)
	assert.Equal(t, "written_off", claim["status"])
	assert.Equal(t, "400.00", claim["writtenOffAmount"])
	assert.Equal(t, "300.00", claim["invoices"].([]any)[1].(map[string]any)["writtenOffAmount"])
	rec := l.get("/v1/reports/reconciliation?from=2000-01-01", acmeKey, c.Position(t)).JSON(t)
	eur := rec["totals"].(map[string]any)["EUR"].(map[string]any)
	assert.Equal(t, "400.00", eur["writtenOff"])
	assert.Equal(t, "0.00", eur["recovered"])
}

func TestClaimCancellations(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-CX")
	base := "/v1/placements/" + id
	w := l.do("POST", "/v1/claims/DE-CX/creditWaivers", acmeKey, map[string]any{"creditWaiverNumber": "W-1", "invoiceNumber": "I0417211448",
		"contractNumber": "166271782837", "date": "2024-08-01", "description": "goodwill", "amount": "40", "currency": "EUR"})
	require.Equal(t, http.StatusAccepted, w.Status, "%s", w.Body)
	require.Equal(t, http.StatusOK, l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "360", "paymentNumber": "P-1"}).Status)
	route := "/v1/claims/DE-CX/accountingDocuments/cancellations"

	head := l.head()
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		code   string
	}{
		"ErrUnknownNumber":  {map[string]any{"referenceNumber": "W-9", "amount": "40", "currency": "EUR"}, http.StatusNotFound, "document_not_found"},
		"ErrOtherAmount":    {map[string]any{"referenceNumber": "W-1", "amount": "41", "currency": "EUR"}, http.StatusUnprocessableEntity, "cancellation_mismatch"},
		"ErrOtherCurrency":  {map[string]any{"referenceNumber": "W-1", "amount": "40", "currency": "USD"}, http.StatusUnprocessableEntity, "cancellation_mismatch"},
		"ErrNoCurrency":     {map[string]any{"referenceNumber": "W-1", "amount": "40"}, http.StatusUnprocessableEntity, "validation_failed"},
		"ErrFutureDate":     {map[string]any{"referenceNumber": "W-1", "amount": "40", "currency": "EUR", "date": "2999-01-01"}, http.StatusUnprocessableEntity, "future_value_date"},
		"ErrPaymentsAmount": {map[string]any{"referenceNumber": "P-1", "amount": "40", "currency": "EUR"}, http.StatusUnprocessableEntity, "cancellation_mismatch"},
	} {
		t.Run(name, func(t *testing.T) {
			r := l.do("POST", route, acmeKey, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, tc.code, problemCode(t, r))
			assert.Equal(t, head, l.head(), "a refusal records nothing")
		})
	}
	unknownClaim := l.do("POST", "/v1/claims/DE-NONE/accountingDocuments/cancellations", acmeKey, map[string]any{"referenceNumber": "W-1", "amount": "40", "currency": "EUR"})
	assert.Equal(t, http.StatusNotFound, unknownClaim.Status, "%s", unknownClaim.Body)

	// The waiver of the paid claim is cancelled: its amount is owed again on
	// its invoice, and the claim is reopened.
	cancel := map[string]any{"referenceNumber": "W-1", "amount": "40.00", "currency": "EUR", "date": "2024-08-02"}
	c := l.do("POST", route, acmeKey, cancel)
	require.Equal(t, http.StatusAccepted, c.Status, "%s", c.Body)
	p := l.get(base, acmeKey, c.Position(t)).JSON(t)
	assert.Equal(t, "active", p["status"])
	assert.Equal(t, "0.00", p["waivedAmount"])
	assert.Equal(t, "40.00", p["outstandingAmount"])
	assert.Equal(t, "40.00", p["invoices"].([]any)[0].(map[string]any)["openAmount"])
	feed := l.feedOf("DE-CX", c.Position(t))
	conf := lastOfType(t, feed, "CONFIRMATION")["confirmation"].(map[string]any)
	assert.Equal(t, "CANCELLATION", conf["type"])
	assert.Equal(t, "W-1", conf["creditWaiverNumber"])
	assert.Equal(t, 40.0, conf["amount"])
	doc := lastOfType(t, feed, "ACCOUNTING_DOCUMENT")["accountingDocument"].(map[string]any)
	assert.Equal(t, "CANCELLATION", doc["type"])
	assert.Equal(t, "CREDIT_WAIVER", doc["originalType"])
	assert.Equal(t, "DE-CX-AD001", doc["originalNumber"])
	assert.Equal(t, "2024-08-02", doc["date"])
	assert.Equal(t, 40.0, doc["amount"])
	status := lastOfType(t, feed, "STATUS")["status"].(map[string]any)
	assert.Equal(t, "REOPENED", status["type"])
	assert.Equal(t, "CREDIT_WAIVER_CANCELLED", status["reason"])

	// At most once: a repeat answers with the first request's id.
	head = l.head()
	again := l.do("POST", route, acmeKey, cancel)
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, c.JSON(t)["requestId"], again.JSON(t)["requestId"])
	assert.Equal(t, head, l.head())

	// A payment is cancelled as a reversal entered in error.
	c = l.do("POST", route, acmeKey, map[string]any{"referenceNumber": "P-1", "amount": "360", "currency": "EUR"})
	require.Equal(t, http.StatusAccepted, c.Status, "%s", c.Body)
	feed = l.feedOf("DE-CX", c.Position(t))
	doc = feed[len(feed)-1]["accountingDocument"].(map[string]any)
	assert.Equal(t, "CANCELLATION", doc["type"])
	assert.Equal(t, "DIRECT_PAYMENT", doc["originalType"])
	assert.Equal(t, "P-1", doc["paymentNumber"])
	p = l.get(base, acmeKey, c.Position(t)).JSON(t)
	assert.Equal(t, "400.00", p["outstandingAmount"])
	head = l.head()
	returned := l.do("POST", "/v1/claims/DE-CX/payments/P-1/reversal", acmeKey, map[string]any{"reason": "RETURNED"})
	require.Equal(t, http.StatusConflict, returned.Status, "%s", returned.Body)
	assert.Equal(t, head, l.head())
}

// TestFinanceShowsAgencyPaymentsAndWriteOffs: the finance page and its CSV
// show what was paid to the agency and what was written off.
func TestFinanceShowsAgencyPaymentsAndWriteOffs(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-FINAG")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/agency-payments", agencyKey, map[string]any{"amount": "120.50", "paymentNumber": "AG-1"}).Status)
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+id+"/write-off", agencyKey, map[string]any{"reason": "DECEASED"}).Status)
	cookie, _, _ := l.dashSession(t)
	page := l.do("GET", "/dashboard/finance", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, string(page.Body), `id="total-agency-collected">120.50 EUR`)
	assert.Contains(t, string(page.Body), `id="total-written-off">279.50 EUR`)
	csv := l.do("GET", "/dashboard/finance.csv?by=month", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, csv.Status)
	assert.Contains(t, string(csv.Body), "reversals,reversed,agencyCollected,writtenOff\n")
	assert.Contains(t, string(csv.Body), "TOTAL,EUR,1,120.50,24.10,96.40,0.00,0.00,0,0.00,120.50,279.50")
	list := l.do("GET", "/?status=written_off", "", nil, "Cookie", cookie)
	require.Equal(t, http.StatusOK, list.Status)
	assert.Contains(t, string(list.Body), "DE-FINAG", "the dashboard filters by the new status")
}
