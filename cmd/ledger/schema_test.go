package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// TestStoreWrittenWithMetadataSchema1 runs today's ledger on a store written
// before metadata schema 2 (testdata/store-v2.md: every event type, its
// metadata carrying causationId and correlationId in full): verify passes on
// it, and the views rebuilt from it answer every read exactly as the ledger
// that wrote it did (testdata/store-v2.golden).
func TestStoreWrittenWithMetadataSchema1(t *testing.T) {
	dir := storetest.CopyStoreFiles(t, filepath.Join("..", "..", "testdata", "store-v2"))
	noEnv := func(string) string { return "" }
	ctx := context.Background()
	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(ctx, []string{"verify", "-LEDGER_STORE", dir}, noEnv, &stdout, &stderr), "verify: %s %s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), "verified 43 events")

	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef", "LEDGER_AGENCY_KEY": "agency-key-0123456789abcdef"}
	base := serveReady(t, dir, env)
	get := func(path string) (int, []byte) {
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer acme-key-0123456789abcdef")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}

	golden := filepath.Join("..", "..", "testdata", "store-v2.golden")
	ids := map[string]string{
		"1": "cd3eddeb-f700-43db-9994-0901775e05a2",
		"2": "70473c25-a159-439a-bd9c-bb8a06b070f7",
		"3": "400bd695-8910-45d5-9cf3-1b979de36e5d",
	}
	routes := map[string]string{
		"transactions-1": "/v1/claims/DE-S242243704005/transactions",
		"transactions-3": "/v1/claims/DE-3/transactions",
		"transactions":   "/v1/transactions?limit=100",
		"placements":     "/v1/placements?limit=100",
		"reconciliation": "/v1/reports/reconciliation?from=2020-01-01",
	}
	for n, id := range ids {
		routes["placement-"+n] = "/v1/placements/" + id
		routes["audit-"+n] = "/v1/placements/" + id + "/audit"
	}
	for name, path := range routes {
		want, err := os.ReadFile(filepath.Join(golden, name+".json"))
		require.NoError(t, err)
		status, got := get(path)
		require.Equal(t, http.StatusOK, status, "%s: %s", path, got)
		assert.JSONEq(t, string(want), string(got), "%s answers as the ledger that wrote the store did", path)
	}
}
