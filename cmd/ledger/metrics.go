package main

import (
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// serveMetrics are the metrics serve registers beside the HTTP server's:
// the embedded store's group commits (write and fsync), webhook deliveries
// given up, and the free space of the disks the ledger writes to. The
// alerting rules in deploy/prometheus/alerts.yml use them.
type serveMetrics struct {
	sync   prometheus.Histogram
	giveUp prometheus.Counter
}

func newServeMetrics(reg *prometheus.Registry, dirs map[string]string) *serveMetrics {
	m := &serveMetrics{
		sync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ledger_store_sync_duration_seconds", Help: "The embedded store's group commits: the write and its fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		giveUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ledger_webhook_given_up_total", Help: "Webhook notifications given up after retrying for the give-up period.",
		}),
	}
	reg.MustRegister(m.sync, m.giveUp)
	for name, dir := range dirs {
		dir := dir
		stat := func(f func(syscall.Statfs_t) float64) func() float64 {
			return func() float64 {
				var st syscall.Statfs_t
				if err := syscall.Statfs(existing(dir), &st); err != nil {
					return -1
				}
				return f(st)
			}
		}
		labels := prometheus.Labels{"dir": name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ledger_disk_available_bytes", Help: "Free space for the ledger on the disk of one of its directories.", ConstLabels: labels},
				stat(func(st syscall.Statfs_t) float64 { return float64(st.Bavail) * float64(st.Bsize) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ledger_disk_size_bytes", Help: "The size of the disk of one of the ledger's directories.", ConstLabels: labels},
				stat(func(st syscall.Statfs_t) float64 { return float64(st.Blocks) * float64(st.Bsize) })),
		)
	}
	return m
}

func (m *serveMetrics) observeSync(d time.Duration) { m.sync.Observe(d.Seconds()) }

// existing is dir, or its nearest parent that exists (a directory made later).
func existing(dir string) string {
	for {
		var st syscall.Stat_t
		if syscall.Stat(dir, &st) == nil || dir == filepath.Dir(dir) {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}
