package verify

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

func TestEscapedAs(t *testing.T) {
	for _, tc := range []struct {
		name, esc, s string
		want         bool
	}{
		{name: "plain", esc: "CL-1", s: "CL-1", want: true},
		{name: "escaped slash", esc: "a%2Fb", s: "a/b", want: true},
		{name: "escaped percent", esc: "100%25", s: "100%", want: true},
		{name: "escape not taken literally", esc: "a%2Fb", s: "a%2Fb"},
		{name: "lower-case hex is not the escape", esc: "a%2fb", s: "a/b"},
		{name: "prefix", esc: "CL-1", s: "CL-10"},
		{name: "longer", esc: "CL-10", s: "CL-1"},
		{name: "truncated escape", esc: "a%2", s: "a/"},
		{name: "empty", esc: "", s: "", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, escapedAs(tc.esc, tc.s))
			if tc.want {
				assert.Equal(t, domain.CostsAccount(tc.s), "claim/"+tc.esc+"/costs", "escaped as the domain names accounts")
			}
		})
	}
}

// TestBooksCheckOnGivenStates feeds the books a claim's events with the
// states before and after each, as the rebuild's fold gives them (check):
// the compact balances conserve the claim's money, and a balance planted
// wrong is named by the next event, on the claim's account.
func TestBooksCheckOnGivenStates(t *testing.T) {
	id := uuid.New()
	at := time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)
	opened := domain.PlacementOpened{PlacementID: id, CreditorID: "acme", ClaimNumber: "CL/1", CustomerNumber: "K1", Currency: "EUR",
		FeeRate: decimal.RequireFromString("0.2"), OpenedAt: at,
		Invoices: []domain.Invoice{
			{InvoiceNumber: "I 1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"},
			{InvoiceNumber: "I2", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(50)), DueDate: "2024-01-01"},
		}}
	p := domain.Evolve(domain.Placement{}, opened)
	cmds := []domain.Command{domain.ReceivePayment{Amount: decimal.NewFromInt(30), At: at}, domain.ReceivePayment{Amount: decimal.NewFromInt(120), At: at}}
	events := []domain.Event{opened}
	for _, c := range cmds {
		d := domain.Decide(p, c)
		require.NoError(t, d.Err)
		for _, e := range d.Events {
			p = domain.Evolve(p, e)
		}
		events = append(events, d.Events...)
	}

	run := func(plant func(*claimBooks)) ([]Finding, *claimBooks) {
		v := &verifier{}
		b := newBooks(testScratch(t), 0)
		var p domain.Placement
		for i, e := range events {
			if i == 2 && plant != nil {
				cb, _ := b.claims.get(id, false)
				plant(cb)
			}
			after := domain.Evolve(p, e)
			b.check(v, id, journal.Record{Stream: journal.PlacementStream(id), Revision: uint64(i), Position: eventstore.Position(10 + i), Event: e,
				Meta: journal.Metadata{OccurredAt: at}}, p, after)
			p = after
		}
		cb, _ := b.claims.get(id, false)
		return v.report.Findings, cb
	}
	fs, cb := run(nil)
	assert.Empty(t, fs, "the claim conserves its money")
	assert.EqualValues(t, -150_00, cb.balance[bPlaced], "placed, in minor units")
	assert.Equal(t, []int64{0, 0}, cb.principal, "both invoices paid")
	assert.EqualValues(t, 150_00, cb.balance[bCollected], "all collected by the creditor")

	for _, tc := range []struct {
		name    string
		plant   func(*claimBooks)
		problem string
	}{
		{name: "a principal below zero", plant: func(cb *claimBooks) { cb.principal[0] -= 100_00 },
			problem: "claim/CL%2F1/principal/I%201 is"},
		{name: "placed off by a cent", plant: func(cb *claimBooks) { cb.balance[bPlaced]-- },
			problem: "placed 15001 ≠ open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := run(tc.plant)
			require.Len(t, fs, 1, "only the first break is named: %v", fs)
			assert.Equal(t, "conservation", fs[0].Field)
			assert.EqualValues(t, 12, fs[0].Position, "the event after the plant")
			assert.Contains(t, fs[0].Problem, tc.problem)
		})
	}
}
