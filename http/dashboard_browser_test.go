package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collections-ledger/ledger/journal"
)

// browser starts headless Chromium for one test. Without a browser the test
// skips with how to get one, except in CI, where .ci/run installs it and its
// absence is a failure.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("LEDGER_TEST_CHROMIUM")
	if path == "" {
		for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium in CI: .ci/run installs Debian's chromium package")
		}
		t.Skip("no Chromium to drive: install one with `apt-get install -y chromium` (Debian) or set LEDGER_TEST_CHROMIUM")
	}
	// Chromium's profile lives outside t.TempDir: the browser may still be
	// writing to it when the test ends, and TempDir's cleanup would then fail
	// the test. It is removed here, best effort.
	profile, err := os.MkdirTemp("", "ledger-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Chromium is newer than the protocol bindings: chromedp logs events it
	// cannot decode, which do not matter here; anything else goes to the log.
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, "could not unmarshal event") || strings.Contains(msg, "unhandled node event") {
			return
		}
		t.Logf("chromedp: %s", msg)
	}))
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second) // a liveness bound, not a timing assertion
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// screenshot saves the page under the test's artifact directory.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var png []byte
	require.NoError(t, chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)))
	path := filepath.Join(t.ArtifactDir(), name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	if dst := os.Getenv("LEDGER_SCREENSHOT_DIR"); dst != "" {
		_ = os.WriteFile(filepath.Join(dst, name+".png"), png, 0o644)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// MustDashboard serves the ledger over real HTTP on loopback and signs in.
func MustDashboard(t *testing.T) (*ledger, *httptest.Server, context.Context) {
	t.Helper()
	ctx := browser(t)
	l := MustLedger(t, "")
	srv := httptest.NewServer(l.server)
	t.Cleanup(srv.Close)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#key", chromedp.ByID),
		chromedp.SendKeys("#key", acmeKey, chromedp.ByID),
		chromedp.Click("#signin-submit", chromedp.ByID),
		chromedp.WaitVisible("#bulk", chromedp.ByID),
	))
	return l, srv, ctx
}

func TestDashboardSignInAndBulkRecall(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	for _, c := range []string{"DE-DASH-1", "DE-DASH-2", "DE-DASH-3"} {
		l.MustPlace(c)
	}
	wctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	require.NoError(t, l.runner.WaitFor(wctx, l.head()), "the list reads the read model: let it catch up")
	var prompt, notice, s1, s2, s3 string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`tr[data-claim="DE-DASH-3"]`, chromedp.ByQuery),
		chromedp.Click(`input[aria-label="Select claim DE-DASH-1"]`, chromedp.ByQuery),
		chromedp.Click(`input[aria-label="Select claim DE-DASH-2"]`, chromedp.ByQuery),
		chromedp.Click("#bulk-recall", chromedp.ByID),
		chromedp.WaitVisible("#confirm-ok", chromedp.ByID),
		chromedp.Text("#confirm-text", &prompt, chromedp.ByID),
	))
	assert.Contains(t, prompt, "Recall 2 placement(s)?", "the confirmation says how many")
	screenshot(t, ctx, "bulk-recall-confirm")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#confirm-ok", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text(`tr[data-claim="DE-DASH-1"] [data-status]`, &s1, chromedp.ByQuery),
		chromedp.Text(`tr[data-claim="DE-DASH-2"] [data-status]`, &s2, chromedp.ByQuery),
		chromedp.Text(`tr[data-claim="DE-DASH-3"] [data-status]`, &s3, chromedp.ByQuery),
	))
	assert.Equal(t, "2 placement(s) recalled.", notice)
	assert.Equal(t, []string{"recalled", "recalled", "active"}, []string{s1, s2, s3})
	screenshot(t, ctx, "dashboard")
}

