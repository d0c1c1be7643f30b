package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	httpapi "github.com/collections-ledger/ledger/http"
	"github.com/collections-ledger/ledger/journal"
)

// accessLog returns the PersonalDataRead events of a creditor's access log.
func (l *ledger) accessLog(creditor string) []journal.PersonalDataRead {
	l.t.Helper()
	var out []journal.PersonalDataRead
	err := journal.ReadStream(context.Background(), l.store, journal.AccessStream(creditor), 0, func(rec eventstore.RecordedEvent) error {
		var r journal.PersonalDataRead
		require.NoError(l.t, json.Unmarshal(rec.Data, &r))
		m, err := journal.DecodeMetadata(rec.Metadata)
		require.NoError(l.t, err)
		require.Equal(l.t, creditor, m.Actor, "the reader is the event's actor")
		out = append(out, r)
		return nil
	})
	if err != nil && !strings.Contains(err.Error(), "not found") {
		require.NoError(l.t, err)
	}
	return out
}

func customerOf(t *testing.T, r response) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)["customer"].(map[string]any)
}

func TestPersonalDataSealedReadRecordedAndErased(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PD-1")).Status)
	other := handover("PD-1")
	other["customer"].(map[string]any)["lastName"] = "Quittenbaum" // the same customer number at another creditor
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", otherKey, other).Status)

	// The owning creditor reads it in clear; the read is recorded first.
	cust := customerOf(t, l.do("GET", "/v1/claims/PD-1", acmeKey, nil))
	assert.Equal(t, "present", cust["personalDataStatus"])
	data := cust["personalData"].(map[string]any)
	assert.Equal(t, "Zwetschgenmann", data["lastName"])
	assert.Equal(t, "1964-08-12", data["dateOfBirth"])
	assert.Equal(t, "DE02120300000000202051", data["bankAccounts"].([]any)[0].(map[string]any)["iban"])
	reads := l.accessLog("acme")
	require.Len(t, reads, 1)
	assert.Equal(t, "K77", reads[0].CustomerNumber)
	assert.Equal(t, "PD-1", reads[0].ClaimNumber)
	assert.Equal(t, "GET /v1/claims/{claimNumber}", reads[0].Route)
	assert.Empty(t, l.accessLog("other"), "another creditor's access log is its own")
	// Nothing else shows it: the placement resource, the list, the search, the audit trail's data.
	for _, path := range []string{"/v1/placements", "/v1/claims/search?customerNumber=K77", "/v1/claims/PD-1/transactions"} {
		assert.NotContains(t, string(l.do("GET", path, acmeKey, nil).Body), "Zwetschgenmann", path)
	}

	// Erasure: the creditor's debtor only, recorded, idempotent.
	r := l.do("DELETE", "/v1/debtors/K77/personal-data", acmeKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	erased := r.JSON(t)
	assert.Equal(t, true, erased["erased"])
	assert.Equal(t, "acme", erased["erasedBy"])
	head := l.head()
	again := l.do("DELETE", "/v1/debtors/K77/personal-data", acmeKey, `{"reason": "DATA_SUBJECT_REQUEST"}`)
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, erased["erasedAt"], again.JSON(t)["erasedAt"], "the first erasure, again")
	assert.Equal(t, head, l.head(), "a repeat records nothing")
	var events []journal.DebtorPersonalDataErased
	require.NoError(t, journal.ReadStream(context.Background(), l.store, journal.DebtorStream("acme", "K77"), 0, func(rec eventstore.RecordedEvent) error {
		var e journal.DebtorPersonalDataErased
		require.NoError(t, json.Unmarshal(rec.Data, &e))
		events = append(events, e)
		return nil
	}))
	assert.Equal(t, []journal.DebtorPersonalDataErased{{CreditorID: "acme", CustomerNumber: "K77", Reason: "DATA_SUBJECT_REQUEST", KeysDestroyed: true}}, events)

	claim := l.do("GET", "/v1/claims/PD-1", acmeKey, nil)
	cust = customerOf(t, claim)
	assert.Equal(t, "erased", cust["personalDataStatus"])
	assert.Nil(t, cust["personalData"])
	assert.Equal(t, "450.50", claim.JSON(t)["originalAmount"], "amounts are unchanged")
	assert.Len(t, l.accessLog("acme"), 1, "nothing shown, nothing recorded")
	assert.Equal(t, "Quittenbaum", customerOf(t, l.do("GET", "/v1/claims/PD-1", otherKey, nil))["personalData"].(map[string]any)["lastName"],
		"another creditor's debtor with the same customer number keeps its data")

	// Chains, invariants and the views still hold: the hashes cover the ciphertext.
	ok := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Equal(t, true, ok.JSON(t)["ok"], "%s", ok.Body)

	// A new handover for the debtor after the erasure is readable; the old one stays erased.
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PD-2")).Status)
	assert.Equal(t, "present", customerOf(t, l.do("GET", "/v1/claims/PD-2", acmeKey, nil))["personalDataStatus"])
	assert.Equal(t, "erased", customerOf(t, l.do("GET", "/v1/claims/PD-1", acmeKey, nil))["personalDataStatus"])

	// After a restart (and views rebuilt from nothing) it is the same.
	dir := l.dir
	l.stop()
	require.NoError(t, os.RemoveAll(dir+".views"))
	l = MustLedger(t, dir)
	assert.Equal(t, "erased", customerOf(t, l.get("/v1/claims/PD-1", acmeKey, l.head()))["personalDataStatus"])
	assert.Equal(t, "present", customerOf(t, l.do("GET", "/v1/claims/PD-2", acmeKey, nil))["personalDataStatus"])
}

