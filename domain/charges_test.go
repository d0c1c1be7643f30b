package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// currencies are the scales the charge tests run in: 2, 0 and 3 decimals.
var currencies = []string{"EUR", "JPY", "BHD"}

// chargedPlace is a claim in currency with two invoices (B due after A but
// listed first), costs of 20 and interests of 10.
func chargedPlace(currency string) domain.Place {
	c := place()
	c.Currency = currency
	c.Invoices = []domain.Invoice{
		{InvoiceNumber: "INV-B", Amount: domain.AmountOf(d("300")), DueDate: "2024-06-01"},
		{InvoiceNumber: "INV-A", Amount: domain.AmountOf(d("100")), DueDate: "2024-05-01"},
	}
	c.Charges = []domain.Charge{
		{Type: domain.ChargeCosts, Number: "C-1", Amount: d("20"), Date: "2024-04-01", Description: "reminder"},
		{Type: domain.ChargeInterests, Number: "Z-1", Amount: d("10"), Date: "2024-04-01"},
	}
	return c
}

func TestPaymentAllocation(t *testing.T) {
	type want struct {
		costs, interests, overpaid string
		principal                  map[string]string // invoice → allocated
		lines                      []string          // allocateTo per document line
		status                     domain.Status
		fee                        string
	}
	cases := map[string]struct {
		pay  domain.ReceivePayment
		want want
	}{
		"default order: costs, interests, then the oldest principal": {
			domain.ReceivePayment{Amount: d("50")},
			want{"20", "10", "0", map[string]string{"INV-A": "20"}, []string{"PRINCIPAL_CLAIM", "CLIENT_COSTS", "CLIENT_INTERESTS"}, domain.StatusActive, "4"}},
		"allocateTo interests goes there first, then costs": {
			domain.ReceivePayment{Amount: d("15"), AllocateTo: domain.AllocateInterests},
			want{"5", "10", "0", nil, []string{"CLIENT_COSTS", "CLIENT_INTERESTS"}, domain.StatusActive, "0"}},
		"allocateTo costs while costs are open": {
			domain.ReceivePayment{Amount: d("5"), AllocateTo: domain.AllocateCosts},
			want{"5", "0", "0", nil, []string{"CLIENT_COSTS"}, domain.StatusActive, "0"}},
		"allocateTo principal goes to the principal first": {
			domain.ReceivePayment{Amount: d("110"), AllocateTo: domain.AllocatePrincipal},
			want{"0", "0", "0", map[string]string{"INV-A": "100", "INV-B": "10"}, []string{"PRINCIPAL_CLAIM", "PRINCIPAL_CLAIM"}, domain.StatusActive, "22"}},
		"a payment naming an invoice goes to its principal": {
			domain.ReceivePayment{Amount: d("30"), InvoiceNumber: "INV-B", AllocateTo: domain.AllocateCosts, Overpay: true},
			want{"0", "0", "0", map[string]string{"INV-B": "30"}, []string{"PRINCIPAL_CLAIM"}, domain.StatusActive, "6"}},
		"everything open and more: an overpayment, and paid": {
			domain.ReceivePayment{Amount: d("500"), Overpay: true},
			want{"20", "10", "70", map[string]string{"INV-A": "100", "INV-B": "300"},
				[]string{"PRINCIPAL_CLAIM", "PRINCIPAL_CLAIM", "CLIENT_COSTS", "CLIENT_INTERESTS", "OVER_PAYMENT"}, domain.StatusPaid, "80"}},
		"exactly everything open: paid, no overpayment": {
			domain.ReceivePayment{Amount: d("430")},
			want{"20", "10", "0", map[string]string{"INV-A": "100", "INV-B": "300"},
				[]string{"PRINCIPAL_CLAIM", "PRINCIPAL_CLAIM", "CLIENT_COSTS", "CLIENT_INTERESTS"}, domain.StatusPaid, "80"}},
	}
	for _, cur := range currencies {
		for name, tc := range cases {
			t.Run(cur+"/"+name, func(t *testing.T) {
				p := MustApply(t, domain.Placement{}, chargedPlace(cur))
				tc.pay.At = t0
				dec := domain.Decide(p, tc.pay)
				require.NoError(t, dec.Err)
				pr := dec.Events[0].(domain.PaymentReceived)
				doc := dec.Events[1].(domain.AccountingDocumentIssued)
				if pr.Split == nil { // nothing went to costs, interests or an overpayment
					pr.Split = &domain.Split{Costs: d("0"), Interests: d("0"), Overpaid: d("0")}
				}
				assert.Equal(t, tc.want.costs, pr.Split.Costs.String(), "costs")
				assert.Equal(t, tc.want.interests, pr.Split.Interests.String(), "interests")
				assert.Equal(t, tc.want.overpaid, pr.Split.Overpaid.String(), "overpaid")
				got := map[string]string{}
				for _, a := range pr.Allocations {
					got[a.InvoiceNumber] = a.Amount.String()
				}
				if tc.want.principal == nil {
					tc.want.principal = map[string]string{}
				}
				assert.Equal(t, tc.want.principal, got, "principal allocations")
				var lines []string
				sum := d("0")
				for _, l := range doc.LineItems {
					lines = append(lines, l.AllocateTo)
					sum = sum.Add(l.Amount.Decimal())
				}
				assert.Equal(t, tc.want.lines, lines)
				assert.True(t, sum.Equal(tc.pay.Amount.Neg()), "the lines add up to the payment: %s", sum)
				after := p
				for _, e := range dec.Events {
					after = domain.Evolve(after, e)
				}
				assert.Equal(t, tc.want.status, after.Status)
				assert.True(t, d(tc.want.fee).Equal(after.Fee.Decimal()), "fee on the principal alone: %s", after.Fee)
				assert.True(t, after.Overpaid().Equal(d(tc.want.overpaid)))
				// Conservation: charged = open + paid, per bucket.
				assert.True(t, after.CostsCharged().Equal(after.CostsOpen().Add(pr.Split.Costs)))
				assert.True(t, after.InterestsCharged().Equal(after.InterestsOpen().Add(pr.Split.Interests)))
			})
		}
	}
}

