package domain_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

func p(account, side string, amount int64, currency, date string) domain.Posting {
	return domain.Posting{Account: account, Side: side, Amount: amount, Currency: currency, ValueDate: date}
}

func TestPostingsOfEachEvent(t *testing.T) {
	booked := time.Date(2024, 8, 7, 23, 30, 0, 0, time.FixedZone("x", -2*3600)) // 2024-08-08 UTC
	const day = "2024-08-08"
	inv := func(n, amount string) domain.Invoice {
		return domain.Invoice{InvoiceNumber: n, Amount: domain.AmountOf(d(amount))}
	}
	alloc := func(n, amount string) domain.Allocation {
		return domain.Allocation{InvoiceNumber: n, Amount: domain.AmountOf(d(amount))}
	}
	tests := map[string]struct {
		event domain.Event
		want  []domain.Posting
	}{
		"OK_handover_EUR": {
			event: domain.PlacementOpened{ClaimNumber: "C1", Currency: "EUR", Invoices: []domain.Invoice{inv("I1", "100"), inv("I2", "300.5")}},
			want: []domain.Posting{p("claim/C1/principal/I1", "debit", 10000, "EUR", day), p("claim/C1/principal/I2", "debit", 30050, "EUR", day),
				p("creditor/placed", "credit", 40050, "EUR", day)},
		},
		"OK_payment_JPY_own_date": {
			event: domain.PaymentReceived{Currency: "JPY", Date: "2024-08-01", Amount: domain.AmountOf(d("1500")), Allocations: []domain.Allocation{alloc("I1", "1000"), alloc("I2", "500")}},
			want: []domain.Posting{p("claim/C1/principal/I1", "credit", 1000, "JPY", "2024-08-01"), p("claim/C1/principal/I2", "credit", 500, "JPY", "2024-08-01"),
				p("creditor/collected", "debit", 1500, "JPY", "2024-08-01")},
		},
		"OK_payment_without_date_is_booked_day": {
			event: domain.PaymentReceived{Currency: "EUR", Amount: domain.AmountOf(d("1")), Allocations: []domain.Allocation{alloc("I1", "1")}},
			want:  []domain.Posting{p("claim/C1/principal/I1", "credit", 100, "EUR", day), p("creditor/collected", "debit", 100, "EUR", day)},
		},
		"OK_reversal_BHD": {
			event: domain.PaymentReversed{Currency: "BHD", Amount: domain.AmountOf(d("1.234")), Allocations: []domain.Allocation{alloc("I1", "1.234")}, Date: "2024-01-01"},
			want:  []domain.Posting{p("claim/C1/principal/I1", "debit", 1234, "BHD", day), p("creditor/collected", "credit", 1234, "BHD", day)},
		},
		"OK_waiver_BHD": {
			event: domain.CreditWaiverIssued{InvoiceNumber: "I/2", Date: "2024-07-31", Amount: domain.AmountOf(d("0.005")), Currency: "BHD"},
			want:  []domain.Posting{p("claim/C1/principal/I%2F2", "credit", 5, "BHD", "2024-07-31"), p("creditor/waived", "debit", 5, "BHD", "2024-07-31")},
		},
		"OK_recall_cancellation_EUR": {
			event: domain.AccountingDocumentIssued{Type: domain.DocCancellation, Date: "2024-08-07", Amount: domain.AmountOf(d("-300")), Currency: "EUR",
				LineItems: []domain.LineItem{{InvoiceNumber: "I2", Amount: domain.AmountOf(d("-300"))}}},
			want: []domain.Posting{p("claim/C1/principal/I2", "credit", 30000, "EUR", "2024-08-07"), p("creditor/recalled", "debit", 30000, "EUR", "2024-08-07")},
		},
		"OK_reversal_cancellation_is_its_reversals": {
			event: domain.AccountingDocumentIssued{Type: domain.DocCancellation, OriginalType: domain.DocDirectPayment, Amount: domain.AmountOf(d("100")), Currency: "EUR",
				LineItems: []domain.LineItem{{InvoiceNumber: "I2", Amount: domain.AmountOf(d("100"))}}},
		},
		"OK_payment_document_is_its_payments": {
			event: domain.AccountingDocumentIssued{Type: domain.DocDirectPayment, Amount: domain.AmountOf(d("-100")), Currency: "EUR", LineItems: []domain.LineItem{{InvoiceNumber: "I2", Amount: domain.AmountOf(d("-100"))}}},
		},
		"OK_recall_itself_names_no_invoice": {event: domain.PlacementRecalled{OutstandingAmount: d("300")}},
		"OK_paid":                           {event: domain.PlacementPaid{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := domain.Postings(domain.Placement{ClaimNumber: "C1"}, tc.event, booked)
			assert.Equal(t, tc.want, got)
			assert.Empty(t, domain.Unbalanced(got))
			assert.Equal(t, got, domain.Postings(domain.Placement{ClaimNumber: "C1"}, tc.event, booked), "deterministic")
		})
	}
}

