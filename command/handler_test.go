package command_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
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

func mustStore(t *testing.T) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func placeCmd(claim string) domain.Place {
	return domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: claim, CustomerNumber: "K1", Currency: "EUR",
		FeeRate:  decimal.RequireFromString("0.2"),
		Invoices: []domain.Invoice{{InvoiceNumber: "I1", ContractNumber: "C1", Amount: domain.AmountOf(decimal.NewFromInt(100)), DueDate: "2024-01-01"}}}
}

func req() command.Request {
	return command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: "acme"}
}

// TestClaimNumberRace: 16 requests place the same claim number at once;
// exactly one wins, through the store, not through a check both could pass.
func TestClaimNumberRace(t *testing.T) {
	s := mustStore(t)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.Place(context.Background(), req(), placeCmd("DE-RACE"))
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			assert.ErrorIs(t, err, domain.ErrClaimNumberTaken)
		}
	}
	assert.Equal(t, 1, wins)
	recs, err := s.ReadStream(context.Background(), journal.ClaimStream("acme", "DE-RACE"), 0, 10)
	require.NoError(t, err)
	assert.Len(t, recs, 1, "one reservation")
	var placements int
	var after eventstore.Position
	for {
		batch, err := s.ReadAll(context.Background(), after, 100)
		require.NoError(t, err)
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			if e.Type == "PlacementOpened" {
				placements++
			}
			after = e.Position
		}
	}
	assert.Equal(t, 1, placements, "one placement opened")
}

// TestOrphanReservationIsAdopted: a reservation whose placement was never
// opened (the process died in between) does not burn the claim number.
func TestOrphanReservationIsAdopted(t *testing.T) {
	s := mustStore(t)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	orphan := uuid.New()
	data, _ := json.Marshal(journal.ClaimNumberReserved{PlacementID: orphan, CreditorID: "acme", ClaimNumber: "DE-ORPHAN"})
	_, err := s.Append(context.Background(), journal.ClaimStream("acme", "DE-ORPHAN"), eventstore.NoStream(),
		[]eventstore.EventData{{ID: uuid.New(), Type: journal.ClaimReservedType, Data: data, Metadata: []byte(`{}`)}})
	require.NoError(t, err)
	res, err := h.Place(context.Background(), req(), placeCmd("DE-ORPHAN"))
	require.NoError(t, err)
	assert.Equal(t, orphan, res.Placement.ID, "the reserved placement id is adopted")
	_, err = h.Place(context.Background(), req(), placeCmd("DE-ORPHAN"))
	assert.ErrorIs(t, err, domain.ErrClaimNumberTaken, "and then it is taken")
}

func TestInvalidPlacementBurnsNoClaimNumber(t *testing.T) {
	s := mustStore(t)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	bad := placeCmd("DE-BAD")
	bad.Currency = "XXX"
	_, err := h.Place(context.Background(), req(), bad)
	require.Error(t, err)
	head, _ := s.Head(context.Background())
	assert.Equal(t, eventstore.Start, head, "nothing appended, not even the reservation")
	_, err = h.Place(context.Background(), req(), placeCmd("DE-BAD"))
	assert.NoError(t, err)
}

func TestMetadataOnEveryEvent(t *testing.T) {
	s := mustStore(t)
	now := time.Date(2024, 8, 7, 12, 0, 0, 0, time.UTC)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), func() time.Time { return now })
	r := req()
	r.IdempotencyKey, r.RequestHash = "k-1", "h-1"
	res, err := h.Place(context.Background(), r, placeCmd("DE-META"))
	require.NoError(t, err)
	res, err = h.Execute(context.Background(), res.Placement.ID, req(), func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
	recs, err := s.ReadStream(context.Background(), journal.PlacementStream(res.Placement.ID), 0, 100)
	require.NoError(t, err)
	require.Len(t, recs, 6)
	for i, rec := range recs {
		m, err := journal.DecodeMetadata(rec.Metadata)
		require.NoError(t, err)
		assert.Equal(t, "acme", m.Actor)
		assert.Equal(t, journal.ActorCreditor, m.ActorType)
		assert.NotEmpty(t, m.RequestID)
		assert.Equal(t, m.RequestID, m.CausationID)
		assert.Equal(t, m.RequestID, m.CorrelationID)
		assert.Equal(t, domain.SchemaVersion, m.SchemaVersion)
		assert.Equal(t, now, m.OccurredAt)
		if i == 0 {
			assert.Equal(t, "k-1", m.IdempotencyKey)
			assert.Equal(t, "place", m.Command)
		} else {
			assert.Equal(t, "recall", m.Command)
			assert.Equal(t, i-1, m.Index)
			assert.Equal(t, 5, m.Count)
		}
	}
}

