package http_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReopenedClaimResumesOutreach: a reversal that reopens a paid claim
// resumes the email sequence its payoff paused, and its STATUS item says so;
// every item of the payment and the reversal names the request that caused
// it and the payment.
func TestReopenedClaimResumesOutreach(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-REOPEN")
	base := "/v1/placements/" + id
	seq := l.do("POST", base+"/email-sequences", agencyKey, map[string]any{"nextSendAt": "2099-01-01T09:00:00Z"})
	require.Equal(t, http.StatusCreated, seq.Status, "%s", seq.Body)

	pay := l.do("POST", "/v1/claims/DE-REOPEN/payments", acmeKey, map[string]any{"amount": json.Number("3e2"), "paymentNumber": "P-1",
		"invoiceNumber": "I0417211449", "contractNumber": "166271782837", "date": "2024-08-01", "description": "bank", "currency": "EUR"})
	require.Equal(t, http.StatusAccepted, pay.Status, "%s", pay.Body)
	payRequest := pay.JSON(t)["requestId"].(string)
	// The other 100, with an exponent too, pays the claim in full.
	rest := l.do("POST", base+"/payment-received", acmeKey, `{"amount": 1e2, "paymentNumber": "P-2"}`)
	require.Equal(t, http.StatusOK, rest.Status, "%s", rest.Body)
	p := rest.JSON(t)
	require.Equal(t, "paid", p["status"])
	s := p["emailSequences"].([]any)[0].(map[string]any)
	require.Equal(t, "paused", s["status"])
	require.Nil(t, s["nextSendAt"])

	rev := l.do("POST", "/v1/claims/DE-REOPEN/payments/P-2/reversal", acmeKey, `{"reason": "RETURNED"}`)
	require.Equal(t, http.StatusAccepted, rev.Status, "%s", rev.Body)
	revRequest := rev.JSON(t)["requestId"].(string)
	got := l.get(base, acmeKey, rev.Position(t)).JSON(t)
	assert.Equal(t, "active", got["status"])
	s = got["emailSequences"].([]any)[0].(map[string]any)
	assert.Equal(t, "active", s["status"], "the sequence the payoff paused is active again")
	assert.Equal(t, "2099-01-01T09:00:00Z", s["nextSendAt"], "due when it was")

	feed := l.feedOf("DE-REOPEN", rev.Position(t))
	last := feed[len(feed)-1]
	require.Equal(t, "STATUS", last["type"])
	status := last["status"].(map[string]any)
	assert.Equal(t, "REOPENED", status["type"])
	assert.EqualValues(t, 1, status["resumedSequences"])
	assert.Equal(t, revRequest, last["requestId"])
	reversalDoc := feed[len(feed)-2]["accountingDocument"].(map[string]any)
	assert.Equal(t, "P-2", reversalDoc["paymentNumber"])
	assert.Equal(t, revRequest, feed[len(feed)-2]["requestId"])

	var fromPayment []map[string]any
	for _, it := range feed {
		if it["requestId"] == payRequest {
			fromPayment = append(fromPayment, it)
		}
	}
	require.Len(t, fromPayment, 2, "the payment's CONFIRMATION and ACCOUNTING_DOCUMENT: %v", feed)
	assert.Equal(t, "P-1", fromPayment[0]["confirmation"].(map[string]any)["paymentNumber"])
	assert.Equal(t, "P-1", fromPayment[1]["accountingDocument"].(map[string]any)["paymentNumber"])
	assert.EqualValues(t, 300, fromPayment[0]["confirmation"].(map[string]any)["amount"], "3e2 is 300")
}

