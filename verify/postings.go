package verify

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// books are the postings of every placement read so far, to check at every
// position that each event's postings balance and agree with the figures
// the event moves (domain.CheckPostings, as Decide checked before the event
// was appended), and that its claim conserves its money: placed = open +
// collected + paid to the agency − overpaid + waived + recalled + written off,
// no receivable below zero. Only the
// first event that breaks a claim's books is reported: what follows it
// inherits the break. They also keep every event that moved agency/payable
// (a payment to the agency, its reversal), by position, for the remittances
// that settle them (remit).
//
// The claim's state before and after each event comes from the caller
// (check: verify's rebuild folds every placement once, see
// projections.Builder.Folded), or the books fold it themselves (post:
// verify-export, and verify's replay of a damaged log).
type books struct {
	claims *spillMap[uuid.UUID, claimBooks]
	items  *spillMap[uint64, settleable]
	// states are the claims' states when the books fold them (post),
	// without their processed numbers, as the views keep them.
	states *spillMap[uuid.UUID, domain.Placement]
	// names interns creditors and currencies: a settleable item holds a
	// creditor and a currency for each payment to the agency.
	names map[string]string
	// hold: the payments to the agency are held (a part's books, see
	// part), each with the index in its batch of the event that moved
	// it, for foldBatch to keep in items.
	hold bool
	held []heldItem
}

type heldItem struct {
	at       int
	position uint64
	item     settleable
}

// newBooks returns empty books that keep at most max claims, max claims'
// states (when the books fold them) and max payments to the agency in
// memory and the others in s (see spillMap); with max 0, all in memory.
// The states are kept encoded, about 270 bytes each: verify-export of 1.1M
// events over 100,000 placements took 39.5 s in 109 MB keeping a
// sixteenth of max in memory, 17 s in 198–217 MB keeping max
// (docs/PERFORMANCE.md).
func newBooks(s *scratch, max int) *books {
	b := &books{claims: newClaims(s, max), states: newStates(s, max), names: map[string]string{}}
	b.items = newItems(s, max, b.intern)
	return b
}

// settleable is an event that moved agency/payable, as a remittance must
// settle it: once, by exactly what it moved.
type settleable struct {
	creditor, currency string
	item               journal.SettlementItem
	settledBy          string // the remittance that settled it; "" while unsettled
}

// claimBooks are a claim's balances, debit positive, in minor units of its
// currency: the counter-accounts and receivables its conservation reads,
// each invoice's principal by the invoice's index in the claim.
type claimBooks struct {
	balance   [nBalances]int64
	principal []int64
	broken    bool
}

// The accounts of claimBooks.balance.
const (
	bPlaced = iota
	bCollected
	bAgencyPayable
	bWaived
	bRecalled
	bWrittenOff
	bCosts
	bInterests
	bOverpayment
	nBalances
)

// post checks one event of a placement, booked at bookedAt, in log order,
// on the claim's state as the books fold it.
func (b *books) post(v *verifier, rec eventstore.RecordedEvent, placement uuid.UUID, e domain.Event, bookedAt time.Time) {
	if known, _ := b.claims.get(placement, false); known == nil {
		if !isOpening(e) {
			return // a stream that does not start with its handover is reported by the rebuild
		}
	}
	st, _ := b.states.get(placement, true)
	before := *st
	after := domain.EvolveFigures(before, e) // no processed numbers: the books read none
	*st = after
	b.check(v, placement, journal.Record{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Event: e,
		Meta: journal.Metadata{OccurredAt: bookedAt}}, before, after)
}

// check checks one event of a placement (rec: its event, booked at its
// time of occurrence, and its place), in log order, given the claim's state
// before it and after it (after = domain.EvolveFigures(before, rec.Event)).
func (b *books) check(v *verifier, placement uuid.UUID, rec journal.Record, before, after domain.Placement) {
	cb, _ := b.claims.get(placement, false)
	if cb == nil {
		if !isOpening(rec.Event) {
			return // a stream that does not start with its handover is reported by the rebuild
		}
		cb, _ = b.claims.get(placement, true)
	}
	b.checkClaim(v, cb, rec, before, after)
}

// checkClaim is check on the claim's books cb (its entry in claims, or
// where the caller keeps them: a part of the fold keeps them beside the
// state, see folded).
func (b *books) checkClaim(v *verifier, cb *claimBooks, rec journal.Record, before, after domain.Placement) {
	e, bookedAt := rec.Event, rec.Meta.OccurredAt
	if cb.broken {
		return
	}
	at := func(field, problem string) {
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: field, Problem: problem})
		cb.broken = true
	}
	ps, err := domain.CheckedPostings(before, after, e, bookedAt)
	if err != nil {
		at("postings", fmt.Sprintf("%s of claim %s: %s", e.EventType(), after.ClaimNumber, strings.TrimPrefix(err.Error(), domain.ErrPostingsInvariant.Error()+": ")))
		return
	}
	for _, q := range ps {
		cb.add(q, &after)
	}
	b.settleable(v.at, rec.Position, before, after, e, ps)
	if problem := cb.conservation(&after); problem != "" {
		at("conservation", fmt.Sprintf("after %s, claim %s: %s", e.EventType(), after.ClaimNumber, problem))
	}
}

