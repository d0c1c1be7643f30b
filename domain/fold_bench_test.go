package domain_test

// BenchmarkFoldNumberedPayments folds a placement with n numbered payments:
// with the numbers in a persistent map the cost grows as n log n (it grew as
// n² when every payment copied the whole map).

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/collections-ledger/ledger/domain"
)

func BenchmarkFoldNumberedPayments(b *testing.B) {
	for _, n := range []int{100, 1000, 4000} {
		events := []domain.Event{domain.PlacementOpened{CreditorID: "a", ClaimNumber: "c", Currency: "EUR",
			Invoices: []domain.Invoice{{InvoiceNumber: "I", Amount: domain.AmountOf(decimal.NewFromInt(1_000_000))}}}}
		for i := range n {
			events = append(events, domain.PaymentReceived{PaymentNumber: fmt.Sprintf("P-%d", i), Amount: domain.AmountOf(decimal.NewFromInt(1)), Currency: "EUR"})
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				var p domain.Placement
				for _, e := range events {
					p = domain.Evolve(p, e)
				}
			}
		})
	}
}
