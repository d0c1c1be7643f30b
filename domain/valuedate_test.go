package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

func TestValueDate(t *testing.T) {
	booked := time.Date(2024, 8, 7, 23, 30, 0, 0, time.FixedZone("CEST", 2*3600)) // 21:30 UTC
	for _, tc := range []struct {
		name  string
		event domain.Event
		want  string
	}{
		{"OKPaymentWithItsDate", domain.PaymentReceived{Date: "2024-08-01"}, "2024-08-01"},
		{"OKPaymentWithoutDateIsTheBookingDayInUTC", domain.PaymentReceived{}, "2024-08-07"},
		{"OKWaiver", domain.CreditWaiverIssued{Date: "2024-07-31"}, "2024-07-31"},
		{"OKReversalWithItsOwnDate", domain.PaymentReversed{Date: "2024-08-01", ValueDate: "2024-08-05"}, "2024-08-05"},
		{"OKReversalNeverTakesThePaymentsDate", domain.PaymentReversed{Date: "2024-08-01"}, "2024-08-07"},
		{"OKDocument", domain.AccountingDocumentIssued{Date: "2024-08-02"}, "2024-08-02"},
		{"OKRecallIsTheBookingDay", domain.PlacementRecalled{}, "2024-08-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, domain.ValueDate(tc.event, booked))
		})
	}
}

// docOf returns the accounting document among events.
func docOf(t *testing.T, events []domain.Event) domain.AccountingDocumentIssued {
	t.Helper()
	for _, e := range events {
		if d, ok := e.(domain.AccountingDocumentIssued); ok {
			return d
		}
	}
	require.FailNow(t, "no accounting document")
	return domain.AccountingDocumentIssued{}
}

func TestValueDatesOnCommands(t *testing.T) {
	placed := MustApply(t, domain.Placement{}, place())
	paid := MustApply(t, placed, domain.ReceivePayment{PaymentNumber: "P1", Amount: d("50"), At: t0})
	today, tomorrow := t0.Format(time.DateOnly), t0.AddDate(0, 0, 1).Format(time.DateOnly)
	waiver := func(date string) domain.Waiver {
		return domain.Waiver{InvoiceNumber: "I0417211448", ContractNumber: "166271782837", Date: date, Amount: d("10"), Currency: "EUR"}
	}
	for _, tc := range []struct {
		name    string
		p       domain.Placement
		c       domain.Command
		docDate string // the document's date, when decided
		field   string // the refusal's field, when refused
	}{
		{"OKPaymentDated", placed, domain.ReceivePayment{Amount: d("10"), Date: "2024-08-01", At: t0}, "2024-08-01", ""},
		{"OKPaymentDatedToday", placed, domain.ReceivePayment{Amount: d("10"), Date: today, At: t0}, today, ""},
		{"OKPaymentUndated", placed, domain.ReceivePayment{Amount: d("10"), At: t0}, today, ""},
		{"ErrPaymentInTheFuture", placed, domain.ReceivePayment{Amount: d("10"), Date: tomorrow, At: t0}, "", "date"},
		{"ErrPaymentDateMalformed", placed, domain.ReceivePayment{Amount: d("10"), Date: "2024-8-1", At: t0}, "", "date"},
		{"OKWaiverDated", placed, domain.PartialRecall{Waivers: []domain.Waiver{waiver("2024-07-30")}, At: t0}, "2024-07-30", ""},
		{"OKWaiversDocumentTakesTheLatest", placed, domain.PartialRecall{Waivers: []domain.Waiver{waiver("2024-07-30"), waiver("2024-08-02"), waiver("2024-07-01")}, At: t0}, "2024-08-02", ""},
		{"ErrWaiverInTheFuture", placed, domain.PartialRecall{Waivers: []domain.Waiver{waiver(tomorrow)}, At: t0}, "", "date"},
		{"ErrSecondWaiverInTheFuture", placed, domain.PartialRecall{Waivers: []domain.Waiver{waiver(today), waiver(tomorrow)}, At: t0}, "", "[1].date"},
		{"OKReversalDated", paid, domain.ReversePayment{PaymentNumber: "P1", Reason: domain.ReversalReturned, Date: "2024-08-03", At: t0}, "2024-08-03", ""},
		{"OKReversalUndated", paid, domain.ReversePayment{PaymentNumber: "P1", Reason: domain.ReversalReturned, At: t0}, today, ""},
		{"ErrReversalInTheFuture", paid, domain.ReversePayment{PaymentNumber: "P1", Reason: domain.ReversalReturned, Date: tomorrow, At: t0}, "", "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := domain.Decide(tc.p, tc.c)
			if tc.field != "" {
				require.Error(t, dec.Err)
				assert.Empty(t, dec.Events, "a refusal records nothing")
				e, ok := domain.AsError(dec.Err)
				require.True(t, ok)
				require.Len(t, e.Fields, 1)
				assert.Equal(t, tc.field, e.Fields[0].Field)
				return
			}
			require.NoError(t, dec.Err)
			assert.Equal(t, tc.docDate, docOf(t, dec.Events).Date)
		})
	}
}

func TestReversalKeepsItsOwnValueDate(t *testing.T) {
	placed := MustApply(t, domain.Placement{}, place())
	paid := MustApply(t, placed, domain.ReceivePayment{PaymentNumber: "P1", Amount: d("50"), Date: "2024-08-01", At: t0})
	dec := domain.Decide(paid, domain.ReversePayment{PaymentNumber: "P1", Reason: domain.ReversalReturned, Date: "2024-08-05", At: t0})
	require.NoError(t, dec.Err)
	rev, ok := dec.Events[0].(domain.PaymentReversed)
	require.True(t, ok)
	assert.Equal(t, "2024-08-01", rev.Date, "the payment's date")
	assert.Equal(t, "2024-08-05", rev.ValueDate)
	assert.Equal(t, "2024-08-05", domain.ValueDate(rev, t0))
}
