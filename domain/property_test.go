package domain_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/projections"
)

// The money property: random claims in EUR, JPY and BHD go through random
// handovers with costs and interests, payments (to the creditor on both
// routes, with and without allocateTo, above what is open; to the agency),
// waivers, debits, reversals and cancellations (on open, paid, recalled and
// written-off claims), recalls and write-offs, decided by domain.Decide and
// folded by domain.Evolve. After every step: each event's postings balance;
// the trial balance is zero; the claim conserves its money; and every figure
// the placement resource shows (projections.Render, which reads the claim's
// Books) is its account balance summed here from domain.Postings: each
// invoice's openAmount its principal, its paid, waived, recalled and
// written-off amounts its principal's postings analysed by counter-account,
// recoveredAmount their paid sum, feeAmount creditor/fees (and agency/fees).

const propertyRuns = 200

func TestMoneyProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 13)) // fixed: a failure replays
	seen := map[string]int{}
	for run := range propertyRuns {
		cur := currencies[run%len(currencies)]
		if problem := runMoneyProperty(rng, cur, run, seen); problem != "" {
			t.Fatalf("run %d (%s): %s", run, cur, problem)
		}
	}
	// The runs reach every case the property is about.
	for _, c := range []string{
		"PaymentReceived", "PaymentReceived AGENCY", "PaymentReceived overpaid", "PaymentReceived AGENCY overpaid", "PaymentReceived allocateTo",
		"PaymentReceived invoice", "DebitAdded", "CreditWaiverIssued", "PaymentReversed on active", "PaymentReversed on paid",
		"PaymentReversed on recalled", "PaymentReversed on written_off", "PaymentReversed AGENCY", "CreditWaiverCancelled on active",
		"CreditWaiverCancelled on recalled", "CreditWaiverCancelled on written_off", "CreditWaiverCancelled on paid",
		"PlacementRecalled", "PlacementWrittenOff", "PlacementWrittenOff charges", "PlacementPaid", "refused",
	} {
		assert.Positive(t, seen[c], "no run reached %s", c)
	}
	t.Logf("%v", seen)
}

// TestMoneyPropertyCatchesAMutatedRule breaks one event's posting rule at a
// time (domain.MutatePostingRule, domain.MutateFeeRule for the fee's) and
// requires the property to fail on the event whose rule broke. Decide checks a decision's postings with the rule
// it has, so each mutation surfaces as Decide refusing a command it must
// accept (the property requires it never does), naming the account at fault.
func TestMoneyPropertyCatchesAMutatedRule(t *testing.T) {
	type rule = func(string, domain.Event, time.Time) []domain.Posting
	type feeRule = func(domain.Placement, domain.Event, time.Time) []domain.Posting
	cases := map[string]struct {
		mutate    func(claim string, e domain.Event, bookedAt time.Time, original rule) []domain.Posting
		mutateFee func(before domain.Placement, e domain.Event, bookedAt time.Time, original feeRule) []domain.Posting
		want      []string // in the failure
	}{
		"a write-off leaves the costs and interests it takes off open": {
			mutate: func(claim string, e domain.Event, bookedAt time.Time, original rule) []domain.Posting {
				if w, ok := e.(domain.PlacementWrittenOff); ok {
					w.Charges = nil
					return original(claim, w, bookedAt)
				}
				return original(claim, e, bookedAt)
			},
			want: []string{"WriteOff", "conservation"},
		},
		"an agency payment is posted as collected by the creditor": {
			mutate: func(claim string, e domain.Event, bookedAt time.Time, original rule) []domain.Posting {
				if p, ok := e.(domain.PaymentReceived); ok {
					p.ReceivedBy = ""
					return original(claim, p, bookedAt)
				}
				return original(claim, e, bookedAt)
			},
			want: []string{"ReceiveAgencyPayment", "conservation"},
		},
		"a payment's overpayment is not posted": {
			mutate: func(claim string, e domain.Event, bookedAt time.Time, original rule) []domain.Posting {
				if p, ok := e.(domain.PaymentReceived); ok && p.Split != nil {
					s := *p.Split
					s.Overpaid = decimal.Zero
					p.Split = &s
					return original(claim, p, bookedAt)
				}
				return original(claim, e, bookedAt)
			},
			want: []string{"Payment{PaymentNumber", "conservation"}, // the first payment beyond what was open (on either route)
		},
		"a reversal leaves the fee as it was": {
			mutateFee: func(before domain.Placement, e domain.Event, bookedAt time.Time, original feeRule) []domain.Posting {
				if _, ok := e.(domain.PaymentReversed); ok {
					return nil
				}
				return original(before, e, bookedAt)
			},
			want: []string{"CancelDocument{ReferenceNumber:A-", "the postings move agency/fees by 0"}, // the first reversal, of an agency payment

		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.mutate != nil {
				domain.MutatePostingRule(t, tc.mutate)
			}
			if tc.mutateFee != nil {
				domain.MutateFeeRule(t, tc.mutateFee)
			}
			rng := rand.New(rand.NewPCG(21, 13))
			failed := ""
			for run := 0; run < propertyRuns && failed == ""; run++ {
				failed = runMoneyProperty(rng, currencies[run%len(currencies)], run, map[string]int{})
			}
			require.NotEmpty(t, failed, "the property must catch the mutation")
			for _, want := range tc.want {
				assert.Contains(t, failed, want)
			}
			assert.Contains(t, failed, "Decide refused its own decision")
			t.Logf("caught: %s", failed)
		})
	}
}

