package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
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
						Amount: decimal.New(int64(5000+rng.IntN(100_000)), -int32(scale)), DueDate: fmt.Sprintf("2024-0%d-01", k+1)})
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
							original = original.Add(inv.Amount)
						}
					case domain.PaymentReceived:
						s.paid = s.paid.Add(e.Amount)
						a.Payments++
						for _, al := range e.Allocations {
							perInvoice[al.InvoiceNumber] = perInvoice[al.InvoiceNumber].Add(al.Amount)
						}
					case domain.PaymentReversed:
						s.reversed = s.reversed.Add(e.Amount)
						a.Reversals++
						reversals++
						for _, al := range e.Allocations {
							perInvoice[al.InvoiceNumber] = perInvoice[al.InvoiceNumber].Sub(al.Amount)
						}
						if e.ReturnedTo == domain.ReturnedToRecalled { // back to the bucket that closed the claim
							s.recalled = s.recalled.Add(e.Amount)
						}
					case domain.CreditWaiverIssued:
						s.waived = s.waived.Add(e.Amount)
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
