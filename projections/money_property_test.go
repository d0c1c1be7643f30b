package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/reconcile"
)

// halfUp rounds recovered × rate half-up to scale decimals with exact
// rationals, apart from the domain's decimal rounding.
func halfUp(recovered, rate decimal.Decimal, scale int32) decimal.Decimal {
	x := new(big.Rat).Mul(recovered.Rat(), rate.Rat())
	x.Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(x.Num(), x.Denom()) // x ≥ 0: truncation is the floor
	return decimal.NewFromBigInt(q, -scale)
}

// TestMoneyFollowsTheEvents runs random sequences of payments (numbered and
// not), credit waivers, reversals (of known, reversed and unknown payments)
// and recalls on placements in currencies of 0, 2 and 3 decimals, then
// checks every placement's figures and the reconciliation's totals against
// sums taken over the events themselves, and every fee against recovered ×
// rate rounded half-up, computed with exact rationals.
func TestMoneyFollowsTheEvents(t *testing.T) {
	type placement struct {
		id       uuid.UUID
		claim    string
		currency string
		scale    int32
		rate     decimal.Decimal
		invoices []string
	}
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			store := MustStore(t)
			views := MustViews(t, "")
			runner, _ := MustRunner(t, store, views, 0)
			at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
			h := command.NewHandler(store, projections.NewWriteIndex(views), func() time.Time { at = at.Add(time.Minute); return at })
			rng := rand.New(rand.NewPCG(seed, 29))
			var ps []placement
			for i, cur := range []string{"EUR", "JPY", "BHD", "EUR"} {
				scale, _ := domain.MinorUnits(cur)
				p := placement{id: uuid.New(), claim: fmt.Sprintf("MP-%d", i), currency: cur, scale: int32(scale),
					rate: decimal.RequireFromString([]string{"0.15", "0.2", "0.1234", "0.3333"}[i]), invoices: []string{"A", "B", "C"}}
				place := domain.Place{PlacementID: p.id, CreditorID: "acme", ClaimNumber: p.claim, CustomerNumber: "K1", Currency: cur, FeeRate: p.rate}
				for k, inv := range p.invoices {
					place.Invoices = append(place.Invoices, domain.Invoice{InvoiceNumber: inv, ContractNumber: "C",
						Amount: domain.NewAmount(int64(5000+rng.IntN(100_000)), -int32(scale)), DueDate: fmt.Sprintf("2024-0%d-01", k+1)})
				}
				_, err := h.Place(ctx, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, place)
				require.NoError(t, err)
				ps = append(ps, p)
			}
			for step := range 300 {
				p := ps[rng.IntN(len(ps))]
				amount := decimal.New(int64(1+rng.IntN(40_000)), -p.scale)
				number := fmt.Sprintf("N-%d", rng.IntN(12))
				roll := rng.IntN(20)
				_, _ = h.Execute(ctx, p.id, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: fmt.Sprintf("s%d", step)},
					func(at time.Time) domain.Command {
						switch {
						case roll < 8:
							return domain.ReceivePayment{PaymentNumber: number, Amount: amount, At: at}
						case roll < 10:
							return domain.ReceivePayment{Amount: amount, At: at}
						case roll < 13:
							return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: p.invoices[rng.IntN(3)], ContractNumber: "C",
								Date: "2024-06-01", Amount: amount, Currency: p.currency}}, At: at}
						case roll < 19:
							if roll == 18 {
								number = fmt.Sprintf("%s-AD%03d", p.claim, 1+rng.IntN(10))
							}
							reason := []string{domain.ReversalReturned, domain.ReversalEnteredInError, domain.ReversalOther}[rng.IntN(3)]
							return domain.ReversePayment{PaymentNumber: number, Reason: reason, At: at}
						default:
							if rng.IntN(4) == 0 {
								return domain.Recall{At: at}
							}
							return domain.ReceivePayment{Amount: amount, At: at}
						}
					})
			}
			MustCatchUp(t, store, runner)

			// Sums over the events, per placement and per currency.
			type sums struct{ paid, reversed, waived, recalled decimal.Decimal }
			want := map[string]*reconcile.Amounts{}
			reversals := 0
			for _, p := range ps {
				events, err := journal.ReadPlacement(ctx, store, p.id)
				require.NoError(t, err)
				s := sums{decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero}
				perInvoice := map[string]decimal.Decimal{}
				original := decimal.Zero
				a := want[p.currency]
				if a == nil {
					a = &reconcile.Amounts{Recovered: decimal.Zero, Fees: decimal.Zero, NetToCreditor: decimal.Zero, Waived: decimal.Zero, Recalled: decimal.Zero, Reversed: decimal.Zero}
					want[p.currency] = a
				}
				for _, se := range events {
					switch e := se.Event.(type) {
					case domain.PlacementOpened:
						for _, inv := range e.Invoices {
							original = original.Add(inv.Amount.Decimal())
						}
					case domain.PaymentReceived:
						s.paid = s.paid.Add(e.Amount.Decimal())
						a.Payments++
						for _, al := range e.Allocations {
							perInvoice[al.InvoiceNumber] = perInvoice[al.InvoiceNumber].Add(al.Amount.Decimal())
						}
					case domain.PaymentReversed:
						s.reversed = s.reversed.Add(e.Amount.Decimal())
						a.Reversals++
						reversals++
						for _, al := range e.Allocations {
							perInvoice[al.InvoiceNumber] = perInvoice[al.InvoiceNumber].Sub(al.Amount.Decimal())
						}
						if e.ReturnedTo == domain.ReturnedToRecalled { // back to the bucket that closed the claim
							s.recalled = s.recalled.Add(e.Amount.Decimal())
						}
					case domain.CreditWaiverIssued:
						s.waived = s.waived.Add(e.Amount.Decimal())
					case domain.PlacementRecalled:
						s.recalled = s.recalled.Add(e.OutstandingAmount)
					}
				}
				recovered := s.paid.Sub(s.reversed)
				fee := halfUp(recovered, p.rate, p.scale)
				money := func(d decimal.Decimal) string { return domain.FormatMoney(d, p.currency) }

				raw, _, found, err := views.PlacementJSON("acme", p.id)
				require.NoError(t, err)
				require.True(t, found)
				var got struct {
					Recovered, Fee, Waived, Outstanding, Status string
					Recalled                                    *string
					Invoices                                    []struct{ InvoiceNumber, PaidAmount string }
				}
				require.NoError(t, json.Unmarshal(raw, &struct {
					Recovered   *string  `json:"recoveredAmount"`
					Fee         *string  `json:"feeAmount"`
					Waived      *string  `json:"waivedAmount"`
					Outstanding *string  `json:"outstandingAmount"`
					Status      *string  `json:"status"`
					Recalled    **string `json:"recalledAmount"`
					Invoices    any      `json:"invoices"`
				}{&got.Recovered, &got.Fee, &got.Waived, &got.Outstanding, &got.Status, &got.Recalled, &got.Invoices}))
				require.Equal(t, money(recovered), got.Recovered, "%s: recovered = payments − reversals", p.claim)
				require.Equal(t, money(fee), got.Fee, "%s: fee = recovered × %s, half-up", p.claim, p.rate)
				require.Equal(t, money(s.waived), got.Waived, p.claim)
				if got.Status == string(domain.StatusRecalled) { // the recall took what was open: the principal accounts are empty
					require.Equal(t, money(decimal.Zero), got.Outstanding, p.claim)
					require.NotNil(t, got.Recalled, p.claim)
					require.Equal(t, money(original.Sub(s.waived).Sub(recovered)), *got.Recalled, p.claim)
				} else {
					require.Equal(t, money(original.Sub(s.waived).Sub(recovered)), got.Outstanding, p.claim)
				}
				for _, inv := range got.Invoices {
					require.Equal(t, money(perInvoice[inv.InvoiceNumber]), inv.PaidAmount, "%s invoice %s", p.claim, inv.InvoiceNumber)
				}
				a.Recovered = a.Recovered.Add(recovered)
				a.Fees = a.Fees.Add(fee)
				a.NetToCreditor = a.NetToCreditor.Add(recovered.Sub(fee))
				a.Waived = a.Waived.Add(s.waived)
				a.Recalled = a.Recalled.Add(s.recalled)
				a.Reversed = a.Reversed.Add(s.reversed)
			}
			require.Positive(t, reversals, "the sequence reversed some payments")

			report, err := views.Reconciliation("acme", reconcile.BasisValue, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
			require.NoError(t, err)
			for cur, w := range want {
				got := report.Totals[cur]
				require.Equal(t, w.View(cur), got.View(cur), "%s totals equal the sums over the events", cur)
				// And the entries add up to the totals.
				sum := reconcile.Amounts{Recovered: decimal.Zero, Fees: decimal.Zero, NetToCreditor: decimal.Zero, Waived: decimal.Zero, Recalled: decimal.Zero, Reversed: decimal.Zero}
				for _, e := range report.Entries {
					if e.Currency == cur {
						f := e.Figures()
						sum.Payments += f.Payments
						sum.Reversals += f.Reversals
						sum.Recovered, sum.Fees = sum.Recovered.Add(f.Recovered), sum.Fees.Add(f.Fees)
						sum.NetToCreditor, sum.Waived = sum.NetToCreditor.Add(f.NetToCreditor), sum.Waived.Add(f.Waived)
						sum.Recalled, sum.Reversed = sum.Recalled.Add(f.Recalled), sum.Reversed.Add(f.Reversed)
						require.NotEmpty(t, e.Hash, "entry at %d cites its hash", e.Position)
					}
				}
				require.Equal(t, w.View(cur), sum.View(cur), "%s entries add up to the totals", cur)
			}
			checkPostings(t, views, ps[0].claim, want)
		})
	}
}

