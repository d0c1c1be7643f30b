package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

func TestLoadConfigRefusals(t *testing.T) {
	env := func(string) string { return "" }
	var stderr syncBuffer
	for name, args := range map[string][]string{
		"ErrNotLoopback":      {"-addr", "http://10.0.0.1:8080", "-key", "k"},
		"ErrPublicHost":       {"-addr", "http://example.com", "-key", "k"},
		"ErrNoKey":            {"-addr", "http://127.0.0.1:8080"},
		"ErrTooManyConns":     {"-key", "k", "-connections", "5000"},
		"ErrTooLong":          {"-key", "k", "-duration", "1h"},
		"ErrNoPlacements":     {"-key", "k", "-placements", "0"},
		"ErrNotAURL":          {"-key", "k", "-addr", "127.0.0.1"},
		"ErrTooManyPlacement": {"-key", "k", "-placements", "2000000"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseLoadConfig(args, env, &stderr)
			assert.Error(t, err)
		})
	}
	c, err := parseLoadConfig([]string{"-addr", "http://localhost:9/", "-key", "k"}, env, &stderr)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:9", c.Addr)
}

// TestLoadAgainstServe runs a short load against a real server and expects
// every acknowledged command to be verified.
func TestLoadAgainstServe(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	addr := freeAddr(t)
	key := "acme-key-0123456789abcdef"
	env := map[string]string{"LEDGER_API_KEYS": "acme=" + key}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var srvOut, srvErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", filepath.Join(t.TempDir(), "s")}, getenv, &srvOut, &srvErr)
	}()
	require.Eventually(t, func() bool { return len(srvOut.String()) > 0 }, 30*time.Second, 10*time.Millisecond)
	// Two placements under the same load get trails of hundreds of events:
	// the verification must follow the audit trail's pages to find them all.
	for seed, placements := range []string{"40", "2"} { // claim numbers come from the seed: one each
		var out, errOut syncBuffer
		code := run(context.Background(), []string{"load", "-addr", "http://" + addr, "-key", key, "-placements", placements, "-connections", "8", "-duration", "1s", "-seed", strconv.Itoa(seed + 1)}, getenv, &out, &errOut)
		assert.Equal(t, 0, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
		assert.Contains(t, out.String(), "0 missing, 0 seen twice; 0 requests failed")
		assert.Contains(t, out.String(), "p99 ms")
	}
	cancel()
	assert.Equal(t, 0, <-done)
}

func TestVerifyCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	addr := freeAddr(t)
	env := map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef"}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	var srvOut, srvErr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-LEDGER_ADDR", addr, "-LEDGER_STORE", dir}, getenv, &srvOut, &srvErr)
	}()
	require.Eventually(t, func() bool { return len(srvOut.String()) > 0 }, 30*time.Second, 10*time.Millisecond)
	var out, errOut syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"load", "-addr", "http://" + addr, "-key", "acme-key-0123456789abcdef",
		"-placements", "10", "-connections", "4", "-duration", "300ms"}, getenv, &out, &errOut), "stdout: %s\nstderr: %s", out.String(), errOut.String())
	// While the server runs, the embedded store is locked: verify says so.
	var vOut, vErr syncBuffer
	assert.Equal(t, 2, run(context.Background(), []string{"verify", "-LEDGER_STORE", dir}, getenv, &vOut, &vErr))
	assert.Contains(t, vErr.String(), "in use by a running ledger")
	cancel()
	require.Equal(t, 0, <-done)
	var v2Out, v2Err syncBuffer
	code := run(context.Background(), []string{"verify", "-LEDGER_STORE", dir}, getenv, &v2Out, &v2Err)
	assert.Equal(t, 0, code, "stdout: %s stderr: %s", v2Out.String(), v2Err.String())
	assert.Contains(t, v2Out.String(), "all hash chains, invariants and projections hold")
}

func TestReplayCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r1"}
	res, err := h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-1",
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	id := res.Placement.ID
	pay, err := h.Execute(context.Background(), id, req, func(at time.Time) domain.Command {
		return domain.ReceivePayment{Amount: decimal.NewFromInt(30), At: at}
	})
	require.NoError(t, err)
	_, err = h.Execute(context.Background(), id, req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
	require.NoError(t, s.Close())

	var out, errOut syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"replay", "-LEDGER_STORE", dir, "-placement", id.String()}, func(string) string { return "" }, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "PaymentReceived  by acme (creditor)")
	assert.Contains(t, out.String(), `recoveredAmount: "0.00" → "30.00"`)
	assert.Contains(t, out.String(), `status: "active" → "recalled"`)
	var upTo syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"replay", "-LEDGER_STORE", dir, "-placement", id.String(), "-position", fmt.Sprint(pay.Position)}, func(string) string { return "" }, &upTo, &errOut))
	assert.NotContains(t, upTo.String(), "PlacementRecalled")
	assert.Contains(t, upTo.String(), `"status": "active"`)
	var bad syncBuffer
	assert.Equal(t, 2, run(context.Background(), []string{"replay", "-LEDGER_STORE", dir, "-placement", "nope"}, func(string) string { return "" }, &out, &bad))
}

func TestExportAndVerifyExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	var ids []uuid.UUID
	for i, cred := range []string{"acme", "other", "acme"} {
		req := command.Request{Actor: cred, ActorType: journal.ActorCreditor, RequestID: "r"}
		res, err := h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: cred, ClaimNumber: fmt.Sprintf("CL-%d", i),
			CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
		_, err = h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: decimal.NewFromInt(40), At: at}
		})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	env := func(string) string { return "" }
	run1 := func(args ...string) (int, string, string) {
		var out, errOut syncBuffer
		code := run(context.Background(), args, env, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	all := filepath.Join(t.TempDir(), "all.jsonl")
	code, _, stderr := run1("export", "-LEDGER_STORE", dir, "-o", all)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "exported 12 of 12 events", "3 placements × (reservation + opened + payment + document)")
	code, out, _ := run1("verify-export", all)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "every hash chain holds")

	code, _, stderr = run1("export", "-LEDGER_STORE", dir, "-creditor", "acme", "-o", filepath.Join(t.TempDir(), "acme.jsonl"))
	require.Equal(t, 0, code)
	assert.Contains(t, stderr, "exported 8 of 12 events")
	code, _, stderr = run1("export", "-LEDGER_STORE", dir, "-placement", ids[1].String(), "-format", "csv", "-o", filepath.Join(t.TempDir(), "p.csv"))
	require.Equal(t, 0, code)
	assert.Contains(t, stderr, "exported 3 of 12 events")
	code, out, _ = run1("export", "-LEDGER_STORE", dir, "-placement", ids[0].String(), "-format", "csv")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "position,stream,revision,event_id,type,recorded_at,hash,prev_hash,data,metadata")
	code, _, _ = run1("export", "-LEDGER_STORE", dir, "-format", "xml")
	assert.Equal(t, 1, code)

	// One edited byte in the export is named by stream and revision.
	b, err := os.ReadFile(all)
	require.NoError(t, err)
	edited := strings.Replace(string(b), `"amount":"40"`, `"amount":"90"`, 1)
	require.NotEqual(t, string(b), edited)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(edited), 0o644))
	code, out, _ = run1("verify-export", bad)
	assert.Equal(t, 1, code)
	assert.Regexp(t, `stream placement-[0-9a-f-]+ revision 1 \(position \d+\): hash:`, out)
}

// reconcileStore is a store of creditor acme with claims CL-0 and CL-1,
// each paid 10 EUR twice (P-i-0, P-i-1) on 2024-04-01.
func reconcileStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s")
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	clock := time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), func() time.Time { return clock })
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	for i := range 2 {
		res, err := h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%d", i),
			CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
		require.NoError(t, err)
		for j := range 2 {
			_, err = h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command {
				return domain.ReceivePayment{PaymentNumber: fmt.Sprintf("P-%d-%d", i, j), Amount: decimal.NewFromInt(10), At: at}
			})
			require.NoError(t, err)
		}
	}
	require.NoError(t, s.Close())
	return dir
}

func TestReconcileCommandWithStatement(t *testing.T) {
	dir := reconcileStore(t)
	stmt := filepath.Join(t.TempDir(), "statement.csv")
	require.NoError(t, os.WriteFile(stmt, []byte("date,claimNumber,paymentNumber,amount,currency\n"+
		"2024-04-01,CL-0,P-0-0,10.00,EUR\n"+ // matched
		"2024-04-01,CL-0,P-0-1,11.00,EUR\n"+ // amount mismatch
		"2024-04-01,CL-1,P-1-0,10,EUR\n"+ // matched
		"2024-04-01,CL-9,P-9-9,5,EUR\n"), 0o644)) // missing from the ledger; P-1-1 is missing from the statement
	var out, errOut syncBuffer
	code := run(context.Background(), []string{"reconcile", "-LEDGER_STORE", dir, "-creditor", "acme", "-from", "2024-04-01", "-to", "2024-05-01", "-statement", stmt},
		func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, 1, code, "anything unmatched exits non-zero: %s %s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "EUR          4            40.00           8.00            32.00")
	assert.Contains(t, out.String(), "2 matched, 1 missing from the ledger, 1 missing from the statement, 1 amount mismatches")
	assert.Contains(t, out.String(), "statement line 5")
	assert.Contains(t, out.String(), "P-1-1")
	clean := filepath.Join(t.TempDir(), "clean.csv")
	require.NoError(t, os.WriteFile(clean, []byte("date,claimNumber,paymentNumber,amount,currency\n2024-04-01,CL-0,P-0-0,10,EUR\n2024-04-01,CL-0,P-0-1,10,EUR\n2024-04-01,CL-1,P-1-0,10,EUR\n2024-04-01,CL-1,P-1-1,10,EUR\n"), 0o644))
	var out2 syncBuffer
	assert.Equal(t, 0, run(context.Background(), []string{"reconcile", "-LEDGER_STORE", dir, "-creditor", "acme", "-statement", clean}, func(string) string { return "" }, &out2, &errOut), out2.String())
}

// A statement of some claims only (the README's walkthrough, on a store
// that holds other claims of the creditor too) matches with -claims.
func TestReconcileStatementOfSomeClaims(t *testing.T) {
	dir := reconcileStore(t)
	stmt := filepath.Join(t.TempDir(), "statement.csv")
	require.NoError(t, os.WriteFile(stmt, []byte("date,claimNumber,paymentNumber,amount,currency\n2024-04-01,CL-1,P-1-0,10,EUR\n2024-04-01,CL-1,P-1-1,10,EUR\n"), 0o644))
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
		says  string
	}{
		{"every payment of the creditor", nil, 1, "2 matched, 0 missing from the ledger, 2 missing from the statement"},
		{"the statement's claim", []string{"-claims", "CL-1"}, 0, "2 matched, 0 missing from the ledger, 0 missing from the statement"},
		{"a claim the statement forgot", []string{"-claims", "CL-1, CL-0"}, 1, "2 matched, 0 missing from the ledger, 2 missing from the statement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut syncBuffer
			args := append([]string{"reconcile", "-LEDGER_STORE", dir, "-creditor", "acme", "-statement", stmt}, tc.flags...)
			assert.Equal(t, tc.code, run(context.Background(), args, func(string) string { return "" }, &out, &errOut), "%s %s", out.String(), errOut.String())
			assert.Contains(t, out.String(), tc.says)
		})
	}
}
