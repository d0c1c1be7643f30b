package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/eventstore/storetest"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

// fillStore appends n placements, each paid and partly recalled, to the
// embedded store in dir and returns the log's head.
func fillStore(t *testing.T, dir string, n int) eventstore.Position {
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	for i := range n {
		req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
		res, err := h.Place(context.Background(), req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: uuid.NewString(),
			CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
			Invoices: []domain.Invoice{
				{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"},
				{InvoiceNumber: "I2", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(int64(50 + i))), DueDate: "2024-02-01"},
			}})
		require.NoError(t, err)
		_, err = h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: decimal.RequireFromString("12.34"), At: at}
		})
		require.NoError(t, err)
		_, err = h.Execute(context.Background(), res.Placement.ID, req, func(at time.Time) domain.Command {
			return domain.PartialRecall{At: at, Waivers: []domain.Waiver{{CreditWaiverNumber: "W1", InvoiceNumber: "I2", ContractNumber: "C1",
				Date: "2024-03-01", Amount: decimal.NewFromInt(10), Currency: "EUR"}}}
		})
		require.NoError(t, err)
	}
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	return head
}

func openViews(t *testing.T, dir string) *projections.Views {
	v, err := projections.OpenViews(dir, projections.ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	return v
}

// sameViews fails unless the two view stores hold the same keys and values.
func sameViews(t *testing.T, a, b string) {
	va, vb := openViews(t, a), openViews(t, b)
	defer va.Close()
	defer vb.Close()
	assert.Equal(t, va.Checkpoint(), vb.Checkpoint())
	differ := 0
	require.NoError(t, projections.Diff(va, vb, func(table byte, k, x, y []byte) bool { differ++; return differ < 5 }))
	assert.Zero(t, differ, "the views differ")
}

func TestRebuildCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	views := dir + ".views"
	getenv := func(string) string { return "" }
	rebuild := func(ctx context.Context, extra ...string) (int, string, string) {
		var out, errOut syncBuffer
		code := run(ctx, append([]string{"rebuild", "-LEDGER_STORE", dir}, extra...), getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	leftovers := func() {
		for _, p := range []string{views + ".rebuild", views + ".old"} {
			_, err := os.Stat(p)
			assert.ErrorIs(t, err, os.ErrNotExist, "%s is left behind", p)
		}
	}

	head := fillStore(t, dir, 20)
	code, out, errOut := rebuild(context.Background())
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "rebuilt "+views)
	leftovers()
	v := openViews(t, views)
	assert.Equal(t, head, v.Checkpoint(), "views where there were none, up to the head")
	require.NoError(t, v.Close())

	// The views a running instance keeps, and those a rebuild makes, agree.
	head = fillStore(t, dir, 5)
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	kept, err := catchUpViews(context.Background(), s, dir, "", false, io.Discard)
	require.NoError(t, err)
	require.Equal(t, head, kept.Checkpoint())
	require.NoError(t, kept.Close())
	live := filepath.Join(t.TempDir(), "live")
	require.NoError(t, os.CopyFS(live, os.DirFS(views)))
	require.NoError(t, s.Close())
	code, _, errOut = rebuild(context.Background(), "-all")
	require.Equal(t, 0, code, errOut)
	leftovers()
	sameViews(t, live, views)

	// By default, only the units another version built, or named, are
	// rebuilt, in place.
	code, out, errOut = rebuild(context.Background())
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "nothing to rebuild")
	v = openViews(t, views)
	before := v.UnitGenerations()
	require.NoError(t, v.Close())
	code, out, errOut = rebuild(context.Background(), "-units", "feed,books")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "rebuilt feed, books of "+views)
	v = openViews(t, views)
	after := v.UnitGenerations()
	require.NoError(t, v.Close())
	for name, gen := range before {
		if name == "feed" || name == "books" {
			assert.NotEqual(t, gen, after[name], "%s rebuilt into a new generation", name)
		} else {
			assert.Equal(t, gen, after[name], "%s left as it was", name)
		}
	}
	leftovers()
	sameViews(t, live, views)
	code, _, errOut = rebuild(context.Background(), "-units", "nope")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `no unit "nope"`)

	// Views in use by an instance are not touched.
	held := openViews(t, views)
	code, _, errOut = rebuild(context.Background())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "in use")
	require.NoError(t, held.Close())
	leftovers()

	// An interrupted rebuild leaves the views as they were.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, errOut = rebuild(ctx)
	assert.Equal(t, 130, code, errOut)
	assert.Contains(t, errOut, "the views are as they were")
	leftovers()
	sameViews(t, live, views)

	// -LEDGER_VIEWS names another view store.
	other := filepath.Join(t.TempDir(), "other.views")
	code, _, errOut = rebuild(context.Background(), "-LEDGER_VIEWS", other)
	require.Equal(t, 0, code, errOut)
	sameViews(t, live, other)
}