func TestErasureRefusalsAppendNothing(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PD-X")).Status)
	for _, tc := range []struct {
		name, path, key, body string
		status                int
		code                  string
	}{
		{"unknown debtor", "/v1/debtors/K404/personal-data", acmeKey, "", 404, "debtor_not_found"},
		{"another creditor's debtor", "/v1/debtors/K77/personal-data", otherKey, "", 404, "debtor_not_found"},
		{"naming another creditor", "/v1/debtors/K77/personal-data?creditorId=other", acmeKey, "", 404, "not_found"},
		{"agency without creditor", "/v1/debtors/K77/personal-data", agencyKey, "", 422, "validation_failed"},
		{"agency, unknown creditor's debtor", "/v1/debtors/K77/personal-data?creditorId=other", agencyKey, "", 404, "debtor_not_found"},
		{"unknown reason", "/v1/debtors/K77/personal-data", acmeKey, `{"reason": "BORED"}`, 422, "validation_failed"},
		{"unknown field", "/v1/debtors/K77/personal-data", acmeKey, `{"why": "x"}`, 400, ""},
		{"no key", "/v1/debtors/K77/personal-data", "", "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := l.do("DELETE", tc.path, tc.key, body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.JSON(t)["code"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
			assert.Equal(t, "present", customerOf(t, l.do("GET", "/v1/claims/PD-X", acmeKey, nil))["personalDataStatus"], "nothing erased")
		})
	}
	// The agency erases for a retention run, naming the creditor.
	r := l.do("DELETE", "/v1/debtors/K77/personal-data?creditorId=acme", agencyKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "erased", customerOf(t, l.do("GET", "/v1/claims/PD-X", acmeKey, nil))["personalDataStatus"])
}

