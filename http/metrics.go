package http

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collections-ledger/ledger/projections"
)

type metrics struct {
	requests *prometheus.HistogramVec
	commands *prometheus.CounterVec
	append   prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry, runner *projections.Runner) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ledger_http_request_duration_seconds", Help: "HTTP requests by method, route and status.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"method", "route", "status"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ledger_commands_total", Help: "Commands by type and outcome (ok, replayed, or the refusal's code).",
		}, []string{"command", "outcome"}),
		append: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ledger_command_duration_seconds", Help: "Time to decide and durably append a command.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	lag := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ledger_projection_lag_events", Help: "Events (embedded store) or log bytes (KurrentDB) between the log's head and the projections.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		head, err := runner.Head(ctx)
		if err != nil {
			return -1
		}
		pos := runner.Position()
		if head < pos {
			return 0
		}
		return float64(head - pos)
	})
	position := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ledger_projection_position", Help: "The log position the projections have applied.",
	}, func() float64 { return float64(runner.Position()) })
	reg.MustRegister(m.requests, m.commands, m.append, lag, position,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, u := range projections.Units() {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ledger_views_rebuild_position", ConstLabels: prometheus.Labels{"unit": u.Name},
			Help: "The log position a background rebuild of the unit's views has reached (it swaps them in at ledger_projection_position); 0 when none runs.",
		}, func() float64 {
			units, pos, _ := runner.Rebuilding()
			if slices.Contains(units, u.Name) {
				return float64(pos)
			}
			return 0
		}))
	}
	return m
}
