package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chargedHandover is a claims-API handover in currency with one invoice of
// 100, costs of 20 and interests of 10 (amounts as that currency writes
// them: 20.00, 20, 20.000).
func chargedHandover(claim, currency string, m func(string) string) map[string]any {
	return map[string]any{
		"claimNumber": claim, "feeRate": "0.20",
		"customer": map[string]any{"customerNumber": "K1", "type": "PERSON", "lastName": "Muster"},
		"contracts": []any{map[string]any{"contractNumber": "C-1", "invoices": []any{
			map[string]any{"invoiceNumber": "INV-1", "remainingAmount": m("100"), "currency": currency, "dueDate": "2024-05-01"},
		}}},
		"costs":     []any{map[string]any{"amount": m("20"), "currency": currency, "number": "C-1", "date": "2024-04-01", "description": "reminder fee"}},
		"interests": []any{map[string]any{"amount": m("10"), "currency": currency, "number": "Z-1", "date": "2024-04-01"}},
	}
}

func TestCostsAndInterestsThroughTheClaimsAPI(t *testing.T) {
	cases := map[string]struct {
		currency string
		m        func(string) string
	}{
		"EUR": {"EUR", func(s string) string { return s + ".00" }},
		"JPY": {"JPY", func(s string) string { return s }},
		"BHD": {"BHD", func(s string) string { return s + ".000" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l := MustLedger(t, "")
			claim := "CI-" + name
			r := l.do("POST", "/v1/claims", acmeKey, chargedHandover(claim, tc.currency, tc.m))
			require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
			id := r.JSON(t)["placementId"].(string)

			// Each charge confirmed in the feed, after the invoice's INVOICE confirmation.
			items := l.feedOf(claim, r.Position(t))
			require.Len(t, items, 3)
			assert.Equal(t, "INVOICE", items[0]["confirmation"].(map[string]any)["type"])
			for i, want := range [][2]string{{"CLIENT_COSTS", "C-1"}, {"CLIENT_INTERESTS", "Z-1"}} {
				conf := items[i+1]["confirmation"].(map[string]any)
				assert.Equal(t, want[0], conf["type"])
				assert.Equal(t, want[1], conf["number"])
				assert.Equal(t, tc.currency, conf["currency"])
			}

			// A debit (agency key): once per number.
			debit := map[string]any{"amount": tc.m("5"), "type": "INTERESTS", "number": "D-1", "date": "2024-08-01", "description": "late"}
			assert.Equal(t, http.StatusForbidden, l.do("POST", "/v1/placements/"+id+"/debits", acmeKey, debit).Status, "the creditor adds no debit")
			d := l.do("POST", "/v1/placements/"+id+"/debits", agencyKey, debit)
			require.Equal(t, http.StatusCreated, d.Status, "%s", d.Body)
			assert.Equal(t, tc.m("15"), d.JSON(t)["interestsOpenAmount"])
			head := l.head()
			again := l.do("POST", "/v1/placements/"+id+"/debits", agencyKey, debit)
			require.Equal(t, http.StatusCreated, again.Status, "%s", again.Body)
			assert.Equal(t, d.JSON(t)["revision"], again.JSON(t)["revision"], "a repeat answers as the first")
			debit["amount"] = tc.m("6")
			reused := l.do("POST", "/v1/placements/"+id+"/debits", agencyKey, debit)
			require.Equal(t, http.StatusConflict, reused.Status, "%s", reused.Body)
			assert.Equal(t, "debit_number_reused", reused.JSON(t)["code"])
			debit["number"], debit["type"] = "D-2", "FEES"
			assert.Equal(t, http.StatusUnprocessableEntity, l.do("POST", "/v1/placements/"+id+"/debits", agencyKey, debit).Status)
			assert.Equal(t, head, l.head(), "the repeat and the refusals recorded nothing")
			items = l.feedOf(claim, d.Position(t))
			require.Len(t, items, 4)
			doc := items[3]["accountingDocument"].(map[string]any)
			assert.Equal(t, "DEBIT", doc["type"])
			assert.Equal(t, []any{map[string]any{"invoiceNumber": "", "contractNumber": "", "amount": 5.0, "allocateTo": "CLIENT_INTERESTS"}}, doc["lineItems"])

			// payment-received above everything open (135) is refused...
			above := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, map[string]any{"amount": tc.m("136")})
			require.Equal(t, http.StatusUnprocessableEntity, above.Status, "%s", above.Body)
			assert.Equal(t, "amount_exceeds_outstanding", above.JSON(t)["code"])
			assert.Equal(t, head, l.head(), "and records nothing")
			// ...a claims-API payment keeps it as an overpayment.
			p := l.do("POST", "/v1/claims/"+claim+"/payments", acmeKey, map[string]any{"paymentNumber": "P-1", "amount": tc.m("140"), "currency": tc.currency})
			require.Equal(t, http.StatusAccepted, p.Status, "%s", p.Body)
			cl := l.get("/v1/claims/"+claim, acmeKey, p.Position(t)).JSON(t)
			assert.Equal(t, "paid", cl["status"])
			assert.Equal(t, tc.m("5"), cl["overpaidAmount"])
			assert.Equal(t, tc.m("0"), cl["costsOpenAmount"])
			assert.Equal(t, tc.m("0"), cl["interestsOpenAmount"])
			assert.Equal(t, tc.m("20"), cl["costsAmount"])
			assert.Equal(t, tc.m("15"), cl["interestsAmount"])
			assert.Equal(t, tc.m("100"), cl["paidAmount"], "the principal paid")
			assert.Equal(t, tc.m("20"), cl["feeAmount"], "the fee is earned on the principal alone")
			items = l.feedOf(claim, p.Position(t))
			var lines []any
			for _, it := range items {
				if ad, ok := it["accountingDocument"].(map[string]any); ok && ad["type"] == "DIRECT_PAYMENT" {
					for _, li := range ad["lineItems"].([]any) {
						lines = append(lines, li.(map[string]any)["allocateTo"])
					}
				}
			}
			assert.Equal(t, []any{"PRINCIPAL_CLAIM", "CLIENT_COSTS", "CLIENT_INTERESTS", "OVER_PAYMENT"}, lines)

			// A debit on the closed claim is refused and records nothing.
			head = l.head()
			debit["number"], debit["type"] = "D-3", "COSTS"
			closed := l.do("POST", "/v1/placements/"+id+"/debits", agencyKey, debit)
			require.Equal(t, http.StatusConflict, closed.Status, "%s", closed.Body)
			assert.Equal(t, "placement_closed", closed.JSON(t)["code"])
			assert.Equal(t, head, l.head())
		})
	}
}

func TestHandoverChargesRefused(t *testing.T) {
	m := func(s string) string { return s + ".00" }
	cases := map[string]struct {
		edit  func(map[string]any)
		field string
	}{
		"a cost in another currency": {func(h map[string]any) { h["costs"].([]any)[0].(map[string]any)["currency"] = "USD" }, "costs[0].currency"},
		"an interest below the cent": {func(h map[string]any) { h["interests"].([]any)[0].(map[string]any)["amount"] = "1.001" }, "interests[0].amount"},
		"a cost without a number":    {func(h map[string]any) { delete(h["costs"].([]any)[0].(map[string]any), "number") }, "costs[0].number"},
		"an interest without a date": {func(h map[string]any) { delete(h["interests"].([]any)[0].(map[string]any), "date") }, "interests[0].date"},
	}
	l := MustLedger(t, "")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := chargedHandover("CI-BAD", "EUR", m)
			tc.edit(h)
			head := l.head()
			r := l.do("POST", "/v1/claims", acmeKey, h)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			fields := r.JSON(t)["errors"].([]any)
			assert.Equal(t, tc.field, fields[0].(map[string]any)["field"])
			assert.Equal(t, head, l.head(), "nothing recorded")
		})
	}
}
