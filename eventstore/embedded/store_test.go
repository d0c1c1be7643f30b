package embedded_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// MustOpen opens a store in a fresh temporary directory, closed at cleanup.
func MustOpen(tb testing.TB) (*embedded.Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s, dir
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, _ := MustOpen(t)
		return s
	}, storetest.Capabilities{DensePositions: true})
}