func TestDashboardMarkAsPaidShowsFee(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.MustPlace("DE-DASH-PAY")
	var preview, fee, recovered, errText string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#open-pay", chromedp.ByID),
		chromedp.Click("#open-pay", chromedp.ByID),
		chromedp.WaitVisible("#pay-amount", chromedp.ByID),
		chromedp.Clear("#pay-amount", chromedp.ByID),
		chromedp.SendKeys("#pay-amount", "120.50", chromedp.ByID),
		chromedp.Text("#pay-fee-amount", &preview, chromedp.ByID),
	))
	assert.Equal(t, "24.10 EUR", preview, "the dialog shows the resulting fee before submitting")
	screenshot(t, ctx, "mark-as-paid")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#pay-submit", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#fee", &fee, chromedp.ByID),
		chromedp.Text("#recovered", &recovered, chromedp.ByID),
	))
	assert.Equal(t, "24.10 EUR", fee)
	assert.Equal(t, "120.50 EUR", recovered)
	// An error in words a person understands.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#open-pay", chromedp.ByID),
		chromedp.WaitVisible("#pay-amount", chromedp.ByID),
		chromedp.Clear("#pay-amount", chromedp.ByID),
		chromedp.SendKeys("#pay-amount", "999", chromedp.ByID),
		chromedp.Click("#pay-submit", chromedp.ByID),
		chromedp.WaitVisible("#error", chromedp.ByID),
		chromedp.Text("#error", &errText, chromedp.ByID),
	))
	assert.Equal(t, "That amount is more than what is still owed on this placement.", errText)
}

func TestDashboardPauseResumeAndFeed(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.MustPlace("DE-DASH-PR")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims/DE-DASH-PR/recalls", acmeKey, waiver("I0417211449", "50")).Status)
	var paused, active, feed, audit string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#pause", chromedp.ByID),
		chromedp.Click("#pause", chromedp.ByID),
		chromedp.WaitVisible("#resume", chromedp.ByID),
		chromedp.Text("#status", &paused, chromedp.ByID),
	))
	assert.Equal(t, "paused", paused)
	screenshot(t, ctx, "paused")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#resume", chromedp.ByID),
		chromedp.WaitVisible("#pause", chromedp.ByID),
		chromedp.Text("#status", &active, chromedp.ByID),
		chromedp.Text("#feed", &feed, chromedp.ByID),
		chromedp.Text("#audit", &audit, chromedp.ByID),
	))
	assert.Equal(t, "active", active)
	assert.Contains(t, feed, "PARTIAL_RECALL")
	assert.Contains(t, feed, "CREDIT_WAIVER")
	assert.Contains(t, feed, "-50 EUR")
	for _, typ := range []string{"PlacementOpened", "CreditWaiverIssued", "PlacementPaused", "PlacementResumed"} {
		assert.Contains(t, audit, typ, "the history shows %s", typ)
	}
	assert.True(t, strings.Contains(audit, "acme"), "with who did it")
	screenshot(t, ctx, "feed-and-history")
}

func TestDashboardReversePayment(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.MustPlace("DE-DASH-REV")
	r := l.do("POST", "/v1/placements/"+id+"/payment-received", acmeKey, `{"amount": "400", "paymentNumber": "BANK-77"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var prompt, notice, status, recovered, state, feed string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#reverse-0", chromedp.ByID),
		chromedp.SetValue("#reverse-reason-0", "ENTERED_IN_ERROR", chromedp.ByID),
		chromedp.Click("#reverse-0", chromedp.ByID),
		chromedp.WaitVisible("#confirm-ok", chromedp.ByID),
		chromedp.Text("#confirm-text", &prompt, chromedp.ByID),
	))
	assert.Contains(t, prompt, "Reverse payment BANK-77 of 400.00 EUR?", "the confirmation names the payment")
	screenshot(t, ctx, "reverse-payment-confirm")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#confirm-ok", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text("#status", &status, chromedp.ByID),
		chromedp.Text("#recovered", &recovered, chromedp.ByID),
		chromedp.Text(`#payments tbody tr`, &state, chromedp.ByQuery),
		chromedp.Text("#feed", &feed, chromedp.ByID),
	))
	assert.Equal(t, "The payment BANK-77 is reversed.", notice)
	assert.Equal(t, "active", status, "paid in full by it, the placement is active again")
	assert.Equal(t, "0.00 EUR", recovered)
	assert.Contains(t, state, "reversed (ENTERED_IN_ERROR)")
	assert.Contains(t, feed, "CANCELLATION DE-DASH-REV-AD002 (reverses DE-DASH-REV-AD001)")
	assert.Contains(t, feed, "REOPENED PAYMENT_REVERSED")
	screenshot(t, ctx, "payment-reversed")
}