func TestHandoverWithPersonalDataNeedsAKeyStore(t *testing.T) {
	l := MustLedger(t, "")
	keys, err := httpapi.ParseKeys("acme="+acmeKey, "")
	require.NoError(t, err)
	noStore := *l
	noStore.server = httpapi.New(l.config(keys)) // no key store
	head := l.head()
	r := noStore.do("POST", "/v1/claims", acmeKey, handover("PD-NOKEY"))
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	assert.Equal(t, "personal_data_not_accepted", r.JSON(t)["code"])
	assert.NotContains(t, string(r.Body), "Zwetschgenmann", "a problem body never echoes personal data")
	assert.Equal(t, head, l.head(), "nothing appended")
	noPersonal := handover("PD-NOKEY")
	noPersonal["customer"] = map[string]any{"customerNumber": "K77"}
	require.Equal(t, http.StatusAccepted, noStore.do("POST", "/v1/claims", acmeKey, noPersonal).Status, "a handover without personal data is fine")

	// A refused handover creates no data key.
	files, err := filepath.Glob(filepath.Join(l.dir+".keys", "d", "*"))
	require.NoError(t, err)
	assert.Empty(t, files)
	bad := handover("PD-BAD")
	bad["contracts"].([]any)[0].(map[string]any)["invoices"].([]any)[0].(map[string]any)["dueDate"] = "never"
	require.Equal(t, http.StatusUnprocessableEntity, l.do("POST", "/v1/claims", acmeKey, bad).Status)
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PD-OK")).Status)
	require.Equal(t, http.StatusConflict, l.do("POST", "/v1/claims", acmeKey, func() map[string]any {
		h := handover("PD-OK")
		h["customer"].(map[string]any)["customerNumber"] = "K-NEW"
		return h
	}()).Status)
	files, err = filepath.Glob(filepath.Join(l.dir+".keys", "d", "*"))
	require.NoError(t, err)
	assert.Len(t, files, 1, "only the accepted handover's debtor has a key")
}

func TestDebtorContactChanged(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PD-C")).Status)
	moved := `{"addresses": [{"street": "Mispelgasse 3", "city": "Bonn"}], "lastName": "Zwetschgenmann"}`
	feedBefore := l.do("GET", "/v1/claims/PD-C/transactions", acmeKey, nil).Body
	r := l.do("PUT", "/v1/claims/PD-C/customer", acmeKey, moved)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	cust := customerOf(t, l.get("/v1/claims/PD-C", acmeKey, r.Position(t)))
	assert.Equal(t, "present", cust["personalDataStatus"])
	assert.Equal(t, "Mispelgasse 3", cust["personalData"].(map[string]any)["addresses"].([]any)[0].(map[string]any)["street"])
	assert.Nil(t, cust["personalData"].(map[string]any)["dateOfBirth"], "the data as it is now replaces what was shown")
	audit := l.do("GET", "/v1/placements/"+l.do("GET", "/v1/claims/PD-C", acmeKey, nil).JSON(t)["placementId"].(string)+"/audit", acmeKey, nil)
	assert.Contains(t, string(audit.Body), "DebtorContactChanged")
	assert.NotContains(t, string(audit.Body), "Mispelgasse", "the history holds only ciphertext")
	assert.Equal(t, string(feedBefore), string(l.do("GET", "/v1/claims/PD-C/transactions", acmeKey, nil).Body), "no feed item")

	for _, tc := range []struct {
		name, path, key, body string
		status                int
		code                  string
	}{
		{"no personal data", "/v1/claims/PD-C/customer", acmeKey, `{"customerNumber": "K77"}`, 422, "validation_failed"},
		{"another debtor", "/v1/claims/PD-C/customer", acmeKey, `{"customerNumber": "K78", "lastName": "X"}`, 422, "customer_mismatch"},
		{"unknown field", "/v1/claims/PD-C/customer", acmeKey, `{"lastName": "X", "shoeSize": 1}`, 400, ""},
		{"unknown claim", "/v1/claims/PD-NONE/customer", acmeKey, `{"lastName": "X"}`, 404, "not_found"},
		{"another creditor's claim", "/v1/claims/PD-C/customer", otherKey, `{"lastName": "X"}`, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := l.head()
			r := l.do("PUT", tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			if tc.code != "" {
				assert.Equal(t, tc.code, r.JSON(t)["code"])
			}
			assert.Equal(t, head, l.head(), "nothing appended")
		})
	}

	require.Equal(t, http.StatusOK, l.do("DELETE", "/v1/debtors/K77/personal-data", acmeKey, nil).Status)
	assert.Equal(t, "erased", customerOf(t, l.do("GET", "/v1/claims/PD-C", acmeKey, nil))["personalDataStatus"], "the change is erased with the rest")
	ok := l.do("GET", "/v1/admin/verify", agencyKey, nil)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Equal(t, true, ok.JSON(t)["ok"], "%s", ok.Body)
}