// TestViewsOfAnotherHistoryStopTheLedger: a store restored from an older
// backup, beside views built from the history it lost, is refused by serve
// (exit 1, saying how to mend it) and by the tools that bring the views up
// to date; `ledger rebuild -all` builds them again from the log, and then
// both work.
func TestViewsOfAnotherHistoryStopTheLedger(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "s")
	s, err := embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	require.NoError(t, journal.EnsureFormat(ctx, s)) // as serve marks a new store
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r1"}
	res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-1",
		CustomerNumber: "K1", Currency: "EUR", FeeRate: decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	backup := storetest.CopyStoreFiles(t, dir)
	s, err = embedded.Open(dir, embedded.Options{})
	require.NoError(t, err)
	h = command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	_, err = h.Execute(ctx, res.Placement.ID, req, func(at time.Time) domain.Command {
		return domain.ReceivePayment{Amount: decimal.NewFromInt(30), At: at}
	})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	none := func(string) string { return "" }
	var out, errOut syncBuffer
	require.Equal(t, 0, run(ctx, []string{"rebuild", "-all", "-store", dir}, none, &out, &errOut), errOut.String())

	// The store goes back to the backup; the views stay.
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.Rename(backup, dir))
	var srvOut, srvErr syncBuffer
	bounded, cancel := context.WithTimeout(ctx, 30*time.Second) // a serve that started would stop here, and answer 0
	defer cancel()
	assert.Equal(t, 1, run(bounded, []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir}, none, &srvOut, &srvErr))
	assert.Contains(t, srvOut.String()+srvErr.String(), "another history of the log")
	assert.Contains(t, srvOut.String()+srvErr.String(), "ledger rebuild -all")
	var tbOut, tbErr syncBuffer
	assert.NotEqual(t, 0, run(ctx, []string{"trial-balance", "-LEDGER_STORE", dir}, none, &tbOut, &tbErr))
	assert.Contains(t, tbOut.String()+tbErr.String(), "another history of the log")

	require.Equal(t, 0, run(ctx, []string{"rebuild", "-all", "-store", dir}, none, &out, &errOut), errOut.String())
	var tb2Out, tb2Err syncBuffer
	assert.Equal(t, 0, run(ctx, []string{"trial-balance", "-LEDGER_STORE", dir}, none, &tb2Out, &tb2Err), tb2Err.String())
	sctx, stop := context.WithCancel(ctx)
	var srv2Out, srv2Err syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(sctx, []string{"serve", "-LEDGER_ADDR", freeAddr(t), "-LEDGER_STORE", dir}, none, &srv2Out, &srv2Err)
	}()
	require.Eventually(t, func() bool { return strings.Contains(srv2Out.String()+srv2Err.String(), "is listening on") }, 30*time.Second, 10*time.Millisecond)
	stop()
	assert.Equal(t, 0, <-done, srv2Out.String()+srv2Err.String())
}