// checkPostings checks the postings read models against the figures: each
// claim conserves its money (placed = open + collected + waived + recalled,
// in its postings), and the trial balance as of today balances in every
// currency, its creditor/collected being the recovered total.
func checkPostings(t *testing.T, views *projections.Views, claim string, want map[string]*reconcile.Amounts) {
	t.Helper()
	items, found, err := views.ClaimPostings("acme", claim)
	require.NoError(t, err)
	require.True(t, found)
	require.NotEmpty(t, items)
	net := map[string]decimal.Decimal{}
	for _, it := range items {
		a := decimal.Decimal(it.Amount)
		if it.Side == domain.Credit {
			a = a.Neg()
		}
		net[it.Account] = net[it.Account].Add(a)
	}
	open := decimal.Zero
	for acct, bal := range net {
		if len(acct) > 6 && acct[:6] == "claim/" {
			require.False(t, bal.IsNegative(), "%s: %s", acct, bal)
			open = open.Add(bal)
		}
	}
	require.True(t, net[domain.AccountPlaced].Neg().Equal(open.Add(net[domain.AccountCollected]).Add(net[domain.AccountWaived]).Add(net[domain.AccountRecalled])),
		"%s: placed = open + collected + waived + recalled", claim)
	_, found, err = views.ClaimPostings("acme", "no-such-claim")
	require.NoError(t, err)
	require.False(t, found)

	for _, basis := range []string{projections.BasisValue, projections.BasisBooking} {
		tb, err := views.TrialBalance("", "", "9999-12-31", basis)
		require.NoError(t, err)
		require.Len(t, tb.Totals, len(want), basis)
		for _, tot := range tb.Totals {
			require.True(t, decimal.Decimal(tot.TotalDebit).Equal(decimal.Decimal(tot.TotalCredit)), "%s %s: debit = credit", basis, tot.Currency)
		}
		for _, l := range tb.Lines {
			if l.Account == domain.AccountCollected {
				require.True(t, decimal.Decimal(l.Balance).Equal(want[l.Currency].Recovered), "%s %s: collected = recovered", basis, l.Currency)
			}
		}
	}
	early, err := views.TrialBalance("acme", "EUR", "2000-01-01", projections.BasisBooking)
	require.NoError(t, err)
	require.Empty(t, early.Lines, "nothing booked before 2000")
}

