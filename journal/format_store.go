package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/collections-ledger/ledger/eventstore"
)

// StoreFormat returns the log format a store declares; 0 when it declares
// none. empty is true when the store holds no events at all.
func StoreFormat(ctx context.Context, store eventstore.Store) (format int, empty bool, err error) {
	last, found, err := LastEvent(ctx, store, FormatStream)
	if err != nil {
		return 0, false, err
	}
	if found {
		var f FormatDeclared
		if err := json.Unmarshal(last.Data, &f); err != nil || f.Format <= 0 {
			return 0, false, fmt.Errorf("the format marker %s is damaged: %q", FormatStream, last.Data)
		}
		return f.Format, false, nil
	}
	head, err := store.Head(ctx)
	return 0, head == eventstore.Start, err
}

// EnsureFormat is called before the ledger writes to a store: a new store is
// declared to be in Format; a store in that format is fine; an older
// one is ErrLegacyFormat and a newer one ErrNewerFormat.
func EnsureFormat(ctx context.Context, store eventstore.Store) error {
	format, empty, err := StoreFormat(ctx, store)
	switch {
	case err != nil:
		return err
	case format == Format:
		return nil
	case format > Format:
		return fmt.Errorf("%w (it declares format %d; this ledger writes %d)", ErrNewerFormat, format, Format)
	case !empty:
		return ErrLegacyFormat
	}
	return DeclareFormat(ctx, store)
}

// DeclareFormat appends the format marker (once: a second declaration of the
// same format, by another instance or a rerun, changes nothing).
func DeclareFormat(ctx context.Context, store eventstore.Store) error {
	_, err := CreateSystem(ctx, store, FormatStream, ActorSystem, ActorSystem, FormatDeclaredType,
		FormatDeclared{Format: Format}, time.Now())
	if errors.Is(err, eventstore.ErrConcurrency) {
		format, _, ferr := StoreFormat(ctx, store)
		if ferr != nil {
			return ferr
		}
		if format != Format {
			return fmt.Errorf("the store declares format %d, not %d", format, Format)
		}
		return nil
	}
	return err
}