// world is one run: the claim, its balances from postings, and the numbers
// of the payments and waivers made so far (to reverse and cancel).
type world struct {
	rng *rand.Rand
	cur string
	at  time.Time
	p   domain.Placement
	// fig is p folded by EvolveFigures instead of Evolve: equal to p but
	// for the processed numbers, which it never has.
	fig      domain.Placement
	balance  map[string]int64
	invoices map[string]*subLedger // by principal account: its postings analysed by counter-account
	payments []string
	waivers  []string
	n        int
	seen     map[string]int // the cases reached, by name
}

func runMoneyProperty(rng *rand.Rand, cur string, run int, seen map[string]int) string {
	w := &world{rng: rng, cur: cur, at: t0, balance: map[string]int64{}, invoices: map[string]*subLedger{}, seen: seen}
	if problem := w.step(w.handover(run)); problem != "" || !w.p.Exists() {
		return fmt.Sprintf("handover: %s%v", problem, domain.Decide(domain.Placement{}, w.handover(run)).Err)
	}
	for i := range 12 + rng.IntN(20) {
		c := w.command()
		if problem := w.step(c); problem != "" {
			return fmt.Sprintf("step %d, %T%+v: %s", i, c, c, problem)
		}
	}
	return ""
}

// amount is a random positive amount of at most max minor units (at least 1).
func (w *world) amount(max int64) decimal.Decimal {
	units, _ := domain.MinorUnits(w.cur)
	return decimal.New(1+w.rng.Int64N(max32(max)), -units)
}

func max32(n int64) int64 { return max(n, 1) }

// minor is an amount in minor units of the run's currency.
func (w *world) minor(d decimal.Decimal) int64 { return domain.MinorAmount(d, w.cur) }

func (w *world) number(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%d", prefix, w.n)
}

func (w *world) handover(run int) domain.Place {
	c := domain.Place{
		PlacementID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(run))), CreditorID: "acme", ClaimNumber: fmt.Sprintf("PROP-%d", run),
		CustomerNumber: "K1", Currency: w.cur, FeeRate: d("0.20"), At: w.at,
	}
	for i := range 1 + w.rng.IntN(3) {
		c.Invoices = append(c.Invoices, domain.Invoice{InvoiceNumber: fmt.Sprintf("INV/%d", i), ContractNumber: "C1",
			Amount: domain.AmountOf(w.amount(100000)), DueDate: fmt.Sprintf("2024-0%d-01", 1+w.rng.IntN(6))})
	}
	for range w.rng.IntN(4) {
		typ := []string{domain.ChargeCosts, domain.ChargeInterests}[w.rng.IntN(2)]
		c.Charges = append(c.Charges, domain.Charge{Type: typ, Number: w.number("H"), Amount: w.amount(5000), Date: "2024-04-01"})
	}
	return c
}

