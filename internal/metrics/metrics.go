// Package metrics keeps vast-mcp's Prometheus metrics: tool calls by
// outcome, the Vast.ai API's latency and status, its 429s, and
// confirmations. It is fed by hooks (gen.Config.Observe,
// mcp.Options.OnToolCall and OnConfirmation) and served at /metrics.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Metrics is one server's metrics, in a registry of its own so that two
// servers in one process (tests) do not share counts.
type Metrics struct {
	registry      *prometheus.Registry
	toolCalls     *prometheus.CounterVec
	apiRequests   *prometheus.HistogramVec
	rateLimited   *prometheus.CounterVec
	confirmations *prometheus.CounterVec
}

// New returns metrics with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vast_mcp_tool_calls_total",
			Help: "Tool calls by tool and outcome (the result's vast-mcp/outcome: done, invalid, refused, not_sent, unknown, asking, dry_run; failed for a JSON-RPC error).",
		}, []string{"tool", "outcome"}),
		apiRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "vast_mcp_api_request_duration_seconds",
			Help: "Attempts to call the Vast.ai API, by operation and HTTP status (0: no answer), and how long each took.",
			// The API answers in tens to hundreds of milliseconds; a timeout is 30 s.
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vast_mcp_api_rate_limited_total",
			Help: "Answers 429 (too many requests) from the Vast.ai API, by operation.",
		}, []string{"operation"}),
		confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vast_mcp_confirmations_total",
			Help: "Human confirmations (--confirm) asked and redeemed.",
		}, []string{"event"}),
	}
	m.registry.MustRegister(m.toolCalls, m.apiRequests, m.rateLimited, m.confirmations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Start shows every declared tool and confirmation event at zero before
// the first call, so that a rate or an alert has a series to work on.
func (m *Metrics) Start(tools, outcomes, events []string) {
	for _, tool := range tools {
		for _, outcome := range outcomes {
			m.toolCalls.WithLabelValues(tool, outcome)
		}
	}
	for _, event := range events {
		m.confirmations.WithLabelValues(event)
	}
}

// ToolCall counts a tool call; it fits mcp.Options.OnToolCall.
func (m *Metrics) ToolCall(tool, outcome string) {
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
}

// Confirmation counts a confirmation event; it fits mcp.Options.OnConfirmation.
func (m *Metrics) Confirmation(event string) {
	m.confirmations.WithLabelValues(event).Inc()
}

// APIAttempt records one attempt; it fits gen.Config.Observe.
func (m *Metrics) APIAttempt(a gen.Attempt) {
	m.apiRequests.WithLabelValues(a.Operation, strconv.Itoa(a.Status)).Observe(a.Duration.Seconds())
	if a.Status == http.StatusTooManyRequests {
		m.rateLimited.WithLabelValues(a.Operation).Inc()
	}
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
