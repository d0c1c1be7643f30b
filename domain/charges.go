package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Costs and interests: receivables of a claim beside its principal. A
// claims-API handover brings them (costs[], interests[]); the agency adds
// more later as debits (POST /v1/placements/{id}/debits). A payment pays
// them before the principal, and what is more than all that is open is an
// overpayment, kept rather than refused.

// Charge types, as a debit names them.
const (
	ChargeCosts     = "COSTS"
	ChargeInterests = "INTERESTS"
)

// The allocation of what was more than the claim had open.
const AllocateOverpayment = "OVER_PAYMENT"

// DocDebit is the accounting document of charges added after the handover;
// its amount is positive (it raises the claim).
const DocDebit = "DEBIT"

// ErrChargeNumberReused refuses a debit under a number the claim's charges
// used before with other content.
var ErrChargeNumberReused = &Error{Kind: KindConflict, Code: "debit_number_reused", Message: "this number was used before for another charge of this claim"}

// Charge is one cost or interest receivable: handed over with the claim or
// added as a debit.
type Charge struct {
	Type        string          `json:"type"`
	Number      string          `json:"number"`
	Amount      decimal.Decimal `json:"amount"`
	Date        string          `json:"date"`
	Description string          `json:"description,omitempty"`
}

// Allocation bucket of a charge type.
func (c Charge) allocateTo() string {
	if c.Type == ChargeInterests {
		return AllocateInterests
	}
	return AllocateCosts
}

func (c Charge) content() string {
	return strings.Join([]string{c.Type, c.Amount.String(), c.Date, c.Description}, "\x00")
}

// Split is what part of a payment (or of a recall) went to costs, to
// interests and to the overpayment; the rest is principal, in its
// allocations.
type Split struct {
	Costs     decimal.Decimal `json:"costs"`
	Interests decimal.Decimal `json:"interests"`
	Overpaid  decimal.Decimal `json:"overpaid"`
}

// Total is costs + interests + overpaid.
func (s *Split) Total() decimal.Decimal {
	if s == nil {
		return decimal.Zero
	}
	return s.Costs.Add(s.Interests).Add(s.Overpaid)
}

// ChargeState is a charge with the revision of the event that recorded it
// (to answer a repeated debit as the first was).
type ChargeState struct {
	Charge
	Revision uint64
}

// ChargeBook is what a placement knows of its costs, interests and
// overpayment; nil on a placement that never had any.
type ChargeBook struct {
	Charges []ChargeState
	// Paid: what payments took to costs, interests and the overpayment;
	// Recalled: the costs and interests a recall cancelled; WrittenOff: those
	// a write-off took off. A reversal on a closed claim moves what it takes
	// back of costs and interests from Paid to the bucket that closed it.
	Paid       Split
	Recalled   Split
	WrittenOff Split `json:",omitzero"`
}

// DebitAdded records charges added after the handover; its DEBIT document
// follows it.
type DebitAdded struct {
	Charge
	Currency string    `json:"currency"`
	AddedAt  time.Time `json:"addedAt"`
}

// TypeDebitAdded is DebitAdded's stored type name.
const TypeDebitAdded = "DebitAdded"

func (DebitAdded) EventType() string { return TypeDebitAdded }

func init() { register[DebitAdded]() }

// AddDebit adds a cost or interest charge to an open claim, once per number.
type AddDebit struct {
	Charge
	At time.Time
}

func (AddDebit) CommandType() string { return "add_debit" }

func (b *ChargeBook) charged(typ string) decimal.Decimal {
	total := decimal.Zero
	if b == nil {
		return total
	}
	for _, c := range b.Charges {
		if c.Type == typ {
			total = total.Add(c.Amount)
		}
	}
	return total
}

// CostsCharged and InterestsCharged are the costs and interests handed over
// and debited.
func (p *Placement) CostsCharged() decimal.Decimal     { return p.Charges.charged(ChargeCosts) }
func (p *Placement) InterestsCharged() decimal.Decimal { return p.Charges.charged(ChargeInterests) }

// CostsOpen and InterestsOpen are what is still owed of them.
func (p *Placement) CostsOpen() decimal.Decimal {
	if p.Charges == nil {
		return decimal.Zero
	}
	if o := p.open(); o.exact {
		return o.decimal(o.costs)
	}
	return p.CostsCharged().Sub(p.Charges.Paid.Costs).Sub(p.Charges.Recalled.Costs).Sub(p.Charges.WrittenOff.Costs)
}

