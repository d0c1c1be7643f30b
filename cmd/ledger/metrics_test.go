package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeMetricsForTheAlerts: what deploy/prometheus/alerts.yml alerts on
// is exported: group commits with their fsync, webhook give-ups, disk space,
// projection lag, requests by status.
func TestServeMetricsForTheAlerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger.db")
	base := serveReady(t, dir, map[string]string{"LEDGER_API_KEYS": "acme=acme-key-0123456789abcdef"})
	c := call{t: t, base: base}
	status, body := c.do("POST", "/v1/placements", "acme-key-0123456789abcdef", `{"customerNumber": "K1", "currency": "EUR", "feeRate": "0.1",
		"invoices": [{"invoiceNumber": "I1", "amount": 10, "dueDate": "2024-01-01"}]}`)
	require.Equal(t, http.StatusCreated, status, body)
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(b)
	count := regexp.MustCompile(`(?m)^ledger_store_sync_duration_seconds_count (\d+)$`).FindStringSubmatch(text)
	require.NotNil(t, count, "the store's group commits are measured")
	n, _ := strconv.Atoi(count[1])
	assert.Positive(t, n)
	for _, name := range []string{`ledger_webhook_given_up_total 0`, `ledger_disk_available_bytes{dir="store"}`, `ledger_disk_available_bytes{dir="views"}`,
		`ledger_disk_size_bytes{dir="keys"}`, `ledger_projection_lag_events`, `ledger_http_request_duration_seconds_count{method="POST",route="/v1/placements",status="201"}`} {
		assert.Contains(t, text, name)
	}
	// Every ledger metric the alerts and the dashboard use is one the server exports.
	for _, file := range []string{"../../deploy/prometheus/alerts.yml", "../../deploy/grafana/ledger-dashboard.json"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		names := regexp.MustCompile(`ledger_[a-z_]+`).FindAllString(string(b), -1)
		require.NotEmpty(t, names, file)
		for _, name := range names {
			assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(name)+`[{ ]`, text, "%s uses %s", file, name)
		}
	}
	free := regexp.MustCompile(`(?m)^ledger_disk_available_bytes\{dir="store"\} (\S+)$`).FindStringSubmatch(text)
	require.NotNil(t, free)
	assert.False(t, strings.HasPrefix(free[1], "-"), "the disk's free space is read")
}
