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
// cancels the charges verify clean, in EUR, JPY and BHD; and so do a
// write-off that writes off the charges open, a reversal and a cancellation
// of an agency payment on the written-off claim, and an agency overpayment.
func TestOKStoreWithCharges(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
	n := decimal.NewFromInt
	type step = func(at time.Time) domain.Command
	scenarios := func(cur string) map[string][]step {
		return map[string][]step{
			"CH-": {
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
			},
			"WO-": {
				func(at time.Time) domain.Command {
					return domain.ReceiveAgencyPayment{PaymentNumber: "A-1", Amount: n(12), At: at}
				},
				func(at time.Time) domain.Command {
					return domain.ReceivePayment{PaymentNumber: "P-1", Amount: n(15), At: at}
				},
				func(at time.Time) domain.Command { return domain.WriteOff{Reason: domain.WriteOffInsolvency, At: at} },
				func(at time.Time) domain.Command {
					return domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: at}
				},
				func(at time.Time) domain.Command {
					return domain.CancelDocument{ReferenceNumber: "A-1", Amount: n(12), Currency: cur, Date: at.Format(time.DateOnly), At: at}
				},
			},
			"AO-": { // an agency payment beyond everything open, and its reversal
				func(at time.Time) domain.Command {
					return domain.ReceiveAgencyPayment{PaymentNumber: "A-1", Amount: n(150), At: at}
				},
				func(at time.Time) domain.Command {
					return domain.ReversePayment{PaymentNumber: "A-1", Reason: domain.ReversalReturned, At: at}
				},
			},
		}
	}
	for _, cur := range []string{"EUR", "JPY", "BHD"} {
		for prefix, steps := range scenarios(cur) {
			placeAndRun(t, h, req, prefix+cur, cur, steps)
		}
	}
	require.NoError(t, s.Close())
	r := mustVerify(t, dir)
	assert.True(t, r.OK(), "findings: %v", r.Findings)
	assert.Equal(t, 9, r.Placements)
}

// placeAndRun hands a claim over in currency (an invoice of 100, costs of
// 20, interests of 10) and runs steps on it, each of which must succeed.
func placeAndRun(t *testing.T, h *command.Handler, req command.Request, claim, cur string, steps []func(at time.Time) domain.Command) {
	t.Helper()
	ctx := context.Background()
	n := decimal.NewFromInt
	res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: claim,
		CustomerNumber: "K1", Currency: cur, FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(n(100)), DueDate: "2024-01-01"}},
		Charges: []domain.Charge{{Type: domain.ChargeCosts, Number: "K-1", Amount: n(20), Date: "2024-01-01"},
			{Type: domain.ChargeInterests, Number: "Z-1", Amount: n(10), Date: "2024-01-01"}}})
	require.NoError(t, err)
	for i, c := range steps {
		_, err = h.Execute(ctx, res.Placement.ID, req, c)
		require.NoError(t, err, "%s step %d", claim, i)
	}
}