func TestPaymentAboveOpen(t *testing.T) {
	cases := map[string]struct {
		currency, amount string
		overpay          bool
		code, overpaid   string
	}{
		"EUR payment-received above everything open is refused":     {"EUR", "430.01", false, "amount_exceeds_outstanding", ""},
		"JPY payment-received above everything open is refused":     {"JPY", "431", false, "amount_exceeds_outstanding", ""},
		"BHD payment-received above everything open is refused":     {"BHD", "430.001", false, "amount_exceeds_outstanding", ""},
		"EUR claims-API payment keeps the cent beyond":              {"EUR", "430.01", true, "", "0.01"},
		"JPY claims-API payment keeps the yen beyond":               {"JPY", "431", true, "", "1"},
		"BHD claims-API payment keeps the fils beyond":              {"BHD", "430.001", true, "", "0.001"},
		"JPY a fraction of a yen is refused, overpayment or not":    {"JPY", "430.5", true, "validation_failed", ""},
		"EUR a fraction of a cent is refused, overpayment or not":   {"EUR", "430.001", true, "validation_failed", ""},
		"BHD a fraction of a fils is refused, overpayment or not":   {"BHD", "430.0001", true, "validation_failed", ""},
		"BHD a payment naming an invoice above its open is refused": {"BHD", "300.001", true, "amount_exceeds_open", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := MustApply(t, domain.Placement{}, chargedPlace(tc.currency))
			pay := domain.ReceivePayment{Amount: d(tc.amount), Overpay: tc.overpay, At: t0}
			if tc.code == "amount_exceeds_open" {
				pay.InvoiceNumber = "INV-B"
			}
			dec := domain.Decide(p, pay)
			if tc.code != "" {
				e, ok := domain.AsError(dec.Err)
				require.True(t, ok, "%v", dec.Err)
				assert.Equal(t, tc.code, e.Code)
				assert.Empty(t, dec.Events, "a refusal records nothing")
				return
			}
			require.NoError(t, dec.Err)
			after := p
			for _, e := range dec.Events {
				after = domain.Evolve(after, e)
			}
			assert.Equal(t, tc.overpaid, domain.FormatMoney(after.Overpaid(), tc.currency)[:len(tc.overpaid)])
			assert.True(t, after.Overpaid().Equal(d(tc.overpaid)))
			assert.Equal(t, domain.StatusPaid, after.Status)
		})
	}
}

