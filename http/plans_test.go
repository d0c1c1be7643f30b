package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// day is the date n days from today (UTC), as the API writes dates.
func day(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format(time.DateOnly) }

// planBody is a plan of the 400 the example claim has open: 100 in ten days,
// 300 in forty.
func planBody(number string) map[string]any {
	return map[string]any{"planNumber": number, "startDate": day(0),
		"installments": []map[string]any{{"dueDate": day(10), "amount": 100}, {"dueDate": day(40), "amount": "300.00"}}}
}

func TestPaymentPlanAPI(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("PLAN-1")
	base := "/v1/claims/PLAN-1/payment-plans"

	r := l.do("POST", base, acmeKey, planBody("P-1"))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	plan := r.JSON(t)
	assert.Equal(t, "active", plan["status"])
	assert.Equal(t, "400.00", plan["totalAmount"])
	assert.Equal(t, float64(14), plan["graceDays"])
	assert.Equal(t, day(25), plan["breaksOn"])
	assert.NotEmpty(t, plan["requestId"])

	t.Run("OK_the claim is paused for the plan", func(t *testing.T) {
		p := l.get("/v1/placements/"+id, acmeKey, l.head()).JSON(t)
		assert.Equal(t, "paused", p["status"])
	})
	t.Run("OK_a repeat answers as the first and records nothing", func(t *testing.T) {
		head := l.head()
		again := l.do("POST", base, acmeKey, planBody("P-1"))
		require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
		assert.Equal(t, plan["requestId"], again.JSON(t)["requestId"])
		assert.Equal(t, head, l.head(), "nothing appended")
	})
	t.Run("OK_a payment goes to the oldest instalment", func(t *testing.T) {
		pay := l.do("POST", "/v1/claims/PLAN-1/payments", acmeKey, map[string]any{"amount": 150, "paymentNumber": "PAY-1"})
		require.Equal(t, http.StatusAccepted, pay.Status, "%s", pay.Body)
		got := l.get(base, acmeKey, l.head()).ExactJSON(t)
		items := got["items"].([]any)
		require.Len(t, items, 1)
		p := items[0].(map[string]any)
		assert.Equal(t, "150.00", p["paidAmount"])
		assert.Equal(t, "250.00", p["openAmount"])
		ins := p["installments"].([]any)
		assert.Equal(t, map[string]any{"dueDate": day(10), "amount": "100.00", "paidAmount": "100.00", "openAmount": "0.00"}, ins[0])
		assert.Equal(t, map[string]any{"dueDate": day(40), "amount": "300.00", "paidAmount": "50.00", "openAmount": "250.00"}, ins[1])
		assert.Equal(t, day(55), p["breaksOn"])
	})
	t.Run("OK_the agency reads it naming the creditor", func(t *testing.T) {
		got := l.get(base+"?creditorId=acme", agencyKey, l.head())
		require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
		assert.Len(t, got.JSON(t)["items"], 1)
	})
	t.Run("OK_cancelled, outreach resumes, the feed shows it", func(t *testing.T) {
		c := l.do("POST", base+"/P-1/cancellation", acmeKey, nil)
		require.Equal(t, http.StatusAccepted, c.Status, "%s", c.Body)
		head := l.head()
		again := l.do("POST", base+"/P-1/cancellation", acmeKey, nil)
		require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
		assert.Equal(t, head, l.head(), "a repeat appends nothing")
		p := l.get("/v1/placements/"+id, acmeKey, head).JSON(t)
		assert.Equal(t, "active", p["status"])
		feed := l.get("/v1/claims/PLAN-1/transactions", acmeKey, head).Array(t)
		var kinds []string
		for _, it := range feed {
			switch it["type"] {
			case "CONFIRMATION":
				kinds = append(kinds, "CONFIRMATION "+it["confirmation"].(map[string]any)["type"].(string))
			case "STATUS":
				kinds = append(kinds, "STATUS "+it["status"].(map[string]any)["type"].(string))
			}
		}
		assert.Equal(t, []string{"CONFIRMATION INVOICE", "CONFIRMATION INVOICE", "CONFIRMATION PAYMENT_PLAN", "STATUS PAUSED", "CONFIRMATION DIRECT_PAYMENT", "STATUS PAYMENT_PLAN_CANCELLED", "STATUS RESUMED"}, kinds)
	})
}

