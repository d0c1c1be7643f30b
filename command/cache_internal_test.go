package command

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// The handler keeps at most MaxCached placements and claim owners, and a
// placement it let go of is decided on as the log has it when it comes back.
func TestCacheStaysWithinItsBound(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	h := NewHandler(s, projections.NewIdempotencyIndex(), nil)
	h.MaxCached = 3
	ctx := context.Background()
	r := func() Request {
		return Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
	}
	var ids []uuid.UUID
	for i := range 10 {
		res, err := h.Place(ctx, r(), domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%d", i),
			CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: decimal.NewFromInt(100), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
		_, found, err := h.ClaimOwner(ctx, "acme", fmt.Sprintf("CL-%d", i))
		require.NoError(t, err)
		require.True(t, found)
	}
	for round := 1; round <= 3; round++ {
		for _, id := range ids {
			res, err := h.Execute(ctx, id, r(), func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.RequireFromString("1.25"), At: at}
			})
			require.NoError(t, err)
			assert.Equal(t, decimal.RequireFromString("1.25").Mul(decimal.NewFromInt(int64(round))).String(), res.Placement.Recovered.String(),
				"placement %s after %d payments", id, round)
			h.cacheMu.Lock()
			cached, owners := len(h.cache), len(h.owners)
			h.cacheMu.Unlock()
			require.LessOrEqual(t, cached, 3, "placements cached")
			require.LessOrEqual(t, owners, 3, "claim owners cached")
		}
	}
}