// TestReconciliationIsAccountMovements drives random handovers with costs
// and interests, payments (direct, with and without overpayments, and to
// the agency), waivers and their cancellations, debits, reversals, recalls
// and write-offs in EUR, JPY and BHD, value-dated over some weeks, then
// checks, for windows of days on both bases, that every money figure of the
// reconciliation's totals per currency is the trial balance's movement of
// its accounts over the window (the balance as of the window's last day
// minus the balance as of the day before its first).
func TestReconciliationIsAccountMovements(t *testing.T) {
	var covered coverage
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			views, days, cov := runReconciliationProperty(t, seed)
			covered.add(cov)
			for _, w := range reconciliationWindows(seed, days) {
				for _, basis := range []string{reconcile.BasisValue, reconcile.BasisBooking} {
					require.Empty(t, reconciliationMismatch(t, views, basis, w[0], w[1]), "%s basis, %s to %s", basis, w[0], w[1])
				}
			}
		})
	}
	require.Positive(t, covered.recallsWithCharges, "some recall took costs or interests")
	require.Positive(t, covered.writeOffsWithCharges, "some write-off took costs or interests")
	require.Positive(t, covered.returned, "some money went back to the bucket that closed its claim")
	require.Positive(t, covered.agency, "some payment went to the agency")
	require.Positive(t, covered.overpaid, "some payment overpaid")
}

