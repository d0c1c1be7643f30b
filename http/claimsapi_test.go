package http_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handover is a claim handover in the collection API's shape, with personal
// data that must not be kept.
func handover(claim string) map[string]any {
	return map[string]any{
		"claimNumber": claim, "feeRate": "0.20",
		"customer": map[string]any{
			"customerNumber": "K77", "type": "PERSON", "preferredLanguage": "de", "firstName": "Erika", "lastName": "Zwetschgenmann",
			"dateOfBirth":           "1964-08-12",
			"addresses":             []any{map[string]any{"street": "Heidestraße 17", "zipCode": "51147", "city": "Köln", "countryCode": "DE"}},
			"communicationChannels": []any{map[string]any{"type": "EMAIL", "value": "erika.zwetschgenmann@example.org"}},
			"bankAccounts":          []any{map[string]any{"iban": "DE02120300000000202051"}},
		},
		"contracts": []any{
			map[string]any{"contractNumber": "C-1", "invoices": []any{
				map[string]any{"invoiceNumber": "INV-1", "originalAmount": "150.00", "remainingAmount": 100, "currency": "EUR", "dueDate": "2024-05-01", "invoiceDate": "2024-04-01"},
				map[string]any{"invoiceNumber": "INV-2", "originalAmount": 300, "remainingAmount": "300", "currency": "EUR", "dueDate": "2024-06-01", "invoiceDate": "2024-05-01"},
			}},
			map[string]any{"contractNumber": "C-2", "invoices": []any{
				map[string]any{"invoiceNumber": "INV-3", "remainingAmount": "50.50", "currency": "EUR", "dueDate": "2024-07-01"},
			}},
		},
		"costs": []any{}, "interests": []any{},
	}
}