// command is a random next command; it may well be refused (a closed
// claim, an amount above what is open on payment-received).
func (w *world) command() domain.Command {
	w.at = w.at.Add(time.Hour)
	open := w.minor(w.p.TotalOpen())
	switch k := w.rng.IntN(20); {
	case k < 5:
		allocateTo := []string{"", domain.AllocatePrincipal, domain.AllocateCosts, domain.AllocateInterests}[w.rng.IntN(4)]
		c := domain.ReceivePayment{PaymentNumber: w.number("P"), Amount: w.amount(open + open/5 + 10), AllocateTo: allocateTo, At: w.at,
			Overpay: w.rng.IntN(3) > 0} // the claims route keeps an overpayment; payment-received refuses it
		if w.rng.IntN(4) == 0 && len(w.p.Invoices) > 0 {
			inv := w.p.Invoices[w.rng.IntN(len(w.p.Invoices))]
			c.InvoiceNumber, c.ContractNumber, c.Amount = inv.InvoiceNumber, inv.ContractNumber, w.amount(w.minor(inv.Open.Decimal()))
		}
		return c
	case k < 8:
		return domain.ReceiveAgencyPayment{PaymentNumber: w.number("A"), Amount: w.amount(open + open/5 + 10), Date: "2024-08-01", At: w.at}
	case k < 10:
		inv := w.p.Invoices[w.rng.IntN(len(w.p.Invoices))]
		return domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: w.number("W"), InvoiceNumber: inv.InvoiceNumber,
			ContractNumber: inv.ContractNumber, Date: "2024-08-01", Amount: w.amount(w.minor(inv.Open.Decimal())), Currency: w.cur}}, At: w.at}
	case k < 12:
		typ := []string{domain.ChargeCosts, domain.ChargeInterests}[w.rng.IntN(2)]
		return domain.AddDebit{Charge: domain.Charge{Type: typ, Number: w.number("D"), Amount: w.amount(3000), Date: "2024-08-01"}, At: w.at}
	case k < 15 && len(w.payments) > 0:
		return domain.ReversePayment{PaymentNumber: w.payments[w.rng.IntN(len(w.payments))], Reason: domain.ReversalReturned, At: w.at}
	case k < 17:
		return w.cancellation()
	case k < 18:
		return domain.Recall{At: w.at}
	default:
		return domain.WriteOff{Reason: domain.WriteOffUncollectible, At: w.at}
	}
}

// cancellation cancels a payment or a numbered waiver made so far, for its
// amount; an unknown number when there is none.
func (w *world) cancellation() domain.Command {
	numbers := append(append([]string{}, w.payments...), w.waivers...)
	if len(numbers) == 0 {
		return domain.CancelDocument{ReferenceNumber: "NONE", Amount: d("1"), Currency: w.cur, Date: "2024-08-01", At: w.at}
	}
	ref := numbers[w.rng.IntN(len(numbers))]
	done, _ := w.p.PaymentNumbers.Get(ref)
	amount := decimal.Zero
	switch {
	case done.Payment != nil:
		amount = done.Payment.Amount
	default:
		if wv, found := w.p.WaiverNumbers.Get(ref); found && wv.Waiver != nil {
			amount = wv.Waiver.Amount
		}
	}
	return domain.CancelDocument{ReferenceNumber: ref, Amount: amount, Currency: w.cur, Date: "2024-08-01", At: w.at}
}

// step decides c, folds and posts what it records and checks the property;
// "" when it holds. A refusal must record nothing (but a refused recall's
// RecallRejected).
func (w *world) step(c domain.Command) string {
	dec := domain.Decide(w.p, c)
	if dec.Err != nil || dec.Repeat != nil {
		for _, e := range dec.Events { // a refused recall records its rejection, for auditors; nothing else is recorded
			if _, rejected := e.(domain.RecallRejected); !rejected || dec.Repeat != nil {
				return fmt.Sprintf("a refusal or a repeat recorded %s (%v)", e.EventType(), dec.Err)
			}
			w.p, w.fig = domain.Evolve(w.p, e), domain.EvolveFigures(w.fig, e)
		}
		if problem := w.sameFigures(); problem != "" {
			return problem
		}
		w.seen["refused"]++
		if errors.Is(dec.Err, domain.ErrPostingsInvariant) {
			return "Decide refused its own decision: " + dec.Err.Error()
		}
		if _, ok := domain.AsError(dec.Err); !ok && dec.Err != nil {
			return "refused for no rule: " + dec.Err.Error()
		}
		return ""
	}
	for _, e := range dec.Events {
		w.saw(e)
		ps := domain.Postings(w.p, e, w.at)
		w.p, w.fig = domain.Evolve(w.p, e), domain.EvolveFigures(w.fig, e)
		if problem := w.sameFigures(); problem != "" {
			return fmt.Sprintf("%s: %s", e.EventType(), problem)
		}
		if why := domain.Unbalanced(ps); why != "" {
			return fmt.Sprintf("%s does not balance: %s", e.EventType(), why)
		}
		for _, q := range ps {
			w.balance[q.Account] += q.Signed()
		}
		w.analyse(e, ps)
		switch e := e.(type) {
		case domain.PaymentReceived:
			w.payments = append(w.payments, e.PaymentNumber)
		case domain.CreditWaiverIssued:
			w.waivers = append(w.waivers, e.CreditWaiverNumber)
		}
	}
	if problem := w.conserved(); problem != "" {
		return problem
	}
	return w.figures()
}

