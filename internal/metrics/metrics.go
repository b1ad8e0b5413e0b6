// Package metrics keeps vast-mcp's metrics: tool calls by outcome, the
// Vast.ai API's latency and status, its 429s, and confirmations. It is fed
// by hooks (gen.Config.Observe, mcp.Options.OnToolCall and
// OnConfirmation) and served at /metrics in Prometheus' text format, with
// the Go runtime's and the process's own metrics.
//
// It is built on github.com/VictoriaMetrics/metrics rather than
// prometheus/client_golang: the latter's package initialisation (its
// default registry's collectors, protobuf descriptors) ran at every start
// of the binary, stdio included, where no metric is ever served, and it
// made the binary 21.7 MiB instead of 12.2 (BENCHMARKS.md).
package metrics

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Metrics is one server's metrics, in sets of its own so that two servers
// in one process (tests) do not share counts.
type Metrics struct {
	toolCalls     family
	apiRequests   family
	rateLimited   family
	confirmations family
}

// apiBuckets bound the API's latency histogram: it answers in tens to
// hundreds of milliseconds, and a timeout is 30 s.
var apiBuckets = []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns empty metrics.
func New() *Metrics {
	return &Metrics{
		toolCalls: newFamily("vast_mcp_tool_calls_total", "counter",
			"Tool calls by tool and outcome (the result's vast-mcp/outcome: done, invalid, refused, not_sent, unknown, asking, dry_run; failed for a JSON-RPC error)."),
		apiRequests: newFamily("vast_mcp_api_request_duration_seconds", "histogram",
			"Attempts to call the Vast.ai API, by operation and HTTP status (0: no answer), and how long each took."),
		rateLimited: newFamily("vast_mcp_api_rate_limited_total", "counter",
			"Answers 429 (too many requests) from the Vast.ai API, by operation."),
		confirmations: newFamily("vast_mcp_confirmations_total", "counter",
			"Human confirmations (--confirm) asked and redeemed."),
	}
}

// Start shows every declared tool and confirmation event at zero before
// the first call, so that a rate or an alert has a series to work on.
func (m *Metrics) Start(tools, outcomes, events []string) {
	for _, tool := range tools {
		for _, outcome := range outcomes {
			m.toolCalls.counter("outcome", outcome, "tool", tool)
		}
	}
	for _, event := range events {
		m.confirmations.counter("event", event)
	}
}

// ToolCall counts a tool call; it fits mcp.Options.OnToolCall.
func (m *Metrics) ToolCall(tool, outcome string) {
	m.toolCalls.counter("outcome", outcome, "tool", tool).Inc()
}

// Confirmation counts a confirmation event; it fits mcp.Options.OnConfirmation.
func (m *Metrics) Confirmation(event string) {
	m.confirmations.counter("event", event).Inc()
}

// APIAttempt records one attempt; it fits gen.Config.Observe.
func (m *Metrics) APIAttempt(a gen.Attempt) {
	series := m.apiRequests.series("operation", a.Operation, "status", strconv.Itoa(a.Status))
	m.apiRequests.set.GetOrCreatePrometheusHistogramExt(series, apiBuckets).Update(a.Duration.Seconds())
	if a.Status == http.StatusTooManyRequests {
		m.rateLimited.counter("operation", a.Operation).Inc()
	}
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		for _, f := range []*family{&m.apiRequests, &m.rateLimited, &m.confirmations, &m.toolCalls} {
			f.write(&b)
		}
		vm.WriteProcessMetrics(&b)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	})
}

// family is one metric name with its help text, holding its series in a
// set of its own so that its HELP and TYPE lines come right before them.
type family struct {
	name, kind, help string
	set              *vm.Set
}

func newFamily(name, kind, help string) family {
	return family{name: name, kind: kind, help: help, set: vm.NewSet()}
}

func (f *family) counter(labels ...string) *vm.Counter {
	return f.set.GetOrCreateCounter(f.series(labels...))
}

// series names one series: the family's name and its labels, given as
// name, value pairs in the order the exposition lists them.
func (f *family) series(labels ...string) string {
	var b strings.Builder
	b.WriteString(f.name)
	sep := "{"
	for i := 0; i+1 < len(labels); i += 2 {
		b.WriteString(sep + labels[i] + `="`)
		_, _ = labelValue.WriteString(&b, labels[i+1])
		b.WriteString(`"`)
		sep = ","
	}
	if len(labels) > 0 {
		b.WriteString("}")
	}
	return b.String()
}

// labelValue escapes a label value as the text format requires.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func (f *family) write(b *bytes.Buffer) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
	f.set.WritePrometheus(b)
}
