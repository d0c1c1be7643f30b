package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// TestOKStoreWithCharges: costs and interests handed over, a positive
// DEBIT, an overpaying claims-API payment, its reversal and a recall that
// cancels the charges verify clean, in EUR, JPY and BHD.
func TestOKStoreWithCharges(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	ctx := context.Background()
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
	n := decimal.NewFromInt
	for _, cur := range []string{"EUR", "JPY", "BHD"} {
		res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CH-" + cur,
			CustomerNumber: "K1", Currency: cur, FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: n(100), DueDate: "2024-01-01"}},
			Charges: []domain.Charge{{Type: domain.ChargeCosts, Number: "K-1", Amount: n(20), Date: "2024-01-01"},
				{Type: domain.ChargeInterests, Number: "Z-1", Amount: n(10), Date: "2024-01-01"}}})
		require.NoError(t, err)
		id := res.Placement.ID
		for _, c := range []func(at time.Time) domain.Command{
			func(at time.Time) domain.Command {
				return domain.AddDebit{Charge: domain.Charge{Type: domain.ChargeInterests, Number: "D-1", Amount: n(5), Date: "2024-02-01"}, At: at}
			},
			func(at time.Time) domain.Command {
				return domain.ReceivePayment{PaymentNumber: "P-1", Amount: n(200), Overpay: true, At: at}
			},
			func(at time.Time) domain.Command {
				return domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: at}
			},
			func(at time.Time) domain.Command { return domain.ReceivePayment{Amount: n(12), At: at} },
			func(at time.Time) domain.Command { return domain.Recall{At: at} },
		} {
			_, err = h.Execute(ctx, id, req, c)
			require.NoError(t, err)
		}
	}
	require.NoError(t, s.Close())
	r := mustVerify(t, dir)
	assert.True(t, r.OK(), "findings: %v", r.Findings)
	assert.Equal(t, 3, r.Placements)
}
