package http_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

// handoverFor is the example handover of a claim of a given customer.
func handoverFor(claim, customer string) map[string]any {
	h := handover(claim)
	h["customer"].(map[string]any)["customerNumber"] = customer
	return h
}

// TestPathParametersUnescapedOnce: every path parameter is the value the
// client percent-encoded, decoded exactly once, whether or not its encoding
// is the default one (K%207 and K%207%2F8 alike), so K%2F1 names "K/1" and
// K%252F1 names the customer literally called "K%2F1".
func TestPathParametersUnescapedOnce(t *testing.T) {
	tests := []struct {
		name      string
		customers []string // handed over, one claim each
		path      string   // the customer number as sent in the path
		erased    string   // the one erased
	}{
		{"space and slash", []string{"K 7/8"}, "K%207%2F8", "K 7/8"},
		{"space only", []string{"K 7"}, "K%207", "K 7"},
		{"encoded slash is a slash", []string{"K/1", "K%2F1"}, "K%2F1", "K/1"},
		{"encoded percent is a percent", []string{"K/1", "K%2F1"}, "K%252F1", "K%2F1"},
		{"plus is a plus", []string{"K+1", "K 1"}, "K+1", "K+1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := MustLedger(t, "")
			claims := map[string]string{}
			for i, cust := range tc.customers {
				claim := "PATH-" + string(rune('A'+i))
				r := l.do("POST", "/v1/claims", acmeKey, handoverFor(claim, cust))
				require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
				claims[cust] = claim
			}
			r := l.do("DELETE", "/v1/debtors/"+tc.path+"/personal-data", acmeKey, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, tc.erased, r.JSON(t)["customerNumber"])
			for cust, claim := range claims {
				want := "present"
				if cust == tc.erased {
					want = "erased"
				}
				got := customerOf(t, l.do("GET", "/v1/claims/"+claim, acmeKey, nil))
				assert.Equal(t, want, got["personalDataStatus"], "customer %q", cust)
			}
		})
	}
}

// TestLegacyClaimNumberReachableEncoded: a claim number from before the
// rule that keeps '/' and ' ' out of new ones is reachable through its
// percent-encoding.
func TestLegacyClaimNumberReachableEncoded(t *testing.T) {
	l := MustLedger(t, "")
	id := uuid.New()
	opened := domain.PlacementOpened{PlacementID: id, CreditorID: "acme", ClaimNumber: "DE/7 1", CustomerNumber: "K9",
		Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"), OpenedAt: time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2023-01-01"}}}
	_, err := journal.AppendSystem(context.Background(), l.store, journal.PlacementStream(id), "acme", journal.ActorCreditor,
		opened.EventType(), opened, opened.OpenedAt)
	require.NoError(t, err)

	r := l.do("GET", "/v1/claims/DE%2F7%201", acmeKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "DE/7 1", r.JSON(t)["claimNumber"])
	r = l.do("GET", "/v1/claims/DE%2F7%201/transactions", acmeKey, nil)
	assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, http.StatusNotFound, l.do("GET", "/v1/claims/DE%252F7%25201", acmeKey, nil).Status, "decoded once, not twice")
}