// add books a posting of claim p on the balance of its account; a posting
// on an account conservation does not read (the fees, another claim's) is
// left out. The claim's own accounts are recognised without naming them:
// their names are domain.PrincipalAccount, CostsAccount, InterestsAccount
// and OverpaymentAccount, "claim/" and the claim number escaped, then the
// account and, for a principal, the invoice number escaped.
func (cb *claimBooks) add(q domain.Posting, p *domain.Placement) {
	s := q.Signed()
	switch q.Account {
	case domain.AccountPlaced:
		cb.balance[bPlaced] += s
	case domain.AccountCollected:
		cb.balance[bCollected] += s
	case domain.AccountAgencyPayable:
		cb.balance[bAgencyPayable] += s
	case domain.AccountWaived:
		cb.balance[bWaived] += s
	case domain.AccountRecalled:
		cb.balance[bRecalled] += s
	case domain.AccountWrittenOff:
		cb.balance[bWrittenOff] += s
	default:
		rest, ok := strings.CutPrefix(q.Account, "claim/")
		claim, acct, _ := strings.Cut(rest, "/")
		if !ok || !escapedAs(claim, p.ClaimNumber) {
			return
		}
		switch acct {
		case "costs":
			cb.balance[bCosts] += s
		case "interests":
			cb.balance[bInterests] += s
		case "overpayment":
			cb.balance[bOverpayment] += s
		default:
			invoice, ok := strings.CutPrefix(acct, "principal/")
			for i := range p.Invoices {
				if ok && escapedAs(invoice, p.Invoices[i].InvoiceNumber) {
					if i >= len(cb.principal) {
						cb.principal = append(cb.principal, make([]int64, i+1-len(cb.principal))...)
					}
					cb.principal[i] += s
					return
				}
			}
		}
	}
}

// escapedAs reports whether esc is s escaped as an account name escapes
// its parts: every byte but RFC 3986's unreserved ones as %XX (upper-case
// hexadecimal digits).
func escapedAs(esc, s string) bool {
	const hex = "0123456789ABCDEF"
	j := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			if j >= len(esc) || esc[j] != c {
				return false
			}
			j++
			continue
		}
		if j+3 > len(esc) || esc[j] != '%' || esc[j+1] != hex[c>>4] || esc[j+2] != hex[c&0xf] {
			return false
		}
		j += 3
	}
	return j == len(esc)
}

// conservation is what breaks placed = open + collected + paid to the
// agency − overpaid + waived + recalled + written off on the accounts of
// claim p (open: the principal, costs and interests receivables; written
// off: principal, costs and interests alike), or a negative receivable; ""
// when nothing does.
func (cb *claimBooks) conservation(p *domain.Placement) string {
	b := &cb.balance
	open := int64(0)
	for i, bal := range [2]int64{b[bCosts], b[bInterests]} {
		if bal < 0 {
			return fmt.Sprintf("%s is %d minor units below zero", [2]func(string) string{domain.CostsAccount, domain.InterestsAccount}[i](p.ClaimNumber), -bal)
		}
		open += bal
	}
	for i, inv := range p.Invoices {
		bal := int64(0)
		if i < len(cb.principal) {
			bal = cb.principal[i]
		}
		if bal < 0 {
			return fmt.Sprintf("%s is %d minor units below zero", domain.PrincipalAccount(p.ClaimNumber, inv.InvoiceNumber), -bal)
		}
		open += bal
	}
	placed := -b[bPlaced]
	overpaid := -b[bOverpayment]
	rest := open + b[bCollected] + b[bAgencyPayable] - overpaid + b[bWaived] + b[bRecalled] + b[bWrittenOff]
	if placed != rest {
		return fmt.Sprintf("placed %d ≠ open %d + collected %d + paid to the agency %d − overpaid %d + waived %d + recalled %d + written off %d (minor units of %s)",
			placed, open, b[bCollected], b[bAgencyPayable], overpaid, b[bWaived], b[bRecalled], b[bWrittenOff], p.Currency)
	}
	return ""
}

// exportedPostings checks the postings of an exported event of a placement
// whose handover the export holds (l: the line, parsed), and the
// remittances; an event that does not decode was reported by its hash
// check or is reported here.
func exportedPostings(v *verifier, b *books, raw eventstore.RecordedEvent, l *exportedLine) {
	b.remit(v, raw)
	if !l.placed {
		return
	}
	if l.decodeErr != nil {
		v.add(Finding{Stream: raw.Stream, Revision: raw.Revision, Position: raw.Position, Field: "data", Problem: firstLine(l.decodeErr)})
		return
	}
	b.post(v, raw, l.placement, l.rec.Event, l.rec.Meta.OccurredAt)
}

