package verify_test

import (
	"context"
	"encoding/json"
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

// mustRemittedStore is a store with two agency payments on one claim, a
// reversal of one of them, and a remittance RM-1 that settled them all.
func mustRemittedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	v, err := projections.OpenViews(t.TempDir(), projections.ViewsOptions{})
	require.NoError(t, err)
	defer v.Close()
	runner := projections.NewRunner(s, v, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	defer func() { cancel(); <-done }()

	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	creditor := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
	agency := command.Request{Actor: "agency", ActorType: journal.ActorAgency, RequestID: uuid.NewString()}
	res, err := h.Place(ctx, creditor, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "RM", CustomerNumber: "K1",
		Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	for _, build := range []func(at time.Time) domain.Command{
		func(at time.Time) domain.Command {
			return domain.ReceiveAgencyPayment{PaymentNumber: "A1", Amount: decimal.NewFromInt(30), At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReceiveAgencyPayment{PaymentNumber: "A2", Amount: decimal.NewFromInt(20), At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReversePayment{PaymentNumber: "A2", Reason: "RETURNED", At: at}
		},
	} {
		_, err := h.Execute(ctx, res.Placement.ID, agency, build)
		require.NoError(t, err)
	}
	rem, _, err := h.IssueRemittance(ctx, agency, runner.Settlements(), command.RemitRequest{CreditorID: "acme", Currency: "EUR",
		To: time.Now().UTC().Format(time.DateOnly), RemittanceNumber: "RM-1"})
	require.NoError(t, err)
	require.Equal(t, int64(2400), rem.Amount, "30 collected, 6 of fees")
	require.Len(t, rem.Items, 3)
	return dir
}

func TestOKRemittance(t *testing.T) {
	r := mustVerify(t, mustRemittedStore(t))
	assert.True(t, r.OK(), "findings: %v", r.Findings)
}

// TestErrRemittanceSettlesTwice plants a second remittance, RM-2, that
// settles the first agency payment again, written straight to the store
// and chained as the ledger chains it: verify and verify-export name it.
func TestErrRemittanceSettlesTwice(t *testing.T) {
	dir := mustRemittedStore(t)
	ctx := context.Background()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	stream := journal.RemittanceStream("acme")
	last, found, err := journal.LastEvent(ctx, s, stream)
	require.NoError(t, err)
	require.True(t, found)
	first, err := s.ReadStream(ctx, stream, 0, 1)
	require.NoError(t, err)
	var rm1 journal.RemittanceIssued
	require.NoError(t, json.Unmarshal(first[0].Data, &rm1))
	twice := journal.NewRemittance("RM-2", "acme", "EUR", rm1.To, rm1.Items[:1])
	planted, err := journal.AppendAfter(ctx, s, stream, &last, "agency", journal.ActorAgency, journal.RemittanceIssuedType, twice, time.Now())
	require.NoError(t, err)
	require.NoError(t, s.Close())

	r := mustVerify(t, dir)
	require.False(t, r.OK())
	for _, f := range r.Findings {
		t.Logf("  %s", f)
	}
	f := r.Findings[0]
	assert.Equal(t, "remittance", f.Field)
	assert.Equal(t, planted.Position, f.Position)
	assert.Contains(t, f.Problem, `remittance "RM-2"`)
	assert.Contains(t, f.Problem, `settled twice (first by "RM-1")`)

	er := mustVerifyExport(t, exportJSONL(t, dir))
	require.Len(t, er.Findings, 1, "%v", er.Findings)
	assert.Equal(t, planted.Position, er.Findings[0].Position)
	assert.Equal(t, "remittance", er.Findings[0].Field)
}