func TestClaimsAPIWalkThrough(t *testing.T) {
	l := MustLedger(t, "")
	r := l.do("POST", "/v1/claims", acmeKey, handover("RV-1"))
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	placed := r.JSON(t)
	assert.NotEmpty(t, placed["requestId"])
	assert.Equal(t, "RV-1", placed["claimNumber"])
	assert.Equal(t, "/v1/claims/RV-1", r.Header.Get("Location"))
	id := placed["placementId"].(string)

	// The same placement through the placements API.
	p := l.get("/v1/placements/"+id, acmeKey, r.Position(t)).JSON(t)
	assert.Equal(t, "K77", p["customerNumber"])
	assert.Equal(t, "450.50", p["originalAmount"])
	assert.Equal(t, "0.20", p["feeRate"])
	// Its feed exists and confirms each invoice with its remaining amount.
	feed := l.do("GET", "/v1/claims/RV-1/transactions", acmeKey, nil)
	require.Equal(t, http.StatusOK, feed.Status)
	var confirmed []string
	for _, it := range feed.Array(t) {
		c := it["confirmation"].(map[string]any)
		confirmed = append(confirmed, fmt.Sprintf("%v %s %s %v", it["sortNumber"], c["type"], c["number"], c["amount"]))
	}
	assert.Equal(t, []string{"0 INVOICE INV-1 100", "1 INVOICE INV-2 300", "2 INVOICE INV-3 50.5"}, confirmed)

	// A payment naming an invoice goes to that invoice alone.
	pay := map[string]any{"invoiceNumber": "INV-2", "paymentNumber": "PAY-1", "contractNumber": "C-1", "date": "2024-08-01",
		"description": "transfer", "amount": "120.00", "currency": "EUR", "allocateTo": "PRINCIPAL_CLAIM"}
	r = l.do("POST", "/v1/claims/RV-1/payments", acmeKey, pay, "Idempotency-Key", "pay-1")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	first := r.JSON(t)
	keyed := l.do("POST", "/v1/claims/RV-1/payments", acmeKey, pay, "Idempotency-Key", "pay-1")
	assert.Equal(t, "true", keyed.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, first["requestId"], keyed.JSON(t)["requestId"])
	assert.Equal(t, "PAY-1", first["paymentNumber"])
	head := l.head()
	again := l.do("POST", "/v1/claims/RV-1/payments", acmeKey, pay)
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, first["requestId"], again.JSON(t)["requestId"], "a repeat answers as the first did")
	assert.Equal(t, head, l.head(), "and records nothing")
	other := map[string]any{}
	for k, v := range pay {
		other[k] = v
	}
	other["description"] = "another transfer"
	reused := l.do("POST", "/v1/claims/RV-1/payments", acmeKey, other)
	require.Equal(t, http.StatusConflict, reused.Status, "%s", reused.Body)
	assert.Equal(t, "payment_number_reused", reused.JSON(t)["code"])

	items := l.feedOf("RV-1", r.Position(t))
	require.Len(t, items, 5, "three INVOICE confirmations, the payment's confirmation and document")
	assert.Equal(t, "PAY-1", items[3]["confirmation"].(map[string]any)["paymentNumber"])
	assert.Equal(t, "2024-08-01", items[3]["confirmation"].(map[string]any)["date"], "the payment's value date")
	ad := items[4]["accountingDocument"].(map[string]any)
	assert.Equal(t, "DIRECT_PAYMENT", ad["type"])
	assert.Equal(t, "2024-08-01", ad["date"], "the payment's value date")
	assert.Equal(t, []any{map[string]any{"invoiceNumber": "INV-2", "contractNumber": "C-1", "amount": -120.0, "allocateTo": "PRINCIPAL_CLAIM"}}, ad["lineItems"])

	// A credit waiver, as a partial recall with one line.
	wv := map[string]any{"invoiceNumber": "INV-3", "creditWaiverNumber": "CW-1", "contractNumber": "C-2", "date": "2024-08-02",
		"description": "goodwill", "amount": 10.5, "currency": "EUR"}
	r = l.do("POST", "/v1/claims/RV-1/creditWaivers", acmeKey, wv, "Idempotency-Key", "cw-1")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	firstWaiver := r.JSON(t)["requestId"]
	head = l.head()
	replayed := l.do("POST", "/v1/claims/RV-1/creditWaivers", acmeKey, wv, "Idempotency-Key", "cw-1")
	assert.Equal(t, "true", replayed.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, firstWaiver, replayed.JSON(t)["requestId"])
	byNumber := l.do("POST", "/v1/claims/RV-1/creditWaivers", acmeKey, wv)
	require.Equal(t, http.StatusAccepted, byNumber.Status, "%s", byNumber.Body)
	assert.Equal(t, firstWaiver, byNumber.JSON(t)["requestId"], "the same creditWaiverNumber and content: answered as the first")
	wv["amount"] = 11
	reusedWaiver := l.do("POST", "/v1/claims/RV-1/creditWaivers", acmeKey, wv)
	require.Equal(t, http.StatusConflict, reusedWaiver.Status, "%s", reusedWaiver.Body)
	assert.Equal(t, "credit_waiver_number_reused", reusedWaiver.JSON(t)["code"])
	assert.Equal(t, head, l.head(), "none of the three recorded anything")
	wv["amount"] = 10.5

	// The claim, per invoice.
	c := l.do("GET", "/v1/claims/RV-1", acmeKey, nil)
	require.Equal(t, http.StatusOK, c.Status, "%s", c.Body)
	claim := c.JSON(t)
	assert.Equal(t, "active", claim["status"])
	assert.Equal(t, "450.50", claim["originalAmount"])
	assert.Equal(t, "10.50", claim["waivedAmount"])
	assert.Equal(t, "120.00", claim["paidAmount"])
	assert.Equal(t, "320.00", claim["openAmount"])
	assert.Equal(t, "24.00", claim["feeAmount"])
	invs := claim["invoices"].([]any)
	require.Len(t, invs, 3)
	assert.Equal(t, map[string]any{"invoiceNumber": "INV-1", "contractNumber": "C-1", "invoiceDate": "2024-04-01", "dueDate": "2024-05-01",
		"currency": "EUR", "invoicedAmount": "150.00", "originalAmount": "100.00", "waivedAmount": "0.00", "paidAmount": "0.00", "openAmount": "100.00"}, invs[0])
	assert.Equal(t, "120.00", invs[1].(map[string]any)["paidAmount"])
	assert.Equal(t, "180.00", invs[1].(map[string]any)["openAmount"])
	assert.Equal(t, "10.50", invs[2].(map[string]any)["waivedAmount"])
	assert.Equal(t, "40.00", invs[2].(map[string]any)["openAmount"])

	// Invoices a page at a time.
	pg := l.do("GET", "/v1/claims/RV-1/invoices?pageSize=2&page=2", acmeKey, nil).JSON(t)
	assert.EqualValues(t, 3, pg["totalItems"])
	assert.EqualValues(t, 2, pg["totalPages"])
	require.Len(t, pg["items"], 1)
	assert.Equal(t, "INV-3", pg["items"].([]any)[0].(map[string]any)["invoiceNumber"])
	def := l.do("GET", "/v1/claims/RV-1/invoices", acmeKey, nil).JSON(t)
	assert.EqualValues(t, 1, def["page"])
	assert.EqualValues(t, 10, def["pageSize"])
	assert.Len(t, def["items"], 3)
	assert.Empty(t, l.do("GET", "/v1/claims/RV-1/invoices?page=9", acmeKey, nil).JSON(t)["items"])

	// Reversal through the claims API, then the claim again.
	rv := l.do("POST", "/v1/claims/RV-1/payments/PAY-1/reversal", acmeKey, `{"reason":"RETURNED"}`)
	require.Equal(t, http.StatusAccepted, rv.Status, "%s", rv.Body)
	claim = l.do("GET", "/v1/claims/RV-1", acmeKey, nil).JSON(t)
	assert.Equal(t, "0.00", claim["paidAmount"])
	assert.Equal(t, "300.00", claim["invoices"].([]any)[1].(map[string]any)["openAmount"])

	ok := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Equal(t, true, ok.JSON(t)["ok"], "the live views, feeds included, equal a rebuild byte for byte: %s", ok.Body)

	// Personal data was accepted and dropped: not in the events, not on disk.
	audit := l.do("GET", "/v1/placements/"+id+"/audit", acmeKey, nil)
	require.Equal(t, http.StatusOK, audit.Status)
	for _, secret := range []string{"Zwetschgenmann", "Erika", "1964-08-12", "Heidestra", "DE02120300000000202051", "erika."} {
		assert.NotContains(t, string(audit.Body), secret)
	}
	l.stop()
	for _, dir := range []string{l.dir, l.dir + ".views"} {
		require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "Zwetschgenmann", "%s holds the debtor's name", path)
			assert.NotContains(t, string(b), "DE02120300000000202051", "%s holds the debtor's IBAN", path)
			return nil
		}))
	}
}

