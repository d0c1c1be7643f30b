package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/eventstore/storetest"
)

// TestStoreWrittenWithMetadataSchema1 runs today's ledger on a store written
// before metadata schema 2 (testdata/store-v2.md: every event type, its
// metadata carrying causationId and correlationId in full): verify passes on
// it, and the views rebuilt from it answer every read exactly as the ledger
// that wrote it did (testdata/store-v2.golden): every member it answered is
// there with the same value (members added since, such as an invoice's
// paidAmount, are allowed; feed items have none). The recalled claims'
// outstanding and open amounts in the golden files are 0.00 since they are
// account balances (testdata/store-v2.md says why).
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
		var w, g any
		require.NoError(t, json.Unmarshal(want, &w))
		require.NoError(t, json.Unmarshal(got, &g))
		if problem := jsonSubset("", w, g); problem != "" {
			t.Errorf("%s does not answer as the ledger that wrote the store did: %s\ngot %s", path, problem, got)
		}
	}

	// A payment recorded before reversals existed (PAY-3 paid DE-3 in full)
	// can be reversed; the claim is active again, and its earlier feed items
	// stay as they were.
	req, err := http.NewRequest("POST", base+"/v1/placements/"+ids["3"]+"/payments/PAY-3/reversal", strings.NewReader(`{"reason":"RETURNED"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer acme-key-0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var placement map[string]any
	require.NoError(t, json.Unmarshal(body, &placement))
	assert.Equal(t, "active", placement["status"])
	assert.Equal(t, "80.00", placement["outstandingAmount"])
	status, feed := get("/v1/claims/DE-3/transactions?minPosition=" + resp.Header.Get("Ledger-Position"))
	require.Equal(t, http.StatusOK, status)
	var items []map[string]any
	require.NoError(t, json.Unmarshal(feed, &items))
	before, err := os.ReadFile(filepath.Join(golden, "transactions-3.json"))
	require.NoError(t, err)
	var old []any
	require.NoError(t, json.Unmarshal(before, &old))
	require.Len(t, items, len(old)+2)
	oldItems, _ := json.Marshal(old)
	newItems, _ := json.Marshal(items[:len(old)])
	assert.JSONEq(t, string(oldItems), string(newItems), "the items before the reversal are unchanged")
	assert.Equal(t, "DE-3-AD001", items[len(old)]["accountingDocument"].(map[string]any)["originalNumber"])
	assert.Equal(t, "REOPENED", items[len(old)+1]["status"].(map[string]any)["type"])
	vreq, err := http.NewRequest("GET", base+"/v1/admin/verify", nil)
	require.NoError(t, err)
	vreq.Header.Set("Authorization", "Bearer agency-key-0123456789abcdef")
	vresp, err := http.DefaultClient.Do(vreq)
	require.NoError(t, err)
	verdict, _ := io.ReadAll(vresp.Body)
	vresp.Body.Close()
	assert.Contains(t, string(verdict), `"ok":true`, "chains, invariants and the views hold after the reversal")
}

// jsonSubset says where got lacks or changes something of want: every
// member want has, got has with the same value; arrays have the same length.
// Members added since the golden answers were written are allowed.
func jsonSubset(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %v", at, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return fmt.Sprintf("%s.%s is missing", at, k)
			}
			if p := jsonSubset(at+"."+k, wv, gv); p != "" {
				return p
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %d items, got %v", at, len(w), got)
		}
		for i := range w {
			if p := jsonSubset(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); p != "" {
				return p
			}
		}
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("%s: want %v, got %v", at, want, got)
		}
	}
	return ""
}
