package kurrent_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/kurrent"
	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// TestContract runs the store contract against a real KurrentDB server. The
// server must allow appends of eventstore.MaxAppendBytes (docker-compose.yml
// sets KURRENTDB_MAX_APPEND_SIZE accordingly).
func TestContract(t *testing.T) {
	conn := os.Getenv("LEDGER_TEST_KURRENTDB")
	if conn == "" {
		t.Skip("LEDGER_TEST_KURRENTDB is not set: no KurrentDB server to run the contract against " +
			"(start one with `docker compose up -d kurrentdb` and set LEDGER_TEST_KURRENTDB=esdb://localhost:2113?tls=false)")
	}
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s, err := kurrent.Open(conn, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, storetest.Capabilities{DensePositions: false})
}
