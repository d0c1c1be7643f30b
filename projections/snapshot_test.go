package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/command"
	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/eventstore"
	"github.com/collections-ledger/ledger/eventstore/embedded"
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/verify"
)

// outcome is what a client sees of a command.
type outcome struct {
	Code      string
	Recorded  int
	Replayed  bool
	Revision  uint64
	Placement json.RawMessage
}

func outcomeOf(t *testing.T, res command.Result, err error) outcome {
	t.Helper()
	o := outcome{Recorded: res.Recorded, Replayed: res.Replayed, Revision: res.Revision}
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		o.Code = de.Code
	case err != nil:
		t.Fatalf("command failed: %v", err)
	}
	if res.Placement.Exists() {
		b, merr := json.Marshal(projections.Render(res.Placement, res.Revision))
		require.NoError(t, merr)
		o.Placement = b
	}
	return o
}

// TestSnapshotsDecideAsTheStreamDoes: a handler that starts uncached
// placements from the views' snapshots (and asks them for processed payment
// and waiver numbers) decides every command exactly as one that folds the
// placement's whole stream: the same answers, and the same events in the
// log. The snapshot side drops its cache often and runs with views that are
// sometimes caught up and sometimes behind, so every path is taken: a
// snapshot alone, a snapshot and the events after it, and the stream.
func TestSnapshotsDecideAsTheStreamDoes(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			open := func(name string) *embedded.Store {
				s, err := embedded.Open(filepath.Join(t.TempDir(), name), embedded.Options{})
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
			folding, snapshotting := open("a"), open("b")
			views := MustViews(t, "")
			runner, _ := MustRunner(t, snapshotting, views, 0)
			clock := func() func() time.Time {
				at := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
				return func() time.Time { at = at.Add(time.Minute); return at }
			}
			fh := command.NewHandler(folding, projections.NewIdempotencyIndex(), clock())
			snapClock := clock()
			sh := command.NewHandler(snapshotting, projections.NewWriteIndex(views), snapClock)
			rng := rand.New(rand.NewPCG(seed, 11))

			var ids []uuid.UUID
			for i := range 4 {
				place := domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: fmt.Sprintf("CL-%d", i), CustomerNumber: "K1",
					Currency: "EUR", FeeRate: decimal.RequireFromString("0.15"), Invoices: []domain.Invoice{
						{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("100.10")), DueDate: "2024-01-01"},
						{InvoiceNumber: "B", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("55.55")), DueDate: "2024-02-01"}}}
				req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: fmt.Sprintf("place-%d", i)}
				a, errA := fh.Place(ctx, req, place)
				b, errB := sh.Place(ctx, req, place)
				require.Equal(t, outcomeOf(t, a, errA), outcomeOf(t, b, errB))
				ids = append(ids, place.PlacementID)
			}
			amounts := []string{"0.01", "1.50", "7.77", "20.00"}
			for step := range 250 {
				which := rng.IntN(len(ids))
				id := ids[which]
				roll, number, amount := rng.IntN(28), rng.IntN(6), decimal.RequireFromString(amounts[rng.IntN(len(amounts))])
				reason := []string{domain.ReversalReturned, domain.ReversalEnteredInError, domain.ReversalOther}[rng.IntN(3)]
				build := func(at time.Time) domain.Command {
					switch {
					case roll < 11: // numbered payments: repeats and reuses of a number happen
						return domain.ReceivePayment{Amount: amount, PaymentNumber: fmt.Sprintf("PN-%d", number), At: at}
					case roll < 13:
						return domain.ReceivePayment{Amount: amount, At: at}
					case roll < 17:
						ws := []domain.Waiver{{CreditWaiverNumber: fmt.Sprintf("W-%d", number), InvoiceNumber: "A", ContractNumber: "C",
							Date: "2024-03-01", Amount: amount, Currency: "EUR"}}
						if roll == 16 {
							ws = append(ws, domain.Waiver{CreditWaiverNumber: fmt.Sprintf("W-%d", (number+1)%6), InvoiceNumber: "B",
								ContractNumber: "C", Date: "2024-03-02", Amount: amount, Currency: "EUR"})
						}
						return domain.PartialRecall{Waivers: ws, At: at}
					case roll == 17:
						resume := at.Add(time.Hour)
						return domain.Pause{Reason: domain.PauseDispute, ResumeAt: &resume, At: at}
					case roll == 18:
						return domain.Resume{At: at}
					case roll < 21: // reversals: of numbered payments, again, for another reason, of unknown ones
						return domain.ReversePayment{PaymentNumber: fmt.Sprintf("PN-%d", number), Reason: reason, At: at}
					case roll == 21: // of a payment named by the ledger (or of a document that was no payment)
						return domain.ReversePayment{PaymentNumber: fmt.Sprintf("CL-%d-AD%03d", which, 1+number), Reason: reason, At: at}
					case roll == 24: // payments to the agency share the payment numbers
						return domain.ReceiveAgencyPayment{Amount: amount, PaymentNumber: fmt.Sprintf("PN-%d", number), At: at}
					case roll == 25: // cancellations of waivers and payments: repeats, mismatches, unknown numbers
						return domain.CancelDocument{ReferenceNumber: fmt.Sprintf("W-%d", number), Amount: amount, Currency: "EUR", At: at}
					case roll == 26:
						return domain.CancelDocument{ReferenceNumber: fmt.Sprintf("PN-%d", number), Amount: amount, Currency: "EUR", At: at}
					case roll == 27 && number == 0:
						return domain.WriteOff{Reason: domain.WriteOffUncollectible, At: at}
					default:
						return domain.Recall{At: at}
					}
				}
				switch rng.IntN(3) {
				case 0: // a fresh handler: the placement starts from the views
					sh = command.NewHandler(snapshotting, projections.NewWriteIndex(views), snapClock)
					sh.MaxCachedNumbers = rng.IntN(3) // … and keeps few numbers in its cache, asking the views for the rest
				case 1: // … from views that have applied everything
					sh = command.NewHandler(snapshotting, projections.NewWriteIndex(views), snapClock)
					head, err := snapshotting.Head(ctx)
					require.NoError(t, err)
					wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					require.NoError(t, runner.WaitFor(wctx, head))
					cancel()
				}
				req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: fmt.Sprintf("step-%d", step)}
				a, errA := fh.Execute(ctx, id, req, build)
				b, errB := sh.Execute(ctx, id, req, build)
				require.Equal(t, outcomeOf(t, a, errA), outcomeOf(t, b, errB), "step %d", step)
			}
			reversed := 0
			for _, id := range ids {
				events := streamData(t, folding, id)
				require.Equal(t, events, streamData(t, snapshotting, id))
				for _, e := range events {
					if strings.HasPrefix(e, domain.TypePaymentReversed+" ") {
						reversed++
					}
				}
			}
			require.Positive(t, reversed, "the sequence reversed some payments")
			// The snapshots' hashes continued each stream's chain.
			report, err := verify.Run(ctx, snapshotting, verify.Options{})
			require.NoError(t, err)
			require.True(t, report.OK(), "%d findings, the first: %+v", len(report.Findings), report.Findings[:min(1, len(report.Findings))])
		})
	}
}

