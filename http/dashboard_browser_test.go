package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
