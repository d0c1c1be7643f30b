package retention_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
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
	"github.com/collections-ledger/ledger/pii"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/retention"
)

type fixture struct {
	store *embedded.Store
	views *projections.Views
	keys  *pii.FileKeys
	h     *command.Handler
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	store, err := embedded.Open(filepath.Join(dir, "s"), embedded.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	views, err := projections.OpenViews(filepath.Join(dir, "v"), projections.ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = views.Close() })
	m, err := pii.ParseMasterKey(pii.NewMasterKey())
	require.NoError(t, err)
	keys, err := pii.OpenFileKeys(filepath.Join(dir, "k"), m)
	require.NoError(t, err)
	f := &fixture{store: store, views: views, keys: keys, now: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.h = command.NewHandler(store, projections.NewWriteIndex(views), func() time.Time { return f.now })
	f.h.Personal = keys
	return f
}

// place hands a claim over with personal data; closed recalls it.
func (f *fixture) place(t *testing.T, creditor, customer string, closed bool) uuid.UUID {
	id := uuid.New()
	cmd := domain.Place{PlacementID: id, CreditorID: creditor, ClaimNumber: "CL-" + id.String()[:8], CustomerNumber: customer, Currency: "EUR",
		FeeRate: decimal.RequireFromString("0.1"), Invoices: []domain.Invoice{{InvoiceNumber: "I", Amount: domain.AmountOf(decimal.RequireFromString("10")), DueDate: "2024-01-01"}}}
	sealed, err := pii.Seal(f.keys, creditor, customer, id.String(), domain.TypePlacementOpened, []byte(`{"lastName":"X"}`))
	require.NoError(t, err)
	cmd.PersonalData = sealed
	req := command.Request{Actor: creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	_, err = f.h.Place(context.Background(), req, cmd)
	require.NoError(t, err)
	if closed {
		_, err = f.h.Execute(context.Background(), id, req, func(at time.Time) domain.Command { return domain.Recall{At: at} })
		require.NoError(t, err)
	}
	return id
}

func (f *fixture) catchUp(t *testing.T) {
	r := projections.NewRunner(f.store, f.views, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Once = true
	require.NoError(t, r.Run(context.Background()))
}

func TestRetentionErasesOnlyWhatIsDue(t *testing.T) {
	f := newFixture(t)
	f.place(t, "acme", "K-OLD", true)   // closed 2020-01-01: due after a year
	f.place(t, "acme", "K-MIXED", true) // … but with another claim still open
	f.place(t, "acme", "K-MIXED", false)
	f.place(t, "other", "K-OLD", false) // the same number at another creditor, open
	f.now = f.now.AddDate(0, 6, 0)
	f.place(t, "acme", "K-RECENT", true) // closed 2020-07-01
	f.catchUp(t)
	year := 365 * 24 * time.Hour

	due, err := retention.Due(f.views, f.keys, year, time.Date(2020, 12, 30, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Empty(t, due, "nothing closed a year ago yet")
	at := time.Date(2021, 1, 2, 0, 0, 0, 0, time.UTC)
	due, err = retention.Due(f.views, f.keys, year, at)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, "acme", due[0].CreditorID)
	assert.Equal(t, "K-OLD", due[0].CustomerNumber)

	erased, err := retention.RunOnce(context.Background(), f.h.Erase, f.views, f.keys, year, at)
	require.NoError(t, err)
	require.Len(t, erased, 1)
	has, err := f.keys.Has("acme", "K-OLD")
	require.NoError(t, err)
	assert.False(t, has)
	has, err = f.keys.Has("other", "K-OLD")
	require.NoError(t, err)
	assert.True(t, has, "another creditor's debtor with the same number is not touched")
	var rec journal.DebtorPersonalDataErased
	var meta journal.Metadata
	require.NoError(t, journal.ReadStream(context.Background(), f.store, journal.DebtorStream("acme", "K-OLD"), 0, func(e eventstore.RecordedEvent) error {
		rec, err = decode(e)
		meta, _ = journal.DecodeMetadata(e.Metadata)
		return err
	}))
	assert.Equal(t, journal.ErasureRetentionExpired, rec.Reason)
	assert.Equal(t, journal.ActorSystem, meta.Actor)

	// Run again: nothing more is due; a year after the recent one, it is.
	again, err := retention.RunOnce(context.Background(), f.h.Erase, f.views, f.keys, year, at)
	require.NoError(t, err)
	assert.Empty(t, again)
	later, err := retention.Due(f.views, f.keys, year, time.Date(2021, 7, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Len(t, later, 1)
	assert.Equal(t, "K-RECENT", later[0].CustomerNumber)
}

func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		name, in string
		want     time.Duration
	}{
		{"years", "10y", 3650 * day},
		{"days", "90d", 90 * day},
		{"hours", "2160h", 2160 * time.Hour},
		{"a hundred years, the longest", "100y", 36500 * day},
		{"a hundred years in days", "36500d", 36500 * day},
		{"a hundred years in hours", "876000h", 876000 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := retention.ParseRetention(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	for _, c := range []struct{ name, in, says string }{
		{"empty", "", "positive number"},
		{"zero", "0d", "positive number"},
		{"negative", "-1y", "positive number"},
		{"words", "ten years", "positive number"},
		{"weeks", "5w", "positive number"},
		{"negative hours", "-5h", "positive number"},
		{"101 years", "101y", "longest accepted, 100 years"},
		{"300 years, which overflowed to a negative duration", "300y", "longest accepted, 100 years"},
		{"years beyond any integer", "99999999999999999999999y", "longest accepted, 100 years"},
		{"a day more than 100 years", "36501d", "longest accepted, 100 years"},
		{"days that overflow", "200000d", "longest accepted, 100 years"},
		{"hours beyond 100 years", "876001h", "longest accepted, 100 years"},
		{"hours that overflow a duration", "3000000h", "longest accepted, 100 years"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := retention.ParseRetention(c.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func decode(e eventstore.RecordedEvent) (journal.DebtorPersonalDataErased, error) {
	var r journal.DebtorPersonalDataErased
	err := json.Unmarshal(e.Data, &r)
	return r, err
}

// TestReopenedIsNotDue: a placement paid in full and reopened by a payment
// reversal leaves the index of closed placements, so its debtor is not due.
func TestReopenedIsNotDue(t *testing.T) {
	f := newFixture(t)
	id := f.place(t, "acme", "K-RE", false)
	req := command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	_, err := f.h.Execute(context.Background(), id, req, func(at time.Time) domain.Command {
		return domain.ReceivePayment{PaymentNumber: "P-1", Amount: decimal.RequireFromString("10"), At: at}
	})
	require.NoError(t, err)
	f.catchUp(t)
	later := f.now.AddDate(2, 0, 0)
	due, err := retention.Due(f.views, f.keys, 365*24*time.Hour, later)
	require.NoError(t, err)
	require.Len(t, due, 1, "paid in full: due a year on")
	_, err = f.h.Execute(context.Background(), id, req, func(at time.Time) domain.Command {
		return domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, At: at}
	})
	require.NoError(t, err)
	f.catchUp(t)
	due, err = retention.Due(f.views, f.keys, 365*24*time.Hour, later)
	require.NoError(t, err)
	assert.Empty(t, due, "reopened: open again, not due")
}

// changeContact records a contact change of a placement, with new personal
// data sealed under the debtor's current key (a new one after an erasure).
func (f *fixture) changeContact(t *testing.T, creditor, customer string, id uuid.UUID) {
	change := uuid.New()
	sealed, err := pii.Seal(f.keys, creditor, customer, id.String(), pii.Context(domain.TypeDebtorContactChanged, change.String()), []byte(`{"lastName":"Y"}`))
	require.NoError(t, err)
	req := command.Request{Actor: creditor, ActorType: journal.ActorCreditor, RequestID: uuid.NewString()}
	_, err = f.h.Execute(context.Background(), id, req, func(at time.Time) domain.Command {
		return domain.ChangeDebtorContact{ChangeID: change, PersonalData: sealed, At: at}
	})
	require.NoError(t, err)
}

// TestReactorErasesAContactChangeAfterTheLastClosing: a running reactor
// looks at each closing once, when its retention passes; personal data a
// contact change brings after that (here after the debtor was erased) is a
// candidate of the reactor's next step too, not only of the next restart.
// A contact change on a debtor still open, or within its retention, is not.
func TestReactorErasesAContactChangeAfterTheLastClosing(t *testing.T) {
	f := newFixture(t)
	year := 365 * 24 * time.Hour
	closed := f.place(t, "acme", "K-LATE", true) // closed 2020-01-01
	open := f.place(t, "acme", "K-OPEN", false)
	recent := f.place(t, "acme", "K-RECENT", false)
	f.catchUp(t)
	var r retention.Reactor
	at := time.Date(2021, 1, 2, 0, 0, 0, 0, time.UTC)
	erased, err := r.Step(context.Background(), f.h.Erase, f.views, f.keys, year, at)
	require.NoError(t, err)
	require.Len(t, erased, 1)
	assert.Equal(t, "K-LATE", erased[0].CustomerNumber)

	f.now = at.Add(time.Hour)
	f.changeContact(t, "acme", "K-LATE", closed) // new data for a debtor closed over a year ago
	f.changeContact(t, "acme", "K-OPEN", open)
	_, err = f.h.Execute(context.Background(), recent, command.Request{Actor: "acme", ActorType: journal.ActorCreditor, RequestID: uuid.NewString()},
		func(at time.Time) domain.Command { return domain.Recall{At: at} })
	require.NoError(t, err)
	f.changeContact(t, "acme", "K-RECENT", recent) // closed a moment ago: within its retention
	f.catchUp(t)
	has, err := f.keys.Has("acme", "K-LATE")
	require.NoError(t, err)
	require.True(t, has, "the contact change made a new data key")

	erased, err = r.Step(context.Background(), f.h.Erase, f.views, f.keys, year, at.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, erased, 1, "the next step, without a restart")
	assert.Equal(t, "K-LATE", erased[0].CustomerNumber)
	has, err = f.keys.Has("acme", "K-LATE")
	require.NoError(t, err)
	assert.False(t, has)
	for _, kept := range []string{"K-OPEN", "K-RECENT"} {
		has, err = f.keys.Has("acme", kept)
		require.NoError(t, err)
		assert.True(t, has, kept)
	}
	again, err := r.Step(context.Background(), f.h.Erase, f.views, f.keys, year, at.Add(3*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, again, "each contact change is looked at once")
}