func TestPaymentPlanAPIRefusals(t *testing.T) {
	l := MustLedger(t, "")
	l.MustPlace("PLAN-2")
	l.MustPlace("PLAN-CLOSED")
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+l.MustPlace("PLAN-3")+"/recall", acmeKey, nil).Status)
	base := "/v1/claims/PLAN-2/payment-plans"
	require.Equal(t, http.StatusCreated, l.do("POST", "/v1/claims/PLAN-CLOSED/payment-plans", acmeKey, planBody("P-9")).Status)
	with := func(mut func(b map[string]any)) map[string]any {
		b := planBody("P-2")
		mut(b)
		return b
	}
	ins := func(pairs ...any) []map[string]any {
		var out []map[string]any
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, map[string]any{"dueDate": pairs[i], "amount": pairs[i+1]})
		}
		return out
	}
	many := make([]map[string]any, 121)
	for i := range many {
		many[i] = map[string]any{"dueDate": day(i + 1), "amount": 1}
	}
	tests := map[string]struct {
		path, key string
		body      any
		status    int
		code      string
		field     string
	}{
		"sum short":         {base, acmeKey, with(func(b map[string]any) { b["installments"] = ins(day(10), 100, day(40), 299) }), 422, "installments_mismatch", "installments"},
		"not ascending":     {base, acmeKey, with(func(b map[string]any) { b["installments"] = ins(day(10), 100, day(10), 300) }), 422, "installments_not_ascending", "installments[1].dueDate"},
		"past due":          {base, acmeKey, with(func(b map[string]any) { b["installments"] = ins(day(-1), 100, day(40), 300) }), 422, "past_due", "installments[0].dueDate"},
		"start in the past": {base, acmeKey, with(func(b map[string]any) { b["startDate"] = day(-1) }), 422, "past_due", "startDate"},
		"too many decimals": {base, acmeKey, with(func(b map[string]any) { b["installments"] = ins(day(10), "99.995", day(40), "300.005") }), 422, "validation_failed", "installments[0].amount"},
		"negative amount":   {base, acmeKey, with(func(b map[string]any) { b["installments"] = ins(day(10), -100, day(40), 500) }), 422, "validation_failed", "installments[0].amount"},
		"121 instalments":   {base, acmeKey, with(func(b map[string]any) { b["installments"] = many }), 422, "validation_failed", "installments"},
		"unknown field":     {base, acmeKey, with(func(b map[string]any) { b["extra"] = 1 }), 400, "", ""},
		"closed claim":      {"/v1/claims/PLAN-3/payment-plans", acmeKey, planBody("P-2"), 409, "placement_closed", ""},
		"second plan":       {"/v1/claims/PLAN-CLOSED/payment-plans", acmeKey, planBody("P-2"), 409, "payment_plan_active", ""},
		"number reused":     {"/v1/claims/PLAN-CLOSED/payment-plans", acmeKey, with(func(b map[string]any) { b["planNumber"] = "P-9"; b["graceDays"] = 3 }), 409, "plan_number_reused", ""},
		"other creditor":    {base, otherKey, planBody("P-2"), 404, "", ""},
		"agency unnamed":    {base, agencyKey, planBody("P-2"), 422, "validation_failed", "creditorId"},
		"unknown plan":      {base + "/nope/cancellation", acmeKey, nil, 404, "payment_plan_not_found", ""},
		"unknown query":     {base + "?foo=1", acmeKey, planBody("P-2"), 400, "unknown_query_parameter", ""},
	}
	for name, tc := range tests {
		t.Run("Err_"+name, func(t *testing.T) {
			head := l.head()
			r := l.do("POST", tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			assert.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			p := r.JSON(t)
			if tc.code != "" {
				assert.Equal(t, tc.code, p["code"])
			}
			if tc.field != "" {
				require.NotEmpty(t, p["errors"], "%s", r.Body)
				assert.Equal(t, tc.field, p["errors"].([]any)[0].(map[string]any)["field"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
}
