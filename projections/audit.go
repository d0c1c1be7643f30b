package projections

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// errPageDone stops a stream read once a page is full or the cut is passed.
var errPageDone = errors.New("projections: page done")

// AuditPage reads one page of a placement's audit trail: its events from log
// position from on (inclusive), at most limit, as they were at the cut (see
// Until). next is the position of the first event after the page, 0 when the
// trail ends within it. The stream is read a batch at a time and only the
// page is kept, so a long trail costs a page of memory, not the trail's.
// A placement of another creditor (creditor "" is any) is domain.ErrNotFound.
func AuditPage(ctx context.Context, store eventstore.Store, creditor string, id uuid.UUID, cut Cut, from eventstore.Position, limit int) (items []journal.Record, next eventstore.Position, err error) {
	first, cutHit := true, false
	err = journal.ReadStream(ctx, store, journal.PlacementStream(id), 0, func(rec eventstore.RecordedEvent) error {
		if first {
			first = false
			r, err := journal.Decode(rec)
			if err != nil {
				return err
			}
			if creditor != "" && CreditorOf([]journal.Record{r}) != creditor {
				return domain.ErrNotFound
			}
		}
		if rec.Position < from {
			return nil
		}
		r, err := journal.Decode(rec)
		if err != nil {
			return err
		}
		switch {
		case cut.excludes(r):
			cutHit = true
			return errPageDone
		case len(items) == limit:
			next = r.Position
			return errPageDone
		}
		items = append(items, r)
		return nil
	})
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return nil, 0, domain.ErrNotFound
	case err != nil && !errors.Is(err, errPageDone):
		return nil, 0, err
	}
	if cutHit {
		items = wholeCommands(items)
	}
	return items, next, nil
}