// TestReconciliationPropertyCatchesAMutatedEntry drops the costs and
// interests legs of a recall from what its reconciliation entry reads (the
// recalled figure then counts the principal alone, as it did before the
// figures were balances): the property no longer holds.
func TestReconciliationPropertyCatchesAMutatedEntry(t *testing.T) {
	t.Cleanup(projections.MutateEntryPostings(func(e domain.Event, ps []domain.Posting) []domain.Posting {
		doc, isDoc := e.(domain.AccountingDocumentIssued)
		if !isDoc || doc.Type != domain.DocCancellation || doc.OriginalType != "" {
			return ps
		}
		var out []domain.Posting
		dropped := int64(0)
		for _, p := range ps {
			if strings.HasSuffix(p.Account, "/costs") || strings.HasSuffix(p.Account, "/interests") {
				dropped += p.Amount
				continue
			}
			out = append(out, p)
		}
		for i := range out {
			if out[i].Account == domain.AccountRecalled {
				out[i].Amount -= dropped
			}
		}
		return out
	}))
	views, days, covered := runReconciliationProperty(t, 0)
	require.Positive(t, covered.recallsWithCharges)
	all := reconciliationWindows(0, days)[0]
	mismatch := reconciliationMismatch(t, views, reconcile.BasisValue, all[0], all[1])
	t.Log(mismatch)
	assert.Contains(t, mismatch, "recalled")
}

// coverage counts what a run did that the property must see.
type coverage struct{ recallsWithCharges, writeOffsWithCharges, returned, agency, overpaid int }

func (c *coverage) add(d coverage) {
	c.recallsWithCharges += d.recallsWithCharges
	c.writeOffsWithCharges += d.writeOffsWithCharges
	c.returned += d.returned
	c.agency += d.agency
	c.overpaid += d.overpaid
}

