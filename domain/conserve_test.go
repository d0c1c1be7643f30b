package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// TestConservedMinorAgreesWithConserved runs the money property's 200 runs
// with every conservation check judged both ways: the check in minor units
// (which names no account) finds a decision conserved only when the check by
// account name (which names the account at fault) does, and it judges most
// checks itself.
func TestConservedMinorAgreesWithConserved(t *testing.T) {
	checks, fast, disagree := 0, 0, 0
	domain.CrossCheckConservation(t, func(f bool, err error) {
		checks++
		if f {
			fast++
			if err != nil {
				disagree++
				t.Errorf("conservedMinor found conserved what conserved refuses: %v", err)
			}
		}
	})
	rng := rand.New(rand.NewPCG(21, 13))
	for run := range propertyRuns {
		cur := currencies[run%len(currencies)]
		require.Empty(t, runMoneyProperty(rng, cur, run, map[string]int{}), "run %d (%s)", run, cur)
	}
	require.Positive(t, checks)
	assert.Zero(t, disagree)
	assert.Greater(t, fast*10, checks*8, "the check in minor units judged %d of %d checks", fast, checks)
	t.Logf("%d checks, %d judged in minor units", checks, fast)
}

// TestConservedMinorOnManyInvoices: a claim of more invoices than
// conservedMinor sums on the stack, whose invoice numbers its accounts
// escape, paid across its invoices: the check in minor units judges every
// decision, and finds each conserved.
func TestConservedMinorOnManyInvoices(t *testing.T) {
	checks, fast := 0, 0
	domain.CrossCheckConservation(t, func(f bool, err error) {
		checks++
		if f {
			fast++
		}
		if err != nil {
			t.Errorf("not conserved: %v", err)
		}
	})
	place := domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-7.a_b", CustomerNumber: "K1", Currency: "EUR",
		FeeRate: d("0.20"), At: t0}
	for i := range 11 {
		place.Invoices = append(place.Invoices, domain.Invoice{InvoiceNumber: fmt.Sprintf("I/%d", i), ContractNumber: "C1", Amount: domain.AmountOf(d("100")),
			DueDate: fmt.Sprintf("2024-01-%02d", 1+i)})
	}
	var p domain.Placement
	for i, c := range []domain.Command{place, domain.ReceivePayment{Amount: d("150"), At: t0.Add(time.Hour)},
		domain.ReceivePayment{Amount: d("420.50"), At: t0.Add(2 * time.Hour)}, domain.ReceivePayment{Amount: d("529.50"), At: t0.Add(3 * time.Hour)}} {
		dec := domain.Decide(p, c)
		require.NoError(t, dec.Err, "command %d", i)
		for _, e := range dec.Events {
			p = domain.Evolve(p, e)
		}
	}
	require.Equal(t, domain.StatusPaid, p.Status)
	require.Positive(t, checks)
	assert.Equal(t, checks, fast, "every check judged in minor units")
}