// TestCacheSeesOtherWriters: two handlers on one store stand for two
// processes; each one's cached placement goes stale when the other writes,
// and no update is lost.
func TestCacheSeesOtherWriters(t *testing.T) {
	s := mustStore(t)
	h1 := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	h2 := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	res, err := h1.Place(context.Background(), req(), placeCmd("DE-TWO"))
	require.NoError(t, err)
	id := res.Placement.ID
	pay := func(h *command.Handler) command.Result {
		res, err := h.Execute(context.Background(), id, req(), func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: decimal.NewFromInt(10), At: at}
		})
		require.NoError(t, err)
		return res
	}
	pay(h1)
	pay(h2)
	pay(h1) // h1's cache is stale: the append conflicts, h1 reloads and retries
	last := pay(h2)
	assert.Equal(t, "40", last.Placement.Recovered.String())
	assert.Equal(t, uint64(8), last.Revision)
}

// TestRefusalNotFromAStaleCache: a handler that cached a placement as
// active does not refuse a command because of it once another process has
// paused the placement: the automatic resume of a hold paused through
// another instance happens (it was refused "not paused" for ever), and a
// pause is refused for the placement as it is now.
func TestRefusalNotFromAStaleCache(t *testing.T) {
	s := mustStore(t)
	h1 := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	h2 := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	res, err := h1.Place(context.Background(), req(), placeCmd("DE-STALE"))
	require.NoError(t, err)
	id := res.Placement.ID
	exec := func(h *command.Handler, cmd func(at time.Time) domain.Command) (command.Result, error) {
		return h.Execute(context.Background(), id, req(), cmd)
	}
	_, err = exec(h1, func(at time.Time) domain.Command { return domain.Resume{At: at} })
	require.ErrorIs(t, err, domain.ErrNotPaused, "h1 now caches the placement as active")
	due := time.Now().Add(time.Hour).UTC()
	_, err = exec(h2, func(at time.Time) domain.Command { return domain.Pause{Reason: "DISPUTE", ResumeAt: &due, At: at} })
	require.NoError(t, err)

	resumed, err := exec(h1, func(at time.Time) domain.Command { return domain.Resume{Due: &due, At: at} })
	require.NoError(t, err, "the automatic resume is decided on the placement as it is, paused")
	assert.Equal(t, domain.StatusActive, resumed.Placement.Status)
	assert.Equal(t, uint64(4), resumed.Revision, "after the opening and the pause's three events")
	_, err = exec(h2, func(at time.Time) domain.Command { return domain.Resume{At: at} })
	assert.ErrorIs(t, err, domain.ErrNotPaused, "h2's cache (paused) is stale the other way")
	recs, err := s.ReadStream(context.Background(), journal.PlacementStream(id), 0, 100)
	require.NoError(t, err)
	var types []string
	for _, r := range recs {
		types = append(types, r.Type)
	}
	assert.Equal(t, []string{domain.TypePlacementOpened, domain.TypePlacementPaused, domain.TypeSequencesPaused, domain.TypeCallsCancelled,
		domain.TypePlacementResumed}, types, "nothing appended by the refusals")
}

func TestLastEventAndAppendSystem(t *testing.T) {
	s := mustStore(t)
	ctx := context.Background()
	_, found, err := journal.LastEvent(ctx, s, "webhook-acme")
	require.NoError(t, err)
	assert.False(t, found)
	for i := range 37 {
		res, err := journal.AppendSystem(ctx, s, "webhook-acme", "acme", journal.ActorCreditor, "Thing", map[string]int{"i": i}, time.Now())
		require.NoError(t, err)
		assert.Equal(t, uint64(i), res.Revision)
		last, found, err := journal.LastEvent(ctx, s, "webhook-acme")
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, uint64(i), last.Revision, "after %d appends", i+1)
	}
	// Every event is chained to the one before it.
	recs, err := s.ReadStream(ctx, "webhook-acme", 0, 100)
	require.NoError(t, err)
	var prev journal.Hash
	for _, r := range recs {
		h, field, err := journal.CheckLink(prev, r.Stream, r.Revision, r.ID, r.Type, r.Data, r.Metadata)
		require.NoError(t, err, field)
		prev = h
	}
}

