package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/collections-ledger/ledger/eventstore"
)

// PostgreSQL error codes the engine tells apart
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation = "23505"
	codeQueryCanceled   = "57014" // statement_timeout, or a cancel request
)

// translate maps an error of pgx or of the server to the store's sentinels.
// It is applied to the raw error, before any wrapping:
//
//   - the caller's context ended → its error (context.Canceled or
//     DeadlineExceeded), wrapped in ErrUnavailable;
//   - a unique violation → ErrConcurrency (a group that meets one, because
//     another process's group wrote the same stream after this one read it,
//     or another program wrote to the tables, is decided again one append at
//     a time; see the package documentation);
//   - everything else (a lost connection, admin or crash shutdown (57P01,
//     57P02), the server starting (57P03), a statement timeout (57014), too
//     many connections (53300), a serialization failure, a refused
//     connection) → ErrUnavailable, with the server's message.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, eventstore.ErrClosed) || errors.Is(err, eventstore.ErrConcurrency) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeUniqueViolation:
			return fmt.Errorf("%w: postgres: %s (%s)", eventstore.ErrConcurrency, pgErr.Message, pgErr.ConstraintName)
		case pgErr.Code == codeQueryCanceled && ctx.Err() == nil:
			return fmt.Errorf("%w: postgres: statement timeout or cancelled: %s", eventstore.ErrUnavailable, pgErr.Message)
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: postgres: %w", eventstore.ErrUnavailable, cerr)
	}
	return fmt.Errorf("%w: postgres: %v", eventstore.ErrUnavailable, err)
}

// unavailable wraps err in ErrUnavailable unless it is one of the store's
// sentinels already.
func unavailable(err error) error {
	for _, s := range []error{eventstore.ErrUnavailable, eventstore.ErrClosed, eventstore.ErrConcurrency, eventstore.ErrInvalidArgument} {
		if errors.Is(err, s) {
			return err
		}
	}
	return fmt.Errorf("%w: %v", eventstore.ErrUnavailable, err)
}
