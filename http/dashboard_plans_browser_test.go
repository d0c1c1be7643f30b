package http_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDashboardPaymentPlan agrees a plan from the claim page's form (a bad
// schedule first: refused, nothing recorded), shows its instalments with a
// payment applied to the oldest, and cancels it.
func TestDashboardPaymentPlan(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.MustPlace("DE-DASH-PLAN")
	head := l.head()
	var problem, notice, status, planStatus, open, rows string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#plan-form", chromedp.ByID),
		chromedp.SendKeys("#plan-number", "PP-1", chromedp.ByID),
		chromedp.SendKeys("#plan-installments", day(10)+" 100\n"+day(40)+" 299", chromedp.ByID),
		chromedp.Click("#plan-submit", chromedp.ByID),
		chromedp.WaitVisible(".error", chromedp.ByQuery),
		chromedp.Text(".error", &problem, chromedp.ByQuery),
	))
	assert.Contains(t, problem, "400.00")
	assert.Equal(t, head, l.head(), "a refused plan records nothing")
	screenshot(t, ctx, "payment-plan-refused")

	require.NoError(t, chromedp.Run(ctx,
		chromedp.WaitVisible("#plan-form", chromedp.ByID),
		chromedp.SetValue("#plan-number", "PP-1", chromedp.ByID),
		chromedp.SetValue("#plan-installments", day(10)+" 100\n"+day(40)+" 300.00", chromedp.ByID),
		chromedp.Click("#plan-submit", chromedp.ByID),
		chromedp.WaitVisible("#plan-0", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text("#status", &status, chromedp.ByID),
	))
	assert.Equal(t, "The payment plan PP-1 is agreed; collection is paused while it runs.", notice)
	assert.Equal(t, "paused", status)

	r := l.do("POST", "/v1/claims/DE-DASH-PLAN/payments", acmeKey, map[string]any{"amount": 150, "paymentNumber": "PAY-1"})
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id+"?minPosition="+r.Header.Get("Ledger-Position")),
		chromedp.WaitVisible("#plan-0", chromedp.ByID),
		chromedp.Text("#plan-0-status", &planStatus, chromedp.ByID),
		chromedp.Text("#plan-0-open", &open, chromedp.ByID),
		chromedp.Text("#plan-0 tbody", &rows, chromedp.ByQuery),
	))
	assert.Equal(t, "active", planStatus)
	assert.Equal(t, "250.00 EUR", open)
	assert.Contains(t, rows, day(10)+"\t100.00\t100.00\t0.00")
	assert.Contains(t, rows, day(40)+"\t300.00\t50.00\t250.00")
	screenshot(t, ctx, "payment-plan")

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#cancel-plan-0", chromedp.ByID),
		chromedp.WaitVisible("#confirm-ok", chromedp.ByID),
		chromedp.Click("#confirm-ok", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text("#plan-0-status", &planStatus, chromedp.ByID),
		chromedp.Text("#status", &status, chromedp.ByID),
	))
	assert.Equal(t, "The payment plan PP-1 is cancelled; collection resumes.", notice)
	assert.Equal(t, "cancelled", planStatus)
	assert.Equal(t, "active", status)
}