// streamData is a placement's events as type and data, one a line.
func streamData(t *testing.T, s eventstore.Store, id uuid.UUID) []string {
	t.Helper()
	var out []string
	require.NoError(t, journal.ReadStream(context.Background(), s, journal.PlacementStream(id), 0, func(rec eventstore.RecordedEvent) error {
		out = append(out, rec.Type+" "+string(rec.Data))
		return nil
	}))
	return out
}

// TestCancelledWaiverFromASnapshot: a handler that starts the placement
// from the views' snapshot, with no numbers cached, answers a repeated
// cancellation of a credit waiver as a repeat (it learns the cancellation
// from the views' processed numbers), and cancels a payment to the agency
// by its number.
func TestCancelledWaiverFromASnapshot(t *testing.T) {
	ctx := context.Background()
	store, err := embedded.Open(filepath.Join(t.TempDir(), "s"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	views := MustViews(t, "")
	runner, _ := MustRunner(t, store, views, 0)
	h := command.NewHandler(store, projections.NewIdempotencyIndex(), nil)
	id := uuid.New()
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: "r"}
	_, err = h.Place(ctx, req, domain.Place{PlacementID: id, CreditorID: "acme", ClaimNumber: "CL-S", CustomerNumber: "K1", Currency: "EUR",
		FeeRate: decimal.RequireFromString("0.1"), Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(decimal.RequireFromString("100")), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	amount := decimal.RequireFromString("10")
	cancelW := func(at time.Time) domain.Command {
		return domain.CancelDocument{ReferenceNumber: "W-1", Amount: amount, Currency: "EUR", At: at}
	}
	cancelA := func(at time.Time) domain.Command {
		return domain.CancelDocument{ReferenceNumber: "AG-1", Amount: amount, Currency: "EUR", At: at}
	}
	for _, c := range []func(at time.Time) domain.Command{
		func(at time.Time) domain.Command {
			return domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1", InvoiceNumber: "A", ContractNumber: "C", Date: "2024-03-01", Amount: amount, Currency: "EUR"}}, At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: amount, At: at}
		},
		cancelW,
	} {
		_, err := h.Execute(ctx, id, req, c)
		require.NoError(t, err)
	}
	fresh := func() *command.Handler {
		head, err := store.Head(ctx)
		require.NoError(t, err)
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, runner.WaitFor(wctx, head))
		sh := command.NewHandler(store, projections.NewWriteIndex(views), nil)
		sh.MaxCachedNumbers = 0
		return sh
	}
	res, err := fresh().Execute(ctx, id, req, cancelW)
	require.NoError(t, err)
	require.True(t, res.Replayed, "the cancellation was a repeat")
	require.Zero(t, res.Recorded)
	res, err = fresh().Execute(ctx, id, req, cancelA)
	require.NoError(t, err)
	require.Equal(t, 2, res.Recorded, "the agency payment's reversal and its document")
	require.True(t, res.Placement.AgencyPaid.IsZero())
}