func TestDashboardPartialRecallForm(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.MustPlace("DE-DASH-WV")
	var remains, remaining, tooMuch, notice, waived, outstanding string
	var disabled bool
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#open-waive", chromedp.ByID),
		chromedp.Click("#open-waive", chromedp.ByID),
		chromedp.WaitVisible("#waive-1", chromedp.ByID),
		chromedp.SendKeys("#waive-1", "350", chromedp.ByID),
		chromedp.Text("#waive-remains-1", &tooMuch, chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("waive-submit").disabled`, &disabled),
	))
	assert.Equal(t, "more than is open", tooMuch, "the form says so before anything is sent")
	assert.True(t, disabled)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue("#waive-1", "", chromedp.ByID),
		chromedp.SendKeys("#waive-1", "120.25", chromedp.ByID),
		chromedp.SendKeys("#waive-0", "100", chromedp.ByID),
		chromedp.SendKeys("#waive-description", "goodwill", chromedp.ByID),
		chromedp.Text("#waive-remains-1", &remains, chromedp.ByID),
		chromedp.Text("#waive-remaining", &remaining, chromedp.ByID),
	))
	assert.Equal(t, "179.75", remains, "what remains on the invoice")
	assert.Equal(t, "179.75 EUR", remaining, "and on the claim, before submitting")
	screenshot(t, ctx, "partial-recall-form")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#waive-submit", chromedp.ByID),
		chromedp.WaitVisible("#notice", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text(".summary dd:nth-of-type(4)", &waived, chromedp.ByQuery),
		chromedp.Text("#outstanding", &outstanding, chromedp.ByID),
	))
	assert.Equal(t, "2 invoice(s) partly recalled.", notice)
	assert.Equal(t, "220.25 EUR", waived)
	assert.Equal(t, "179.75 EUR", outstanding)
	feed := l.do("GET", "/v1/claims/DE-DASH-WV/transactions", acmeKey, nil).Array(t)
	require.Len(t, feed, 5, "two INVOICE confirmations of the handover, two PARTIAL_RECALL confirmations and one CREDIT_WAIVER document")
	assert.Equal(t, "goodwill", l.do("GET", "/v1/placements/"+id+"/audit", acmeKey, nil).Array(t)[1]["data"].(map[string]any)["description"])
}

func TestDashboardSearch(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	l.MustPlace("DE-FIND-1")
	l.MustPlace("DE-FIND-2")
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims", acmeKey, handover("RV-FIND")).Status)
	wctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	require.NoError(t, l.runner.WaitFor(wctx, l.head()))
	claims := func(q string) []string {
		var rows []string
		require.NoError(t, chromedp.Run(ctx,
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.SendKeys("#q", q, chromedp.ByID),
			chromedp.Click("#search", chromedp.ByID),
			chromedp.WaitVisible("#clear-search", chromedp.ByID),
			chromedp.Evaluate(`[...document.querySelectorAll("tr[data-claim]")].map(r => r.dataset.claim)`, &rows),
		))
		return rows
	}
	assert.Equal(t, []string{"DE-FIND-2"}, claims("DE-FIND-2"), "by claim number")
	assert.Equal(t, []string{"RV-FIND"}, claims("K77"), "by customer number")
	assert.Equal(t, []string{"DE-FIND-1", "DE-FIND-2"}, claims("I0417211448"), "by invoice number")
	assert.Equal(t, []string{"RV-FIND"}, claims("C-2"), "by contract number")
	screenshot(t, ctx, "search")
	assert.Empty(t, claims("nothing-like-it"))
}

func TestDashboardFinancePage(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	a := l.MustPlace("DE-FIN-1")
	b := l.MustPlace("DE-FIN-2")
	for _, p := range []struct{ id, body string }{
		{a, `{"amount": "120.50", "paymentNumber": "P-1"}`},
		{a, `{"amount": "79.50", "paymentNumber": "P-2"}`},
		{b, `{"amount": "400", "paymentNumber": "P-3"}`},
	} {
		require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+p.id+"/payment-received", acmeKey, p.body).Status)
	}
	require.Equal(t, http.StatusOK, l.do("POST", "/v1/placements/"+b+"/payments/P-3/reversal", acmeKey, `{"reason": "RETURNED"}`).Status)
	w := waiver("I0417211449", "50")
	w["date"] = time.Now().UTC().Format(time.DateOnly) // the page selects by value date by default: one in its last 30 days
	require.Equal(t, http.StatusAccepted, l.do("POST", "/v1/claims/DE-FIN-1/recalls", acmeKey, w).Status)
	var recovered, fees, net, waived, reversed, chartTitle, today string
	var bars, hatched int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#nav-finance", chromedp.ByID),
		chromedp.Click("#nav-finance", chromedp.ByID),
		chromedp.WaitVisible("#finance-chart", chromedp.ByID),
		chromedp.Text("#total-recovered", &recovered, chromedp.ByID),
		chromedp.Text("#total-fees", &fees, chromedp.ByID),
		chromedp.Text("#total-net", &net, chromedp.ByID),
		chromedp.Text("#total-waived", &waived, chromedp.ByID),
		chromedp.Text("#total-reversed", &reversed, chromedp.ByID),
		chromedp.Evaluate(`document.querySelector("#finance-chart title").textContent`, &chartTitle),
		chromedp.Evaluate(`document.querySelectorAll("#finance-chart rect.bar-recovered").length`, &bars),
		chromedp.Evaluate(`[...document.querySelectorAll("#finance-chart rect.bar-fees")].filter(r => r.getAttribute("fill") === "url(#hatch)").length`, &hatched),
		chromedp.Evaluate(`new Date().toISOString().slice(0, 10)`, &today),
	))
	assert.Equal(t, "200.00 EUR", recovered, "120.50 + 79.50; the 400 came back")
	assert.Equal(t, "40.00 EUR", fees)
	assert.Equal(t, "160.00 EUR", net)
	assert.Equal(t, "50.00 EUR", waived)
	assert.Equal(t, "400.00 EUR", reversed)
	assert.Contains(t, chartTitle, "Recovered and fees per day")
	assert.Equal(t, 30, bars, "a bar per day of the last 30 days")
	assert.Equal(t, 30, hatched, "fees are told apart by pattern, not colour")
	var row string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(`#finance-table tr[data-period="`+today+`"]`, &row, chromedp.ByQuery)))
	assert.Contains(t, row, "200.00")
	assert.Contains(t, row, "400.00")
	screenshot(t, ctx, "finance")

	// By month, and the CSV with the same figures.
	var monthRows int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue("#by", "month", chromedp.ByID),
		chromedp.Click("#show", chromedp.ByID),
		chromedp.WaitVisible(`#finance-table tr[data-period="`+today[:7]+`"]`, chromedp.ByQuery), // the page by month has loaded
		chromedp.Evaluate(`document.querySelectorAll("#finance-table tbody tr").length`, &monthRows),
	))
	assert.GreaterOrEqual(t, monthRows, 1)
	var csvText string
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(
		`fetch(document.getElementById("csv").href).then(r => r.text())`, &csvText, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		})))
	assert.Contains(t, csvText, "period,currency,payments,recovered,fees,netToCreditor,waived,recalled,reversals,reversed")
	assert.Contains(t, csvText, "TOTAL,EUR,3,200.00,40.00,160.00,50.00,0.00,1,400.00")
}