// reconClaim is a claim of the reconciliation property and the numbers
// its payments and waivers were given, with their amounts.
type reconClaim struct {
	id       uuid.UUID
	currency string
	scale    int32
	invoices []string
	payments []string
	waivers  map[string]decimal.Decimal
	paid     map[string]decimal.Decimal
}

// runReconciliationProperty runs one random sequence of commands for
// creditor acme and returns the views caught up with it, the first and last
// day anything was booked or value-dated, and what it covered.
func runReconciliationProperty(t *testing.T, seed uint64) (*projections.Views, [2]time.Time, coverage) {
	ctx := context.Background()
	store := MustStore(t)
	views := MustViews(t, "")
	runner, _ := MustRunner(t, store, views, 0)
	start := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	at := start
	h := command.NewHandler(store, projections.NewWriteIndex(views), func() time.Time { return at })
	rng := rand.New(rand.NewPCG(seed, 31))
	var claims []*reconClaim
	place := func(i int) {
		c, cmd := reconHandover(rng, i)
		_, err := h.Place(ctx, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, cmd)
		require.NoError(t, err)
		claims = append(claims, c)
	}
	for i := range 6 {
		place(i)
	}
	for step := range 300 {
		at = at.Add(time.Duration(1+rng.IntN(600)) * time.Minute)
		if rng.IntN(12) == 0 {
			place(len(claims))
			continue
		}
		c := claims[rng.IntN(len(claims))]
		req, cmd := reconCommand(rng, c, at, step)
		_, _ = h.Execute(ctx, c.id, req, func(time.Time) domain.Command { return cmd })
	}
	MustCatchUp(t, store, runner)
	var cov coverage
	for _, c := range claims {
		events, err := journal.ReadPlacement(ctx, store, c.id)
		require.NoError(t, err)
		for _, r := range events {
			cov.saw(r.Event)
		}
	}
	first := time.Date(start.Year(), start.Month(), start.Day()-4, 0, 0, 0, 0, time.UTC)
	return views, [2]time.Time{first, at.Truncate(24*time.Hour).AddDate(0, 0, 1)}, cov
}

// reconHandover is the i-th claim's handover: two invoices and up to three
// costs and interests, in EUR, JPY or BHD.
func reconHandover(rng *rand.Rand, i int) (*reconClaim, domain.Place) {
	cur := []string{"EUR", "JPY", "BHD"}[i%3]
	scale, _ := domain.MinorUnits(cur)
	c := &reconClaim{id: uuid.New(), currency: cur, scale: int32(scale), invoices: []string{"A", "B"},
		waivers: map[string]decimal.Decimal{}, paid: map[string]decimal.Decimal{}}
	cmd := domain.Place{PlacementID: c.id, CreditorID: "acme", ClaimNumber: fmt.Sprintf("RP-%d", i), CustomerNumber: "K1", Currency: cur,
		FeeRate: decimal.RequireFromString([]string{"0.15", "0.2", "0.1234"}[rng.IntN(3)])}
	for k, inv := range c.invoices {
		cmd.Invoices = append(cmd.Invoices, domain.Invoice{InvoiceNumber: inv, ContractNumber: "C",
			Amount: domain.NewAmount(int64(5000+rng.IntN(50_000)), -int32(scale)), DueDate: fmt.Sprintf("2024-0%d-01", k+1)})
	}
	for k := range rng.IntN(4) {
		typ := []string{domain.ChargeCosts, domain.ChargeInterests}[k%2]
		cmd.Charges = append(cmd.Charges, domain.Charge{Type: typ, Number: fmt.Sprintf("H-%d", k), Amount: decimal.New(int64(100+rng.IntN(3000)), -int32(scale)),
			Date: "2024-04-01"})
	}
	return c, cmd
}

