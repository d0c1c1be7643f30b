package verify

import (
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
// inherits the break.
type books map[uuid.UUID]*claimBooks

type claimBooks struct {
	p       domain.Placement
	balance map[string]int64
	broken  bool
}

// post checks one event of a placement, booked at bookedAt, in log order.
func (b books) post(v *verifier, rec eventstore.RecordedEvent, placement uuid.UUID, e domain.Event, bookedAt time.Time) {
	cb := b[placement]
	if cb == nil {
		if _, opens := e.(domain.PlacementOpened); !opens {
			return // a stream that does not start with its handover is reported by the rebuild
		}
		cb = &claimBooks{balance: map[string]int64{}}
		b[placement] = cb
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
	for _, q := range domain.Postings(before, e, bookedAt) {
		cb.balance[q.Account] += q.Signed()
	}
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
func exportedPostings(v *verifier, b books, raw eventstore.RecordedEvent) {
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
