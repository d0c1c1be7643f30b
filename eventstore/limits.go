package eventstore

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on everything a caller hands the store. They are the same on every
// engine so that data written to one can always be moved to the other.
// (KurrentDB's own default max append size is 1 MiB; docker-compose.yml raises
// it to MaxAppendBytes so that the ledger's limits are the binding ones.)
const (
	// MaxStreamNameBytes bounds a stream name.
	MaxStreamNameBytes = 256
	// MaxEventTypeBytes bounds an event type name.
	MaxEventTypeBytes = 128
	// MaxEventBytes bounds one event's data plus metadata.
	MaxEventBytes = 2 << 20
	// MaxAppendEvents bounds the number of events in one append.
	MaxAppendEvents = 1000
	// MaxAppendBytes bounds the data plus metadata of all events of one append.
	MaxAppendBytes = 8 << 20
	// MaxReadBatch bounds the limit of one ReadStream or ReadAll call.
	MaxReadBatch = 10_000
)

// ValidateStreamName refuses names that are empty, too long, not UTF-8, hold
// control characters or start with '$' (reserved for KurrentDB's system
// streams). The error wraps ErrInvalidArgument.
func ValidateStreamName(stream string) error {
	return validateName("stream name", -1, stream, MaxStreamNameBytes)
}

// validateName refuses a name that breaks the rules of ValidateStreamName,
// naming it as what (of the event at index, unless index is negative). The
// description is formatted only for a refusal: a valid append formats
// nothing.
func validateName(what string, index int, name string, max int) error {
	problem := nameProblem(name, max)
	if problem == "" {
		return nil
	}
	if index >= 0 {
		what = fmt.Sprintf("event %d %s", index, what)
	}
	return fmt.Errorf("%w: %s %s", ErrInvalidArgument, what, problem)
}

func nameProblem(name string, max int) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > max:
		return fmt.Sprintf("is %d bytes, over the limit of %d", len(name), max)
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case name[0] == '$':
		return fmt.Sprintf("%q starts with '$', which is reserved for system streams and events", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Sprintf("%q holds a control character", name)
		}
	}
	return ""
}

// ValidateAppend checks an append's arguments against the limits. The error
// wraps ErrInvalidArgument and names the offending event by its index.
func ValidateAppend(stream string, expected ExpectedRevision, events []EventData) error {
	if err := ValidateStreamName(stream); err != nil {
		return err
	}
	if !expected.Valid() {
		return fmt.Errorf("%w: expected revision is not set (use Any, NoStream or Exact)", ErrInvalidArgument)
	}
	if len(events) == 0 {
		return fmt.Errorf("%w: no events to append", ErrInvalidArgument)
	}
	if len(events) > MaxAppendEvents {
		return fmt.Errorf("%w: %d events in one append, over the limit of %d", ErrInvalidArgument, len(events), MaxAppendEvents)
	}
	total := 0
	var seen map[uuid.UUID]struct{} // past a few events; a command appends two or three
	for i, e := range events {
		if e.ID == uuid.Nil {
			return fmt.Errorf("%w: event %d has no ID", ErrInvalidArgument, i)
		}
		if repeatsID(events[:i], e.ID, &seen) {
			return fmt.Errorf("%w: event %d repeats ID %s within the append", ErrInvalidArgument, i, e.ID)
		}
		if err := validateName("type", i, e.Type, MaxEventTypeBytes); err != nil {
			return err
		}
		size := len(e.Data) + len(e.Metadata)
		if size > MaxEventBytes {
			return fmt.Errorf("%w: event %d is %d bytes (data and metadata), over the limit of %d", ErrInvalidArgument, i, size, MaxEventBytes)
		}
		total += size
	}
	if total > MaxAppendBytes {
		return fmt.Errorf("%w: the append is %d bytes (data and metadata), over the limit of %d", ErrInvalidArgument, total, MaxAppendBytes)
	}
	return nil
}

// repeatsID reports whether id is the id of one of before, the events
// ahead of it. The first few are compared one by one; past them *seen, made
// on first use, holds every id so far.
func repeatsID(before []EventData, id uuid.UUID, seen *map[uuid.UUID]struct{}) bool {
	const linear = 8
	if len(before) < linear {
		for _, e := range before {
			if e.ID == id {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[uuid.UUID]struct{}, 2*linear)
		for _, e := range before {
			(*seen)[e.ID] = struct{}{}
		}
	}
	if _, dup := (*seen)[id]; dup {
		return true
	}
	(*seen)[id] = struct{}{}
	return false
}

// ValidateReadLimit refuses a read limit outside 1..MaxReadBatch.
func ValidateReadLimit(limit int) error {
	if limit < 1 || limit > MaxReadBatch {
		return fmt.Errorf("%w: read limit %d is outside 1..%d", ErrInvalidArgument, limit, MaxReadBatch)
	}
	return nil
}