func TestDebit(t *testing.T) {
	debit := func(edit func(*domain.AddDebit)) domain.AddDebit {
		c := domain.AddDebit{Charge: domain.Charge{Type: domain.ChargeInterests, Number: "D-1", Amount: d("7"), Date: "2024-08-01", Description: "late interest"}, At: t0}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	for _, cur := range currencies {
		open := MustApply(t, domain.Placement{}, chargedPlace(cur))
		debited := MustApply(t, open, debit(nil))
		paid := MustApply(t, open, domain.ReceivePayment{Amount: d("430"), At: t0})
		small := map[string]string{"EUR": "0.001", "JPY": "0.1", "BHD": "0.0001"}[cur]
		cases := map[string]struct {
			p      domain.Placement
			c      domain.AddDebit
			code   string
			repeat bool
		}{
			"OK":                               {open, debit(nil), "", false},
			"OK a repeat answers as the first": {debited, debit(nil), "", true},
			"OK a handover charge's number with its content is a repeat": {open, debit(func(c *domain.AddDebit) {
				c.Charge = domain.Charge{Type: domain.ChargeCosts, Number: "C-1", Amount: d("20"), Date: "2024-04-01", Description: "reminder"}
			}), "", true},
			"Err the number with other content": {debited, debit(func(c *domain.AddDebit) { c.Amount = d("8") }), "debit_number_reused", false},
			"Err a handover charge's number":    {open, debit(func(c *domain.AddDebit) { c.Number = "C-1" }), "debit_number_reused", false},
			"Err closed":                        {paid, debit(nil), "placement_closed", false},
			"Err another type":                  {open, debit(func(c *domain.AddDebit) { c.Type = "FEES" }), "validation_failed", false},
			"Err zero":                          {open, debit(func(c *domain.AddDebit) { c.Amount = d("0") }), "validation_failed", false},
			"Err below the currency's scale":    {open, debit(func(c *domain.AddDebit) { c.Amount = d(small) }), "validation_failed", false},
			"Err no date":                       {open, debit(func(c *domain.AddDebit) { c.Date = "" }), "validation_failed", false},
			"Err no number":                     {open, debit(func(c *domain.AddDebit) { c.Number = "" }), "validation_failed", false},
		}
		for name, tc := range cases {
			t.Run(cur+"/"+name, func(t *testing.T) {
				dec := domain.Decide(tc.p, tc.c)
				if tc.code != "" {
					e, ok := domain.AsError(dec.Err)
					require.True(t, ok, "%v", dec.Err)
					assert.Equal(t, tc.code, e.Code)
					assert.Empty(t, dec.Events, "a refusal records nothing")
					return
				}
				require.NoError(t, dec.Err)
				if tc.repeat {
					assert.NotNil(t, dec.Repeat)
					assert.Empty(t, dec.Events)
					return
				}
				require.Equal(t, []string{domain.TypeDebitAdded, domain.TypeAccountingDocumentIssued}, types(dec.Events))
				doc := dec.Events[1].(domain.AccountingDocumentIssued)
				assert.Equal(t, domain.DocDebit, doc.Type)
				assert.True(t, doc.Amount.Equal(domain.AmountOf(tc.c.Amount)), "a debit raises the claim")
				assert.Equal(t, cur, doc.Currency)
				after := tc.p
				for _, e := range dec.Events {
					after = domain.Evolve(after, e)
				}
				assert.True(t, after.InterestsOpen().Equal(d("17")))
				assert.True(t, after.TotalOpen().Equal(d("437")))
			})
		}
	}
}

func TestChargesReversalRecallAndWaivers(t *testing.T) {
	for _, cur := range currencies {
		t.Run(cur, func(t *testing.T) {
			p := MustApply(t, domain.Placement{}, chargedPlace(cur))
			paid := MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("500"), Overpay: true, At: t0})
			require.Equal(t, domain.StatusPaid, paid.Status)

			// A reversal takes every bucket back and reopens the claim.
			dec := domain.Decide(paid, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
			require.NoError(t, dec.Err)
			rev := dec.Events[0].(domain.PaymentReversed)
			require.NotNil(t, rev.Split)
			assert.True(t, rev.Split.Total().Equal(d("100")))
			reopened := paid
			for _, e := range dec.Events {
				reopened = domain.Evolve(reopened, e)
			}
			assert.Equal(t, domain.StatusActive, reopened.Status)
			assert.True(t, reopened.TotalOpen().Equal(d("430")))
			assert.True(t, reopened.Overpaid().IsZero())
			assert.True(t, reopened.Fee.IsZero())
			sum := d("0")
			for _, l := range dec.Events[1].(domain.AccountingDocumentIssued).LineItems {
				sum = sum.Add(l.Amount.Decimal())
			}
			assert.True(t, sum.Equal(d("500")))

			// A recall cancels the costs and interests open with the principal.
			dec = domain.Decide(reopened, domain.Recall{At: t0})
			require.NoError(t, dec.Err)
			recalled := reopened
			var cancel domain.AccountingDocumentIssued
			for _, e := range dec.Events {
				recalled = domain.Evolve(recalled, e)
				if doc, ok := e.(domain.AccountingDocumentIssued); ok {
					cancel = doc
				}
			}
			assert.True(t, cancel.Amount.Equal(domain.AmountOf(d("-430"))))
			assert.True(t, recalled.CostsOpen().IsZero())
			assert.True(t, recalled.InterestsOpen().IsZero())

			// Waivers that clear the principal leave the costs to collect.
			w := MustApply(t, p, domain.PartialRecall{Waivers: []domain.Waiver{
				{InvoiceNumber: "INV-A", Amount: d("100"), Currency: cur, Date: "2024-08-01"},
				{InvoiceNumber: "INV-B", Amount: d("300"), Currency: cur, Date: "2024-08-01"},
			}, At: t0})
			assert.Equal(t, domain.StatusActive, w.Status)
			assert.True(t, w.TotalOpen().Equal(d("30")))
		})
	}
}

func TestPaymentsWithoutChargesAreRecordedAsBefore(t *testing.T) {
	p := MustApply(t, domain.Placement{}, place())
	dec := domain.Decide(p, domain.ReceivePayment{Amount: d("50"), At: t0})
	require.NoError(t, dec.Err)
	_, b, err := domain.EncodeEvent(dec.Events[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.NotContains(t, m, "split")
	_, b, err = domain.EncodeEvent(domain.PlacementOpened{PlacementID: uuid.New()})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "charges")
	assert.Empty(t, dec.Events[1].(domain.AccountingDocumentIssued).LineItems[0].AllocateTo)
	assert.Nil(t, p.Charges)
}

func TestHandoverCharges(t *testing.T) {
	cases := map[string]struct {
		edit  func(*domain.Place)
		field string
	}{
		"OK":                         {func(*domain.Place) {}, ""},
		"a number twice":             {func(c *domain.Place) { c.Charges[1].Number = "C-1" }, "interests[0].number"},
		"a cost of zero":             {func(c *domain.Place) { c.Charges[0].Amount = d("0") }, "costs[0].amount"},
		"a cost below the yen":       {func(c *domain.Place) { c.Currency, c.Charges[0].Amount = "JPY", d("0.5") }, "costs[0].amount"},
		"a fraction of a fils":       {func(c *domain.Place) { c.Currency, c.Charges[1].Amount = "BHD", d("1.0001") }, "interests[0].amount"},
		"an interest without a date": {func(c *domain.Place) { c.Charges[1].Date = "" }, "interests[0].date"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := chargedPlace("EUR")
			tc.edit(&c)
			dec := domain.Decide(domain.Placement{}, c)
			if tc.field == "" {
				require.NoError(t, dec.Err)
				assert.Len(t, dec.Events[0].(domain.PlacementOpened).Charges, 2)
				return
			}
			e, ok := domain.AsError(dec.Err)
			require.True(t, ok, "%v", dec.Err)
			require.NotEmpty(t, e.Fields)
			assert.Equal(t, tc.field, e.Fields[0].Field)
			assert.Empty(t, dec.Events)
		})
	}
}

