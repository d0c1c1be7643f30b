package http_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPersonalFieldsChecked: a handover's and a contact change's personal
// fields were taken in any JSON shape and size (a number as date of birth,
// 346,000 addresses, a 1 MB name, U+202E and BEL), sealed, and shown by
// every later read. Each is now refused with 422, naming the field as sent,
// and nothing is appended and no data key made.
func TestPersonalFieldsChecked(t *testing.T) {
	l := MustLedger(t, "")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("PC-1")).Status)
	many := make([]any, 1000)
	for i := range many {
		many[i] = map[string]any{"city": "Köln"}
	}
	cases := []struct {
		name  string
		field string
		value any
		path  string
	}{
		{"date of birth a number", "dateOfBirth", 12345, "dateOfBirth"},
		{"date of birth not a date", "dateOfBirth", "1964-02-30", "dateOfBirth"},
		{"date of birth in the future", "dateOfBirth", "2999-01-01", "dateOfBirth"},
		{"type outside the enum", "type", "ALIEN", "type"},
		{"a thousand addresses", "addresses", many, "addresses"},
		{"a long first name", "firstName", strings.Repeat("E", 300_000), "firstName"},
		{"RLO in a last name", "lastName", "Zwetsch\u202egnam", "lastName"},
		{"BEL in a city", "addresses", []any{map[string]any{"city": "Köln"}, map[string]any{"city": "K\u0007öln"}}, "addresses[1].city"},
		{"an IBAN with wrong check digits", "bankAccounts", []any{map[string]any{"iban": "DE99120300000000202051"}}, "bankAccounts[0].iban"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := keyFiles(t, l)
			head := l.head()

			h := handover("PC-2")
			h["customer"].(map[string]any)[tc.field] = tc.value
			r := l.do("POST", "/v1/claims", acmeKey, h)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "handover: %.300s", r.Body)
			assert.Equal(t, "customer."+tc.path, r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"])

			r = l.do("PUT", "/v1/claims/PC-1/customer", acmeKey, map[string]any{tc.field: tc.value})
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "contact change: %.300s", r.Body)
			assert.Equal(t, tc.path, r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"])

			assert.Equal(t, head, l.head(), "nothing appended")
			assert.Equal(t, keys, keyFiles(t, l), "no data key made")
		})
	}
	ok := l.do("PUT", "/v1/claims/PC-1/customer", acmeKey, map[string]any{"addresses": []any{map[string]any{"street": "Mispelgasse 3", "city": "Bonn", "countryCode": "DE"}}})
	assert.Equal(t, http.StatusAccepted, ok.Status, "%s", ok.Body)
}

// keyFiles counts the files of the ledger's key directory.
func keyFiles(t *testing.T, l *ledger) int {
	t.Helper()
	entries, err := os.ReadDir(l.dir + ".keys")
	require.NoError(t, err)
	return len(entries)
}