func (p *Placement) InterestsOpen() decimal.Decimal {
	if p.Charges == nil {
		return decimal.Zero
	}
	if o := p.open(); o.exact {
		return o.decimal(o.interests)
	}
	return p.InterestsCharged().Sub(p.Charges.Paid.Interests).Sub(p.Charges.Recalled.Interests).Sub(p.Charges.WrittenOff.Interests)
}

// openMinor is what is open of a claim's principal, costs and interests in
// integer minor units of its currency (units decimals), computed without
// allocating; exact is false when a figure has digits below the minor unit
// (or does not fit an int64), and then only the decimal sums are right.
type openMinor struct {
	principal, costs, interests int64
	units                       int32
	exact                       bool
}

// total is everything open.
func (o openMinor) total() int64 { return o.principal + o.costs + o.interests }

// decimal is an amount of minor units as a decimal (decimal.Zero for none,
// which allocates nothing).
func (o openMinor) decimal(amount int64) decimal.Decimal {
	if amount == 0 {
		return decimal.Zero
	}
	return decimal.New(amount, -o.units)
}

func (p *Placement) open() openMinor {
	units, _ := MinorUnits(p.Currency)
	o := openMinor{units: units, exact: true}
	m := func(d decimal.Decimal) int64 {
		v, exact := minor(d, units)
		o.exact = o.exact && exact
		return v
	}
	ma := func(a Amount) int64 {
		v, exact := a.Minor(units)
		o.exact = o.exact && exact
		return v
	}
	o.principal = ma(p.Original) - ma(p.Waived) - ma(p.Recovered) - ma(p.WrittenOff)
	if b := p.Charges; b != nil {
		o.costs, o.interests = b.chargedMinor(m)
		o.costs -= m(b.Paid.Costs) + m(b.Recalled.Costs) + m(b.WrittenOff.Costs)
		o.interests -= m(b.Paid.Interests) + m(b.Recalled.Interests) + m(b.WrittenOff.Interests)
	}
	return o
}

// recalledCharges is what recalls cancelled of the costs and interests.
func (p *Placement) recalledCharges() Split {
	if p.Charges == nil {
		return Split{}
	}
	return p.Charges.Recalled
}

// writtenOffCharges is what write-offs took off the costs and interests.
func (p *Placement) writtenOffCharges() Split {
	if p.Charges == nil {
		return Split{}
	}
	return p.Charges.WrittenOff
}

// TotalWrittenOff is everything written off: the principal (WrittenOff),
// costs and interests.
func (p *Placement) TotalWrittenOff() decimal.Decimal {
	w := p.writtenOffCharges()
	return p.WrittenOff.Decimal().Add(w.Total())
}

// Overpaid is what payments brought beyond everything open.
func (p *Placement) Overpaid() decimal.Decimal {
	if p.Charges == nil {
		return decimal.Zero
	}
	return p.Charges.Paid.Overpaid
}

// TotalOpen is everything still owed: principal, costs and interests.
func (p *Placement) TotalOpen() decimal.Decimal {
	if o := p.open(); o.exact {
		return o.decimal(o.total())
	}
	return p.Outstanding().Add(p.CostsOpen()).Add(p.InterestsOpen())
}

func (p *Placement) charge(number string) (ChargeState, bool) {
	if p.Charges == nil {
		return ChargeState{}, false
	}
	for _, c := range p.Charges.Charges {
		if c.Number == number {
			return c, true
		}
	}
	return ChargeState{}, false
}

// book returns a copy of the placement's charge book to change.
func (p *Placement) book() *ChargeBook {
	b := &ChargeBook{}
	if p.Charges != nil {
		*b = *p.Charges
	}
	b.Charges = slices.Clone(b.Charges)
	return b
}

// addSplit adds (sign 1) or takes back (sign −1) a payment's split.
func (s Split) add(o *Split, sign int64) Split {
	if o == nil {
		return s
	}
	f := decimal.NewFromInt(sign)
	return Split{Costs: s.Costs.Add(o.Costs.Mul(f)), Interests: s.Interests.Add(o.Interests.Mul(f)), Overpaid: s.Overpaid.Add(o.Overpaid.Mul(f))}
}

