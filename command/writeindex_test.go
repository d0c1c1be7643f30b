package command_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/projections"
)

// The views' write-side index is what the handler needs of them, snapshots
// included; the in-memory index (no views) answers idempotency keys only.
var (
	_ command.Idempotency = (*projections.WriteIndex)(nil)
	_ command.Snapshots   = (*projections.WriteIndex)(nil)
	_ command.Idempotency = (*projections.IdempotencyIndex)(nil)
)

// TestViewsAreNotTheWriteIndex: the read models do not serve the command
// side; the handler is given projections.WriteIndex, which command declares
// what it needs of (Idempotency, Snapshots).
func TestViewsAreNotTheWriteIndex(t *testing.T) {
	var views any = (*projections.Views)(nil)
	_, idem := views.(command.Idempotency)
	assert.False(t, idem, "*projections.Views must not be an Idempotency index")
	var mem any = (*projections.IdempotencyIndex)(nil)
	_, snaps := mem.(command.Snapshots)
	assert.False(t, snaps, "the in-memory index has no snapshots: a handler given it reads streams")
}