// reconCommand is a random command on c at at, value-dated up to three
// days before: a payment (direct or to the agency), a waiver, a debit, a
// reversal, a cancellation of a waiver or a payment (for its amount, or of
// an unknown number), a recall or a write-off.
func reconCommand(rng *rand.Rand, c *reconClaim, at time.Time, step int) (command.Request, domain.Command) {
	amount := decimal.New(int64(1+rng.IntN(30_000)), -c.scale)
	date := at.AddDate(0, 0, -rng.IntN(4)).Format(time.DateOnly)
	number := fmt.Sprintf("N-%d", step)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: fmt.Sprintf("s%d", step)}
	switch roll := rng.IntN(40); {
	case roll < 14:
		allocateTo := []string{"", domain.AllocatePrincipal, domain.AllocateCosts, domain.AllocateInterests}[rng.IntN(4)]
		c.payments, c.paid[number] = append(c.payments, number), amount
		return req, domain.ReceivePayment{PaymentNumber: number, Amount: amount, Date: date, AllocateTo: allocateTo, Overpay: rng.IntN(2) == 0, At: at}
	case roll < 20:
		req.Actor, req.ActorType = "agency", journal.ActorAgency
		c.payments, c.paid[number] = append(c.payments, number), amount
		return req, domain.ReceiveAgencyPayment{PaymentNumber: number, Amount: amount, Date: date, At: at}
	case roll < 24:
		c.waivers[number] = amount
		return req, domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: number, InvoiceNumber: c.invoices[rng.IntN(2)], ContractNumber: "C",
			Date: date, Amount: amount, Currency: c.currency}}, At: at}
	case roll < 26:
		typ := []string{domain.ChargeCosts, domain.ChargeInterests}[rng.IntN(2)]
		return req, domain.AddDebit{Charge: domain.Charge{Type: typ, Number: number, Amount: amount, Date: date}, At: at}
	case roll < 32 && len(c.payments) > 0:
		reason := []string{domain.ReversalReturned, domain.ReversalEnteredInError, domain.ReversalOther}[rng.IntN(3)]
		return req, domain.ReversePayment{PaymentNumber: c.payments[rng.IntN(len(c.payments))], Reason: reason, Date: date, At: at}
	case roll < 37:
		ref, cancelled := "NONE", decimal.New(1, 0)
		for w, a := range c.waivers { // any one
			ref, cancelled = w, a
			break
		}
		if rng.IntN(2) == 0 && len(c.payments) > 0 {
			ref = c.payments[rng.IntN(len(c.payments))]
			cancelled = c.paid[ref]
		}
		return req, domain.CancelDocument{ReferenceNumber: ref, Date: date, Amount: cancelled, Currency: c.currency, At: at}
	case roll < 39:
		return req, domain.Recall{At: at}
	default:
		return req, domain.WriteOff{Reason: domain.WriteOffUncollectible, At: at}
	}
}

// saw counts what e covers.
func (c *coverage) saw(e domain.Event) {
	switch e := e.(type) {
	case domain.PlacementRecalled:
		if e.Charges != nil {
			c.recallsWithCharges++
		}
	case domain.PlacementWrittenOff:
		if e.Charges != nil {
			c.writeOffsWithCharges++
		}
	case domain.PaymentReceived:
		if e.ReceivedBy == domain.ReceivedByAgency {
			c.agency++
		}
		if e.Split != nil && e.Split.Overpaid.IsPositive() {
			c.overpaid++
		}
	case domain.PaymentReversed:
		if e.ReturnedTo != "" {
			c.returned++
		}
	case domain.CreditWaiverCancelled:
		if e.ReturnedTo != "" {
			c.returned++
		}
	}
}

// reconciliationWindows are [from, to) windows of whole days: everything,
// then some at random within days.
func reconciliationWindows(seed uint64, days [2]time.Time) [][2]time.Time {
	out := [][2]time.Time{{days[0].AddDate(0, 0, -30), days[1].AddDate(1, 0, 0)}}
	rng := rand.New(rand.NewPCG(seed, 37))
	span := int(days[1].Sub(days[0]).Hours() / 24)
	for range 8 {
		a, b := rng.IntN(span+1), rng.IntN(span+1)
		if a > b {
			a, b = b, a
		}
		out = append(out, [2]time.Time{days[0].AddDate(0, 0, a), days[0].AddDate(0, 0, b+1)})
	}
	return out
}