// evolveCharges applies the charges of a handover or a debit, recorded at
// revision, and the charge parts of payments, reversals and recalls.
func evolveCharges(p Placement, charges []Charge, revision uint64) Placement {
	if len(charges) == 0 {
		return p
	}
	b := p.book()
	for _, c := range charges {
		b.Charges = append(b.Charges, ChargeState{Charge: c, Revision: revision})
	}
	p.Charges = b
	return p
}

// withSplit adds a payment's split (sign 1), takes a reversed one back
// (sign −1), or records what a recall cancelled (recalled).
func withSplit(p Placement, s *Split, sign int64, recalled bool) Placement {
	if s == nil {
		return p
	}
	b := p.book()
	if recalled {
		b.Recalled = b.Recalled.add(s, sign)
	} else {
		b.Paid = b.Paid.add(s, sign)
	}
	p.Charges = b
	return p
}

// closedBy records costs and interests (s's; its overpayment aside) taken
// off a claim by the bucket that closed it (ReturnedToRecalled,
// ReturnedToWrittenOff): a write-off's, or what a reversal on a closed claim
// takes back of them.
func closedBy(p Placement, s *Split, bucket string) Placement {
	if s == nil || (s.Costs.IsZero() && s.Interests.IsZero()) {
		return p
	}
	charges := &Split{Costs: s.Costs, Interests: s.Interests, Overpaid: decimal.Zero}
	b := p.book()
	switch bucket {
	case ReturnedToRecalled:
		b.Recalled = b.Recalled.add(charges, 1)
	case ReturnedToWrittenOff:
		b.WrittenOff = b.WrittenOff.add(charges, 1)
	}
	p.Charges = b
	return p
}

// checkCharges checks a handover's or a debit's charges in currency; field
// names each one's path in the request. It returns the field errors.
func checkCharges(charges []Charge, currency string, field func(i int) string, seen map[string]bool) []FieldError {
	var errs []FieldError
	units, known := MinorUnits(currency)
	for i, c := range charges {
		f := field(i)
		add := func(name, msg string) { errs = append(errs, FieldError{Field: f + name, Message: msg}) }
		switch {
		case c.Type != ChargeCosts && c.Type != ChargeInterests:
			add("type", "must be COSTS or INTERESTS")
		}
		switch {
		case !ValidIdentifier(c.Number):
			add("number", identifierRule)
		case seen[c.Number]:
			add("number", "appears twice")
		}
		seen[c.Number] = true
		switch {
		case !c.Amount.IsPositive():
			add("amount", "must be positive")
		case known && !c.Amount.Equal(c.Amount.Truncate(units)):
			add("amount", fmt.Sprintf("has more decimals than %s allows (%d)", currency, units))
		}
		if _, valid := ParseDate(c.Date); !valid {
			add("date", "must be a date YYYY-MM-DD")
		}
		if utf8.RuneCountInString(c.Description) > MaxTextLen || !validText(c.Description) {
			add("description", fmt.Sprintf("at most %d characters; it %s", MaxTextLen, textRule))
		}
	}
	return errs
}

// decideDebit adds a charge once per number: a repeat with the same content
// is answered as the first; other content under the number is a conflict.
func decideDebit(p Placement, c AddDebit) Decision {
	if !ValidIdentifier(c.Number) {
		return refuse(Invalid(FieldError{Field: "number", Message: identifierRule}))
	}
	if done, found := p.charge(c.Number); found {
		if done.content() != c.content() {
			return refuse(ErrChargeNumberReused)
		}
		return Decision{Repeat: &Repeat{Revision: done.Revision}}
	}
	if p.Status.Closed() {
		return refuse(ErrClosed)
	}
	if errs := checkCharges([]Charge{c.Charge}, p.Currency, func(int) string { return "" }, map[string]bool{}); len(errs) > 0 {
		return refuse(Invalid(errs...))
	}
	at := c.At.UTC()
	return ok(
		DebitAdded{Charge: c.Charge, Currency: p.Currency, AddedAt: at},
		AccountingDocumentIssued{
			DocumentNumber: documentNumber(p, 0), Type: DocDebit, Date: at.Format(time.DateOnly), Amount: AmountOf(c.Amount), Currency: p.Currency,
			LineItems: []LineItem{{Amount: AmountOf(c.Amount), AllocateTo: c.allocateTo()}},
		},
	)
}

