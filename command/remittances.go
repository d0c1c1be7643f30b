package command

import (
	"context"
	"errors"
	"time"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// RemittanceViews are the read models a remittance is decided from: the
// local views (projections.Views, with its runner's WaitFor), which follow
// the log.
type RemittanceViews interface {
	// WaitFor blocks until the views have applied the log up to pos.
	WaitFor(ctx context.Context, pos eventstore.Position) error
	// HasCreditor reports whether the ledger has a placement of creditor.
	HasCreditor(creditor string) (bool, error)
	// Unsettled returns the creditor's unsettled items in currency with a
	// value date on or before to.
	Unsettled(creditor, currency, to string) ([]journal.SettlementItem, error)
	// Remittance returns the creditor's remittance with this number.
	Remittance(creditor, number string) (journal.Remittance, bool, error)
	// RemittanceRevision returns the revision of the creditor's
	// remittance stream; exists is false when it has none.
	RemittanceRevision(creditor string) (revision uint64, exists bool, err error)
}

// RemitRequest is what a remittance is asked for: pay creditor what the
// agency collected for it in currency with a value date up to To, net of
// the fees on those collections, under RemittanceNumber.
type RemitRequest struct {
	CreditorID       string
	Currency         string
	To               string
	RemittanceNumber string
}

// IssueRemittance records a remittance of everything the views hold as
// unsettled for the creditor and currency up to the date. It waits until
// the views have applied the log up to its head, so it sees every
// collection and remittance recorded before it, and appends to the
// creditor's remittance stream at the revision the views have applied: a
// remittance that another writer (another instance) recorded meanwhile
// makes the append fail, and it starts over from the views, so no item is
// settled twice. A number used before is answered with its remittance
// (replayed true) when it asked for the same, and is
// domain.ErrRemittanceNumberReused otherwise; nothing owed is
// domain.ErrNothingToRemit. Neither appends anything.
func (h *Handler) IssueRemittance(ctx context.Context, req Request, views RemittanceViews, r RemitRequest) (rem journal.Remittance, replayed bool, err error) {
	if err := checkRemitRequest(r, h.now()); err != nil {
		return rem, false, err
	}
	stream := journal.RemittanceStream(r.CreditorID)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		head, err := h.store.Head(ctx)
		if err != nil {
			return rem, false, err
		}
		if err := views.WaitFor(ctx, head); err != nil {
			return rem, false, err
		}
		if known, err := views.HasCreditor(r.CreditorID); err != nil {
			return rem, false, err
		} else if !known {
			return rem, false, domain.ErrCreditorNotFound
		}
		if first, found, err := views.Remittance(r.CreditorID, r.RemittanceNumber); err != nil || found {
			if err == nil && (first.Currency != r.Currency || first.To != r.To) {
				err = domain.ErrRemittanceNumberReused
			}
			return first, err == nil, err
		}
		// The stream's revision first, then the items: the views may apply
		// another instance's remittance between the two reads, and read in
		// this order the items are never older than the revision, so such a
		// remittance makes the append fail instead of being settled twice.
		rev, exists, err := views.RemittanceRevision(r.CreditorID)
		if err != nil {
			return rem, false, err
		}
		items, err := views.Unsettled(r.CreditorID, r.Currency, r.To)
		if err != nil {
			return rem, false, err
		}
		issued := journal.NewRemittance(r.RemittanceNumber, r.CreditorID, r.Currency, r.To, items)
		if len(items) == 0 || issued.Amount <= 0 {
			return rem, false, domain.ErrNothingToRemit
		}
		at := h.now().UTC()
		rec, err := h.appendRemittance(ctx, req, stream, rev, exists, issued, at)
		if errors.Is(err, eventstore.ErrConcurrency) {
			continue // another remittance got there first: read the views again
		}
		if err != nil {
			return rem, false, err
		}
		return journal.Remittance{RemittanceIssued: issued, Position: uint64(rec.Position), IssuedAt: at}, false, nil
	}
	return rem, false, ErrTooMuchContention
}

// appendRemittance appends the remittance right after revision rev of the
// stream (exists false: as its first event), the revision the views had
// applied when the remittance was decided; eventstore.ErrConcurrency when
// the stream has moved on since.
func (h *Handler) appendRemittance(ctx context.Context, req Request, stream string, rev uint64, exists bool, issued journal.RemittanceIssued, at time.Time) (eventstore.RecordedEvent, error) {
	var last *eventstore.RecordedEvent
	if exists {
		recs, err := h.store.ReadStream(ctx, stream, rev, 1)
		if err != nil {
			return eventstore.RecordedEvent{}, err
		}
		if len(recs) == 0 {
			return eventstore.RecordedEvent{}, eventstore.ErrConcurrency
		}
		last = &recs[0]
	}
	if bad := domain.Unbalanced(issued.Postings(at)); bad != "" {
		return eventstore.RecordedEvent{}, errors.Join(domain.ErrPostingsInvariant, errors.New(bad))
	}
	return journal.AppendAfter(ctx, h.store, stream, last, req.Actor, req.ActorType, journal.RemittanceIssuedType, issued, at)
}

// checkRemitRequest checks the fields of a remittance: a currency the
// ledger accepts, a date up to today (UTC) and a number.
func checkRemitRequest(r RemitRequest, now time.Time) error {
	var fields []domain.FieldError
	if r.CreditorID == "" {
		fields = append(fields, domain.FieldError{Field: "creditorId", Message: "is required"})
	}
	if r.RemittanceNumber == "" || len(r.RemittanceNumber) > 64 {
		fields = append(fields, domain.FieldError{Field: "remittanceNumber", Message: "is required, at most 64 characters"})
	}
	if de, bad := domain.AsError(domain.CheckCurrency(r.Currency, "currency")); bad {
		fields = append(fields, de.Fields...)
	}
	if _, ok := domain.ParseDate(r.To); !ok {
		fields = append(fields, domain.FieldError{Field: "to", Message: "must be a date YYYY-MM-DD"})
	}
	if len(fields) > 0 {
		return domain.Invalid(fields...)
	}
	if today := now.UTC().Format(time.DateOnly); r.To > today {
		return domain.Unprocessable("future_value_date", "to", "the date "+r.To+" is after today ("+today+", UTC)")
	}
	return nil
}