// reconciliationMismatch compares the reconciliation of acme over [from,
// to) on a basis with the trial balance's movements over the same days:
// per currency, recovered = creditor/collected + agency/payable,
// agencyCollected = agency/payable, fees = creditor/fees, netToCreditor =
// recovered − fees, waived, recalled and writtenOff = their accounts,
// overpaid = the overpayment accounts' credit balance, reversed = what
// creditor/collected and agency/payable were credited. "" when every figure
// holds; the first that does not, otherwise.
func reconciliationMismatch(t *testing.T, views *projections.Views, basis string, from, to time.Time) string {
	t.Helper()
	report, err := views.Reconciliation("acme", basis, from, to)
	require.NoError(t, err)
	movement := func(asOf time.Time) map[string]*reconcile.Amounts {
		tb, err := views.TrialBalance("acme", "", asOf.Format(time.DateOnly), basis)
		require.NoError(t, err)
		out := map[string]*reconcile.Amounts{}
		for _, l := range tb.Lines {
			a := out[l.Currency]
			if a == nil {
				z := reconcile.Zero()
				a = &z
				out[l.Currency] = a
			}
			bal, credit := decimal.Decimal(l.Balance), decimal.Decimal(l.Credit)
			switch {
			case l.Account == domain.AccountCollected, l.Account == domain.AccountAgencyPayable:
				a.Recovered, a.Reversed = a.Recovered.Add(bal), a.Reversed.Add(credit)
				if l.Account == domain.AccountAgencyPayable {
					a.AgencyCollected = bal
				}
			case l.Account == domain.AccountFees:
				a.Fees = bal
			case l.Account == domain.AccountWaived:
				a.Waived = bal
			case l.Account == domain.AccountRecalled:
				a.Recalled = bal
			case l.Account == domain.AccountWrittenOff:
				a.WrittenOff = bal
			case strings.HasPrefix(l.Account, "claim/") && strings.HasSuffix(l.Account, "/overpayment"):
				a.Overpaid = a.Overpaid.Sub(bal)
			}
		}
		return out
	}
	end, before := movement(to.AddDate(0, 0, -1)), movement(from.AddDate(0, 0, -1))
	for cur, e := range end {
		b := before[cur]
		if b == nil {
			z := reconcile.Zero()
			b = &z
		}
		got := report.Total(cur)
		for _, f := range []struct {
			name      string
			got, want decimal.Decimal
		}{
			{"recovered", got.Recovered, e.Recovered.Sub(b.Recovered)},
			{"agencyCollected", got.AgencyCollected, e.AgencyCollected.Sub(b.AgencyCollected)},
			{"fees", got.Fees, e.Fees.Sub(b.Fees)},
			{"netToCreditor", got.NetToCreditor, e.Recovered.Sub(b.Recovered).Sub(e.Fees.Sub(b.Fees))},
			{"waived", got.Waived, e.Waived.Sub(b.Waived)},
			{"recalled", got.Recalled, e.Recalled.Sub(b.Recalled)},
			{"writtenOff", got.WrittenOff, e.WrittenOff.Sub(b.WrittenOff)},
			{"overpaid", got.Overpaid, e.Overpaid.Sub(b.Overpaid)},
			{"reversed", got.Reversed, e.Reversed.Sub(b.Reversed)},
		} {
			if !f.got.Equal(f.want) {
				return fmt.Sprintf("%s %s: the report says %s, the accounts moved by %s", cur, f.name, f.got, f.want)
			}
		}
	}
	for cur := range report.Totals {
		if end[cur] == nil {
			return fmt.Sprintf("%s: in the report, not in the trial balance", cur)
		}
	}
	return ""
}
