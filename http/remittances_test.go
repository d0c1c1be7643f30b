package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemittances(t *testing.T) {
	l := MustLedger(t, "")
	id := l.MustPlace("DE-RM")
	base := "/v1/placements/" + id
	require.Equal(t, http.StatusOK, l.do("POST", base+"/agency-payments", agencyKey, map[string]any{"amount": "150", "paymentNumber": "AG-1", "date": "2024-08-01"}).Status)
	require.Equal(t, http.StatusOK, l.do("POST", base+"/payment-received", acmeKey, map[string]any{"amount": "50", "paymentNumber": "P-1"}).Status)
	today := time.Now().UTC().Format(time.DateOnly)
	body := map[string]any{"creditorId": "acme", "currency": "EUR", "to": today, "remittanceNumber": "RM-1"}

	r := l.do("POST", "/v1/agency/remittances", agencyKey, body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	rem := r.JSON(t)
	assert.Equal(t, 150.0, rem["collected"])
	assert.Equal(t, 30.0, rem["fees"], "the fee on the agency payment; the direct payment's is invoiced apart")
	assert.Equal(t, 120.0, rem["amount"])
	docs := rem["documents"].([]any)
	require.Len(t, docs, 1)
	assert.Equal(t, "DE-RM", docs[0].(map[string]any)["claimNumber"])
	assert.Equal(t, "2024-08-01", docs[0].(map[string]any)["valueDate"])
	assert.Contains(t, r.Header.Get("Location"), "remittanceNumber=RM-1")

	head := l.head()
	again := l.do("POST", "/v1/agency/remittances", agencyKey, body)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, 120.0, again.JSON(t)["amount"])
	assert.Equal(t, head, l.head(), "a repeat records nothing")
	for name, tc := range map[string]struct {
		key    string
		body   map[string]any
		status int
		code   string
	}{
		"ErrOtherContent":    {agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": "2024-12-31", "remittanceNumber": "RM-1"}, http.StatusConflict, "remittance_number_reused"},
		"ErrNothingToRemit":  {agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": today, "remittanceNumber": "RM-2"}, http.StatusUnprocessableEntity, "nothing_to_remit"},
		"ErrFutureDate":      {agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": "2999-01-01", "remittanceNumber": "RM-2"}, http.StatusUnprocessableEntity, "future_value_date"},
		"ErrCurrency":        {agencyKey, map[string]any{"creditorId": "acme", "currency": "XYZ", "to": today, "remittanceNumber": "RM-2"}, http.StatusUnprocessableEntity, "validation_failed"},
		"ErrUnknownCreditor": {agencyKey, map[string]any{"creditorId": "nobody", "currency": "EUR", "to": today, "remittanceNumber": "RM-2"}, http.StatusNotFound, "creditor_not_found"},
		"ErrCreditorKey":     {acmeKey, body, http.StatusForbidden, ""},
		"ErrUnknownField":    {agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR", "to": today, "remittanceNumber": "RM-2", "amount": 1}, http.StatusBadRequest, ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := l.do("POST", "/v1/agency/remittances", tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, problemCode(t, r))
			}
			assert.Equal(t, head, l.head(), "a refusal records nothing")
		})
	}

	t.Run("report", func(t *testing.T) {
		own := l.get("/v1/reports/remittances", acmeKey, r.Position(t))
		require.Equal(t, http.StatusOK, own.Status, "%s", own.Body)
		list := own.JSON(t)["remittances"].([]any)
		require.Len(t, list, 1)
		assert.Equal(t, "RM-1", list[0].(map[string]any)["remittanceNumber"])
		assert.Len(t, list[0].(map[string]any)["documents"], 1)
		agency := l.get("/v1/reports/remittances?creditorId=acme", agencyKey, r.Position(t))
		require.Equal(t, http.StatusOK, agency.Status, "%s", agency.Body)
		assert.Len(t, agency.JSON(t)["remittances"], 1)
		other := l.get("/v1/reports/remittances?creditorId=globex", agencyKey, r.Position(t))
		assert.Empty(t, other.JSON(t)["remittances"])
		csv := l.do("GET", "/v1/reports/remittances", acmeKey, nil, "Accept", "text/csv")
		require.Equal(t, http.StatusOK, csv.Status)
		assert.Contains(t, string(csv.Body), "RM-1,acme,EUR,"+today)
		assert.Equal(t, http.StatusBadRequest, l.do("GET", "/v1/reports/remittances?creditorId=globex", acmeKey, nil).Status)
		assert.Equal(t, http.StatusBadRequest, l.do("GET", "/v1/reports/remittances?bogus=1", acmeKey, nil).Status)
	})

	t.Run("trial balance", func(t *testing.T) {
		tb := l.get("/v1/reports/trial-balance", agencyKey, r.Position(t)).ExactJSON(t)
		for _, tot := range tb["totals"].([]any) {
			m := tot.(map[string]any)
			assert.Equal(t, m["totalDebit"], m["totalCredit"])
		}
		var remitted, payable json.Number
		for _, a := range tb["accounts"].([]any) {
			m := a.(map[string]any)
			if m["creditorId"] != "acme" {
				continue
			}
			switch m["account"] {
			case "creditor/remitted":
				remitted = m["balance"].(json.Number)
			case "agency/payable":
				payable = m["balance"].(json.Number)
			}
		}
		assert.Equal(t, json.Number("120"), remitted)
		assert.Equal(t, json.Number("0"), payable, "settled")
	})
}
