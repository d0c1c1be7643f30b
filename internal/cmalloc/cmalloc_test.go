//go:build linux && cgo

package cmalloc_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/internal/cmalloc"
	"github.com/collections-ledger/ledger/internal/cmalloc/cmalloctest"
)

// TestOneArena: eight threads allocating at once share one arena. Without
// the limit glibc gives each its own (five arenas here).
func TestOneArena(t *testing.T) {
	if !cmalloc.Limited() {
		t.Skip("the environment sets the C allocator's arenas (MALLOC_ARENA_MAX or arena_max in GLIBC_TUNABLES), or the C library is not glibc")
	}
	require.NoError(t, cmalloctest.MallocFromThreads(8))
	require.Equal(t, 1, cmalloc.Arenas(), "arenas after eight threads allocated at once")
}