func TestPrincipalAccountNamesNeverCollide(t *testing.T) {
	pairs := [][2]string{{"acme", "x/principal/1"}, {"acme/principal/x", "1"}, {"a%2F", "b"}, {"a/", "b"}, {"a", "/b"}, {"a-x", "1"}, {"a", "x-1"}}
	seen := map[string][2]string{}
	for _, pr := range pairs {
		name := domain.PrincipalAccount(pr[0], pr[1])
		prev, dup := seen[name]
		assert.False(t, dup, "%v and %v both give %s", prev, pr, name)
		seen[name] = pr
	}
}

func TestEveryEventTypeIsClassifiedForPostings(t *testing.T) {
	require.NoError(t, domain.PostingEvents.Check())
	for _, typ := range domain.EventTypes() {
		e, err := domain.DecodeEvent(typ, []byte(`{}`))
		require.NoError(t, err)
		require.NotPanics(t, func() { domain.Postings(domain.Placement{ClaimNumber: "C"}, e, t0) }, typ)
		if !domain.PostingEvents.Handles(typ) {
			assert.Empty(t, domain.Postings(domain.Placement{ClaimNumber: "C"}, e, t0), typ)
		}
	}
	assert.PanicsWithValue(t, "domain: Postings has no rule for event type Unregistered (domain_test.unregistered)",
		func() { domain.Postings(domain.Placement{ClaimNumber: "C"}, unregistered{}, t0) })
}

