package kurrent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/collections-ledger/ledger/eventstore"
)

// normalizeConnectionString accepts the kurrentdb:// schemes of current
// KurrentDB documentation as well as the esdb:// schemes the v4 client parses.
func normalizeConnectionString(s string) (string, error) {
	for _, m := range []struct{ from, to string }{
		{"kurrentdb+discover://", "esdb+discover://"},
		{"kurrentdb://", "esdb://"},
		{"kurrent+discover://", "esdb+discover://"},
		{"kurrent://", "esdb://"},
		{"esdb+discover://", "esdb+discover://"},
		{"esdb://", "esdb://"},
	} {
		if rest, ok := strings.CutPrefix(s, m.from); ok {
			return m.to + rest, nil
		}
	}
	return "", fmt.Errorf("%w: %q is not a KurrentDB connection string (esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://)", eventstore.ErrInvalidArgument, s)
}

// IsConnectionString reports whether s names a KurrentDB server rather than
// an embedded store's directory.
func IsConnectionString(s string) bool {
	_, err := normalizeConnectionString(s)
	return err == nil
}

// toExpected maps an expected revision to the client's. It never returns nil:
// the client would turn nil into Any{}.
func toExpected(e eventstore.ExpectedRevision) (esdb.ExpectedRevision, error) {
	switch {
	case e.IsAny():
		return esdb.Any{}, nil
	case e.IsNoStream():
		return esdb.NoStream{}, nil
	}
	if r, ok := e.Exact(); ok {
		return esdb.Revision(r), nil
	}
	return nil, fmt.Errorf("%w: expected revision is not set (use Any, NoStream or Exact)", eventstore.ErrInvalidArgument)
}

// fromPosition is the one place a KurrentDB $all position becomes a ledger
// Position, and toPosition its inverse.
//
// A KurrentDB position is a pair (commit, prepare) of transaction-log offsets.
// Every append the ledger makes is an implicitly committed write, and for
// those the server reports each event at (p, p), p being the offset of the
// event's own log record (see the server's AllReader: for committed prepares
// it yields TFPos(LogPosition, LogPosition)). So the ledger's Position is that
// single offset. Commit ≠ prepare only for events of the legacy explicit
// transactions, which the ledger never writes; such an event is refused with
// ErrCorrupt rather than mapped to a position that could not be resumed from
// exactly. Offset 0 holds the log's first epoch record, never an event, so
// Position 0 can keep meaning Start.
func fromPosition(p esdb.Position) (eventstore.Position, error) {
	if p.Commit != p.Prepare {
		return 0, fmt.Errorf("%w: KurrentDB event at commit %d / prepare %d belongs to an explicit transaction, which this ledger cannot order exactly", eventstore.ErrCorrupt, p.Commit, p.Prepare)
	}
	if p.Commit == 0 {
		return 0, fmt.Errorf("%w: KurrentDB reported an event at position 0, where the log's epoch record belongs", eventstore.ErrCorrupt)
	}
	return eventstore.Position(p.Commit), nil
}

// toPosition returns where to start reading or subscribing after p.
func toPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
}

// isSystem reports whether an event is KurrentDB's own (statistics, metadata,
// projections' links), which the ledger never reads: system streams and
// system event types start with '$', and the ledger refuses such names.
func isSystem(stream, eventType string) bool {
	return strings.HasPrefix(stream, "$") || strings.HasPrefix(eventType, "$")
}

// translateError maps an error from the client to the store's sentinels. It
// looks at the raw error the client returned, before anything wraps it, and
// uses errors.As: esdb.FromError reports ok == true only for a nil error, and
// the client itself wraps some errors with fmt.Errorf.
func translateError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var esErr *esdb.Error
	if errors.As(err, &esErr) {
		return translateCode(esErr.Code(), err)
	}
	return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrUnavailable, err)
}

func translateCode(code esdb.ErrorCode, err error) error {
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrConcurrency, err)
	case esdb.ErrorCodeResourceNotFound:
		return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrStreamNotFound, err)
	case esdb.ErrorCodeConnectionClosed:
		return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrClosed, err)
	case esdb.ErrorCodeDeadlineExceeded:
		return fmt.Errorf("%w: kurrentdb: %v", context.DeadlineExceeded, err)
	case esdb.ErrorCodeStreamDeleted:
		return fmt.Errorf("%w: kurrentdb: stream was deleted outside the ledger: %v", eventstore.ErrCorrupt, err)
	case esdb.ErrorCodeParsing:
		return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrCorrupt, err)
	default:
		// Unavailable, not leader (the client reconnects to the leader),
		// aborted, authentication and access errors, internal errors.
		return fmt.Errorf("%w: kurrentdb: %v", eventstore.ErrUnavailable, err)
	}
}

func toEventData(e eventstore.EventData) esdb.EventData {
	return esdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: esdb.ContentTypeBinary,
		Data:        e.Data,
		Metadata:    e.Metadata,
	}
}

func fromRecorded(e *esdb.RecordedEvent) (eventstore.RecordedEvent, error) {
	pos, err := fromPosition(e.Position)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	r := eventstore.RecordedEvent{
		ID:         e.EventID,
		Stream:     e.StreamID,
		Type:       e.EventType,
		Revision:   e.EventNumber,
		Position:   pos,
		RecordedAt: e.CreatedDate.UTC(),
	}
	if len(e.Data) > 0 {
		r.Data = e.Data
	}
	if len(e.UserMetadata) > 0 {
		r.Metadata = e.UserMetadata
	}
	return r, nil
}