// sameFigures reports how the state folded without the processed numbers
// (EvolveFigures, as verify folds) differs from the whole state without
// them, if it does.
func (w *world) sameFigures() string {
	whole := w.p
	whole.PaymentNumbers, whole.WaiverNumbers = domain.Numbers{}, domain.Numbers{}
	if !reflect.DeepEqual(whole, w.fig) {
		return fmt.Sprintf("EvolveFigures folded %+v, Evolve %+v", w.fig, whole)
	}
	return ""
}

// saw counts the case e is, in the state before it.
func (w *world) saw(e domain.Event) {
	w.seen[e.EventType()]++
	switch e := e.(type) {
	case domain.PaymentReceived:
		if e.ReceivedBy != "" {
			w.seen["PaymentReceived "+e.ReceivedBy]++
		}
		if e.Split != nil && e.Split.Overpaid.IsPositive() {
			w.seen[strings.TrimSpace("PaymentReceived "+e.ReceivedBy)+" overpaid"]++
		}
		if e.AllocateTo != "" {
			w.seen["PaymentReceived allocateTo"]++
		}
		if e.InvoiceNumber != "" {
			w.seen["PaymentReceived invoice"]++
		}
	case domain.PaymentReversed:
		w.seen["PaymentReversed on "+string(w.p.Status)]++
		if e.ReceivedBy != "" {
			w.seen["PaymentReversed "+e.ReceivedBy]++
		}
	case domain.CreditWaiverCancelled:
		w.seen["CreditWaiverCancelled on "+string(w.p.Status)]++
	case domain.PlacementWrittenOff:
		if e.Charges != nil {
			w.seen["PlacementWrittenOff charges"]++
		}
	}
}

// conserved checks the trial balance and the claim's conservation law,
// and that no receivable is below zero.
func (w *world) conserved() string {
	total := int64(0)
	for _, b := range w.balance {
		total += b
	}
	if total != 0 {
		return fmt.Sprintf("the trial balance is %d, not 0", total)
	}
	claim := w.p.ClaimNumber
	b := func(account string) int64 { return w.balance[account] }
	open := b(domain.CostsAccount(claim)) + b(domain.InterestsAccount(claim))
	for _, inv := range w.p.Invoices {
		open += b(domain.PrincipalAccount(claim, inv.InvoiceNumber))
	}
	for account, balance := range w.balance {
		if strings.HasPrefix(account, "claim/") && !strings.HasSuffix(account, "/overpayment") && balance < 0 {
			return fmt.Sprintf("%s is %d, below zero", account, balance)
		}
	}
	placed := -b(domain.AccountPlaced)
	rest := open + b(domain.AccountCollected) + b(domain.AccountAgencyPayable) + b(domain.OverpaymentAccount(claim)) +
		b(domain.AccountWaived) + b(domain.AccountRecalled) + b(domain.AccountWrittenOff)
	if placed != rest {
		return fmt.Sprintf("placed %d ≠ %d: %v", placed, rest, w.balance)
	}
	return ""
}

// subLedger is an invoice's principal postings analysed by the
// counter-account of their event: what was paid (to the creditor or the
// agency), waived, recalled and written off of it.
type subLedger struct{ paid, waived, recalled, writtenOff int64 }

// bucket is the sub-ledger's figure of a counter-account; nil for
// creditor/placed.
func (s *subLedger) bucket(counter string) *int64 {
	switch counter {
	case domain.AccountCollected, domain.AccountAgencyPayable:
		return &s.paid
	case domain.AccountWaived:
		return &s.waived
	case domain.AccountRecalled:
		return &s.recalled
	case domain.AccountWrittenOff:
		return &s.writtenOff
	}
	return nil
}