// allocatePayment spreads a payment: to allocateTo's bucket first when
// that is open, then costs, then interests, then the principal (oldest due
// date first); a payment naming an invoice goes to that invoice's principal
// alone. What is left beyond all that is open is the overpayment. The split
// is nil when nothing went to costs, interests or an overpayment, so a
// payment on a claim without them is recorded as before.
func allocatePayment(p Placement, c ReceivePayment) ([]Allocation, []LineItem, *Split) {
	s := Split{Costs: decimal.Zero, Interests: decimal.Zero, Overpaid: decimal.Zero}
	left := c.Amount
	take := func(open decimal.Decimal) decimal.Decimal { // max(min(left, open), 0)
		if open.Sign() <= 0 || left.Sign() <= 0 { // nothing to take: no decimal arithmetic
			return decimal.Zero
		}
		a := left
		if open.LessThan(left) {
			a = open
		}
		left = left.Sub(a)
		return a
	}
	var allocs []Allocation
	var lines []LineItem
	principal := func() {
		pc := c
		pc.Amount = left
		a, l := allocate(p, pc)
		allocs, lines = append(allocs, a...), append(lines, l...)
		for _, x := range a {
			left = left.Sub(x.Amount.Decimal())
		}
	}
	first := c.AllocateTo
	if c.InvoiceNumber != "" {
		first = AllocatePrincipal
	}
	switch {
	case first == AllocatePrincipal && p.Outstanding().IsPositive():
		principal()
	case first == AllocateInterests && p.InterestsOpen().IsPositive():
		s.Interests = take(p.InterestsOpen())
	}
	s.Costs = take(p.CostsOpen())
	if s.Interests.IsZero() {
		s.Interests = take(p.InterestsOpen())
	} else {
		s.Interests = s.Interests.Add(take(p.InterestsOpen().Sub(s.Interests)))
	}
	if c.InvoiceNumber == "" && !(first == AllocatePrincipal && p.Outstanding().IsPositive()) {
		principal()
	}
	s.Overpaid = left
	if s.Costs.IsZero() && s.Interests.IsZero() && s.Overpaid.IsZero() { // none negative: their total is zero
		return allocs, lines, nil
	}
	for i := range lines {
		lines[i].AllocateTo = AllocatePrincipal
	}
	return allocs, append(lines, chargeLines(&s)...), &s
}

// chargeLines are a split's lines on a payment document (negative amounts).
func chargeLines(s *Split) []LineItem {
	if s == nil {
		return nil
	}
	var lines []LineItem
	for _, l := range []struct {
		to     string
		amount decimal.Decimal
	}{{AllocateCosts, s.Costs}, {AllocateInterests, s.Interests}, {AllocateOverpayment, s.Overpaid}} {
		if l.amount.IsPositive() {
			lines = append(lines, LineItem{Amount: AmountOf(l.amount.Neg()), AllocateTo: l.to})
		}
	}
	return lines
}

// handoverCharges checks a Place's costs and interests.
func handoverCharges(c Place) []FieldError {
	seen := map[string]bool{}
	var costs, interests []Charge
	for _, ch := range c.Charges {
		if ch.Type == ChargeInterests {
			interests = append(interests, ch)
		} else {
			costs = append(costs, ch)
		}
	}
	errs := checkCharges(costs, c.Currency, func(i int) string { return fmt.Sprintf("costs[%d].", i) }, seen)
	return append(errs, checkCharges(interests, c.Currency, func(i int) string { return fmt.Sprintf("interests[%d].", i) }, seen)...)
}

// overpaid is the split's overpayment; zero without one.
func (s *Split) overpaid() decimal.Decimal {
	if s == nil {
		return decimal.Zero
	}
	return s.Overpaid
}

// openCharges is the costs and interests a claim has open, as a recall
// cancels them; nil when none are.
func openCharges(p Placement) *Split {
	costs, interests := p.CostsOpen(), p.InterestsOpen()
	if costs.IsZero() && interests.IsZero() {
		return nil
	}
	return &Split{Costs: costs, Interests: interests, Overpaid: decimal.Zero}
}

// chargedMinor is the costs and the interests charged, each charge
// converted to minor units by m.
func (b *ChargeBook) chargedMinor(m func(decimal.Decimal) int64) (costs, interests int64) {
	for _, c := range b.Charges {
		switch c.Type {
		case ChargeCosts:
			costs += m(c.Amount)
		case ChargeInterests:
			interests += m(c.Amount)
		}
	}
	return costs, interests
}