func TestDashboardShowsTheDebtorAndRecordsIt(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	r := l.do("POST", "/v1/claims", acmeKey, handover("PD-DASH"))
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	id := r.JSON(t)["placementId"].(string)
	var debtor string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#debtor", chromedp.ByID),
		chromedp.Text("#debtor", &debtor, chromedp.ByID),
	))
	assert.Contains(t, debtor, "Zwetschgenmann")
	assert.Contains(t, debtor, "1964-08-12")
	screenshot(t, ctx, "debtor")
	reads := l.accessLog("acme")
	require.Len(t, reads, 1, "the dashboard's read is recorded")
	assert.Equal(t, "dashboard /dashboard/placements/{id}", reads[0].Route)

	// Erase from the dashboard, after a confirmation that names the debtor.
	var prompt, notice, erased string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#erase", chromedp.ByID),
		chromedp.WaitVisible("#confirm-ok", chromedp.ByID),
		chromedp.Text("#confirm-text", &prompt, chromedp.ByID),
	))
	assert.Contains(t, prompt, "Erase the personal data of customer K77")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#confirm-ok", chromedp.ByID),
		chromedp.WaitVisible("#debtor-erased", chromedp.ByID),
		chromedp.Text("#notice", &notice, chromedp.ByID),
		chromedp.Text("#debtor", &erased, chromedp.ByID),
	))
	assert.Equal(t, "The personal data of customer K77 is erased. Amounts and history are kept.", notice)
	recs, err := l.store.ReadStream(context.Background(), journal.DebtorStream("acme", "K77"), 0, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1, "the erasure is recorded")
	assert.Contains(t, string(recs[0].Data), `"reason":"DATA_SUBJECT_REQUEST"`)
	assert.NotContains(t, erased, "Zwetschgenmann")
	assert.Len(t, l.accessLog("acme"), 1, "nothing shown, nothing recorded")
}