// TestWaiversThatClearAClaimTraceToTheirRequest: waivers that clear a claim
// give no CONFIRMATION and no CANCELLATION of 0; their items name the
// request and each waiver's number; a partial recall of the closed claim is
// a REJECTION of type PARTIAL_RECALL, traced to its 202's requestId.
func TestWaiversThatClearAClaimTraceToTheirRequest(t *testing.T) {
	l := MustLedger(t, "")
	l.MustPlace("DE-CLEAR")
	w1, w2 := waiver("I0417211448", "100"), waiver("I0417211449", "3e2")
	w1["creditWaiverNumber"], w2["creditWaiverNumber"] = "CW-1", "CW-2"
	r := l.do("POST", "/v1/claims/DE-CLEAR/recalls", acmeKey, []map[string]any{w1, w2})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	waived := r.JSON(t)["requestId"].(string)
	late := waiver("I0417211448", "1")
	late["creditWaiverNumber"] = "CW-3"
	r = l.do("POST", "/v1/claims/DE-CLEAR/creditWaivers", acmeKey, late)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	rejected := r.JSON(t)["requestId"].(string)

	feed := l.feedOf("DE-CLEAR", r.Position(t))
	var got []string
	for _, it := range feed {
		b, err := json.Marshal(it)
		require.NoError(t, err)
		assert.NotContains(t, string(b), `"amount":0`, "no item of 0")
		var what string
		switch it["type"] {
		case "CONFIRMATION":
			c := it["confirmation"].(map[string]any)
			if c["type"] == "INVOICE" { // the handover's, before anything else
				got = append(got, "handover: CONFIRMATION INVOICE "+c["number"].(string))
				continue
			}
			what = c["type"].(string) + " " + c["creditWaiverNumber"].(string)
		case "ACCOUNTING_DOCUMENT":
			d := it["accountingDocument"].(map[string]any)
			what = d["type"].(string)
			for _, line := range d["lineItems"].([]any) {
				what += " " + line.(map[string]any)["creditWaiverNumber"].(string)
			}
		case "CLOSING":
			what = it["closing"].(map[string]any)["type"].(string)
		case "REJECTION":
			what = it["rejection"].(map[string]any)["type"].(string)
		}
		who := "waivers"
		if it["requestId"] == rejected {
			who = "late"
		} else {
			assert.Equal(t, waived, it["requestId"])
		}
		got = append(got, who+": "+it["type"].(string)+" "+what)
	}
	assert.Equal(t, []string{
		"handover: CONFIRMATION INVOICE I0417211448",
		"handover: CONFIRMATION INVOICE I0417211449",
		"waivers: CONFIRMATION PARTIAL_RECALL CW-1",
		"waivers: CONFIRMATION PARTIAL_RECALL CW-2",
		"waivers: ACCOUNTING_DOCUMENT CREDIT_WAIVER CW-1 CW-2",
		"waivers: CLOSING RECALLED_BY_CLIENT",
		"late: REJECTION PARTIAL_RECALL",
	}, got)
}

// TestAmountAndQueryMessages: what the refusals say names the limit, the
// valid types and what differed.
func TestAmountAndQueryMessages(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-MSG")
	r := l.do("POST", "/v1/claims/DE-MSG/payments", acmeKey, map[string]any{"amount": "10", "paymentNumber": "P-1", "date": "2024-08-01"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	cases := map[string]struct {
		method, path string
		body         any
		status       int
		code, field  string
		says         string
	}{
		"ErrReusedNumberSameAmount": {"POST", "/v1/claims/DE-MSG/payments", map[string]any{"amount": "10.00", "paymentNumber": "P-1", "date": "2024-08-02"},
			409, "payment_number_reused", "paymentNumber", "(its date differed)"},
		"ErrAboveMax": {"POST", "/v1/placements/" + id + "/payment-received", `{"amount": 1e400}`,
			422, "validation_failed", "amount", "is above the largest amount the ledger accepts (1000000000000)"},
		"ErrTooLong": {"POST", "/v1/placements/" + id + "/payment-received", `{"amount": 1.00000000000000000000000000000000000000000}`,
			422, "validation_failed", "amount", "an amount has at most 40"},
		"ErrBadType": {"GET", "/v1/transactions?type=PAYMENT", nil,
			400, "invalid_query", "type", "must be confirmation, closing, rejection, accountingDocument or status"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			head := l.head()
			r := l.do(tc.method, tc.path, acmeKey, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			p := r.JSON(t)
			assert.Equal(t, tc.code, p["code"])
			require.NotEmpty(t, p["errors"], "%s", r.Body)
			e := p["errors"].([]any)[0].(map[string]any)
			assert.Equal(t, tc.field, e["field"])
			assert.Contains(t, e["message"], tc.says)
			assert.NotContains(t, string(r.Body), "another amount")
			assert.Equal(t, head, l.head(), "nothing recorded")
		})
	}
}
