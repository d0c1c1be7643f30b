package reconcile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
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
	"github.com/collections-ledger/ledger/journal"
	"github.com/collections-ledger/ledger/projections"
	"github.com/collections-ledger/ledger/reconcile"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// report brings views of the store up to date and reconciles creditor over
// a window of booking time.
func report(t *testing.T, s eventstore.Store, creditor string, from, to time.Time) reconcile.Report {
	t.Helper()
	return reportOn(t, s, creditor, reconcile.BasisBooking, from, to)
}

// reportOn brings views of the store up to date and reconciles creditor on
// a basis.
func reportOn(t *testing.T, s eventstore.Store, creditor, basis string, from, to time.Time) reconcile.Report {
	t.Helper()
	v, err := projections.OpenViews(filepath.Join(t.TempDir(), "views"), projections.ViewsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer v.Close()
	r := projections.NewRunner(s, v, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Once = true
	require.NoError(t, r.Run(context.Background()))
	rep, err := v.Reconciliation(creditor, basis, from, to)
	require.NoError(t, err)
	return rep
}

// TestTotalsEqualSumsOverEvents is the property: over random command
// sequences, for several seeds, the report's totals equal the sums over the
// events (and the lines add up to the totals).
func TestTotalsEqualSumsOverEvents(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			s, err := embedded.Open(t.TempDir(), embedded.Options{})
			require.NoError(t, err)
			defer s.Close()
			h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
			rng := rand.New(rand.NewPCG(seed, 99))
			ctx := context.Background()
			var ids []uuid.UUID
			currencies := []string{"EUR", "USD", "JPY"}
			for i := range 12 {
				cur := currencies[rng.IntN(len(currencies))]
				creditor := []string{"acme", "other"}[rng.IntN(2)]
				res, err := h.Place(ctx, command.Request{Actor: creditor, RequestID: "r"}, domain.Place{PlacementID: uuid.New(), CreditorID: creditor,
					ClaimNumber: fmt.Sprintf("CL-%d", i), CustomerNumber: "K", Currency: cur, FeeRate: decimal.New(int64(rng.IntN(3000)), -4),
					Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(d("1000")), DueDate: "2024-01-01"}}})
				require.NoError(t, err)
				ids = append(ids, res.Placement.ID)
			}
			for range 200 {
				which := rng.IntN(len(ids))
				id := ids[which]
				_, _ = h.Execute(ctx, id, command.Request{Actor: "x", RequestID: "r"}, func(at time.Time) domain.Command {
					amount := decimal.New(int64(rng.IntN(9000)+1), -2)
					switch rng.IntN(10) {
					case 8, 9: // a payment's number is its document's: some of these are payments
						return domain.ReversePayment{PaymentNumber: fmt.Sprintf("CL-%d-AD%03d", which, 1+rng.IntN(6)), Reason: domain.ReversalReturned, At: at}
					case 0:
						return domain.Recall{At: at}
					case 1, 2:
						return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "A", ContractNumber: "C", Date: "2024-01-01", Amount: amount.Truncate(0).Add(d("1")), Currency: "EUR"}}, At: at}
					default:
						return domain.ReceivePayment{Amount: amount.Truncate(0).Add(d("1")), At: at}
					}
				})
			}
			from, to := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
			r := report(t, s, "acme", from, to)

			// The sums over the events, computed the naive way.
			want := map[string]reconcile.Amounts{}
			for _, id := range ids {
				events, err := journal.ReadPlacement(ctx, s, id)
				require.NoError(t, err)
				opened := events[0].Event.(domain.PlacementOpened)
				if opened.CreditorID != "acme" {
					continue
				}
				a := want[opened.Currency]
				for _, se := range events {
					switch e := se.Event.(type) {
					case domain.PaymentReceived:
						a.Payments++
						a.Recovered = a.Recovered.Add(e.Amount.Decimal())
					case domain.PaymentReversed:
						a.Reversals++
						a.Recovered = a.Recovered.Sub(e.Amount.Decimal())
						a.Reversed = a.Reversed.Add(e.Amount.Decimal())
						if e.ReturnedTo == domain.ReturnedToRecalled { // back to the bucket that closed the claim
							a.Recalled = a.Recalled.Add(e.Amount.Decimal())
						}
					case domain.CreditWaiverIssued:
						a.Waived = a.Waived.Add(e.Amount.Decimal())
					case domain.PlacementRecalled:
						a.Recalled = a.Recalled.Add(e.OutstandingAmount)
					}
				}
				var p domain.Placement
				for _, se := range events {
					p = domain.Evolve(p, se.Event)
				}
				a.Fees = a.Fees.Add(p.Fee.Decimal()) // over all time, the fees add up to each placement's fee
				want[opened.Currency] = a
			}
			reversals := 0
			for _, w := range want {
				reversals += w.Reversals
			}
			require.Positive(t, reversals, "the sequence reversed some of acme's payments")
			for cur, w := range want {
				if w.Payments == 0 && w.Waived.IsZero() && w.Recalled.IsZero() {
					continue
				}
				got := r.Totals[cur]
				assert.Equal(t, w.Payments, got.Payments, cur)
				assert.Equal(t, w.Reversals, got.Reversals, cur)
				assert.True(t, w.Reversed.Equal(got.Reversed), "%s reversed: %s vs %s", cur, w.Reversed, got.Reversed)
				assert.True(t, w.Recovered.Equal(got.Recovered), "%s recovered: %s vs %s", cur, w.Recovered, got.Recovered)
				assert.True(t, w.Fees.Equal(got.Fees), "%s fees: %s vs %s", cur, w.Fees, got.Fees)
				assert.True(t, w.Recovered.Sub(w.Fees).Equal(got.NetToCreditor), "%s net", cur)
				assert.True(t, w.Waived.Equal(got.Waived), "%s waived", cur)
				assert.True(t, w.Recalled.Equal(got.Recalled), "%s recalled", cur)
			}
			sum := map[string]reconcile.Amounts{}
			for _, l := range r.Lines {
				a := sum[l.Currency]
				a.Payments += l.Payments
				a.Recovered = a.Recovered.Add(l.Recovered)
				a.Fees = a.Fees.Add(l.Fees)
				sum[l.Currency] = a
			}
			for cur, a := range sum {
				assert.True(t, a.Recovered.Equal(r.Totals[cur].Recovered) && a.Fees.Equal(r.Totals[cur].Fees) && a.Payments == r.Totals[cur].Payments, "lines add up to totals")
			}
		})
	}
}