func TestDashboardClaimChargesPostingsAndTrialBalance(t *testing.T) {
	l, srv, ctx := MustDashboard(t)
	id := l.chargedAgencyWrittenOff(t, "DE-BLEDGER")
	wctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	require.NoError(t, l.runner.WaitFor(wctx, l.head()), "the pages read the read model: let it catch up")

	// The claim: its charges, what the agency collected, the write-off and the postings.
	var costs, interests, agency, writtenOff, status string
	var postings int
	var accounts []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/dashboard/placements/"+id),
		chromedp.WaitVisible("#postings", chromedp.ByID),
		chromedp.Text("#costs", &costs, chromedp.ByID),
		chromedp.Text("#interests", &interests, chromedp.ByID),
		chromedp.Text("#agency-paid", &agency, chromedp.ByID),
		chromedp.Text("#written-off", &writtenOff, chromedp.ByID),
		chromedp.Text("#status", &status, chromedp.ByID),
		chromedp.Evaluate(`document.querySelectorAll("#postings tbody tr").length`, &postings),
		chromedp.Evaluate(`[...document.querySelectorAll("#postings tbody tr td:nth-child(4)")].map(td => td.textContent)`, &accounts),
	))
	assert.Equal(t, "20.00 EUR", costs)
	assert.Equal(t, "10.00 EUR", interests)
	assert.Equal(t, "50.00 EUR", agency)
	assert.Equal(t, "80.00 EUR", writtenOff)
	assert.Equal(t, "written_off", status)
	assert.Equal(t, len(l.get("/v1/claims/DE-BLEDGER/postings", acmeKey, l.head()).Array(t)), postings, "a row per posting")
	assert.Contains(t, accounts, "claim/DE-BLEDGER/costs")
	assert.Contains(t, accounts, "claim/DE-BLEDGER/interests")
	screenshot(t, ctx, "claim-postings")

	// The finance page: what the agency collected, owes and remitted; one
	// click to the trial balance.
	var collected, owed, remitted string
	var debit, credit, balanced []string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#nav-finance", chromedp.ByID),
		chromedp.WaitVisible("#finance-chart", chromedp.ByID),
		chromedp.Text("#total-agency-collected", &collected, chromedp.ByID),
		chromedp.Text("#owed-by-agency", &owed, chromedp.ByID),
		chromedp.Text("#remitted", &remitted, chromedp.ByID),
	))
	assert.Equal(t, "50.00 EUR", collected)
	assert.Equal(t, "0.00 EUR", remitted)
	rem := l.do("POST", "/v1/agency/remittances", agencyKey, map[string]any{"creditorId": "acme", "currency": "EUR",
		"to": time.Now().UTC().Format(time.DateOnly), "remittanceNumber": "RM-1"})
	require.Equal(t, http.StatusCreated, rem.Status, "%s", rem.Body)
	var issued struct{ Amount decimal.Decimal }
	require.NoError(t, json.Unmarshal(rem.Body, &issued))
	assert.Equal(t, issued.Amount.StringFixed(2)+" EUR", owed, "what the remittance paid was owed")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Reload(),
		chromedp.WaitVisible("#finance-chart", chromedp.ByID),
		chromedp.Text("#owed-by-agency", &owed, chromedp.ByID),
		chromedp.Text("#remitted", &remitted, chromedp.ByID),
	))
	assert.Equal(t, "0.00 EUR", owed, "settled")
	assert.Equal(t, issued.Amount.StringFixed(2)+" EUR", remitted)
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#trial-balance", chromedp.ByID),
		chromedp.WaitVisible("#trial-table", chromedp.ByID),
		chromedp.Evaluate(`[...document.querySelectorAll("#trial-table tfoot [data-debit]")].map(td => td.textContent)`, &debit),
		chromedp.Evaluate(`[...document.querySelectorAll("#trial-table tfoot [data-credit]")].map(td => td.textContent)`, &credit),
		chromedp.Evaluate(`[...document.querySelectorAll("#trial-table tfoot tr td:last-child")].map(td => td.textContent)`, &balanced),
	))
	require.Len(t, debit, 1, "one currency")
	assert.NotEqual(t, "0.00", debit[0])
	assert.Equal(t, debit, credit, "the totals balance")
	assert.Equal(t, []string{"balanced"}, balanced)
	screenshot(t, ctx, "trial-balance")
	var csvText string
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(
		`fetch(document.getElementById("csv").href).then(r => r.text())`, &csvText, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		})))
	assert.Contains(t, csvText, "creditorId,account,currency,debit,credit,balance\n")
	assert.Contains(t, csvText, ",TOTAL,EUR,")
}