func TestClaimsAPIRefusalsAppendNothing(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("RV-X")).Status)
	with := func(edit func(map[string]any)) map[string]any {
		h := handover("RV-NEW")
		edit(h)
		return h
	}
	invoice := func(h map[string]any, contract, inv int) map[string]any {
		return h["contracts"].([]any)[contract].(map[string]any)["invoices"].([]any)[inv].(map[string]any)
	}
	pay := func(edit func(map[string]any)) map[string]any {
		p := map[string]any{"invoiceNumber": "INV-1", "paymentNumber": "P-9", "contractNumber": "C-1", "date": "2024-08-01",
			"description": "x", "amount": 10, "currency": "EUR", "allocateTo": "CLIENT_COSTS"}
		edit(p)
		return p
	}
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code, field             string
	}{
		{"handover without customer", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { delete(h, "customer") }), 422, "validation_failed", "customer"},
		{"handover without contracts", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { h["contracts"] = []any{} }), 422, "validation_failed", "contracts"},
		{"handover in two currencies", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 1, 0)["currency"] = "USD" }), 422, "validation_failed", "contracts[1].invoices[0].currency"},
		{"handover with a bad due date", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 0, 1)["dueDate"] = "2024-13-01" }), 422, "validation_failed", "contracts[0].invoices[1].dueDate"},
		{"handover with a bad invoice date", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 1, 0)["invoiceDate"] = "yesterday" }), 422, "validation_failed", "contracts[1].invoices[0].invoiceDate"},
		{"handover remaining above original", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 0, 0)["originalAmount"] = 99 }), 422, "validation_failed", "contracts[0].invoices[0].originalAmount"},
		{"handover with a negative amount", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 0, 0)["remainingAmount"] = -1 }), 422, "validation_failed", "contracts[0].invoices[0].remainingAmount"},
		{"handover with a duplicate invoice", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { invoice(h, 1, 0)["invoiceNumber"] = "INV-1" }), 422, "validation_failed", "contracts[1].invoices[0].invoiceNumber"},
		{"handover without customer number", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { h["customer"].(map[string]any)["customerNumber"] = "" }), 422, "validation_failed", "customer.customerNumber"},
		{"handover with an unknown customer field", "POST", "/v1/claims", acmeKey, with(func(h map[string]any) { h["customer"].(map[string]any)["shoeSize"] = 42 }), 400, "", ""},
		{"handover of a taken claim number", "POST", "/v1/claims", acmeKey, handover("RV-X"), 409, "claim_number_taken", ""},
		{"handover with the agency key", "POST", "/v1/claims", agencyKey, handover("RV-NEW"), 403, "", ""},
		{"payment to an unknown invoice", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["invoiceNumber"] = "INV-9" }), 422, "unknown_invoice", "invoiceNumber"},
		{"payment with the wrong contract", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["contractNumber"] = "C-2" }), 422, "contract_mismatch", "contractNumber"},
		{"payment in another currency", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["currency"] = "USD" }), 422, "currency_mismatch", "currency"},
		{"payment above the invoice's open amount", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["amount"] = 100.01 }), 422, "amount_exceeds_open", "amount"},
		{"payment allocated to nothing known", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["allocateTo"] = "FEES" }), 422, "validation_failed", "allocateTo"},
		{"payment with a bad date", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["date"] = "01.08.2024" }), 422, "validation_failed", "date"},
		{"payment without an amount", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { delete(p, "amount") }), 422, "validation_failed", "amount"},
		{"payment with an unknown field", "POST", "/v1/claims/RV-X/payments", acmeKey, pay(func(p map[string]any) { p["iban"] = "x" }), 400, "", ""},
		{"payment on an unknown claim", "POST", "/v1/claims/RV-NONE/payments", acmeKey, pay(func(map[string]any) {}), 404, "not_found", ""},
		{"payment on another creditor's claim", "POST", "/v1/claims/RV-X/payments", otherKey, pay(func(map[string]any) {}), 404, "not_found", ""},
		{"waiver on an unknown invoice", "POST", "/v1/claims/RV-X/creditWaivers", acmeKey, map[string]any{"invoiceNumber": "INV-9", "contractNumber": "C-1", "date": "2024-08-01", "amount": 1, "currency": "EUR"}, 422, "unknown_invoice", "invoiceNumber"},
		{"waiver above the open amount", "POST", "/v1/claims/RV-X/creditWaivers", acmeKey, map[string]any{"invoiceNumber": "INV-3", "contractNumber": "C-2", "date": "2024-08-01", "amount": 60, "currency": "EUR"}, 422, "amount_exceeds_open", "amount"},
		{"waiver of another type", "POST", "/v1/claims/RV-X/creditWaivers", acmeKey, map[string]any{"invoiceNumber": "INV-3", "contractNumber": "C-2", "type": "DISCOUNT", "date": "2024-08-01", "amount": 1, "currency": "EUR"}, 422, "validation_failed", "type"},
		{"waiver on another creditor's claim", "POST", "/v1/claims/RV-X/creditWaivers", otherKey, map[string]any{"invoiceNumber": "INV-3", "contractNumber": "C-2", "date": "2024-08-01", "amount": 1, "currency": "EUR"}, 404, "not_found", ""},
		{"claim of another creditor", "GET", "/v1/claims/RV-X", otherKey, nil, 404, "not_found", ""},
		{"unknown claim", "GET", "/v1/claims/RV-NONE", acmeKey, nil, 404, "not_found", ""},
		{"invoices of another creditor's claim", "GET", "/v1/claims/RV-X/invoices", otherKey, nil, 404, "not_found", ""},
		{"invoices page 0", "GET", "/v1/claims/RV-X/invoices?page=0", acmeKey, nil, 400, "invalid_query", "page"},
		{"invoices pages of 101", "GET", "/v1/claims/RV-X/invoices?pageSize=101", acmeKey, nil, 400, "invalid_query", "pageSize"},
		{"search by nothing", "GET", "/v1/claims/search", acmeKey, nil, 400, "invalid_query", ""},
		{"search by two things", "GET", "/v1/claims/search?customerNumber=K77&invoiceNumber=INV-1", acmeKey, nil, 400, "invalid_query", ""},
		{"search with a bad cursor", "GET", "/v1/claims/search?customerNumber=K77&cursor=zz", acmeKey, nil, 400, "invalid_cursor", ""},
		{"search without a key", "GET", "/v1/claims/search?customerNumber=K77", "", nil, 401, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do(tc.method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.JSON(t)["code"], "%s", r.Body)
			}
			if tc.field != "" {
				assert.Contains(t, string(r.Body), fmt.Sprintf(`"field":%q`, tc.field))
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/claims/RV-NEW", acmeKey, nil).Status, "no refused handover left a claim")
}

