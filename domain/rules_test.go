package domain_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestParseRate pins ParseRate to the pattern the API used for feeRate before
// the rule moved to domain (^[0-9]{1,13}(\.[0-9]{1,12})?$), message for message.
func TestParseRate(t *testing.T) {
	before := regexp.MustCompile(`^[0-9]{1,13}(\.[0-9]{1,12})?$`)
	for _, tc := range []struct {
		name, raw, want, err string
	}{
		{name: "number", raw: `0.2`, want: "0.2"},
		{name: "string", raw: `"0.25"`, want: "0.25"},
		{name: "decimals kept", raw: `0.2000`, want: "0.2000"},
		{name: "whole", raw: `1`, want: "1"},
		{name: "leading zeros", raw: `00.5`, want: "0.5"},
		{name: "thirteen digits", raw: `1234567890123`, want: "1234567890123"},
		{name: "twelve decimals", raw: `0.123456789012`, want: "0.123456789012"},
		{name: "spaces", raw: ` "0.1" `, want: "0.1"},
		{name: "fourteen digits", raw: `12345678901234`, err: `"12345678901234" is not a decimal number`},
		{name: "thirteen decimals", raw: `0.1234567890123`, err: `"0.1234567890123" is not a decimal number`},
		{name: "exponent", raw: `2e-1`, err: `"2e-1" is not a decimal number`},
		{name: "negative", raw: `-0.1`, err: `"-0.1" is not a decimal number`},
		{name: "no digits after the point", raw: `1.`, err: `"1." is not a decimal number`},
		{name: "no digits before the point", raw: `.5`, err: `".5" is not a decimal number`},
		{name: "word", raw: `"ten"`, err: `"ten" is not a decimal number`},
		{name: "absent", raw: ``, err: "is required"},
		{name: "null", raw: `null`, err: "is required"},
		{name: "empty string", raw: `""`, err: "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.ParseRate([]byte(tc.raw), "feeRate")
			if tc.err != "" {
				e, ok := domain.AsError(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, []domain.FieldError{{Field: "feeRate", Message: tc.err}}, e.Fields)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.StringFixed(-got.Exponent()), "the decimals as written")
			assert.Regexp(t, before, regexp.MustCompile(`^[ "]+|[ "]+$`).ReplaceAllString(tc.raw, ""))
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		known    bool
	}{
		{name: "active", in: "active", known: true},
		{name: "paused", in: "paused", known: true},
		{name: "recalled", in: "recalled", known: true},
		{name: "paid", in: "paid", known: true},
		{name: "written off", in: "written_off", known: true},
		{name: "empty", in: ""},
		{name: "capitals", in: "ACTIVE"},
		{name: "other", in: "closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, known := domain.ParseStatus(tc.in)
			assert.Equal(t, tc.known, known)
			assert.Equal(t, domain.Status(tc.in), got)
		})
	}
	assert.Equal(t, "must be active, paused, recalled, paid or written_off", domain.StatusRule())
}

func TestValidPauseReason(t *testing.T) {
	for _, reason := range []string{domain.PauseDispute, domain.PauseCreditorRequest, domain.PauseOther} {
		assert.NoError(t, domain.ValidPauseReason(reason), reason)
	}
	for _, reason := range []string{"", "dispute", "HOLIDAY"} {
		e, ok := domain.AsError(domain.ValidPauseReason(reason))
		require.True(t, ok, reason)
		assert.Equal(t, domain.KindInvalid, e.Kind)
		assert.Equal(t, []domain.FieldError{{Field: "reason", Message: "must be DISPUTE, CREDITOR_REQUEST or OTHER"}}, e.Fields)
	}
}

func TestCheckInvoiceCount(t *testing.T) {
	assert.NoError(t, domain.CheckInvoiceCount(1))
	assert.NoError(t, domain.CheckInvoiceCount(domain.MaxInvoices))
	e, ok := domain.AsError(domain.CheckInvoiceCount(domain.MaxInvoices + 1))
	require.True(t, ok)
	assert.Equal(t, []domain.FieldError{{Field: "invoices", Message: "at most 500 invoices"}}, e.Fields)
}