// settleable keeps an event (e, on claim before → after, at index at of
// its batch) whose postings move agency/payable.
func (b *books) settleable(at int, position eventstore.Position, before, after domain.Placement, e domain.Event, ps []domain.Posting) {
	it := journal.SettlementItem{Position: uint64(position), ClaimNumber: after.ClaimNumber}
	currency := ""
	for _, q := range ps {
		switch q.Account {
		case domain.AccountAgencyPayable:
			it.Collected += q.Signed()
			it.ValueDate, currency = q.ValueDate, q.Currency
		case domain.AccountFees:
			it.Fee += q.Signed()
		}
	}
	if currency == "" {
		return
	}
	it.DocumentNumber = domain.PostingDocument(before, e)
	item := settleable{creditor: b.intern(after.CreditorID), currency: b.intern(currency), item: it}
	if b.hold {
		b.held = append(b.held, heldItem{at: at, position: uint64(position), item: item})
		return
	}
	s, _ := b.items.get(uint64(position), true)
	*s = item
}

func (b *books) intern(s string) string {
	if in, ok := b.names[s]; ok {
		return in
	}
	b.names[s] = s
	return s
}

// remit checks a remittance (an event of a creditor's remittance stream;
// other events are not its business): its postings balance, its amount is
// what it collected less the fees and is positive, and each item it settles
// is an earlier event of the creditor's claims that moved agency/payable by
// exactly its collected and the fees by its fee, in the remittance's
// currency, up to its date, settled by no other remittance. The finding
// (field "remittance") names the remittance and what it breaks first.
func (b *books) remit(v *verifier, raw eventstore.RecordedEvent) {
	kind, parts, err := journal.ParseStream(raw.Stream)
	if err != nil || kind != journal.KindRemittance || raw.Type != journal.RemittanceIssuedType {
		return
	}
	var r journal.RemittanceIssued
	problem := ""
	m, err := journal.DecodeMetadata(raw.Metadata)
	if err == nil {
		err = json.Unmarshal(raw.Data, &r)
	}
	if err != nil {
		problem = "does not decode: " + err.Error()
	} else {
		problem = b.remittanceProblem(parts[0], r, m.OccurredAt, raw.Position)
	}
	if problem != "" {
		v.add(Finding{Stream: raw.Stream, Revision: raw.Revision, Position: raw.Position, Field: "remittance",
			Problem: fmt.Sprintf("remittance %q: %s", r.RemittanceNumber, problem)})
		return
	}
	for _, it := range r.Items {
		s, _ := b.items.get(it.Position, true)
		s.settledBy = r.RemittanceNumber
	}
}

func (b *books) remittanceProblem(creditor string, r journal.RemittanceIssued, issuedAt time.Time, at eventstore.Position) string {
	if r.CreditorID != creditor {
		return fmt.Sprintf("it is for creditor %q, in the stream of %q", r.CreditorID, creditor)
	}
	if bad := domain.Unbalanced(r.Postings(issuedAt)); bad != "" {
		return "its postings do not balance: " + bad
	}
	totals := journal.NewRemittance(r.RemittanceNumber, r.CreditorID, r.Currency, r.To, r.Items)
	if totals.Collected != r.Collected || totals.Fees != r.Fees || r.Amount != r.Collected-r.Fees {
		return fmt.Sprintf("amount %d, collected %d, fees %d, but its items collected %d with fees %d", r.Amount, r.Collected, r.Fees,
			totals.Collected, totals.Fees)
	}
	if r.Amount <= 0 {
		return fmt.Sprintf("its amount %d is not positive", r.Amount)
	}
	here := map[uint64]bool{}
	for _, it := range r.Items {
		var s settleable
		p, _ := b.items.get(it.Position, false)
		if p != nil {
			s = *p // the pointer is good until the next get
		}
		switch {
		// An item after the remittance is none it can settle (verify's
		// passes keep every pass's payments to the agency before the last
		// checks the remittances).
		case p == nil || s.creditor != creditor || it.Position >= uint64(at):
			return fmt.Sprintf("item at position %d is no payment to the agency or reversal of one of this creditor's claims", it.Position)
		case s.settledBy != "" || here[it.Position]:
			return fmt.Sprintf("item at position %d (%s of claim %s) is settled twice (first by %q)", it.Position, s.item.DocumentNumber, s.item.ClaimNumber, cmp.Or(s.settledBy, r.RemittanceNumber))
		case s.item != it || s.currency != r.Currency:
			return fmt.Sprintf("item at position %d says %+v in %s, but the event moved %+v in %s", it.Position, it, r.Currency, s.item, s.currency)
		case it.ValueDate > r.To:
			return fmt.Sprintf("item at position %d is dated %s, after %s", it.Position, it.ValueDate, r.To)
		}
		here[it.Position] = true
	}
	return ""
}
