// Package migrate moves a store from an older log format to the one this
// ledger writes. The log is append-only and hash-chained, so nothing is
// rewritten: what the new format needs is appended to new streams, and the
// old streams stay in the history, readable and verifiable, but unused.
//
// Format 1 to 2 (unambiguous stream names, see package journal): every
// claim number reservation is appended again under its format 2 name, each
// creditor's latest webhook configuration too, and the webhook reactor's one
// checkpoint as each configured creditor's delivery progress; then the store
// is declared to be in format 2. Every step
// checks what is there first, so a migration that was interrupted is
// finished by running it again.
package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/journal"
)

// Report says what a migration found and did.
type Report struct {
	From, To int // the store's format before and after; From == To: nothing to do
	Claims   int // claim number reservations appended under their new names
	Webhooks int // webhook configurations appended under their new names
	// Checkpoint is the webhook reactor's checkpoint carried over (0: none).
	Checkpoint uint64
}

// Run migrates store to journal.Format.
func Run(ctx context.Context, store eventstore.Store) (Report, error) {
	format, empty, err := journal.StoreFormat(ctx, store)
	switch {
	case err != nil:
		return Report{}, err
	case format == journal.Format:
		return Report{From: format, To: format}, nil
	case format > journal.Format:
		return Report{}, journal.ErrNewerFormat
	case empty:
		return Report{From: journal.Format, To: journal.Format}, journal.DeclareFormat(ctx, store)
	}
	legacy, err := readLegacy(ctx, store)
	if err != nil {
		return Report{}, err
	}
	rep := Report{From: 1, To: journal.Format}
	now := time.Now()
	for _, r := range legacy.claims {
		created, err := create(ctx, store, journal.ClaimStream(r.CreditorID, r.ClaimNumber), journal.ClaimReservedType, r, now,
			func(data []byte) error {
				var have journal.ClaimNumberReserved
				if err := json.Unmarshal(data, &have); err != nil || have.PlacementID != r.PlacementID {
					return fmt.Errorf("claim number %q of %q is reserved for placement %s under its new name, but for %s under its old one",
						r.ClaimNumber, r.CreditorID, have.PlacementID, r.PlacementID)
				}
				return nil
			})
		if err != nil {
			return rep, err
		}
		if created {
			rep.Claims++
		}
	}
	for _, c := range legacy.webhooks {
		created, err := create(ctx, store, journal.WebhookStream(c.CreditorID), journal.WebhookConfiguredType, c, now, nil)
		if err != nil {
			return rep, err
		}
		if created {
			rep.Webhooks++
		}
	}
	if legacy.checkpoint > 0 {
		// Format 1 had one checkpoint for every creditor; format 2 records
		// progress per creditor.
		for _, c := range legacy.webhooks {
			p := journal.WebhookProgressed{CreditorID: c.CreditorID, Through: legacy.checkpoint, Pending: []uint64{}}
			if _, err := create(ctx, store, journal.WebhookProgressStream(c.CreditorID), journal.WebhookProgressedType, p, now, nil); err != nil {
				return rep, err
			}
		}
		rep.Checkpoint = legacy.checkpoint
	}
	return rep, journal.DeclareFormat(ctx, store)
}

// create appends payload as the first event of stream, unless the stream
// exists: then same (when not nil) checks its first event's data.
func create(ctx context.Context, store eventstore.Store, stream, eventType string, payload any, at time.Time, same func([]byte) error) (bool, error) {
	_, err := journal.CreateSystem(ctx, store, stream, journal.ActorSystem, journal.ActorSystem, eventType, payload, at)
	if !errors.Is(err, eventstore.ErrConcurrency) {
		return err == nil, err
	}
	if same == nil {
		return false, nil
	}
	first, err := store.ReadStream(ctx, stream, 0, 1)
	if err != nil || len(first) == 0 {
		return false, fmt.Errorf("read %s: %v", stream, err)
	}
	return false, same(first[0].Data)
}

type legacyStreams struct {
	claims     []journal.ClaimNumberReserved
	webhooks   []journal.WebhookConfigured // the latest of each creditor, in the order creditors first configured
	checkpoint uint64
}

// readLegacy collects what format 1 kept under ambiguous names. Events are
// told apart by their type and data, never by the name alone: a creditor
// named "checkpoint" shared its configuration stream with the checkpoints.
func readLegacy(ctx context.Context, store eventstore.Store) (legacyStreams, error) {
	var out legacyStreams
	latest := map[string]int{}
	err := eventstore.ScanAll(ctx, store, eventstore.Start, 1000, func(batch []eventstore.RecordedEvent, _ eventstore.Position) error {
		for _, rec := range batch {
			kind, _, err := journal.ParseStream(rec.Stream)
			if err != nil {
				continue
			}
			switch {
			case kind == journal.LegacyKindClaim && rec.Type == journal.ClaimReservedType:
				var r journal.ClaimNumberReserved
				if err := json.Unmarshal(rec.Data, &r); err != nil {
					return fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
				}
				out.claims = append(out.claims, r)
			case kind == journal.LegacyKindWebhook && rec.Type == journal.WebhookConfiguredType:
				var c journal.WebhookConfigured
				if err := json.Unmarshal(rec.Data, &c); err != nil {
					return fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
				}
				if i, seen := latest[c.CreditorID]; seen {
					out.webhooks[i] = c
				} else {
					latest[c.CreditorID] = len(out.webhooks)
					out.webhooks = append(out.webhooks, c)
				}
			case rec.Stream == journal.LegacyWebhookCheckpoint && rec.Type == journal.LegacyWebhookCheckpointType:
				var cp journal.LegacyWebhookCheckpointed
				if err := json.Unmarshal(rec.Data, &cp); err != nil {
					return fmt.Errorf("%s revision %d: %w", rec.Stream, rec.Revision, err)
				}
				out.checkpoint = cp.Position
			}
		}
		return nil
	})
	return out, err
}