// analyse adds an event's principal postings to the invoices' sub-ledgers,
// from the postings alone but for one thing: money taken back on a closed
// claim is posted from the bucket that closed it (creditor/recalled,
// creditor/written-off) to the counter-account, on no principal, so the
// invoice such a posting concerns is the event's allocation at its
// position (its legs come first, in allocation order). An event's
// counter-account is its last posting but the fee's.
func (w *world) analyse(e domain.Event, ps []domain.Posting) {
	var legs []domain.Posting
	for _, q := range ps {
		if q.Account != domain.AccountFees && q.Account != domain.AccountAgencyFees {
			legs = append(legs, q)
		}
	}
	if len(legs) == 0 {
		return
	}
	counter := legs[len(legs)-1].Account
	legs = legs[:len(legs)-1]
	var takenBack []string
	switch e := e.(type) {
	case domain.PaymentReversed:
		for _, a := range e.Allocations {
			takenBack = append(takenBack, a.InvoiceNumber)
		}
	case domain.CreditWaiverCancelled:
		takenBack = []string{e.InvoiceNumber}
	}
	ledger := func(account string) *subLedger {
		if w.invoices[account] == nil {
			w.invoices[account] = &subLedger{}
		}
		return w.invoices[account]
	}
	for i, q := range legs {
		s := q.Signed()
		switch {
		case strings.Contains(q.Account, "/principal/"):
			if b := ledger(q.Account).bucket(counter); b != nil {
				*b -= s
			}
		case (q.Account == domain.AccountRecalled || q.Account == domain.AccountWrittenOff) && i < len(takenBack):
			l := ledger(domain.PrincipalAccount(w.p.ClaimNumber, takenBack[i]))
			*l.bucket(counter) -= s
			*l.bucket(q.Account) += s
		}
	}
}

// figures checks each figure of the placement resource against its
// account's balance, and each invoice's against its principal's
// sub-ledger.
func (w *world) figures() string {
	v := projections.Render(w.p, w.p.Version)
	claim := w.p.ClaimNumber
	b := func(account string) int64 { return w.balance[account] }
	money := func(m int64) string { return domain.FormatMoney(domain.MajorAmount(m, w.cur), w.cur) }
	opt := func(s *string) string {
		if s == nil {
			return money(0)
		}
		return *s
	}
	principal, paid := int64(0), int64(0)
	var problems []string
	check := func(figure, shown string, balance int64) {
		if shown != money(balance) {
			problems = append(problems, fmt.Sprintf("%s is %s, its account %s", figure, shown, money(balance)))
		}
	}
	for i, inv := range w.p.Invoices {
		acct := domain.PrincipalAccount(claim, inv.InvoiceNumber)
		principal += b(acct)
		sub := w.invoices[acct]
		paid += sub.paid
		check("invoice "+inv.InvoiceNumber+" openAmount", v.Invoices[i].OpenAmount, b(acct))
		check("invoice "+inv.InvoiceNumber+" paidAmount", v.Invoices[i].PaidAmount, sub.paid)
		check("invoice "+inv.InvoiceNumber+" waivedAmount", v.Invoices[i].WaivedAmount, sub.waived)
		check("invoice "+inv.InvoiceNumber+" recalledAmount", opt(v.Invoices[i].RecalledAmount), sub.recalled)
		check("invoice "+inv.InvoiceNumber+" writtenOffAmount", opt(v.Invoices[i].WrittenOffAmount), sub.writtenOff)
	}
	if w.p.Status == domain.StatusRecalled {
		check("a recalled claim's outstandingAmount", v.OutstandingAmount, 0)
	}
	check("outstandingAmount", v.OutstandingAmount, principal)
	check("recoveredAmount", v.RecoveredAmount, paid)
	check("waivedAmount", v.WaivedAmount, b(domain.AccountWaived))
	check("agencyPaidAmount", opt(v.AgencyPaidAmount), b(domain.AccountAgencyPayable))
	check("writtenOffAmount", opt(v.WrittenOffAmount), b(domain.AccountWrittenOff))
	check("recalledAmount", opt(v.RecalledAmount), b(domain.AccountRecalled))
	check("feeAmount", v.FeeAmount, b(domain.AccountFees))
	check("feeAmount (agency/fees)", v.FeeAmount, -b(domain.AccountAgencyFees))
	if v.ChargesView != nil {
		check("costsOpenAmount", v.CostsOpenAmount, b(domain.CostsAccount(claim)))
		check("interestsOpenAmount", v.InterestsOpenAmount, b(domain.InterestsAccount(claim)))
		check("overpaidAmount", v.OverpaidAmount, -b(domain.OverpaymentAccount(claim)))
	} else {
		check("costs, interests and overpayment (none shown)", money(0),
			b(domain.CostsAccount(claim))+b(domain.InterestsAccount(claim))+b(domain.OverpaymentAccount(claim)))
	}
	return strings.Join(problems, "; ")
}
