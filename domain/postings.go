package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Sides of a posting.
const (
	Debit  = "debit"
	Credit = "credit"
)

// Posting is one side of a money movement: an amount of integer minor units
// of its currency (the currency's ISO 4217 scale, so 400.00 EUR is 40000
// and 1.234 BHD is 1234) debited or credited to an account, on a value date.
// An event's postings debit as much as they credit, per currency.
type Posting struct {
	Account   string `json:"account"`
	Side      string `json:"side"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	ValueDate string `json:"valueDate"`
}

// The chart of accounts. A claim's receivables are its own accounts; what
// they are matched against are the creditor's counter-accounts, named the
// same for every creditor (a reader keeps them apart by creditor):
//
//	claim/{claim}/principal/{invoice}  debit: an invoice handed over; credit: paid, waived or recalled on it. Balance (debit): open.
//	creditor/placed                    credit: what was handed over. Balance (credit): original.
//	creditor/collected                 debit: what the debtor paid the creditor directly; credit: its reversal.
//	creditor/waived                    debit: credit waivers.
//	creditor/recalled                  debit: what a recall took back.
//	creditor/written-off               debit: what a write-off took off the claim.
//	agency/payable                     debit: what the debtor paid the agency, which it owes the creditor; credit: its reversal, a remittance.
//	claim/{claim}/costs                debit: costs handed over or debited; credit: paid or recalled. Balance (debit): open costs.
//	claim/{claim}/interests            the same for interests.
//	claim/{claim}/overpayment          credit: what a payment brought beyond everything open. Balance (credit): overpaid.
//	creditor/fees                      debit: the agency's fee on what a payment recovered; credit: what a reversal takes off it. Balance (debit): the fee.
//	agency/fees                        credit: the same fee, which the creditor owes the agency; debit: the fees a remittance kept. Balance (credit): the fee not yet kept.
//	creditor/remitted                  debit: what the agency remitted to the creditor (RemittancePostings).
//
// Money taken back on a closed claim (a reversal, a waiver's cancellation)
// goes to the bucket that closed it (creditor/recalled, creditor/written-off)
// instead of the principal, which the recall or write-off emptied.
//
// Costs and interests are placed like the principal (creditor/placed is
// credited by handover charges and debits too), and paid and recalled like
// it; an overpayment is collected (creditor/collected) against the claim's
// overpayment account.
//
// The fee is recomputed from the claim's recovered total on every payment
// and reversal (see Fee); its postings move both fee accounts by the
// change, so their balances are the claim's fee. They are outside the
// claim's receivables and take no part in its conservation.
//
// Since every event's postings balance, for every claim and currency
// placed (original + costs + interests + debits) = open (principal, costs,
// interests) + collected + paid to the agency − overpaid + waived + recalled
// + written off.
const (
	AccountPlaced        = "creditor/placed"
	AccountCollected     = "creditor/collected"
	AccountWaived        = "creditor/waived"
	AccountRecalled      = "creditor/recalled"
	AccountWrittenOff    = "creditor/written-off"
	AccountAgencyPayable = "agency/payable"
	AccountFees          = "creditor/fees"
	AccountAgencyFees    = "agency/fees"
	AccountRemitted      = "creditor/remitted"
)

// PrincipalAccount is an invoice's principal receivable. The claim and
// invoice numbers are escaped (every byte but RFC 3986's unreserved ones as
// %XX, '/' included), so no two (claim, invoice) give one name.
func PrincipalAccount(claimNumber, invoiceNumber string) string {
	return "claim/" + escapeAccountPart(claimNumber) + "/principal/" + escapeAccountPart(invoiceNumber)
}

// CostsAccount, InterestsAccount and OverpaymentAccount are a claim's
// costs and interests receivables and what it holds of an overpayment.
func CostsAccount(claimNumber string) string {
	return "claim/" + escapeAccountPart(claimNumber) + "/costs"
}
func InterestsAccount(claimNumber string) string {
	return "claim/" + escapeAccountPart(claimNumber) + "/interests"
}
func OverpaymentAccount(claimNumber string) string {
	return "claim/" + escapeAccountPart(claimNumber) + "/overpayment"
}

// account is an account of the chart, typed: the posting rule yields legs
// on typed accounts, which Postings names and Evolve adds to the claim's
// Books without naming them.
type account uint8

const (
	acctPrincipal account = iota // an invoice's: the leg names the invoice
	acctCosts
	acctInterests
	acctOverpayment
	acctPlaced
	acctCollected
	acctAgencyPayable
	acctWaived
	acctRecalled
	acctWrittenOff
	acctFees
	acctAgencyFees
)

// name is the account's name on claim (invoice for a principal).
func (a account) name(claim, invoice string) string {
	switch a {
	case acctPrincipal:
		return PrincipalAccount(claim, invoice)
	case acctCosts:
		return CostsAccount(claim)
	case acctInterests:
		return InterestsAccount(claim)
	case acctOverpayment:
		return OverpaymentAccount(claim)
	case acctPlaced:
		return AccountPlaced
	case acctCollected:
		return AccountCollected
	case acctAgencyPayable:
		return AccountAgencyPayable
	case acctWaived:
		return AccountWaived
	case acctRecalled:
		return AccountRecalled
	case acctWrittenOff:
		return AccountWrittenOff
	case acctFees:
		return AccountFees
	}
	return AccountAgencyFees
}

// chargeAccount is the account of a charge type (COSTS, INTERESTS) or of a
// line's allocateTo (CLIENT_COSTS, CLIENT_INTERESTS).
func chargeAccount(typ string) account {
	if typ == ChargeInterests || typ == AllocateInterests {
		return acctInterests
	}
	return acctCosts
}

func escapeAccountPart(s string) string {
	const hex = "0123456789ABCDEF"
	if unreserved(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// unreserved reports whether s has only RFC 3986's unreserved bytes, which
// an account name keeps as they are.
func unreserved(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// PostingEvents sorts the event types by whether they carry postings. The
// business event carries a movement, not its accounting document, so
// nothing counts twice: PaymentReceived, CreditWaiverIssued and
// PaymentReversed (their DIRECT_PAYMENT, CREDIT_WAIVER and reversal
// documents carry none), and a recall's CANCELLATION document (the recall's
// PlacementRecalled names no invoices); AccountingDocumentIssued of any other
// kind yields none. A payment's and a reversal's fee postings come with
// them (see Postings).
var PostingEvents = EventClasses{
	Handled: []string{TypePlacementOpened, TypePaymentReceived, TypeCreditWaiverIssued, TypePaymentReversed, TypeAccountingDocumentIssued,
		TypeDebitAdded, TypePlacementWrittenOff, TypeCreditWaiverCancelled},
	Ignored: []string{
		TypeEmailSequenceStarted, TypeCallScheduled, TypeCallDialed, TypeCallCompleted, TypePlacementRecalled,
		TypeSequencesPaused, TypeCallsCancelled, TypeOutcomeScoreSnapshotted, TypePlacementPaid, TypeRecallRejected,
		TypePlacementPaused, TypePlacementResumed, TypePlacementReopened, TypeDebtorContactChanged,
		TypePaymentPlanAgreed, TypePaymentPlanCompleted, TypePaymentPlanBroken, TypePaymentPlanCancelled,
	},
}

// Postings derives the postings of an event from the event's own data, the
// claim it applies to (before: the claim's state just before the event,
// empty for a handover) and bookedAt (the time it was recorded, for its
// value date when it has no date of its own): the same event on the same
// claim gives the same postings every time, events recorded before postings
// existed included. The claim's number names its accounts, and a payment's
// or reversal's fee postings move the fee by what the event's fee differs
// from the claim's (events carry the claim's new fee, not the change).
// Events that move no money give none; a type with no rule panics (see
// Evolve), and PostingEvents says which do.
//
// The rule (movementOf, feeChange) is also what Evolve keeps the claim's
// Books by, so every balance the API shows is these postings' sum.
func Postings(before Placement, e Event, bookedAt time.Time) []Posting {
	claim := before.ClaimNumber
	if o, opens := e.(PlacementOpened); opens {
		claim = o.ClaimNumber
	}
	return append(postingRule(claim, e, bookedAt), feeRule(before, e, bookedAt)...)
}

// postingRule is Postings' rule; a variable only so that a test can mutate
// one event's rule and see Decide refuse.
var postingRule = postingsOf

// feeRule is the fee postings' rule, a variable for the same reason.
var feeRule = feePostings

// feeChange is what a payment or a reversal changes the claim's fee (before
// it: before) by, in the event's currency; zero for any other event.
func feeChange(before Amount, e Event) (Amount, string) {
	switch e := e.(type) {
	case PaymentReceived:
		return e.FeeAmount.Sub(before), e.Currency
	case PaymentReversed:
		return e.FeeAmount.Sub(before), e.Currency
	}
	return Amount{}, ""
}

// feePostings moves creditor/fees and agency/fees by what a payment or a
// reversal changes the claim's fee by.
func feePostings(before Placement, e Event, bookedAt time.Time) []Posting {
	change, currency := feeChange(before.Fee, e)
	if change.IsZero() {
		return nil
	}
	date := ValueDate(e, bookedAt)
	debit, credit := AccountFees, AccountAgencyFees
	if change.IsNegative() {
		debit, credit, change = credit, debit, change.Neg()
	}
	minor := MinorOf(change, currency)
	return []Posting{{Account: debit, Side: Debit, Amount: minor, Currency: currency, ValueDate: date},
		{Account: credit, Side: Credit, Amount: minor, Currency: currency, ValueDate: date}}
}

// postingsOf names an event's movement on claim, on its value date.
func postingsOf(claim string, e Event, bookedAt time.Time) []Posting {
	m := movementOf(e)
	if len(m.legs) == 0 {
		return nil
	}
	return m.postings(claim, ValueDate(e, bookedAt))
}

// movement is amounts leaving (side credit) or coming to (debit) a claim's
// accounts (its legs), against one counter-account, which takes the total
// on the other side.
type movement struct {
	legs     []leg
	counter  account
	side     string
	currency string
}

// leg is an amount moved on one account. Of is the claim's receivable it
// concerns: the account itself, or, for money taken back on a closed claim,
// the principal (of invoice), costs or interests whose amount goes to the
// bucket that closed the claim (account: creditor/recalled or
// creditor/written-off) instead.
type leg struct {
	account account
	of      account
	invoice string
	amount  Amount
}

// on is a leg on a receivable of the claim.
func on(a account, invoice string, amount Amount) leg {
	return leg{account: a, of: a, invoice: invoice, amount: amount}
}

func movementOf(e Event) movement {
	switch e := e.(type) {
	case PlacementOpened:
		legs := make([]leg, 0, len(e.Invoices)+len(e.Charges))
		for _, inv := range e.Invoices {
			legs = append(legs, on(acctPrincipal, inv.InvoiceNumber, inv.Amount))
		}
		for _, c := range e.Charges {
			legs = append(legs, on(chargeAccount(c.Type), "", AmountOf(c.Amount)))
		}
		return movement{legs, acctPlaced, Debit, e.Currency}
	case DebitAdded:
		return movement{[]leg{on(chargeAccount(e.Type), "", AmountOf(e.Amount))}, acctPlaced, Debit, e.Currency}
	case PaymentReceived:
		return movement{paymentLegs(e.Allocations, e.Split, ""), collectedBy(e.ReceivedBy), Credit, e.Currency}
	case PaymentReversed:
		return movement{paymentLegs(e.Allocations, e.Split, e.ReturnedTo), collectedBy(e.ReceivedBy), Debit, e.Currency}
	case CreditWaiverIssued:
		return movement{[]leg{on(acctPrincipal, e.InvoiceNumber, e.Amount)}, acctWaived, Credit, e.Currency}
	case CreditWaiverCancelled:
		return movement{[]leg{takenBack(on(acctPrincipal, e.InvoiceNumber, e.Amount), e.ReturnedTo)}, acctWaived, Debit, e.Currency}
	case PlacementWrittenOff:
		return movement{paymentLegs(e.Allocations, e.Charges, ""), acctWrittenOff, Credit, e.Currency}
	case AccountingDocumentIssued:
		if e.Type != DocCancellation || e.OriginalType != "" { // only a recall's; a reversal's CANCELLATION is its PaymentReversed
			return movement{}
		}
		legs := make([]leg, 0, len(e.LineItems))
		for _, l := range e.LineItems {
			if l.AllocateTo == AllocateCosts || l.AllocateTo == AllocateInterests {
				legs = append(legs, on(chargeAccount(l.AllocateTo), "", l.Amount.Neg()))
				continue
			}
			legs = append(legs, on(acctPrincipal, l.InvoiceNumber, l.Amount.Neg()))
		}
		return movement{legs, acctRecalled, Credit, e.Currency}
	case EmailSequenceStarted, CallScheduled, CallDialed, CallCompleted, PlacementRecalled, SequencesPaused, CallsCancelled,
		OutcomeScoreSnapshotted, PlacementPaid, RecallRejected, PlacementPaused, PlacementResumed, PlacementReopened, DebtorContactChanged,
		PaymentPlanAgreed, PaymentPlanCompleted, PaymentPlanBroken, PaymentPlanCancelled:
		return movement{}
	default:
		panic(noRule("Postings", e))
	}
}

// paymentLegs are the claim's accounts a payment (or its reversal, or a
// write-off) moves: each invoice's principal by its allocation, and the
// costs, interests and overpayment by its split. On a closed claim
// (returnedTo) what is taken back of the principal, costs and interests goes
// to the bucket that closed it.
func paymentLegs(allocs []Allocation, split *Split, returnedTo string) []leg {
	if len(allocs) == 0 && split == nil {
		return nil
	}
	legs := make([]leg, 0, len(allocs)+3)
	for _, a := range allocs {
		legs = append(legs, takenBack(on(acctPrincipal, a.InvoiceNumber, a.Amount), returnedTo))
	}
	if split != nil {
		for _, l := range []leg{takenBack(on(acctCosts, "", AmountOf(split.Costs)), returnedTo), takenBack(on(acctInterests, "", AmountOf(split.Interests)), returnedTo),
			on(acctOverpayment, "", AmountOf(split.Overpaid))} {
			if l.amount.IsPositive() {
				legs = append(legs, l)
			}
		}
	}
	return legs
}

// takenBack is where money taken back on a receivable goes: the receivable,
// or on a closed claim the bucket that closed it (returnedTo).
func takenBack(l leg, returnedTo string) leg {
	switch returnedTo {
	case ReturnedToRecalled:
		l.account = acctRecalled
	case ReturnedToWrittenOff:
		l.account = acctWrittenOff
	}
	return l
}

// collectedBy is the account of who received a payment: the creditor, or
// the agency, which then owes it to the creditor.
func collectedBy(receivedBy string) account {
	if receivedBy == ReceivedByAgency {
		return acctAgencyPayable
	}
	return acctCollected
}

// postings names the movement's legs on claim, dated date.
func (m movement) postings(claim, date string) []Posting {
	other := Debit
	if m.side == Debit {
		other = Credit
	}
	units, _ := MinorUnits(m.currency)
	out := make([]Posting, 0, len(m.legs)+1)
	total, exact := int64(0), true
	for _, l := range m.legs {
		amount, ok := l.amount.Minor(units)
		out = append(out, Posting{Account: l.account.name(claim, l.invoice), Side: m.side, Amount: amount, Currency: m.currency, ValueDate: date})
		total, exact = total+amount, exact && ok
	}
	if !exact { // the counter-account takes the legs' total, cut once
		var sum Amount
		for _, l := range m.legs {
			sum = sum.Add(l.amount)
		}
		total = MinorOf(sum, m.currency)
	}
	return append(out, Posting{Account: m.counter.name(claim, ""), Side: other, Amount: total, Currency: m.currency, ValueDate: date})
}

func posting(account, side string, amount decimal.Decimal, currency, date string) Posting {
	return Posting{Account: account, Side: side, Amount: MinorAmount(amount, currency), Currency: currency, ValueDate: date}
}

// MinorAmount is an amount in integer minor units of its currency (its ISO
// 4217 scale; 0 decimals for a currency the ledger does not know). Amounts
// are checked against the scale where they enter, so nothing is cut here.
func MinorAmount(d decimal.Decimal, currency string) int64 {
	units, _ := MinorUnits(currency)
	m, _ := minor(d, units)
	return m
}

// MinorOf is MinorAmount of an Amount.
func MinorOf(a Amount, currency string) int64 {
	units, _ := MinorUnits(currency)
	m, _ := a.Minor(units)
	return m
}

// MajorAmount is MinorAmount's inverse, exact. Zero is ZeroAt's shared
// zero of the same scale (most of the figures a reconciliation entry counts
// are zero).
func MajorAmount(minor int64, currency string) decimal.Decimal {
	units, _ := MinorUnits(currency)
	if minor == 0 {
		return ZeroAt(units)
	}
	return decimal.New(minor, -units)
}

// Unbalanced names the first currency in which postings debit other than
// they credit; "" when they balance in every currency.
func Unbalanced(ps []Posting) string {
	net := map[string]int64{}
	var order []string
	for _, p := range ps {
		if _, seen := net[p.Currency]; !seen {
			order = append(order, p.Currency)
		}
		net[p.Currency] += p.Signed()
	}
	for _, c := range order {
		if net[c] != 0 {
			return fmt.Sprintf("%s debits %d more minor units than it credits", c, net[c])
		}
	}
	return ""
}

// Signed is the posting's amount, positive for a debit and negative for a
// credit.
func (p Posting) Signed() int64 {
	if p.Side == Debit {
		return p.Amount
	}
	return -p.Amount
}

// CheckPostings checks the events decided against p, booked at bookedAt,
// before they are appended: each event's postings balance per currency and
// are in the claim's currency, and together they move the claim's accounts
// exactly as the events move its figures (creditor/placed by the original
// amount and the charges, collected and agency/payable by what was paid,
// waived by the waived amount, recalled by the recall documents' lines,
// written-off by what was written off of the principal, costs and
// interests, each receivable by its open amount less what a recall took
// back). The balances then obey placed = open + collected + paid to the
// agency − overpaid + waived + recalled + written off. nil when all holds; an
// error wrapping ErrPostingsInvariant that names the first event or account
// at fault otherwise.
func CheckPostings(p Placement, events []Event, bookedAt time.Time) error {
	_, err := checkPostings(p, events, bookedAt, nil)
	return err
}

// CheckedPostings checks one event decided against p as CheckPostings
// does, and returns its postings (Postings(p, e, bookedAt)) when they
// hold, so that a caller that books them does not compute them twice.
// after is Evolve(p, e), which the caller has folded already.
func CheckedPostings(p, after Placement, e Event, bookedAt time.Time) ([]Posting, error) {
	return checkPostings(p, []Event{e}, bookedAt, &after)
}

// checkPostings is CheckPostings, returning the events' postings in order.
// folded, when set, is the state after the one event of events.
func checkPostings(p Placement, events []Event, bookedAt time.Time, folded *Placement) ([]Posting, error) {
	after := p
	var all []Posting
	var recalled, returned map[string]decimal.Decimal // by invoice, and by CLIENT_COSTS / CLIENT_INTERESTS; see returnedToRecall
	for i, e := range events {
		ps := Postings(after, e, bookedAt)
		if folded != nil && len(events) == 1 {
			after = *folded
		} else {
			after = EvolveFigures(after, e)
		}
		if why := Unbalanced(ps); why != "" {
			return nil, fmt.Errorf("%w: event %d (%s) does not balance: %s", ErrPostingsInvariant, i, e.EventType(), why)
		}
		for _, q := range ps {
			if q.Currency != after.Currency {
				return nil, fmt.Errorf("%w: event %d (%s) posts %s on a claim in %s", ErrPostingsInvariant, i, e.EventType(), q.Currency, after.Currency)
			}
		}
		all = append(all, ps...)
		if back := returnedToRecall(e); back != nil {
			if returned == nil {
				returned = map[string]decimal.Decimal{}
			}
			for inv, amount := range back {
				returned[inv] = returned[inv].Add(amount)
			}
		}
		if doc, isDoc := e.(AccountingDocumentIssued); isDoc && doc.Type == DocCancellation && doc.OriginalType == "" {
			if err := recallTakesWhatIsOpen(after, doc); err != nil {
				return nil, fmt.Errorf("%w: event %d (%s %s): %w", ErrPostingsInvariant, i, e.EventType(), doc.DocumentNumber, err)
			}
			if recalled == nil {
				recalled = map[string]decimal.Decimal{}
			}
			for _, l := range doc.LineItems {
				key := l.InvoiceNumber
				if l.AllocateTo == AllocateCosts || l.AllocateTo == AllocateInterests {
					key = l.AllocateTo
				}
				recalled[key] = recalled[key].Sub(l.Amount.Decimal())
			}
		}
	}
	fast := recalled == nil && returned == nil && conservedMinor(p, after, all)
	if fast && crossCheck == nil {
		return all, nil
	}
	delta := map[string]int64{}
	for _, q := range all {
		delta[q.Account] += q.Signed()
	}
	err := conserved(p, after, delta, recalled, returned)
	if crossCheck != nil {
		crossCheck(fast, err)
	}
	if err != nil {
		return nil, err
	}
	return all, nil
}

// crossCheck, set by a test only, is told of every conservation check what
// conservedMinor said (fast: true when it found the postings conserved)
// and what conserved says.
var crossCheck func(fast bool, err error)

// returnedToRecall is what an event takes back on the invoices of a
// recalled claim (a reversal, a waiver's cancellation): the claim shows it
// open again, yet the postings put it back to creditor/recalled. What a
// reversal takes back of the costs and interests (keyed CLIENT_COSTS,
// CLIENT_INTERESTS) the claim counts as recalled, and so do the postings.
func returnedToRecall(e Event) map[string]decimal.Decimal {
	var out map[string]decimal.Decimal // nil when it takes nothing back
	switch e := e.(type) {
	case PaymentReversed:
		if e.ReturnedTo == ReturnedToRecalled {
			out = map[string]decimal.Decimal{}
			for _, a := range e.Allocations {
				out[a.InvoiceNumber] = out[a.InvoiceNumber].Add(a.Amount.Decimal())
			}
			if e.Split != nil {
				out[AllocateCosts], out[AllocateInterests] = e.Split.Costs, e.Split.Interests
			}
		}
	case CreditWaiverCancelled:
		if e.ReturnedTo == ReturnedToRecalled {
			out = map[string]decimal.Decimal{e.InvoiceNumber: e.Amount.Decimal()}
		}
	}
	return out
}

// recallTakesWhatIsOpen checks a recall's CANCELLATION document against the
// claim as the recall found it: one line per invoice with something open,
// for exactly what is open on it.
func recallTakesWhatIsOpen(p Placement, doc AccountingDocumentIssued) error {
	lines := map[string]decimal.Decimal{}
	charges := map[string]decimal.Decimal{}
	for _, l := range doc.LineItems {
		if l.AllocateTo == AllocateCosts || l.AllocateTo == AllocateInterests {
			charges[l.AllocateTo] = charges[l.AllocateTo].Sub(l.Amount.Decimal())
			continue
		}
		lines[l.InvoiceNumber] = lines[l.InvoiceNumber].Sub(l.Amount.Decimal())
	}
	// p is the claim after the recall, whose open costs and interests the
	// recall cancelled: what it took of them is what the recall recorded.
	if r := p.recalledCharges(); !charges[AllocateCosts].Equal(r.Costs) || !charges[AllocateInterests].Equal(r.Interests) {
		return fmt.Errorf("recalls %s of costs and %s of interests, not the %s and %s open", charges[AllocateCosts], charges[AllocateInterests], r.Costs, r.Interests)
	}
	for _, inv := range p.Invoices {
		if got, want := lines[inv.InvoiceNumber], decimal.Max(inv.Open.Decimal(), decimal.Zero); !got.Equal(want) {
			return fmt.Errorf("recalls %s of invoice %s, which has %s open", got, inv.InvoiceNumber, want)
		}
		delete(lines, inv.InvoiceNumber)
	}
	for inv := range lines {
		return fmt.Errorf("recalls invoice %s, which the claim does not have", inv)
	}
	return nil
}

// conserved compares what postings moved (delta, by account) with what the
// events moved the claim's figures by, from before to after.
func conserved(before, after Placement, delta map[string]int64, recalled, returned map[string]decimal.Decimal) error {
	cur := after.Currency
	placed := func(p Placement) decimal.Decimal {
		return p.Original.Decimal().Add(p.CostsCharged()).Add(p.InterestsCharged())
	}
	collected := func(p Placement) decimal.Decimal { // by the creditor itself
		paid := p.Recovered.Sub(p.AgencyPaid).Decimal()
		if p.Charges != nil {
			paid = paid.Add(p.Charges.Paid.Total())
		}
		return paid
	}
	// What is open of the costs and interests before a recall cancels it:
	// as for the principal, a recall's postings are its CANCELLATION
	// document's lines, not the PlacementRecalled that records the figures.
	costs := func(p Placement) decimal.Decimal { return p.CostsOpen().Add(p.recalledCharges().Costs) }
	interests := func(p Placement) decimal.Decimal { return p.InterestsOpen().Add(p.recalledCharges().Interests) }
	want := map[string]decimal.Decimal{
		AccountPlaced:                         placed(after).Sub(placed(before)).Neg(),
		AccountCollected:                      collected(after).Sub(collected(before)),
		AccountAgencyPayable:                  after.AgencyPaid.Sub(before.AgencyPaid).Decimal(),
		AccountWrittenOff:                     after.TotalWrittenOff().Sub(before.TotalWrittenOff()),
		AccountWaived:                         after.Waived.Sub(before.Waived).Decimal(),
		AccountRecalled:                       recalled[AllocateCosts].Add(recalled[AllocateInterests]).Add(returned[AllocateCosts]).Add(returned[AllocateInterests]),
		CostsAccount(after.ClaimNumber):       costs(after).Sub(costs(before)).Sub(recalled[AllocateCosts]).Sub(returned[AllocateCosts]),
		InterestsAccount(after.ClaimNumber):   interests(after).Sub(interests(before)).Sub(recalled[AllocateInterests]).Sub(returned[AllocateInterests]),
		OverpaymentAccount(after.ClaimNumber): after.Overpaid().Sub(before.Overpaid()).Neg(),
		AccountFees:                           after.Fee.Sub(before.Fee).Decimal(),
		AccountAgencyFees:                     after.Fee.Sub(before.Fee).Neg().Decimal(),
	}
	for i, inv := range after.Invoices {
		open := inv.Open
		if i < len(before.Invoices) {
			open = open.Sub(before.Invoices[i].Open)
		}
		// What a recall cancelled, and what was taken back on the recalled
		// claim, moved the invoice's open figure but not its principal.
		r := recalled[inv.InvoiceNumber].Add(returned[inv.InvoiceNumber])
		want[AccountRecalled] = want[AccountRecalled].Add(r)
		want[PrincipalAccount(after.ClaimNumber, inv.InvoiceNumber)] = open.Decimal().Sub(r)
	}
	accounts := make([]string, 0, len(want)+len(delta))
	for a := range want {
		accounts = append(accounts, a)
	}
	for a := range delta {
		if _, known := want[a]; !known {
			accounts = append(accounts, a)
		}
	}
	slices.Sort(accounts)
	for _, a := range accounts {
		if got, w := delta[a], MinorAmount(want[a], cur); got != w {
			return fmt.Errorf("%w: conservation: the postings move %s by %d, the claim's figures by %d (minor units of %s)", ErrPostingsInvariant, a, got, w, cur)
		}
	}
	return nil
}

// PostingDocument names the accounting document an event's postings belong
// to, before being the claim's state just before the event: a recall's
// CANCELLATION is its own document; a payment, a waiver and a reversal are
// booked on the document their command issues after them (the claim's next
// number; the waivers of one partial recall share it), and so are a debit,
// a write-off and a waiver's cancellation; a handover has none.
func PostingDocument(before Placement, e Event) string {
	switch e := e.(type) {
	case AccountingDocumentIssued:
		return e.DocumentNumber
	case PaymentReceived, CreditWaiverIssued, PaymentReversed, DebitAdded, PlacementWrittenOff, CreditWaiverCancelled:
		return documentNumber(before, 0)
	}
	return ""
}

// RemittancePostings are a remittance's postings (minor units): it settles
// what the agency collected for the creditor (credit agency/payable by
// collected) by paying the creditor the amount (debit creditor/remitted)
// and keeping the fees on those collections (debit agency/fees), amount =
// collected − fees. Legs of zero are left out; the postings balance.
func RemittancePostings(amount, collected, fees int64, currency, date string) []Posting {
	legs := []Posting{
		{Account: AccountRemitted, Side: Debit, Amount: amount, Currency: currency, ValueDate: date},
		{Account: AccountAgencyFees, Side: Debit, Amount: fees, Currency: currency, ValueDate: date},
		{Account: AccountAgencyPayable, Side: Credit, Amount: collected, Currency: currency, ValueDate: date},
	}
	out := legs[:0]
	for _, p := range legs {
		switch {
		case p.Amount > 0:
			out = append(out, p)
		case p.Amount < 0: // fees taken back by reversals exceed those earned
			p.Amount = -p.Amount
			p.Side = map[string]string{Debit: Credit, Credit: Debit}[p.Side]
			out = append(out, p)
		}
	}
	return out
}