// TestDecideRefusesPostingsThatBreakTheInvariants mutates one event's
// posting rule at a time: Decide refuses the command with
// ErrPostingsInvariant and returns no event to append.
func TestDecideRefusesPostingsThatBreakTheInvariants(t *testing.T) {
	active := MustApply(t, domain.Placement{}, place())
	waive := domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "I0417211449", ContractNumber: "166271782837", Date: "2024-08-01", Amount: d("50"), Currency: "EUR"}}, At: t0}
	tests := map[string]struct {
		mutate  func(e domain.Event, ps []domain.Posting) []domain.Posting
		command domain.Command
		want    string
	}{
		"Err_payment_credits_one_cent_more": { // unbalanced
			mutate: func(e domain.Event, ps []domain.Posting) []domain.Posting {
				if _, is := e.(domain.PaymentReceived); is {
					ps[0].Amount++
				}
				return ps
			},
			command: domain.ReceivePayment{Amount: d("10"), At: t0},
			want:    "does not balance: EUR",
		},
		"Err_waiver_booked_as_collected": { // balanced, not conserved
			mutate: func(e domain.Event, ps []domain.Posting) []domain.Posting {
				if _, is := e.(domain.CreditWaiverIssued); is {
					ps[len(ps)-1].Account = domain.AccountCollected
				}
				return ps
			},
			command: waive,
			want:    "conservation: the postings move creditor/collected by 5000, the claim's figures by 0",
		},
		"Err_recall_misses_an_invoice": {
			mutate: func(e domain.Event, ps []domain.Posting) []domain.Posting {
				if doc, is := e.(domain.AccountingDocumentIssued); is && doc.Type == domain.DocCancellation {
					return []domain.Posting{ps[1], {Account: domain.AccountRecalled, Side: domain.Debit, Amount: ps[1].Amount, Currency: "EUR"}}
				}
				return ps
			},
			command: domain.Recall{At: t0},
			want:    "conservation",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clean := domain.Decide(active, tc.command)
			require.NoError(t, clean.Err)
			domain.MutatePostingRule(t, func(claim string, e domain.Event, at time.Time, rule func(string, domain.Event, time.Time) []domain.Posting) []domain.Posting {
				return tc.mutate(e, rule(claim, e, at))
			})
			dec := domain.Decide(active, tc.command)
			require.ErrorIs(t, dec.Err, domain.ErrPostingsInvariant)
			assert.Contains(t, dec.Err.Error(), tc.want)
			assert.Empty(t, dec.Events, "nothing to append")
			// CheckedPostings refuses the event the rule broke as
			// CheckPostings does, and returns no postings with it.
			state, refused := active, 0
			for _, e := range clean.Events {
				ps, err := domain.CheckedPostings(state, domain.Evolve(state, e), e, t0)
				require.Equal(t, domain.CheckPostings(state, []domain.Event{e}, t0), err, "%s", e.EventType())
				if err != nil {
					require.ErrorIs(t, err, domain.ErrPostingsInvariant)
					assert.Nil(t, ps, "no postings with a refusal")
					refused++
				}
				state = domain.Evolve(state, e)
			}
			assert.Positive(t, refused, "an event refused")
		})
	}
	t.Run("OK_unmutated", func(t *testing.T) {
		for _, c := range []domain.Command{domain.ReceivePayment{Amount: d("10"), At: t0}, waive, domain.Recall{At: t0}} {
			assert.NoError(t, domain.Decide(active, c).Err)
		}
	})
}

// balances sums postings by account.
type balances map[string]int64

func (b balances) add(ps []domain.Posting) {
	for _, q := range ps {
		b[q.Account] += q.Signed()
	}
}

// TestPostingsPropertyConservation drives random handovers, payments,
// waivers, reversals and recalls in EUR, JPY and BHD and checks after every
// command: each event's postings balance, the claim conserves its money
// (placed = open + collected + waived + recalled), every invoice's principal
// is never negative and equals its open amount while the claim is not
// recalled, and the trial balance of all claims is zero.
func TestPostingsPropertyConservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	decided := 0
	for run := range 60 {
		cur := []string{"EUR", "JPY", "BHD"}[run%3]
		amount := func(maxMinor int64) string {
			if maxMinor <= 0 {
				return "0"
			}
			return domain.MajorAmount(1+rng.Int64N(maxMinor), cur).String()
		}
		c := place()
		c.Currency, c.ClaimNumber = cur, fmt.Sprintf("C-%d", run)
		c.Invoices = nil
		for i := range 1 + rng.IntN(3) {
			c.Invoices = append(c.Invoices, domain.Invoice{InvoiceNumber: fmt.Sprintf("I/%d", i), Amount: domain.AmountOf(d(amount(100000))), DueDate: fmt.Sprintf("2024-0%d-01", i+1)})
		}
		total := balances{}
		var state domain.Placement
		var payments []string
		step := func(cmd domain.Command, at time.Time) {
			dec := domain.Decide(state, cmd)
			if _, isPlace := cmd.(domain.Place); isPlace {
				require.NoError(t, dec.Err)
			}
			if dec.Err != nil {
				require.NotErrorIs(t, dec.Err, domain.ErrPostingsInvariant)
				return
			}
			for _, e := range dec.Events {
				ps := domain.Postings(state, e, at)
				checked, err := domain.CheckedPostings(state, domain.Evolve(state, e), e, at)
				require.NoError(t, err, "%s", e.EventType())
				require.Equal(t, ps, checked, "CheckedPostings returns the event's postings")
				state = domain.Evolve(state, e)
				require.Empty(t, domain.Unbalanced(ps), "%s", e.EventType())
				total.add(ps)
				if pr, is := e.(domain.PaymentReceived); is {
					payments = append(payments, pr.PaymentNumber)
				}
			}
		}
		at := t0
		step(c, at)
		require.True(t, state.Exists(), "placed")
		for range 12 {
			at = at.Add(time.Hour)
			open := domain.MinorAmount(state.Outstanding(), cur)
			switch rng.IntN(6) {
			case 0, 1:
				step(domain.ReceivePayment{Amount: d(amount(open)), At: at}, at)
			case 2:
				inv := state.Invoices[rng.IntN(len(state.Invoices))]
				step(domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: inv.InvoiceNumber, Date: "2024-08-01",
					Amount: d(amount(domain.MinorAmount(inv.Open.Decimal(), cur))), Currency: cur}}, At: at}, at)
			case 3, 4:
				if len(payments) > 0 {
					reason := []string{domain.ReversalReturned, domain.ReversalEnteredInError}[rng.IntN(2)]
					step(domain.ReversePayment{PaymentNumber: payments[rng.IntN(len(payments))], Reason: reason, At: at}, at)
				}
			case 5:
				step(domain.Recall{At: at}, at)
			}
			checkClaim(t, state, total)
		}
		decided += len(payments)
	}
	assert.Greater(t, decided, 60, "payments made")
}