func TestClaimsSearch(t *testing.T) {
	l := MustLedger(t, "")
	for i := range 3 {
		h := handover(fmt.Sprintf("RV-S%d", i))
		if i == 2 {
			h["customer"].(map[string]any)["customerNumber"] = "K78"
		}
		require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, h).Status)
	}
	// Another creditor's claim with the same numbers is not found.
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", otherKey, handover("RV-S0")).Status)

	claims := func(path string) ([]string, string) {
		r := l.do("GET", path, acmeKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		page := r.JSON(t)
		var out []string
		for _, it := range page["items"].([]any) {
			out = append(out, it.(map[string]any)["claimNumber"].(string))
		}
		next, _ := page["nextCursor"].(string)
		return out, next
	}
	got, _ := claims("/v1/claims/search?customerNumber=K77")
	assert.Equal(t, []string{"RV-S0", "RV-S1"}, got)
	got, _ = claims("/v1/claims/search?contractNumber=C-2")
	assert.Equal(t, []string{"RV-S0", "RV-S1", "RV-S2"}, got)
	got, _ = claims("/v1/claims/search?invoiceNumber=INV-2&customerNumber=")
	assert.Equal(t, []string{"RV-S0", "RV-S1", "RV-S2"}, got)
	got, _ = claims("/v1/claims/search?invoiceNumber=INV-404")
	assert.Empty(t, got)

	// A page at a time: nothing lost, nothing twice.
	var all []string
	path := "/v1/claims/search?invoiceNumber=INV-1&limit=2"
	for range 5 {
		page, next := claims(path)
		all = append(all, page...)
		if next == "" {
			break
		}
		path = "/v1/claims/search?invoiceNumber=INV-1&limit=2&cursor=" + next
	}
	assert.Equal(t, []string{"RV-S0", "RV-S1", "RV-S2"}, all)
	assert.True(t, strings.HasPrefix(path, "/v1/claims/search?invoiceNumber=INV-1&limit=2&cursor="), "it took two pages")
}

func TestClaimHandoverIdempotencyKey(t *testing.T) {
	l := MustLedger(t, "")
	h := handover("")
	delete(h, "claimNumber") // the ledger assigns one
	r := l.do("POST", "/v1/claims", acmeKey, h, "Idempotency-Key", "handover-1")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	first := r.JSON(t)
	assert.True(t, strings.HasPrefix(first["claimNumber"].(string), "CL-"))
	head := l.head()
	again := l.do("POST", "/v1/claims", acmeKey, h, "Idempotency-Key", "handover-1")
	require.Equal(t, http.StatusAccepted, again.Status, "%s", again.Body)
	assert.Equal(t, first, again.JSON(t), "the first answer, the same claim number")
	assert.Equal(t, head, l.head())
}