func TestWindow(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	clock := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), func() time.Time { return clock })
	ctx := context.Background()
	res, err := h.Place(ctx, command.Request{Actor: "acme", RequestID: "r"}, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-W",
		CustomerNumber: "K", Currency: "EUR", FeeRate: d("0.2"), Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(d("100")), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	pay := func(amount string) {
		_, err := h.Execute(ctx, res.Placement.ID, command.Request{Actor: "acme", RequestID: "r"}, func(at time.Time) domain.Command {
			return domain.ReceivePayment{Amount: d(amount), At: at}
		})
		require.NoError(t, err)
	}
	pay("10.03") // fee 2.006 -> 2.01
	clock = clock.AddDate(0, 1, 0)
	pay("10.03") // fee total 4.012 -> 4.01: this payment's fee is 2.00
	r := report(t, s, "acme", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	eur := r.Totals["EUR"]
	assert.Equal(t, 1, eur.Payments)
	assert.Equal(t, "10.03", eur.Recovered.String())
	assert.Equal(t, "2", eur.Fees.String(), "the fee the second payment added, from the rounded totals")
	assert.Equal(t, "8.03", eur.NetToCreditor.String())
	require.Len(t, r.Payments, 1)
	assert.Equal(t, "2024-04-01", r.Payments[0].Date)
	none := report(t, s, "other", time.Time{}, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	assert.Empty(t, none.Lines, "another creditor's placements are not in the report")
}

func TestMatchEveryKind(t *testing.T) {
	ledger := []reconcile.Payment{
		{Date: "2024-04-01", ClaimNumber: "CL-1", PaymentNumber: "P-1", Amount: d("10"), Currency: "EUR"}, // matched
		{Date: "2024-04-02", ClaimNumber: "CL-1", PaymentNumber: "P-2", Amount: d("20"), Currency: "EUR"}, // amount mismatch
		{Date: "2024-04-03", ClaimNumber: "CL-2", PaymentNumber: "", Amount: d("30"), Currency: "EUR"},    // matched by date and amount
		{Date: "2024-04-04", ClaimNumber: "CL-3", PaymentNumber: "P-9", Amount: d("40"), Currency: "EUR"}, // missing from statement
		{Date: "2024-04-05", ClaimNumber: "CL-4", PaymentNumber: "P-5", Amount: d("50"), Currency: "EUR"}, // currency mismatch
	}
	stmt, err := reconcile.ParseStatement(strings.NewReader("date,claimNumber,paymentNumber,amount,currency\n" +
		"2024-04-01,CL-1,P-1,10.00,EUR\n" +
		"2024-04-02,CL-1,P-2,21.00,EUR\n" +
		"2024-04-03,CL-2,,30,EUR\n" +
		"2024-04-06,CL-5,P-7,70,EUR\n" +
		"2024-04-05,CL-4,P-5,50,USD\n"))
	require.NoError(t, err)
	m := reconcile.Match(ledger, stmt)
	assert.Len(t, m.Matched, 2)
	require.Len(t, m.AmountMismatches, 2)
	assert.Equal(t, "P-2", m.AmountMismatches[0].Ledger.PaymentNumber)
	assert.Equal(t, "P-5", m.AmountMismatches[1].Ledger.PaymentNumber)
	require.Len(t, m.MissingFromLedger, 1)
	assert.Equal(t, 5, m.MissingFromLedger[0].Line)
	require.Len(t, m.MissingFromStatement, 1)
	assert.Equal(t, "P-9", m.MissingFromStatement[0].PaymentNumber)
	assert.False(t, m.Clean())
	assert.True(t, reconcile.Match(ledger[:1], stmt[:1]).Clean())
}

func TestMatchReversals(t *testing.T) {
	// A payment reversed in the window: both lines in the ledger, netting to
	// zero; the statement lists the reversal as a negative line.
	rep := reconcile.FromEntries("acme", reconcile.BasisBooking, time.Time{}, time.Now(), []reconcile.Entry{
		{Kind: reconcile.KindPayment, ClaimNumber: "CL-1", Currency: "EUR", PaymentNumber: "P-1", Moves: reconcile.Moves{Collected: d("10"), Fees: d("2")}, Position: 3, Hash: "aa",
			OccurredAt: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)},
		{Kind: reconcile.KindReversal, ClaimNumber: "CL-1", Currency: "EUR", PaymentNumber: "P-1", Moves: reconcile.Moves{Collected: d("-10"), Fees: d("-2")}, Position: 7, Hash: "bb",
			OccurredAt: time.Date(2024, 4, 2, 0, 0, 0, 0, time.UTC)},
	})
	eur := rep.Totals["EUR"]
	assert.Equal(t, 1, eur.Payments)
	assert.Equal(t, 1, eur.Reversals)
	assert.True(t, eur.Recovered.IsZero() && eur.Fees.IsZero() && eur.NetToCreditor.IsZero(), "%+v", eur)
	require.Len(t, rep.Payments, 2)
	assert.Equal(t, "-10", rep.Payments[1].Amount.String())
	assert.Equal(t, []uint64{3, 7}, rep.Lines[0].Positions)
	stmt, err := reconcile.ParseStatement(strings.NewReader("date,claimNumber,paymentNumber,amount,currency\n" +
		"2024-04-02,CL-1,P-1,-10.00,EUR\n" +
		"2024-04-01,CL-1,P-1,10.00,EUR\n"))
	require.NoError(t, err)
	m := reconcile.Match(rep.Payments, stmt)
	assert.True(t, m.Clean(), "%+v", m)
	assert.Len(t, m.Matched, 2)
	// A statement that leaves the reversal out is told so.
	m = reconcile.Match(rep.Payments, stmt[1:])
	require.Len(t, m.MissingFromStatement, 1)
	assert.Equal(t, uint64(7), m.MissingFromStatement[0].Position)
}

func TestErrStatement(t *testing.T) {
	for name, tc := range map[string]struct{ csv, want string }{
		"ErrEmpty":       {"", "empty"},
		"ErrNoColumn":    {"date,claimNumber,amount,currency\n", `no "paymentNumber" column`},
		"ErrBadDate":     {"date,claimNumber,paymentNumber,amount,currency\n2024-13-01,CL,P,1,EUR\n", "line 2, column date"},
		"ErrBadAmount":   {"date,claimNumber,paymentNumber,amount,currency\n2024-01-01,CL,P,1.001,EUR\n", "line 2, column amount"},
		"ErrBadCurrency": {"date,claimNumber,paymentNumber,amount,currency\n2024-01-01,CL,P,1,XXX\n", "line 2, column currency"},
		"ErrBadClaim":    {"date,claimNumber,paymentNumber,amount,currency\n2024-01-01,,P,1,EUR\n", "line 2, column claimNumber"},
		"ErrQuote":       {"date,claimNumber,paymentNumber,amount,currency\n\"2024-01-01,CL,P,1,EUR\n", "line 2"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := reconcile.ParseStatement(strings.NewReader(tc.csv))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func FuzzParseStatement(f *testing.F) {
	f.Add("date,claimNumber,paymentNumber,amount,currency\n2024-04-01,CL-1,P-1,10.00,EUR\n")
	f.Add("currency,amount,paymentNumber,claimNumber,date\nEUR,1,,CL,2024-01-01\n")
	f.Add("\ufeffdate,claimNumber,paymentNumber,amount,currency\n")
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := reconcile.ParseStatement(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, l := range lines {
			require.True(t, l.Amount.IsPositive() || l.Amount.IsZero())
			_, ok := domain.MinorUnits(l.Currency)
			require.True(t, ok)
		}
	})
}

func TestSeriesAddsUpToTheTotals(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2024, 5, day, hour, 0, 0, 0, time.UTC) }
	entries := []reconcile.Entry{
		{Kind: reconcile.KindPayment, Currency: "EUR", Moves: reconcile.Moves{Collected: d("10"), Fees: d("2")}, Position: 1, OccurredAt: at(1, 23)},
		{Kind: reconcile.KindPayment, Currency: "EUR", Moves: reconcile.Moves{Collected: d("5"), Fees: d("1")}, Position: 2, OccurredAt: at(3, 0)},
		{Kind: reconcile.KindReversal, Currency: "EUR", Moves: reconcile.Moves{Collected: d("-10"), Fees: d("-2")}, Position: 3, OccurredAt: at(3, 12)},
		{Kind: reconcile.KindWaiver, Currency: "EUR", Moves: reconcile.Moves{Waived: d("7")}, Position: 4, OccurredAt: at(4, 9)},
		{Kind: reconcile.KindPayment, Placement: uuid.New(), Currency: "USD", Moves: reconcile.Moves{Collected: d("99"), Fees: d("9")}, Position: 5, OccurredAt: at(2, 9)},
	}
	r := reconcile.FromEntries("acme", reconcile.BasisBooking, at(1, 0), at(5, 0), entries)
	days := reconcile.Series(r, "EUR", false)
	require.Len(t, days, 4)
	assert.Equal(t, []string{"2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"}, []string{days[0].Label, days[1].Label, days[2].Label, days[3].Label})
	assert.Equal(t, "10", days[0].Recovered.String())
	assert.True(t, days[1].Recovered.IsZero(), "USD is another series")
	assert.Equal(t, "-5", days[2].Recovered.String(), "a day can take back more than it brought")
	assert.Equal(t, "7", days[3].Waived.String())
	sum := reconcile.Amounts{Recovered: d("0"), Fees: d("0"), Waived: d("0")}
	for _, b := range days {
		sum.Recovered, sum.Fees, sum.Waived = sum.Recovered.Add(b.Recovered), sum.Fees.Add(b.Fees), sum.Waived.Add(b.Waived)
	}
	total := r.Totals["EUR"]
	assert.True(t, sum.Recovered.Equal(total.Recovered) && sum.Fees.Equal(total.Fees) && sum.Waived.Equal(total.Waived))
	months := reconcile.Series(r, "EUR", true)
	require.Len(t, months, 1)
	assert.Equal(t, "2024-05", months[0].Label)
	assert.True(t, months[0].Recovered.Equal(total.Recovered))
	assert.Equal(t, 4, reconcile.Periods(at(1, 0), at(4, 5), false))
	assert.Equal(t, 13, reconcile.Periods(at(1, 0), at(1, 0).AddDate(1, 0, 0), true))
}

// TestReportSelectsByValueDateOrBookingTime: a payment dated (value date)
// 2024-08-01, its reversal dated 2024-08-03 and a waiver dated 2024-08-02,
// all booked today, are in a value-basis window of their value dates and a
// booking-basis window of today, and neither in the other's; entries carry
// both dates, and statement matching goes by value date.
func TestReportSelectsByValueDateOrBookingTime(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	ctx := context.Background()
	res, err := h.Place(ctx, command.Request{Actor: "acme", RequestID: "r"}, domain.Place{PlacementID: uuid.New(), CreditorID: "acme",
		ClaimNumber: "VD-1", CustomerNumber: "K", Currency: "EUR", FeeRate: d("0.1"),
		Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(d("1000")), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	id := res.Placement.ID
	for _, c := range []func(at time.Time) domain.Command{
		func(at time.Time) domain.Command {
			return domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("100"), Date: "2024-08-01", At: at}
		},
		func(at time.Time) domain.Command {
			return domain.PartialRecall{Waivers: []domain.Waiver{{InvoiceNumber: "A", ContractNumber: "C", Date: "2024-08-02", Amount: d("5"), Currency: "EUR"}}, At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReversePayment{PaymentNumber: "P-1", Reason: domain.ReversalReturned, Date: "2024-08-03", At: at}
		},
	} {
		_, err := h.Execute(ctx, id, command.Request{Actor: "acme", RequestID: "r"}, c)
		require.NoError(t, err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(s string) time.Time { t, _ := domain.ParseDate(s); return t }
	kinds := func(r reconcile.Report) []string {
		var out []string
		for _, e := range r.Entries {
			out = append(out, e.Kind+" "+e.ValueDate)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		basis    string
		from, to time.Time
		want     []string
	}{
		{"OKValueFirstDay", reconcile.BasisValue, day("2024-08-01"), day("2024-08-02"), []string{"payment 2024-08-01"}},
		{"OKValueAllThree", reconcile.BasisValue, day("2024-08-01"), day("2024-08-04"), []string{"payment 2024-08-01", "waiver 2024-08-02", "reversal 2024-08-03"}},
		{"OKValueNotToday", reconcile.BasisValue, today, today.AddDate(0, 0, 1), nil},
		{"OKBookingToday", reconcile.BasisBooking, today, today.AddDate(0, 0, 1), []string{"payment 2024-08-01", "waiver 2024-08-02", "reversal 2024-08-03"}},
		{"OKBookingNotOnValueDates", reconcile.BasisBooking, day("2024-08-01"), day("2024-08-04"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := reportOn(t, s, "acme", tc.basis, tc.from, tc.to)
			assert.Equal(t, tc.want, kinds(r))
			assert.Equal(t, tc.basis, r.View().Basis)
		})
	}
	r := reportOn(t, s, "acme", reconcile.BasisValue, day("2024-08-01"), day("2024-08-04"))
	v := r.View()
	assert.Equal(t, "2024-08-01", v.Entries[0].ValueDate)
	assert.Equal(t, time.Now().UTC().Format(time.DateOnly), v.Entries[0].Date, "date stays the booking day")
	assert.NotEmpty(t, v.Entries[0].BookedAt)
	require.Len(t, r.Payments, 2)
	assert.Equal(t, []string{"2024-08-01", "2024-08-03"}, []string{r.Payments[0].Date, r.Payments[1].Date}, "statements match by value date")
	days := reconcile.Series(r, "EUR", false)
	require.Len(t, days, 3)
	assert.Equal(t, "100", days[0].Recovered.String())
	assert.Equal(t, "5", days[1].Waived.String())
	assert.Equal(t, "100", days[2].Reversed.String())
	var csv strings.Builder
	require.NoError(t, r.WriteCSV(&csv))
	assert.Contains(t, strings.SplitN(csv.String(), "\n", 2)[0], "valueDate,bookedAt")
	assert.Contains(t, csv.String(), ",2024-08-01,")
}

// TestAgencyPaymentsAndWriteOffs: what the debtor paid the agency is
// recovered and shown as agencyCollected, off the creditor's statement; a
// write-off and a waiver's cancellation have buckets of their own, and
// money taken back on a written-off claim goes back to written off, so the
// buckets still add up to what was placed.
func TestAgencyPaymentsAndWriteOffs(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	require.NoError(t, err)
	defer s.Close()
	h := command.NewHandler(s, projections.NewIdempotencyIndex(), nil)
	ctx := context.Background()
	req := command.Request{Actor: "acme", RequestID: "r"}
	res, err := h.Place(ctx, req, domain.Place{PlacementID: uuid.New(), CreditorID: "acme", ClaimNumber: "CL-1", CustomerNumber: "K", Currency: "EUR",
		FeeRate: d("0.2"), Invoices: []domain.Invoice{{InvoiceNumber: "A", ContractNumber: "C", Amount: domain.AmountOf(d("400")), DueDate: "2024-01-01"}}})
	require.NoError(t, err)
	for _, c := range []func(at time.Time) domain.Command{
		func(at time.Time) domain.Command {
			return domain.ReceiveAgencyPayment{PaymentNumber: "AG-1", Amount: d("100"), At: at}
		},
		func(at time.Time) domain.Command {
			return domain.ReceivePayment{PaymentNumber: "P-1", Amount: d("50"), At: at}
		},
		func(at time.Time) domain.Command {
			return domain.PartialRecall{Waivers: []domain.Waiver{{CreditWaiverNumber: "W-1", InvoiceNumber: "A", ContractNumber: "C",
				Date: "2024-01-01", Amount: d("40"), Currency: "EUR"}}, At: at}
		},
		func(at time.Time) domain.Command {
			return domain.CancelDocument{ReferenceNumber: "W-1", Amount: d("40"), Currency: "EUR", At: at}
		},
		func(at time.Time) domain.Command { return domain.WriteOff{Reason: domain.WriteOffInsolvency, At: at} },
		func(at time.Time) domain.Command {
			return domain.CancelDocument{ReferenceNumber: "P-1", Amount: d("50"), Currency: "EUR", At: at}
		},
	} {
		_, err := h.Execute(ctx, res.Placement.ID, req, c)
		require.NoError(t, err)
	}
	r := report(t, s, "acme", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	eur := r.Total("EUR")
	assert.Equal(t, 2, eur.Payments)
	assert.Equal(t, 1, eur.Reversals)
	assert.True(t, eur.Recovered.Equal(d("100")), "recovered %s", eur.Recovered)
	assert.True(t, eur.AgencyCollected.Equal(d("100")), "agency collected %s", eur.AgencyCollected)
	assert.True(t, eur.Waived.IsZero(), "waived %s", eur.Waived)
	assert.True(t, eur.WrittenOff.Equal(d("300")), "written off %s", eur.WrittenOff)
	assert.True(t, eur.Recovered.Add(eur.Waived).Add(eur.WrittenOff).Add(eur.Recalled).Equal(d("400")), "every bucket adds up to what was placed")
	require.Len(t, r.Payments, 2, "the creditor's statement has its direct payment and its reversal, not the agency's")
	assert.Equal(t, "P-1", r.Payments[0].PaymentNumber)
	var csvText strings.Builder
	require.NoError(t, r.WriteCSV(&csvText))
	assert.Contains(t, csvText.String(), "position,hash,valueDate,bookedAt,agencyCollected,writtenOff\n")
	assert.Contains(t, csvText.String(), "\nTOTAL,,,EUR,2,100.00,20.00,80.00,0.00,0.00,1,50.00,,,,,,,,100.00,300.00\n")
}