// postedBalances sums the postings of events decided on the claim before,
// by account, in minor units.
func postedBalances(before domain.Placement, events []domain.Event, into map[string]int64) map[string]int64 {
	if into == nil {
		into = map[string]int64{}
	}
	for _, e := range events {
		for _, q := range domain.Postings(before, e, t0) {
			into[q.Account] += q.Signed()
		}
		before = domain.Evolve(before, e)
	}
	return into
}

func TestWriteOffTakesCostsAndInterests(t *testing.T) {
	for _, cur := range currencies {
		t.Run(cur, func(t *testing.T) {
			p := MustApply(t, domain.Placement{}, chargedPlace(cur))
			// 25 pays the costs (20) and 5 of the interests: 5 of them stay open.
			p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("25"), At: t0})
			require.True(t, p.InterestsOpen().Equal(d("5")))
			events, after := decided(t, p, domain.WriteOff{Reason: domain.WriteOffInsolvency, At: t0})
			w := events[0].(domain.PlacementWrittenOff)
			require.NotNil(t, w.Charges)
			assert.True(t, w.Charges.Costs.IsZero())
			assert.True(t, w.Charges.Interests.Equal(d("5")))
			assert.True(t, w.OutstandingAmount.Equal(d("400")), "the principal, as before")
			doc := document(t, events)
			assert.True(t, doc.Amount.Equal(domain.AmountOf(d("-405"))))
			assert.Equal(t, domain.AllocateInterests, doc.LineItems[len(doc.LineItems)-1].AllocateTo)
			assert.True(t, doc.LineItems[len(doc.LineItems)-1].Amount.Equal(domain.AmountOf(d("-5"))))
			assert.True(t, after.TotalOpen().IsZero(), "nothing stays open on a written-off claim")
			assert.True(t, after.TotalWrittenOff().Equal(d("405")))
			b := postedBalances(p, events, nil)
			assert.Equal(t, domain.MinorAmount(d("-5"), cur), b[domain.InterestsAccount(after.ClaimNumber)])
			assert.Equal(t, domain.MinorAmount(d("405"), cur), b[domain.AccountWrittenOff])

			// Reversing the payment on the written-off claim: what it paid of
			// the costs and interests is written off too, not open again.
			events, rev := decided(t, after, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
			assert.Equal(t, domain.StatusWrittenOff, rev.Status)
			assert.True(t, rev.TotalOpen().IsZero())
			assert.True(t, rev.TotalWrittenOff().Equal(d("430")))
			b = postedBalances(after, events, nil)
			assert.Zero(t, b[domain.CostsAccount(after.ClaimNumber)])
			assert.Equal(t, domain.MinorAmount(d("25"), cur), b[domain.AccountWrittenOff])
		})
	}
}

func TestReversalOnRecalledClaimKeepsChargesRecalled(t *testing.T) {
	p := MustApply(t, domain.Placement{}, chargedPlace("EUR"))
	p = MustApply(t, p, domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("25"), At: t0})
	p = MustApply(t, p, domain.Recall{At: t0})
	events, rev := decided(t, p, domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: t0})
	assert.Equal(t, domain.StatusRecalled, rev.Status)
	assert.True(t, rev.CostsOpen().IsZero(), "costs taken back on a recalled claim stay recalled")
	assert.True(t, rev.InterestsOpen().IsZero())
	b := postedBalances(p, events, nil)
	assert.Zero(t, b[domain.CostsAccount(p.ClaimNumber)])
	assert.Equal(t, int64(2500), b[domain.AccountRecalled])
}
