package journal

import "errors"

// Format is the version of the log format this code writes. Format 1 (no
// marker) had ambiguous stream names; format 2 is declared by an event on
// FormatStream when a store is first used.
const Format = 2

// FormatDeclaredType is the type of the format marker event.
const FormatDeclaredType = "LedgerFormatDeclared"

// FormatDeclared is the format marker: the format the store's events are in.
type FormatDeclared struct {
	Format int `json:"format"`
}

// ErrLegacyFormat is returned for a store written before format 2: its
// stream names must be migrated (ledger migrate) before the ledger uses it.
var ErrLegacyFormat = errors.New("the store was written by a ledger before log format 2, whose stream names could be ambiguous; " +
	"stop every ledger using it and run `ledger migrate` once (with the same -LEDGER_STORE) to move it to format 2")

// ErrNewerFormat is returned for a store written by a newer ledger.
var ErrNewerFormat = errors.New("the store was written by a newer ledger (a later log format); upgrade this ledger")
