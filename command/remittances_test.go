package command_test

import (
	"context"
	"errors"
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
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
)

var _ command.RemittanceViews = projections.Settlements{}

// instance is one ledger instance over a shared store: its handler and
// its own views, kept up to date by its runner.
type instance struct {
	h     *command.Handler
	views projections.Settlements
}

func mustInstance(t *testing.T, s eventstore.Store) instance {
	t.Helper()
	v, err := projections.OpenViews(t.TempDir(), projections.ViewsOptions{})
	require.NoError(t, err)
	r := projections.NewRunner(s, v, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = v.Close() })
	return instance{h: command.NewHandler(s, projections.NewIdempotencyIndex(), nil), views: r.Settlements()}
}

func agencyReq() command.Request {
	return command.Request{Actor: "agency", ActorType: journal.ActorAgency, RequestID: uuid.NewString()}
}

// mustCollect places a claim of 100 EUR (fee rate 0.2) and records the
// agency payments (and a direct payment of 10, whose fee is not netted).
func mustCollect(t *testing.T, in instance, claim string, agency ...int64) uuid.UUID {
	t.Helper()
	res, err := in.h.Place(context.Background(), req(), placeCmd(claim))
	require.NoError(t, err)
	id := res.Placement.ID
	for i, amount := range agency {
		_, err := in.h.Execute(context.Background(), id, agencyReq(), func(at time.Time) domain.Command {
			return domain.ReceiveAgencyPayment{PaymentNumber: claim + "-A" + string(rune('0'+i)), Amount: decimal.NewFromInt(amount), At: at}
		})
		require.NoError(t, err)
	}
	_, err = in.h.Execute(context.Background(), id, req(), func(at time.Time) domain.Command {
		return domain.ReceivePayment{PaymentNumber: claim + "-D", Amount: decimal.NewFromInt(10), At: at}
	})
	require.NoError(t, err)
	return id
}

func today() string { return time.Now().UTC().Format(time.DateOnly) }

func remit(in instance, number, currency, to string) (journal.Remittance, bool, error) {
	return in.h.IssueRemittance(context.Background(), agencyReq(), in.views,
		command.RemitRequest{CreditorID: "acme", Currency: currency, To: to, RemittanceNumber: number})
}

func TestIssueRemittance(t *testing.T) {
	s := mustStore(t)
	in := mustInstance(t, s)
	mustCollect(t, in, "R-1", 50)

	t.Run("OK", func(t *testing.T) {
		r, replayed, err := remit(in, "RN-1", "EUR", today())
		require.NoError(t, err)
		assert.False(t, replayed)
		assert.Equal(t, int64(5000), r.Collected)
		assert.Equal(t, int64(1000), r.Fees) // 20% of 50; the direct payment's fee is invoiced apart
		assert.Equal(t, int64(4000), r.Amount)
		require.Len(t, r.Items, 1)
		assert.NotEmpty(t, r.Items[0].DocumentNumber, "the payment's accounting document")
		assert.Equal(t, "R-1", r.Items[0].ClaimNumber)
	})
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	mustCollect(t, in, "R-2", 20) // more to remit: a replay still answers the first remittance
	head2, err := s.Head(context.Background())
	require.NoError(t, err)
	require.Greater(t, head2, head)

	t.Run("OK_replay", func(t *testing.T) {
		r, replayed, err := remit(in, "RN-1", "EUR", today())
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, int64(4000), r.Amount)
		assert.Equal(t, head2, mustHead(t, s))
	})
	refusals := map[string]struct {
		number, currency, to string
		creditor             string
		want                 error
		code                 string
	}{
		"Err_number_reused":   {number: "RN-1", currency: "EUR", to: "2024-01-01", want: domain.ErrRemittanceNumberReused},
		"Err_nothing_in_JPY":  {number: "RN-9", currency: "JPY", to: today(), want: domain.ErrNothingToRemit},
		"Err_nothing_by_then": {number: "RN-9", currency: "EUR", to: "2020-01-01", want: domain.ErrNothingToRemit},
		"Err_future":          {number: "RN-9", currency: "EUR", to: time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly), code: "future_value_date"},
		"Err_currency":        {number: "RN-9", currency: "XXX", to: today(), code: "validation_failed"},
		"Err_bad_date":        {number: "RN-9", currency: "EUR", to: "2024-13-01", code: "validation_failed"},
		"Err_no_number":       {number: "", currency: "EUR", to: today(), code: "validation_failed"},
		"Err_unknown":         {number: "RN-9", currency: "EUR", to: today(), creditor: "nobody", want: domain.ErrCreditorNotFound},
	}
	for name, tc := range refusals {
		t.Run(name, func(t *testing.T) {
			creditor := "acme"
			if tc.creditor != "" {
				creditor = tc.creditor
			}
			_, _, err := in.h.IssueRemittance(context.Background(), agencyReq(), in.views,
				command.RemitRequest{CreditorID: creditor, Currency: tc.currency, To: tc.to, RemittanceNumber: tc.number})
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
			} else {
				de, ok := domain.AsError(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, tc.code, de.Code)
			}
			assert.Equal(t, head2, mustHead(t, s), "nothing appended")
		})
	}
	t.Run("OK_second", func(t *testing.T) {
		r, _, err := remit(in, "RN-2", "EUR", today())
		require.NoError(t, err)
		assert.Equal(t, int64(1600), r.Amount)
		_, _, err = remit(in, "RN-3", "EUR", today())
		assert.ErrorIs(t, err, domain.ErrNothingToRemit, "every item is settled")
	})
}

