package projections

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/domain"
)

// requireResourceJSON checks the resource's MarshalJSON against what
// encoding/json writes for it by reflection, alone and through an Encoder
// (as the HTTP layer writes it).
func requireResourceJSON(t *testing.T, r PlacementResource) {
	t.Helper()
	want, wantErr := json.Marshal((*placementResourceJSON)(&r))
	got, err := json.Marshal(r)
	if wantErr != nil {
		require.Error(t, err)
		return
	}
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	var a, b bytes.Buffer
	require.NoError(t, json.NewEncoder(&a).Encode((*placementResourceJSON)(&r)))
	require.NoError(t, json.NewEncoder(&b).Encode(r))
	require.Equal(t, a.String(), b.String())
}

func TestPlacementResourceJSONIsReflections(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "400.00", "C-1", `q"`, "<&>", "ü", "\u2028", "\xff", "\x01", "active"}
	str := func() string { return strs[rnd.IntN(len(strs))] }
	ptr := func() *string {
		if rnd.IntN(2) == 0 {
			return nil
		}
		s := str()
		return &s
	}
	zones := []*time.Location{time.UTC, time.FixedZone("p", 3600), time.FixedZone("s", 61)}
	tm := func() time.Time {
		if rnd.IntN(50) == 0 {
			return time.Date(10000+rnd.IntN(2), 1, 1, 0, 0, 0, 0, time.UTC) // JSON cannot hold it
		}
		return time.Unix(rnd.Int64N(1<<35), rnd.Int64N(1e9)).In(zones[rnd.IntN(len(zones))])
	}
	tmPtr := func() *time.Time {
		if rnd.IntN(2) == 0 {
			return nil
		}
		t := tm()
		return &t
	}
	for i := 0; i < 5000; i++ {
		r := PlacementResource{PlacementID: uuid.New(), ClaimNumber: str(), CustomerNumber: str(), CreditorID: str(),
			Status: domain.Status(str()), Currency: str(), FeeRate: str(), OriginalAmount: str(), WaivedAmount: str(),
			RecoveredAmount: str(), OutstandingAmount: str(), FeeAmount: str(), AgencyPaidAmount: ptr(), WrittenOffAmount: ptr(),
			RecalledAmount: ptr(), ResolvedAt: tmPtr(), OutcomeScore: ptr(), PlacedAt: tm(), Revision: rnd.Uint64()}
		if rnd.IntN(4) > 0 {
			r.Invoices = make([]InvoiceView, rnd.IntN(3))
			for j := range r.Invoices {
				r.Invoices[j] = InvoiceView{InvoiceNumber: str(), ContractNumber: str(), DueDate: str(), Amount: str(), WaivedAmount: str(),
					PaidAmount: str(), OpenAmount: str(), WrittenOffAmount: ptr(), RecalledAmount: ptr(), InvoiceDate: str(), InvoicedAmount: str()}
			}
		}
		if rnd.IntN(4) > 0 {
			r.EmailSequences = make([]SequenceView, rnd.IntN(3))
			for j := range r.EmailSequences {
				r.EmailSequences[j] = SequenceView{SequenceID: uuid.New(), Status: str(), NextSendAt: tmPtr()}
			}
		}
		if rnd.IntN(4) > 0 {
			r.Calls = make([]CallView, rnd.IntN(3))
			for j := range r.Calls {
				r.Calls[j] = CallView{CallID: uuid.New(), Status: str(), ScheduledAt: tm(), Outcome: str()}
			}
		}
		if rnd.IntN(3) == 0 {
			r.ChargesView = &ChargesView{CostsAmount: str(), CostsOpenAmount: str(), InterestsAmount: str(), InterestsOpenAmount: str(),
				OverpaidAmount: str()}
			if rnd.IntN(3) > 0 {
				r.Charges = make([]ChargeView, rnd.IntN(3))
				for j := range r.Charges {
					r.Charges[j] = ChargeView{Type: str(), Number: str(), Amount: str(), Date: str(), Description: str()}
				}
			}
		}
		requireResourceJSON(t, r)
	}
	requireResourceJSON(t, PlacementResource{})
}
