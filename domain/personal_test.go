package domain_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// personalData is a valid debtor's personal data with one field replaced
// (or removed, for nil) by each case.
func personalData(t *testing.T, field string, value any) []byte {
	t.Helper()
	d := map[string]any{
		"type": "PERSON", "preferredLanguage": "de-DE", "salutation": "Frau", "firstName": "Erika", "lastName": "Zwetschgenmann",
		"dateOfBirth":           "1964-08-12",
		"addresses":             []any{map[string]any{"street": "Heidestraße 17", "zipCode": "51147", "city": "Köln", "countryCode": "DE", "primary": true}},
		"communicationChannels": []any{map[string]any{"type": "EMAIL", "value": "erika@example.org"}, map[string]any{"type": "PHONE", "value": "+49 221 5550199"}},
		"bankAccounts":          []any{map[string]any{"iban": "DE02120300000000202051", "bic": nil}},
	}
	if field != "" {
		if value == nil {
			delete(d, field)
		} else {
			d[field] = value
		}
	}
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return b
}

func addresses(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"city": fmt.Sprintf("Köln %d", i)}
	}
	return out
}

func TestCheckPersonalData(t *testing.T) {
	ok := []struct {
		name  string
		field string
		value any
	}{
		{"OK example", "", nil},
		{"OK company", "type", "COMPANY"},
		{"OK no type", "type", nil},
		{"OK language without region", "preferredLanguage", "de"},
		{"OK born today", "dateOfBirth", t0.Format("2006-01-02")},
		{"OK born on a leap day", "dateOfBirth", "1936-02-29"},
		{"OK right-to-left name", "lastName", "زويتشغنمان"},
		{"OK longest name", "lastName", strings.Repeat("ä", domain.MaxPersonalText)},
		{"OK most addresses", "addresses", addresses(domain.MaxPersonalItems)},
		{"OK empty list", "bankAccounts", []any{}},
		{"OK number in an address", "addresses", []any{map[string]any{"houseNumber": 17}}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, domain.CheckPersonalData(personalData(t, tc.field, tc.value), t0, "customer."))
		})
	}

	errs := []struct {
		name  string
		field string
		value any
		path  string // the first error's field
	}{
		{"Err date of birth a number", "dateOfBirth", 12345, "customer.dateOfBirth"},
		{"Err date of birth not a real date", "dateOfBirth", "1937-02-29", "customer.dateOfBirth"},
		{"Err date of birth another format", "dateOfBirth", "12.08.1964", "customer.dateOfBirth"},
		{"Err date of birth in the future", "dateOfBirth", t0.AddDate(0, 0, 2).Format("2006-01-02"), "customer.dateOfBirth"},
		{"Err type not in the enum", "type", "ROBOT", "customer.type"},
		{"Err type lower case", "type", "person", "customer.type"},
		{"Err language", "preferredLanguage", "deutsch!", "customer.preferredLanguage"},
		{"Err name too long", "firstName", strings.Repeat("a", domain.MaxPersonalText+1), "customer.firstName"},
		{"Err name blank", "firstName", "  ", "customer.firstName"},
		{"Err name an object", "lastName", map[string]any{"x": 1}, "customer.lastName"},
		{"Err BEL in a name", "firstName", "Eri\u0007ka", "customer.firstName"},
		{"Err RLO in a name", "lastName", "Zwetsch\u202egnam", "customer.lastName"},
		{"Err isolate in a name", "lastName", "Zwetsch\u2067gnam", "customer.lastName"},
		{"Err too many addresses", "addresses", addresses(domain.MaxPersonalItems + 1), "customer.addresses"},
		{"Err addresses an object", "addresses", map[string]any{"city": "Köln"}, "customer.addresses"},
		{"Err address a string", "addresses", []any{"Köln"}, "customer.addresses[0]"},
		{"Err nested address", "addresses", []any{map[string]any{"city": map[string]any{"name": "Köln"}}}, "customer.addresses[0].city"},
		{"Err control in the fourth address", "addresses", append(addresses(3), map[string]any{"city": "K\u001böln"}), "customer.addresses[3].city"},
		{"Err bidi in a channel", "communicationChannels", []any{map[string]any{"type": "EMAIL", "value": "a@b.example\u202d"}}, "customer.communicationChannels[0].value"},
		{"Err channel type", "communicationChannels", []any{map[string]any{"type": "e mail", "value": "a@b.example"}}, "customer.communicationChannels[0].type"},
		{"Err country code", "addresses", []any{map[string]any{"countryCode": "Germany"}}, "customer.addresses[0].countryCode"},
		{"Err IBAN check digits", "bankAccounts", []any{map[string]any{"iban": "DE03120300000000202051"}}, "customer.bankAccounts[0].iban"},
		{"Err long text in an item", "bankAccounts", []any{map[string]any{"holder": strings.Repeat("x", domain.MaxPersonalText+1)}}, "customer.bankAccounts[0].holder"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.CheckPersonalData(personalData(t, tc.field, tc.value), t0, "customer.")
			e, isDomain := domain.AsError(err)
			require.True(t, isDomain, "%v", err)
			assert.Equal(t, domain.KindInvalid, e.Kind)
			require.NotEmpty(t, e.Fields)
			assert.Equal(t, tc.path, e.Fields[0].Field, "%+v", e.Fields)
		})
	}
}

// TestTextRefusesBidirectionalControls: free text (a payment's
// description) keeps right-to-left marks but refuses the embeddings,
// overrides and isolates that reorder what a screen shows.
func TestTextRefusesBidirectionalControls(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	for _, tc := range []struct {
		name string
		text string
		ok   bool
	}{
		{"OK right-to-left mark", "Zahlung \u200f تنازل", true},
		{"OK line breaks", "eins\r\nzwei\tdrei", true},
		{"Err LRE", "a\u202ab", false}, {"Err RLO", "a\u202eb", false}, {"Err PDF", "a\u202cb", false},
		{"Err LRI", "a\u2066b", false}, {"Err PDI", "a\u2069b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := domain.Decide(p, domain.ReceivePayment{Amount: d("10"), Description: tc.text, At: t0})
			if tc.ok {
				assert.NoError(t, dec.Err)
				return
			}
			require.Error(t, dec.Err)
			assert.Empty(t, dec.Events, "nothing to append")
			e, _ := domain.AsError(dec.Err)
			require.NotNil(t, e)
			assert.Equal(t, "description", e.Fields[0].Field)
		})
	}
}
