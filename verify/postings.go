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
type books struct {
	claims map[uuid.UUID]*claimBooks
	items  map[uint64]*settleable
}

func newBooks() *books {
	return &books{claims: map[uuid.UUID]*claimBooks{}, items: map[uint64]*settleable{}}
}

// settleable is an event that moved agency/payable, as a remittance must
// settle it: once, by exactly what it moved.
type settleable struct {
	creditor, currency string
	item               journal.SettlementItem
	settledBy          string // the remittance that settled it; "" while unsettled
}

type claimBooks struct {
	p       domain.Placement
	balance map[string]int64
	broken  bool
}

// post checks one event of a placement, booked at bookedAt, in log order.
func (b *books) post(v *verifier, rec eventstore.RecordedEvent, placement uuid.UUID, e domain.Event, bookedAt time.Time) {
	cb := b.claims[placement]
	if cb == nil {
		if _, opens := e.(domain.PlacementOpened); !opens {
			return // a stream that does not start with its handover is reported by the rebuild
		}
		cb = &claimBooks{balance: map[string]int64{}}
		b.claims[placement] = cb
	}
	before := cb.p
	cb.p = domain.Evolve(before, e)
	if cb.broken {
		return
	}
	at := func(field, problem string) {
		v.add(Finding{Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, Field: field, Problem: problem})
		cb.broken = true
	}
	if err := domain.CheckPostings(before, []domain.Event{e}, bookedAt); err != nil {
		at("postings", fmt.Sprintf("%s of claim %s: %s", e.EventType(), cb.p.ClaimNumber, strings.TrimPrefix(err.Error(), domain.ErrPostingsInvariant.Error()+": ")))
		return
	}
	ps := domain.Postings(before, e, bookedAt)
	for _, q := range ps {
		cb.balance[q.Account] += q.Signed()
	}
	b.settleable(rec.Position, cb.p, ps, domain.PostingDocument(before, e))
	if problem := cb.conservation(); problem != "" {
		at("conservation", fmt.Sprintf("after %s, claim %s: %s", e.EventType(), cb.p.ClaimNumber, problem))
	}
}

// conservation is what breaks placed = open + collected + paid to the
// agency − overpaid + waived + recalled + written off on the claim's
// accounts (open: the principal, costs and interests receivables; written
// off: principal, costs and interests alike), or a negative receivable; ""
// when nothing does.
func (cb *claimBooks) conservation() string {
	open := int64(0)
	receivables := []string{domain.CostsAccount(cb.p.ClaimNumber), domain.InterestsAccount(cb.p.ClaimNumber)}
	for _, inv := range cb.p.Invoices {
		receivables = append(receivables, domain.PrincipalAccount(cb.p.ClaimNumber, inv.InvoiceNumber))
	}
	for _, acct := range receivables {
		if cb.balance[acct] < 0 {
			return fmt.Sprintf("%s is %d minor units below zero", acct, -cb.balance[acct])
		}
		open += cb.balance[acct]
	}
	placed := -cb.balance[domain.AccountPlaced]
	overpaid := -cb.balance[domain.OverpaymentAccount(cb.p.ClaimNumber)]
	b := func(account string) int64 { return cb.balance[account] }
	rest := open + b(domain.AccountCollected) + b(domain.AccountAgencyPayable) - overpaid + b(domain.AccountWaived) + b(domain.AccountRecalled) +
		b(domain.AccountWrittenOff)
	if placed != rest {
		return fmt.Sprintf("placed %d ≠ open %d + collected %d + paid to the agency %d − overpaid %d + waived %d + recalled %d + written off %d (minor units of %s)",
			placed, open, b(domain.AccountCollected), b(domain.AccountAgencyPayable), overpaid, b(domain.AccountWaived), b(domain.AccountRecalled),
			b(domain.AccountWrittenOff), cb.p.Currency)
	}
	return ""
}

// exportedPostings checks the postings of an exported event of a placement
// whose handover the export holds; an event that does not decode was
// reported by its hash check or is reported here.
func exportedPostings(v *verifier, b *books, raw eventstore.RecordedEvent) {
	b.remit(v, raw)
	id, isPlacement := strings.CutPrefix(raw.Stream, journal.PlacementPrefix)
	if !isPlacement {
		return
	}
	placement, err := uuid.Parse(id)
	if err != nil {
		return
	}
	rec, err := journal.Decode(raw)
	if err != nil {
		v.add(Finding{Stream: raw.Stream, Revision: raw.Revision, Position: raw.Position, Field: "data", Problem: firstLine(err)})
		return
	}
	b.post(v, raw, placement, rec.Event, rec.Meta.OccurredAt)
}

// settleable keeps an event whose postings move agency/payable.
func (b *books) settleable(position eventstore.Position, p domain.Placement, ps []domain.Posting, doc string) {
	it := journal.SettlementItem{Position: uint64(position), ClaimNumber: p.ClaimNumber, DocumentNumber: doc}
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
	if currency != "" {
		b.items[uint64(position)] = &settleable{creditor: p.CreditorID, currency: currency, item: it}
	}
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
		problem = b.remittanceProblem(parts[0], r, m.OccurredAt)
	}
	if problem != "" {
		v.add(Finding{Stream: raw.Stream, Revision: raw.Revision, Position: raw.Position, Field: "remittance",
			Problem: fmt.Sprintf("remittance %q: %s", r.RemittanceNumber, problem)})
		return
	}
	for _, it := range r.Items {
		b.items[it.Position].settledBy = r.RemittanceNumber
	}
}

func (b *books) remittanceProblem(creditor string, r journal.RemittanceIssued, issuedAt time.Time) string {
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
		s := b.items[it.Position]
		switch {
		case s == nil || s.creditor != creditor:
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
