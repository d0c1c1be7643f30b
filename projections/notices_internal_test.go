package projections

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/collections-ledger/ledger/domain"
	"github.com/collections-ledger/ledger/journal"
)

func TestNotices(t *testing.T) {
	all := journal.WebhookConfigured{Events: []string{NoticePaymentReceived, NoticePaymentReversed, NoticeCreditWaiverIssued,
		NoticeClaimClosed, NoticeClaimReopened, NoticePlanAgreed, NoticePlanCompleted, NoticePlanBroken, NoticePlanCancelled}}
	p := domain.Placement{ClaimNumber: "CL-1", Currency: "JPY", Recovered: domain.AmountOf(decimal.NewFromInt(500)), Fee: domain.AmountOf(decimal.NewFromInt(100))}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	amt := decimal.RequireFromString
	cases := []struct {
		name string
		cfg  journal.WebhookConfigured
		e    domain.Event
		want []Notice
	}{
		{"default: none", journal.WebhookConfigured{}, domain.PlacementRecalled{RecalledAt: at}, nil},
		{"not subscribed", journal.WebhookConfigured{Events: []string{NoticeClaimClosed}}, domain.PaymentPlanCancelled{PlanNumber: "PL-1"}, nil},
		{"recall closes", all, domain.PlacementRecalled{RecalledAt: at, OutstandingAmount: amt("1200")},
			[]Notice{{Type: NoticeClaimClosed, NoticeData: NoticeData{Reason: "recalled", Currency: "JPY", RecoveredAmount: "500", FeeAmount: "100", OutstandingAmount: "1200"}}}},
		{"payment in full closes", all, domain.PlacementPaid{PaidAt: at},
			[]Notice{{Type: NoticeClaimClosed, NoticeData: NoticeData{Reason: "paid", Currency: "JPY", RecoveredAmount: "500", FeeAmount: "100"}}}},
		{"plan agreed", all, domain.PaymentPlanAgreed{PlanNumber: "PL-1", Total: amt("1700"), Currency: "JPY"},
			[]Notice{{Type: NoticePlanAgreed, NoticeData: NoticeData{PlanNumber: "PL-1", Currency: "JPY", Amount: "1700"}}}},
		{"plan broken", all, domain.PaymentPlanBroken{PlanNumber: "PL-1", DueDate: "2026-02-01", Open: amt("300")},
			[]Notice{{Type: NoticePlanBroken, NoticeData: NoticeData{PlanNumber: "PL-1", Currency: "JPY", DueDate: "2026-02-01", OutstandingAmount: "300"}}}},
		{"plan completed", all, domain.PaymentPlanCompleted{PlanNumber: "PL-1"}, []Notice{{Type: NoticePlanCompleted, NoticeData: NoticeData{PlanNumber: "PL-1", Currency: "JPY"}}}},
		{"plan cancelled", all, domain.PaymentPlanCancelled{PlanNumber: "PL-1"}, []Notice{{Type: NoticePlanCancelled, NoticeData: NoticeData{PlanNumber: "PL-1", Currency: "JPY"}}}},
		{"a call: none", all, domain.CallDialed{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := journal.Record{ID: uuid.New(), Event: tc.e}
			got := notices(tc.cfg, p, p, rec)
			for i := range got {
				assert.Equal(t, noticeID(rec.ID, got[i].Type), got[i].ID, "derived from the event and the type")
				got[i].ID = ""
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
