package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// TestMigrateFormat1Store runs today's ledger on a store written by the
// ledger before log format 2 (testdata/store-v1.md): serve refuses it and
// names ledger migrate; migrate moves it; afterwards the three creditors
// whose names collided in format 1 each own exactly their own claims, the
// webhook configuration of the creditor named "checkpoint" survives, and
// verify holds. A second migrate does nothing.
func TestMigrateFormat1Store(t *testing.T) {
	dir := storetest.CopyStoreFiles(t, filepath.Join("..", "..", "testdata", "store-v1"))
	noEnv := func(string) string { return "" }
	ctx := context.Background()

	var out, logs syncBuffer
	code := run(ctx, []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir}, noEnv, &out, &logs)
	assert.Equal(t, 1, code, "serve refuses a format 1 store")
	assert.Contains(t, logs.String(), "ledger migrate", "and names the command that migrates it")

	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(ctx, []string{"migrate", "-LEDGER_STORE", dir}, noEnv, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "migrated from log format 1 to 2: 3 claim number reservations and 2 webhook configurations")
	assert.Contains(t, stdout.String(), "checkpointed at position 18")
	stdout = syncBuffer{}
	require.Equal(t, 0, run(ctx, []string{"migrate", "-LEDGER_STORE", dir}, noEnv, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "nothing to do")
	stdout = syncBuffer{}
	assert.Equal(t, 0, run(ctx, []string{"verify", "-LEDGER_STORE", dir}, noEnv, &stdout, &stderr), "verify after migrate: %s %s", stdout.String(), stderr.String())

	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef,acme-x=acmex-key-0123456789abcdef,checkpoint=ckpt-key-0123456789abcdef"}
	base := serveReady(t, dir, env)

	call := func(method, path, key, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	place := func(claim string) string {
		return `{"claimNumber":"` + claim + `","customerNumber":"K1","currency":"EUR","feeRate":"0.2",` +
			`"invoices":[{"invoiceNumber":"I1","contractNumber":"C1","amount":100,"dueDate":"2024-05-01"}]}`
	}
	status, body := call("POST", "/v1/placements", "acmex-key-0123456789abcdef", place("1"))
	assert.Equal(t, http.StatusCreated, status, "acme-x's claim 1 is free now: %s", body)
	status, _ = call("POST", "/v1/placements", "acme-key-0123456789abcdef", place("x-1"))
	assert.Equal(t, http.StatusConflict, status, "acme's x-1 is still acme's")
	status, _ = call("POST", "/v1/placements", "acmex-key-0123456789abcdef", place("2"))
	assert.Equal(t, http.StatusConflict, status, "acme-x's 2 is still acme-x's")
	status, body = call("GET", "/v1/claims/x-1/transactions", "acme-key-0123456789abcdef", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"RECALLED_BY_CLIENT"`, "the old placement is reachable by its claim number")
	status, _ = call("GET", "/v1/claims/x-1/transactions", "acmex-key-0123456789abcdef", "")
	assert.Equal(t, http.StatusNotFound, status)
	status, body = call("GET", "/v1/webhook", "ckpt-key-0123456789abcdef", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "http://127.0.0.1:1/hook", "creditor checkpoint's webhook survives")
	status, body = call("GET", "/v1/webhook", "acme-key-0123456789abcdef", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "http://127.0.0.1:1/acme")
}