// TestAutomaticResumeExactlyOnce: two instances (two handlers with their own
// caches on one store) run the resumer at the same moment; exactly one
// resumes, and nothing happens before resumeAt.
func TestAutomaticResumeExactlyOnce(t *testing.T) {
	s := mustStore(t)
	now := time.Date(2024, 8, 7, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h1 := command.NewHandler(s, projections.NewIdempotencyIndex(), clock)
	h2 := command.NewHandler(s, projections.NewIdempotencyIndex(), clock)
	res, err := h1.Place(context.Background(), req(), placeCmd("DE-AUTO"))
	require.NoError(t, err)
	id := res.Placement.ID
	resumeAt := now.Add(time.Hour)
	_, err = h1.Execute(context.Background(), id, req(), func(at time.Time) domain.Command {
		return domain.Pause{Reason: domain.PauseDispute, ResumeAt: &resumeAt, At: at}
	})
	require.NoError(t, err)
	due := func(n time.Time) []command.Due {
		if n.Before(resumeAt) {
			return nil
		}
		return []command.Due{{ID: id, ResumeAt: resumeAt}}
	}
	r1, r2 := command.NewResumer(h1, due, nil), command.NewResumer(h2, due, nil)
	assert.Zero(t, r1.RunOnce(context.Background()), "not yet")
	now = resumeAt.Add(time.Minute) // the ledger was down at resumeAt
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, r := range []*command.Resumer{r1, r2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i] = r.RunOnce(context.Background())
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, counts[0]+counts[1], "exactly one instance resumes")
	recs, err := s.ReadStream(context.Background(), journal.PlacementStream(id), 0, 100)
	require.NoError(t, err)
	resumed := 0
	for _, r := range recs {
		if r.Type == "PlacementResumed" {
			resumed++
			m, err := journal.DecodeMetadata(r.Metadata)
			require.NoError(t, err)
			assert.Equal(t, journal.ActorSystem, m.Actor)
		}
	}
	assert.Equal(t, 1, resumed)
}

// TestClaimNumbersOfCreditorsDoNotCollide: in log format 1, creditor acme's
// claim x-1 and creditor acme-x's claim 1 shared a reservation stream, so the
// second was 409 claim_number_taken (an existence oracle across tenants).
func TestClaimNumbersOfCreditorsDoNotCollide(t *testing.T) {
	s := mustStore(t)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	for _, pair := range [][2]string{{"acme", "x-1"}, {"acme-x", "1"}, {"acme", "x"}, {"acme-x", "x"}} {
		cmd := placeCmd(pair[1])
		cmd.CreditorID = pair[0]
		r := command.Request{Actor: pair[0], ActorType: journal.ActorCreditor, RequestID: uuid.NewString(), Creditor: pair[0]}
		_, err := h.Place(context.Background(), r, cmd)
		require.NoError(t, err, "creditor %s, claim %s", pair[0], pair[1])
		owner, found, err := h.ClaimOwner(context.Background(), pair[0], pair[1])
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, cmd.PlacementID, owner, "creditor %s, claim %s", pair[0], pair[1])
	}
	_, err := h.Place(context.Background(), req(), placeCmd("x-1"))
	assert.ErrorIs(t, err, domain.ErrClaimNumberTaken, "within one creditor a number is still taken once")
}

// The handler keeps at most MaxCached placements and claim owners, and a
// placement it let go of is decided on as the log has it when it comes back.
func TestCacheStaysWithinItsBound(t *testing.T) {
	s := mustStore(t)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	h.MaxCached = 3
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 10 {
		claim := fmt.Sprintf("CL-%d", i)
		res, err := h.Place(ctx, req(), placeCmd(claim))
		require.NoError(t, err)
		ids = append(ids, res.Placement.ID)
		_, found, err := h.ClaimOwner(ctx, "acme", claim)
		require.NoError(t, err)
		require.True(t, found)
	}
	for round := 1; round <= 3; round++ {
		for _, id := range ids {
			res, err := h.Execute(ctx, id, req(), func(at time.Time) domain.Command {
				return domain.ReceivePayment{Amount: decimal.RequireFromString("1.25"), At: at}
			})
			require.NoError(t, err)
			assert.Equal(t, decimal.RequireFromString("1.25").Mul(decimal.NewFromInt(int64(round))).String(), res.Placement.Recovered.String(),
				"placement %s after %d payments", id, round)
			placements, owners := command.CachedForTest(h)
			require.LessOrEqual(t, placements, 3, "placements cached")
			require.LessOrEqual(t, owners, 3, "claim owners cached")
		}
	}
}
