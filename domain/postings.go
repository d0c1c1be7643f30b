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
//
// Since every event's postings balance, for every claim and currency
// original (placed) = open + collected + waived + recalled.
const (
	AccountPlaced    = "creditor/placed"
	AccountCollected = "creditor/collected"
	AccountWaived    = "creditor/waived"
	AccountRecalled  = "creditor/recalled"
)

// PrincipalAccount is an invoice's principal receivable. The claim and
// invoice numbers are escaped (every byte but RFC 3986's unreserved ones as
// %XX, '/' included), so no two (claim, invoice) give one name.
func PrincipalAccount(claimNumber, invoiceNumber string) string {
	return "claim/" + escapeAccountPart(claimNumber) + "/principal/" + escapeAccountPart(invoiceNumber)
}

func escapeAccountPart(s string) string {
	const hex = "0123456789ABCDEF"
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

// PostingEvents sorts the event types by whether they carry postings. The
// business event carries a movement, not its accounting document, so
// nothing counts twice: PaymentReceived, CreditWaiverIssued and
// PaymentReversed (their DIRECT_PAYMENT, CREDIT_WAIVER and reversal
// documents carry none), and a recall's CANCELLATION document (the recall's
// PlacementRecalled names no invoices); AccountingDocumentIssued of any other
// kind yields none. Fees are not postings yet: a payment's fee is recomputed
// from the claim's total, which the event does not carry apart from it.
var PostingEvents = EventClasses{
	Handled: []string{TypePlacementOpened, TypePaymentReceived, TypeCreditWaiverIssued, TypePaymentReversed, TypeAccountingDocumentIssued},
	Ignored: []string{
		TypeEmailSequenceStarted, TypeCallScheduled, TypeCallDialed, TypeCallCompleted, TypePlacementRecalled,
		TypeSequencesPaused, TypeCallsCancelled, TypeOutcomeScoreSnapshotted, TypePlacementPaid, TypeRecallRejected,
		TypePlacementPaused, TypePlacementResumed, TypePlacementReopened, TypeDebtorContactChanged,
	},
}

// Postings derives the postings of an event of the claim claimNumber from
// the event's own data and bookedAt (the time it was recorded, for its value
// date when it has no date of its own): the same event gives the same
// postings every time, events recorded before postings existed included.
// The claim number names the principal accounts (only the handover carries
// it; every reader knows the claim of the stream it reads). Events that move
// no money give none; a type with no rule panics (see Evolve), and
// PostingEvents says which do.
func Postings(claimNumber string, e Event, bookedAt time.Time) []Posting {
	return postingRule(claimNumber, e, bookedAt)
}

// postingRule is Postings' rule; a variable only so that a test can mutate
// one event's rule and see Decide refuse.
var postingRule = postingsOf

func postingsOf(claim string, e Event, bookedAt time.Time) []Posting {
	date := ValueDate(e, bookedAt)
	switch e := e.(type) {
	case PlacementOpened:
		var out []Posting
		total := decimal.Zero
		for _, inv := range e.Invoices {
			out = append(out, posting(PrincipalAccount(claim, inv.InvoiceNumber), Debit, inv.Amount, e.Currency, date))
			total = total.Add(inv.Amount)
		}
		if len(out) == 0 {
			return nil
		}
		return append(out, posting(AccountPlaced, Credit, total, e.Currency, date))
	case PaymentReceived:
		return movement(e.Allocations, claim, AccountCollected, Credit, e.Currency, date)
	case PaymentReversed:
		return movement(e.Allocations, claim, AccountCollected, Debit, e.Currency, date)
	case CreditWaiverIssued:
		return movement([]Allocation{{InvoiceNumber: e.InvoiceNumber, Amount: e.Amount}}, claim, AccountWaived, Credit, e.Currency, date)
	case AccountingDocumentIssued:
		if e.Type != DocCancellation || e.OriginalType != "" { // only a recall's; a reversal's CANCELLATION is its PaymentReversed
			return nil
		}
		allocs := make([]Allocation, 0, len(e.LineItems))
		for _, l := range e.LineItems {
			allocs = append(allocs, Allocation{InvoiceNumber: l.InvoiceNumber, Amount: l.Amount.Neg()})
		}
		return movement(allocs, claim, AccountRecalled, Credit, e.Currency, date)
	case EmailSequenceStarted, CallScheduled, CallDialed, CallCompleted, PlacementRecalled, SequencesPaused, CallsCancelled,
		OutcomeScoreSnapshotted, PlacementPaid, RecallRejected, PlacementPaused, PlacementResumed, PlacementReopened, DebtorContactChanged:
		return nil
	default:
		panic(noRule("Postings", e))
	}
}

// movement is the postings of amounts leaving (principalSide credit) or
// coming back to (debit) invoices' principal, against counter.
func movement(allocs []Allocation, claim, counter, principalSide, currency, date string) []Posting {
	other := Debit
	if principalSide == Debit {
		other = Credit
	}
	var out []Posting
	total := decimal.Zero
	for _, a := range allocs {
		out = append(out, posting(PrincipalAccount(claim, a.InvoiceNumber), principalSide, a.Amount, currency, date))
		total = total.Add(a.Amount)
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, posting(counter, other, total, currency, date))
}

func posting(account, side string, amount decimal.Decimal, currency, date string) Posting {
	return Posting{Account: account, Side: side, Amount: MinorAmount(amount, currency), Currency: currency, ValueDate: date}
}

// MinorAmount is an amount in integer minor units of its currency (its ISO
// 4217 scale; 0 decimals for a currency the ledger does not know). Amounts
// are checked against the scale where they enter, so nothing is cut here.
func MinorAmount(d decimal.Decimal, currency string) int64 {
	units, _ := MinorUnits(currency)
	return d.Shift(units).IntPart()
}

// MajorAmount is MinorAmount's inverse, exact.
func MajorAmount(minor int64, currency string) decimal.Decimal {
	units, _ := MinorUnits(currency)
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
// amount, collected by the recovered amount, waived by the waived amount,
// recalled by the recall documents' lines, each invoice's principal by its
// open amount less what a recall took back). Since a claim's figures obey
// original = open + recovered + waived, the balances then obey
// placed = open + collected + waived + recalled. nil when all holds; an
// error wrapping ErrPostingsInvariant that names the first event or account
// at fault otherwise.
func CheckPostings(p Placement, events []Event, bookedAt time.Time) error {
	after := p
	delta := map[string]int64{}
	recalled := map[string]decimal.Decimal{}
	for i, e := range events {
		after = Evolve(after, e)
		ps := Postings(after.ClaimNumber, e, bookedAt)
		if why := Unbalanced(ps); why != "" {
			return fmt.Errorf("%w: event %d (%s) does not balance: %s", ErrPostingsInvariant, i, e.EventType(), why)
		}
		for _, q := range ps {
			if q.Currency != after.Currency {
				return fmt.Errorf("%w: event %d (%s) posts %s on a claim in %s", ErrPostingsInvariant, i, e.EventType(), q.Currency, after.Currency)
			}
			delta[q.Account] += q.Signed()
		}
		if doc, isDoc := e.(AccountingDocumentIssued); isDoc && doc.Type == DocCancellation && doc.OriginalType == "" {
			if err := recallTakesWhatIsOpen(after, doc); err != nil {
				return fmt.Errorf("%w: event %d (%s %s): %w", ErrPostingsInvariant, i, e.EventType(), doc.DocumentNumber, err)
			}
			for _, l := range doc.LineItems {
				recalled[l.InvoiceNumber] = recalled[l.InvoiceNumber].Sub(l.Amount)
			}
		}
	}
	return conserved(p, after, delta, recalled)
}

// recallTakesWhatIsOpen checks a recall's CANCELLATION document against the
// claim as the recall found it: one line per invoice with something open,
// for exactly what is open on it.
func recallTakesWhatIsOpen(p Placement, doc AccountingDocumentIssued) error {
	lines := map[string]decimal.Decimal{}
	for _, l := range doc.LineItems {
		lines[l.InvoiceNumber] = lines[l.InvoiceNumber].Sub(l.Amount)
	}
	for _, inv := range p.Invoices {
		if got, want := lines[inv.InvoiceNumber], decimal.Max(inv.Open, decimal.Zero); !got.Equal(want) {
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
func conserved(before, after Placement, delta map[string]int64, recalled map[string]decimal.Decimal) error {
	cur := after.Currency
	want := map[string]decimal.Decimal{
		AccountPlaced:    after.Original.Sub(before.Original).Neg(),
		AccountCollected: after.Recovered.Sub(before.Recovered),
		AccountWaived:    after.Waived.Sub(before.Waived),
		AccountRecalled:  decimal.Zero,
	}
	for i, inv := range after.Invoices {
		open := inv.Open
		if i < len(before.Invoices) {
			open = open.Sub(before.Invoices[i].Open)
		}
		r := recalled[inv.InvoiceNumber]
		want[AccountRecalled] = want[AccountRecalled].Add(r)
		want[PrincipalAccount(after.ClaimNumber, inv.InvoiceNumber)] = open.Sub(r)
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
// number; the waivers of one partial recall share it); a handover has none.
func PostingDocument(before Placement, e Event) string {
	switch e := e.(type) {
	case AccountingDocumentIssued:
		return e.DocumentNumber
	case PaymentReceived, CreditWaiverIssued, PaymentReversed:
		return documentNumber(before, 0)
	}
	return ""
}
