package domain_test

// Benchmarks of the command path's domain work for one payment: deciding it
// (which checks its postings) and folding its events into the claim, on a
// claim with a few invoices, a cost and some history.

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

// benchClaim is a claim in EUR with three invoices and a cost charge, 20
// payments of 1.00 recorded on it (half of them numbered).
func benchClaim(b *testing.B) domain.Placement {
	b.Helper()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	d := domain.Decide(domain.Placement{}, domain.Place{
		PlacementID: uuid.MustParse("00000000-0000-0000-0000-000000000001"), CreditorID: "acme", ClaimNumber: "CLAIM-1",
		CustomerNumber: "C-1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"), At: at,
		Invoices: []domain.Invoice{
			{InvoiceNumber: "INV-1", ContractNumber: "K-1", Amount: domain.AmountOf(decimal.RequireFromString("400.00")), DueDate: "2026-01-10"},
			{InvoiceNumber: "INV-2", ContractNumber: "K-1", Amount: domain.AmountOf(decimal.RequireFromString("250.50")), DueDate: "2026-01-20"},
			{InvoiceNumber: "INV-3", ContractNumber: "K-2", Amount: domain.AmountOf(decimal.RequireFromString("99.99")), DueDate: "2026-02-01"},
		},
		Charges: []domain.Charge{{Number: "COST-1", Type: domain.ChargeCosts, Amount: decimal.RequireFromString("5.00"), Date: "2026-02-15"}},
	})
	if d.Err != nil {
		b.Fatal(d.Err)
	}
	var p domain.Placement
	apply := func(d domain.Decision) {
		if d.Err != nil {
			b.Fatal(d.Err)
		}
		for _, e := range d.Events {
			p = domain.Evolve(p, e)
		}
	}
	apply(d)
	for i := range 20 {
		c := domain.ReceivePayment{Amount: decimal.RequireFromString("1.00"), At: at.Add(time.Duration(i) * time.Hour)}
		if i%2 == 0 {
			c.PaymentNumber = fmt.Sprintf("PAY-%d", i)
		}
		apply(domain.Decide(p, c))
	}
	return p
}

// BenchmarkPayment decides a payment of 0.01 without a number (what
// docs/bench/payments.lua sends) and folds its events, as the command
// handler does.
func BenchmarkPayment(b *testing.B) {
	p := benchClaim(b)
	c := domain.ReceivePayment{Amount: decimal.RequireFromString("0.01"), At: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)}
	b.Run("Decide", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := domain.Decide(p, c); d.Err != nil || len(d.Events) == 0 {
				b.Fatal(d.Err)
			}
		}
	})
	d := domain.Decide(p, c)
	b.Run("Evolve", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			after := p
			for _, e := range d.Events {
				after = domain.Evolve(after, e)
			}
		}
	})
	b.Run("EvolveWithoutNumbers", func(b *testing.B) { // as the views apply it
		b.ReportAllocs()
		bare := p
		bare.PaymentNumbers, bare.WaiverNumbers = domain.Numbers{}, domain.Numbers{}
		for b.Loop() {
			after := bare
			for _, e := range d.Events {
				after = domain.Evolve(after, e)
			}
		}
	})
	b.Run("CheckPostings", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := domain.CheckPostings(p, d.Events, c.At); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Postings", func(b *testing.B) {
		befores := []domain.Placement{p}
		for _, e := range d.Events {
			befores = append(befores, domain.Evolve(befores[len(befores)-1], e))
		}
		b.ReportAllocs()
		for b.Loop() {
			for i, e := range d.Events {
				_ = domain.Postings(befores[i], e, c.At)
			}
		}
	})
}