func mustHead(t *testing.T, s eventstore.Store) eventstore.Position {
	t.Helper()
	head, err := s.Head(context.Background())
	require.NoError(t, err)
	return head
}

// TestConcurrentRemittancesSettleOnce: two instances, each with its own
// views, issue remittances under different numbers for the same creditor
// at once, again and again; no item is settled twice, so the amounts add up
// to what one remittance would have paid.
func TestConcurrentRemittancesSettleOnce(t *testing.T) {
	s := mustStore(t)
	a, b := mustInstance(t, s), mustInstance(t, s)
	var want int64
	for i := range 4 {
		mustCollect(t, a, "C-"+string(rune('0'+i)), 10, 15)
		want += 2000 // 25 collected, 5 of fees
	}
	var mu sync.Mutex
	var total int64
	seen := map[uint64]int{}
	var wg sync.WaitGroup
	for i, in := range []instance{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := remit(in, "P-"+string(rune('0'+i)), "EUR", today())
			if errors.Is(err, domain.ErrNothingToRemit) {
				return
			}
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			total += r.Amount
			for _, it := range r.Items {
				seen[it.Position]++
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, want, total)
	assert.Len(t, seen, 8)
	for pos, n := range seen {
		assert.Equal(t, 1, n, "item at %d settled %d times", pos, n)
	}
}

// TestRemittanceInTheViews: a remittance's postings join the creditor's
// trial balance, which still totals zero, agency/payable is emptied of what
// it settled, and views rebuilt from the log equal the live ones.
func TestRemittanceInTheViews(t *testing.T) {
	s := mustStore(t)
	in := mustInstance(t, s)
	id := mustCollect(t, in, "V-1", 30, 20)
	_, _, err := remit(in, "RV-1", "EUR", today())
	require.NoError(t, err)
	_, err = in.h.Execute(context.Background(), id, agencyReq(), func(at time.Time) domain.Command {
		return domain.ReversePayment{PaymentNumber: "V-1-A1", Reason: "RETURNED", At: at}
	})
	require.NoError(t, err)
	require.NoError(t, in.views.WaitFor(context.Background(), mustHead(t, s)))

	tb, err := in.views.TrialBalance("acme", "EUR", today(), projections.BasisValue)
	require.NoError(t, err)
	require.Len(t, tb.Totals, 1)
	assert.True(t, decimal.Decimal(tb.Totals[0].TotalDebit).Equal(decimal.Decimal(tb.Totals[0].TotalCredit)))
	balance := map[string]string{}
	for _, l := range tb.Lines {
		balance[l.Account] = decimal.Decimal(l.Balance).String()
	}
	assert.Equal(t, "40", balance[domain.AccountRemitted]) // 50 collected, 10 of fees
	assert.Equal(t, "-20", balance[domain.AccountAgencyPayable], "the reversal after the remittance")

	figures, err := in.views.RemittanceFiguresOf("acme", "EUR", today())
	require.NoError(t, err)
	assert.Equal(t, "-16", figures.Owed.String(), "the reversal of 20 less its fee of 4 is owed back")
	assert.Equal(t, "40", figures.Remitted.String())
	_, _, err = remit(in, "RV-2", "EUR", today())
	assert.ErrorIs(t, err, domain.ErrNothingToRemit)

	rebuilt, err := projections.OpenViews(t.TempDir(), projections.ViewsOptions{})
	require.NoError(t, err)
	defer rebuilt.Close()
	r := projections.NewRunner(s, rebuilt, nil)
	r.Once = true
	require.NoError(t, r.Run(context.Background()))
	assert.Equal(t, tables(t, in.views.Views), tables(t, rebuilt))
}

func tables(t *testing.T, v *projections.Views) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, v.Tables(func(table byte, k, val []byte) error {
		if table == 'u' || table == 'z' || table == 'a' || table == 't' {
			out[string(table)+string(k)] = string(val)
		}
		return nil
	}))
	return out
}