func checkClaim(t *testing.T, state domain.Placement, b balances) {
	t.Helper()
	open, sum := int64(0), int64(0)
	for _, inv := range state.Invoices {
		bal := b[domain.PrincipalAccount(state.ClaimNumber, inv.InvoiceNumber)]
		require.GreaterOrEqual(t, bal, int64(0), inv.InvoiceNumber)
		if state.Status != domain.StatusRecalled {
			require.Equal(t, domain.MinorAmount(inv.Open.Decimal(), state.Currency), bal, "open of %s", inv.InvoiceNumber)
		}
		open += bal
	}
	require.Equal(t, -b[domain.AccountPlaced], open+b[domain.AccountCollected]+b[domain.AccountWaived]+b[domain.AccountRecalled], "conservation")
	require.Equal(t, domain.MinorAmount(state.Recovered.Decimal(), state.Currency), b[domain.AccountCollected], "collected")
	for _, v := range b {
		sum += v
	}
	require.Zero(t, sum, "trial balance")
}

// TestPostingsNameTheirDocument: the postings of a debit, a write-off and a
// waiver's cancellation are booked on the document their command issues
// (a write-off's were booked on none).
func TestPostingsNameTheirDocument(t *testing.T) {
	active := MustApply(t, domain.Placement{}, place())
	waiver := domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1", InvoiceNumber: "I0417211449", ContractNumber: "166271782837",
		Date: "2024-08-01", Amount: d("50"), Currency: "EUR"}}, At: t0}
	waived := MustApply(t, active, waiver)
	for name, tc := range map[string]struct {
		state   domain.Placement
		command domain.Command
	}{
		"OK_debit":        {active, domain.AddDebit{Charge: domain.Charge{Type: domain.ChargeCosts, Number: "D-1", Amount: d("5"), Date: "2024-08-01"}, At: t0}},
		"OK_write_off":    {active, domain.WriteOff{Reason: domain.WriteOffUncollectible, At: t0}},
		"OK_cancellation": {waived, domain.CancelDocument{ReferenceNumber: "W-1", Amount: d("50"), Currency: "EUR", At: t0}},
	} {
		t.Run(name, func(t *testing.T) {
			dec := domain.Decide(tc.state, tc.command)
			require.NoError(t, dec.Err)
			var doc string
			for _, e := range dec.Events {
				if d, is := e.(domain.AccountingDocumentIssued); is {
					doc = d.DocumentNumber
				}
			}
			require.NotEmpty(t, doc)
			before := tc.state
			for _, e := range dec.Events {
				if len(domain.Postings(before, e, t0)) > 0 {
					assert.Equal(t, doc, domain.PostingDocument(before, e), "%s", e.EventType())
				}
				before = domain.Evolve(before, e)
			}
		})
	}
}
