package http

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/projections"
)

// A command's answer is the bytes c.JSON wrote for its resource, with the
// same status and content type, and ?pretty indented as c.JSON indents.
func TestPlacementJSONIsEchoJSON(t *testing.T) {
	e := echo.New()
	resolved := time.Date(2026, 12, 5, 1, 2, 3, 4, time.UTC)
	score := "0.5000"
	for _, r := range []projections.PlacementResource{
		{},
		{PlacementID: uuid.New(), ClaimNumber: "C-<1>", Status: "paid", Currency: "EUR", OriginalAmount: "400.00", ResolvedAt: &resolved,
			OutcomeScore: &score, Invoices: []projections.InvoiceView{{InvoiceNumber: "I-1", Amount: "400.00"}}, PlacedAt: resolved, Revision: 9,
			ChargesView: &projections.ChargesView{CostsAmount: "5.00", Charges: []projections.ChargeView{{Type: "COST", Amount: "5.00"}}}},
		{PlacedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, // JSON cannot hold it: c.JSON's error
	} {
		for _, target := range []string{"/x", "/x?pretty"} {
			answer := func(write func(c echo.Context) error) (*httptest.ResponseRecorder, error) {
				rec := httptest.NewRecorder()
				err := write(e.NewContext(httptest.NewRequest(http.MethodPost, target, nil), rec))
				return rec, err
			}
			want, wantErr := answer(func(c echo.Context) error { return c.JSON(http.StatusCreated, r) })
			got, err := answer(func(c echo.Context) error { return placementJSON(c, http.StatusCreated, r) })
			if wantErr != nil {
				require.Error(t, err)
				continue
			}
			require.NoError(t, err)
			require.Equal(t, want.Code, got.Code)
			require.Equal(t, want.Header(), got.Header())
			require.Equal(t, want.Body.String(), got.Body.String(), target)
		}
	}
}
