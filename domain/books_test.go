package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// TestClosedClaimFiguresAreBalances: the case (placed 400, paid
// 100, recalled, the payment reversed) and its written-off twin, rendered
// from the claim's Books: the principal accounts are empty, so nothing is
// outstanding or open, and what the closing took, with the reversed 100, is
// recalled (written off) on the claim and on each invoice.
func TestClosedClaimFiguresAreBalances(t *testing.T) {
	money := func(s string) *string { return &s }
	tests := map[string]struct {
		close                 domain.Command
		recalled, writtenOff  *string
		invRecalled, invWrOff []*string
	}{
		"OK_recalled": {close: domain.Recall{At: t0}, recalled: money("400.00"),
			invRecalled: []*string{money("100.00"), money("300.00")}, invWrOff: []*string{nil, nil}},
		"OK_written_off": {close: domain.WriteOff{Reason: domain.WriteOffUncollectible, At: t0}, writtenOff: money("400.00"),
			invRecalled: []*string{nil, nil}, invWrOff: []*string{money("100.00"), money("300.00")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := MustApply(t, domain.Placement{}, place())
			p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "X1", Amount: d("100"), At: t0})
			p = MustApply(t, p, tc.close)
			p = MustApply(t, p, domain.ReversePayment{PaymentNumber: "X1", Reason: domain.ReversalReturned, At: t0})

			v := projections.Render(p, p.Version)
			assert.Equal(t, "400.00", v.OriginalAmount)
			assert.Equal(t, "0.00", v.OutstandingAmount)
			assert.Equal(t, "0.00", v.RecoveredAmount)
			assert.Equal(t, "0.00", v.FeeAmount)
			assert.Equal(t, tc.recalled, v.RecalledAmount)
			assert.Equal(t, tc.writtenOff, v.WrittenOffAmount)
			for i, inv := range v.Invoices {
				assert.Equal(t, "0.00", inv.OpenAmount, inv.InvoiceNumber)
				assert.Equal(t, "0.00", inv.PaidAmount, inv.InvoiceNumber)
				assert.Equal(t, tc.invRecalled[i], inv.RecalledAmount, inv.InvoiceNumber)
				assert.Equal(t, tc.invWrOff[i], inv.WrittenOffAmount, inv.InvoiceNumber)
			}
		})
	}
}

// TestBooksRoundTrip: a placement's Books survive its JSON (the views'
// placement states and the snapshots the command side starts from).
func TestBooksRoundTrip(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "X1", Amount: d("150"), At: t0})
	p = MustApply(t, p, domain.Recall{At: t0})
	require.NotZero(t, p.Books.Recalled)
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	var back domain.Placement
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, p.Books, back.Books)
	assert.Equal(t, projections.Render(p, p.Version), projections.Render(back, back.Version))
}
