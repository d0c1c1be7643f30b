package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Position is the global position of an event in $all. Positions strictly
// increase along $all. The embedded and PostgreSQL engines number events 1,
// 2, 3, … with no gaps; KurrentDB positions are transaction-log offsets, so they increase but
// are not dense. Position 0 (Start) lies before every event.
type Position uint64

// Start is the position before the first event: reading or subscribing after
// Start delivers all of $all.
const Start Position = 0

// EventData is an event proposed for appending.
type EventData struct {
	// ID identifies the event. It must not be uuid.Nil: retrying an append with
	// the same IDs is what makes the retry idempotent.
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
}

// RecordedEvent is an event as the store holds it.
type RecordedEvent struct {
	ID       uuid.UUID
	Stream   string
	Type     string
	Data     []byte
	Metadata []byte
	// Revision is the event's number within its stream, from 0.
	Revision uint64
	// Position is the event's place in $all.
	Position Position
	// RecordedAt is when the store committed the event, in UTC.
	RecordedAt time.Time
}

// AppendResult says where an append landed.
type AppendResult struct {
	// Revision is the stream revision of the last event appended.
	Revision uint64
	// Position is the $all position of the last event appended.
	Position Position
}

type expectedKind uint8

const (
	expectedUnset expectedKind = iota
	expectedAny
	expectedNoStream
	expectedExact
)

// ExpectedRevision is the optimistic-concurrency condition of an append. Build
// one with Any, NoStream or Exact; the zero value is refused with
// ErrInvalidArgument, so forgetting it can never mean "any".
type ExpectedRevision struct {
	kind     expectedKind
	revision uint64
}

// Any accepts the append whatever the stream's revision. Use it only where
// ordering within the stream truly does not matter.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectedAny} }

// NoStream accepts the append only if the stream has no events yet.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectedNoStream} }

// Exact accepts the append only if the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectedExact, revision: r} }

// IsAny reports whether e is Any().
func (e ExpectedRevision) IsAny() bool { return e.kind == expectedAny }

// IsNoStream reports whether e is NoStream().
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectedNoStream }

// Exact returns the revision of an Exact expectation and whether e is one.
func (e ExpectedRevision) Exact() (uint64, bool) { return e.revision, e.kind == expectedExact }

// Valid reports whether e was built by one of the constructors.
func (e ExpectedRevision) Valid() bool { return e.kind != expectedUnset }

// Matches reports whether a stream whose last revision is current (exists ==
// false for a stream with no events) satisfies e.
func (e ExpectedRevision) Matches(current uint64, exists bool) bool {
	switch e.kind {
	case expectedAny:
		return true
	case expectedNoStream:
		return !exists
	case expectedExact:
		return exists && current == e.revision
	default:
		return false
	}
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectedAny:
		return "any"
	case expectedNoStream:
		return "no stream"
	case expectedExact:
		return fmt.Sprintf("revision %d", e.revision)
	default:
		return "unset"
	}
}

// Subscription delivers $all events in position order: first the history after
// the starting position, then live events as they are committed.
type Subscription interface {
	// Recv blocks until the next event. It returns the context's error once the
	// context given to SubscribeAll ends, ErrClosed after Close, and
	// ErrUnavailable (wrapped) when the engine can no longer deliver; after any
	// error the subscription is finished.
	Recv() (RecordedEvent, error)
	// Close ends the subscription and releases its resources. It is safe to call
	// more than once and from another goroutine than Recv's.
	Close() error
}

// Store is an event store. Every method is safe for concurrent use.
type Store interface {
	// Append appends events to stream atomically, if the stream satisfies
	// expected, and returns only once they are durable. Errors:
	// ErrInvalidArgument (a limit or a malformed argument; nothing is written),
	// ErrConcurrency (the stream does not satisfy expected; nothing is written),
	// ErrClosed, ErrUnavailable (the engine cannot write: the outcome is
	// unknown only for KurrentDB connection loss, see its package doc).
	//
	// Retrying an append with the same event IDs and the same expected revision
	// after it succeeded returns the first result and writes nothing.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events []EventData) (AppendResult, error)

	// ReadStream returns up to limit events of stream, from revision from on,
	// in revision order. Errors: ErrStreamNotFound (the stream has no events),
	// ErrInvalidArgument, ErrClosed, ErrUnavailable, ErrCorrupt.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of $all whose position is greater than
	// after, in position order; an empty result means there are none yet.
	// Errors: ErrInvalidArgument, ErrClosed, ErrUnavailable, ErrCorrupt.
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// SubscribeAll starts a subscription to $all that delivers every event whose
	// position is greater than after. It ends when ctx ends or on Close. A slow
	// subscriber never stalls writers. Errors: ErrClosed, ErrUnavailable.
	SubscribeAll(ctx context.Context, after Position) (Subscription, error)

	// Head returns the position of the last event in $all (Start when there is
	// none). Errors: ErrClosed, ErrUnavailable.
	Head(ctx context.Context) (Position, error)

	// Close releases the store. Appends in flight finish first.
	Close() error
}

// Dense is implemented by the engines whose $all positions are 1, 2, 3, …
// (the embedded engine; PostgreSQL's too, but for the rare gap a failed
// group leaves): their Head is the number of events, or about it, which a
// reader may size its work by (verify divides a large log into passes by
// it). KurrentDB's positions are offsets in its transaction log.
type Dense interface {
	DensePositions() bool
}

// Sentinel errors. Engines wrap them with detail; match with errors.Is.
var (
	// ErrConcurrency: the stream's revision is not the one expected.
	ErrConcurrency = errors.New("eventstore: wrong expected revision")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrInvalidArgument: a malformed argument or a limit exceeded.
	ErrInvalidArgument = errors.New("eventstore: invalid argument")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("eventstore: store closed")
	// ErrUnavailable: the engine cannot serve the call. For the embedded engine
	// this is permanent after a failed sync or commit (the process must
	// restart); for PostgreSQL and KurrentDB it may be a lost connection.
	ErrUnavailable = errors.New("eventstore: store unavailable")
	// ErrCorrupt: stored data failed a checksum or could not be decoded.
	ErrCorrupt = errors.New("eventstore: store is damaged")
	// ErrUnknownFormat: the store on disk was written by an unknown format
	// version of the ledger.
	ErrUnknownFormat = errors.New("eventstore: unknown store format")
)

// ConcurrencyError details an ErrConcurrency.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedRevision
	// Actual is the stream's last revision, meaningful only when Exists.
	Actual uint64
	Exists bool
}

func (e *ConcurrencyError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: wrong expected revision on stream %q: expected %s, stream is at %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrConcurrency) true.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }
