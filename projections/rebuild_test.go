package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// MustRunner starts a runner and waits until it has applied pos.
func MustRunner(t *testing.T, s eventstore.Store, pos eventstore.Position) *projections.Runner {
	t.Helper()
	r := projections.NewRunner(s, projections.NewIdempotencyIndex(), quiet())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	require.NoError(t, r.WaitFor(wctx, pos))
	return r
}

// TestRebuildEqualsLive drives random commands while a live runner follows,
// then rebuilds every projection from position 0 and compares: the
// placements read model is equal, and feed and audit output is
// byte-identical, ids included.
func TestRebuildEqualsLive(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	live := MustRunner(t, s, eventstore.Start)
	h := command.NewHandler(s, live.Idem, nil)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(42, 7))
	var ids []uuid.UUID
	for i := range 30 {
		res, err := h.Place(ctx, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}, domain.Place{
			PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%03d", i), CustomerNumber: "K1", Currency: "EUR",
			FeeRate: decimal.RequireFromString("0.15"),
			Invoices: []domain.Invoice{
				{InvoiceNumber: "A", ContractNumber: "C", Amount: decimal.RequireFromString("100.10"), DueDate: "2024-01-01"},
				{InvoiceNumber: "B", ContractNumber: "C", Amount: decimal.RequireFromString("55.55"), DueDate: "2024-02-01"},
			}})
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
	}
	for range 300 {
		id := ids[rng.IntN(len(ids))]
		r := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
		_, _ = h.Execute(ctx, id, r, func(at time.Time) domain.Command {
			switch rng.IntN(6) {
			case 0:
				return domain.Recall{At: at}
			case 1:
				return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "A", ContractNumber: "C", Date: "2024-03-01", Amount: decimal.RequireFromString("10.01"), Currency: "EUR"}}, At: at}
			case 2:
				return domain.StartEmailSequence{SequenceID: uuid.New(), NextSendAt: at.Add(time.Hour), At: at}
			case 3:
				return domain.ScheduleCall{CallID: uuid.New(), ScheduledAt: at.Add(time.Hour), At: at}
			default:
				return domain.ReceivePayment{Amount: decimal.New(int64(rng.IntN(5000)+1), -2), At: at}
			}
		})
	}
	head, err := s.Head(ctx)
	require.NoError(t, err)
	require.NoError(t, live.WaitFor(ctx, head))

	rebuilt := MustRunner(t, s, head)
	assert.Equal(t, live.Placements.Snapshot(), rebuilt.Placements.Snapshot(), "placements read model")
	for _, id := range ids {
		a, err := journal.ReadPlacement(ctx, s, id)
		require.NoError(t, err)
		b, err := journal.ReadPlacement(ctx, s, id)
		require.NoError(t, err)
		fa, _ := json.Marshal(projections.FeedItems(a))
		fb, _ := json.Marshal(projections.FeedItems(b))
		assert.Equal(t, string(fa), string(fb), "feed of %s is byte-identical", id)
		aa, _ := json.Marshal(projections.AuditItems(a))
		ab, _ := json.Marshal(projections.AuditItems(b))
		assert.Equal(t, string(aa), string(ab))
		// The read model agrees with a fold of the stream.
		var p domain.Placement
		for _, se := range a {
			p = domain.Evolve(p, se.Event)
		}
		got, ok := live.Placements.Get(id, "acme")
		require.True(t, ok)
		assert.Equal(t, projections.Render(p, a[len(a)-1].Revision), got)
		// Invariants: outstanding never negative; fee from the total.
		assert.False(t, p.Outstanding().IsNegative())
		assert.True(t, domain.Fee(p.Recovered, p.FeeRate, "EUR").Equal(p.Fee))
		items := projections.FeedItems(a)
		for i, it := range items {
			assert.EqualValues(t, i, it.SortNumber)
		}
	}
}
