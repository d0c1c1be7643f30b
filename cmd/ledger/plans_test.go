package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// Two instances share a store: a payment plan agreed long ago whose
// instalment's grace has passed is broken by whichever holds the reactors'
// lease, once, from the views' index, and the claim's outreach resumes.
func TestInstancesBreakAnOverduePlanOnce(t *testing.T) {
	dir := t.TempDir()
	store, err := embedded.Open(filepath.Join(dir, "ledger.db"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	// The plan was agreed in 2024 (a handler whose clock says so): its
	// instalment fell due on 2024-09-01, and its grace ended on 2024-09-15.
	then := command.NewHandler(store, projections.NewIdempotencyIndex(), func() time.Time { return time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC) })
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "plan"}
	res, err := then.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "PLAN-1",
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	id := res.Placement.ID
	_, err = then.Execute(context.Background(), id, req, func(at time.Time) domain.Command {
		return domain.AgreePaymentPlan{PlanNumber: "P-1", At: at, Installments: []domain.Installment{{DueDate: "2024-09-01", Amount: decimal.NewFromInt(100)}}}
	})
	require.NoError(t, err)

	in, _ := twoInstances(t, store, dir)
	broken := func() int {
		n := 0
		require.NoError(t, journal.ReadStream(context.Background(), store, journal.PlacementStream(id), 0,
			func(e eventstore.RecordedEvent) error {
				if e.Type == domain.TypePaymentPlanBroken {
					n++
				}
				return nil
			}))
		return n
	}
	require.Eventually(t, func() bool { return broken() > 0 }, liveness, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // more rounds of both instances
	assert.Equal(t, 1, broken(), "broken once")
	p, _, _, err := in[0].commands.Load(context.Background(), id, "acme")
	require.NoError(t, err)
	assert.Equal(t, domain.PlanBroken, p.Plans[0].Status)
	assert.Equal(t, domain.StatusActive, p.Status, "outreach resumed")
}
