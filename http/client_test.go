package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/client"
)

// TestGeneratedClientEndToEnd drives the ledger through the Go client
// generated from the OpenAPI document: a placement, a payment, its
// reversal, the claim, its feed (amounts decoded as exact decimals) and a
// refusal, so the document cannot drift from what the server does without
// this test or the client failing to compile.
func TestGeneratedClientEndToEnd(t *testing.T) {
	l := MustLedger(t, "")
	srv := httptest.NewServer(l.server)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := client.NewClientWithResponses(srv.URL, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+acmeKey)
		return nil
	}))
	require.NoError(t, err)

	claim := "CLI-1"
	var fee client.PlaceRequest_FeeRate
	require.NoError(t, fee.FromPlaceRequestFeeRate1("0.20"))
	body := client.CreatePlacementJSONRequestBody{ClaimNumber: &claim, CustomerNumber: "K1", Currency: "EUR", FeeRate: fee}
	for _, inv := range []struct{ number, amount, due string }{{"I1", "100.00", "2024-05-01"}, {"I2", "300", "2024-06-01"}} {
		var amount client.AmountIn
		require.NoError(t, amount.FromAmountIn1(inv.amount))
		var item = body.Invoices
		item = append(item, struct {
			Amount         client.AmountIn    `json:"amount"`
			ContractNumber *string            `json:"contractNumber,omitempty"`
			DueDate        openapi_types.Date `json:"dueDate"`
			InvoiceNumber  string             `json:"invoiceNumber"`
		}{Amount: amount, DueDate: mustDate(t, inv.due), InvoiceNumber: inv.number})
		body.Invoices = item
	}
	placed, err := c.CreatePlacementWithResponse(ctx, nil, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, placed.StatusCode(), "%s", placed.Body)
	id := placed.JSON201.PlacementId
	assert.Equal(t, "400.00", placed.JSON201.OutstandingAmount)

	var amount client.AmountIn
	require.NoError(t, amount.FromAmountIn1("120.50"))
	number := "CLI-P1"
	paid, err := c.ReceivePaymentWithResponse(ctx, id, nil, client.ReceivePaymentJSONRequestBody{Amount: amount, PaymentNumber: &number})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, paid.StatusCode(), "%s", paid.Body)
	assert.Equal(t, "24.10", paid.JSON200.FeeAmount)

	reversed, err := c.ReversePaymentWithResponse(ctx, id, number, nil, client.ReversePaymentJSONRequestBody{Reason: client.ReversalRequestReasonRETURNED})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reversed.StatusCode(), "%s", reversed.Body)
	assert.Equal(t, "0.00", reversed.JSON200.RecoveredAmount)

	got, err := c.GetClaimWithResponse(ctx, claim, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode(), "%s", got.Body)
	assert.Equal(t, "400.00", got.JSON200.OpenAmount)
	assert.Len(t, got.JSON200.Invoices, 2)

	feed, err := c.ListClaimTransactionsWithResponse(ctx, claim, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, feed.StatusCode(), "%s", feed.Body)
	items := *feed.JSON200
	require.GreaterOrEqual(t, len(items), 5, "two INVOICE confirmations, then the payment's items")
	require.NotNil(t, items[2].Confirmation)
	assert.True(t, items[2].Confirmation.Amount.Equal(decimal.RequireFromString("120.5")), "an exact decimal: %s", items[2].Confirmation.Amount)

	again, err := c.ReversePaymentWithResponse(ctx, id, number, nil, client.ReversePaymentJSONRequestBody{Reason: client.ReversalRequestReasonOTHER})
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, again.StatusCode())
	require.NotNil(t, again.ApplicationproblemJSON409)
	assert.Equal(t, "payment_already_reversed", again.ApplicationproblemJSON409.Code)
}

func mustDate(t *testing.T, s string) openapi_types.Date {
	t.Helper()
	var d openapi_types.Date
	require.NoError(t, d.UnmarshalText([]byte(s)))
	return d
}
