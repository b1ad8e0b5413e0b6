package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestEachRecordShowsInTheScrape(t *testing.T) {
	tests := []struct {
		name   string
		record func(*metrics.Metrics)
		want   []string
	}{
		{"a 429 counts as an attempt and as rate limited",
			func(m *metrics.Metrics) {
				m.APIAttempt(gen.Attempt{Operation: "createInstance", Status: 429, Duration: 40 * time.Millisecond})
			},
			[]string{`vast_mcp_api_request_duration_seconds_count{operation="createInstance",status="429"} 1`,
				`vast_mcp_api_rate_limited_total{operation="createInstance"} 1`}},
		{"an attempt without an answer has status 0",
			func(m *metrics.Metrics) {
				m.APIAttempt(gen.Attempt{Operation: "createEndpoint", Duration: time.Second})
			},
			[]string{`vast_mcp_api_request_duration_seconds_count{operation="createEndpoint",status="0"} 1`}},
		{"a tool call",
			func(m *metrics.Metrics) {
				m.ToolCall("create_endpoint", "error")
				m.ToolCall("create_endpoint", "error")
			},
			[]string{`vast_mcp_tool_calls_total{outcome="error",tool="create_endpoint"} 2`}},
		{"a confirmation",
			func(m *metrics.Metrics) { m.Confirmation("redeemed") },
			[]string{`vast_mcp_confirmations_total{event="redeemed"} 1`}},
		{"started series show at zero",
			func(m *metrics.Metrics) { m.Start([]string{"create_instance"}, []string{"success"}, []string{"asked"}) },
			[]string{`vast_mcp_tool_calls_total{outcome="success",tool="create_instance"} 0`,
				`vast_mcp_confirmations_total{event="asked"} 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			tt.record(m)
			got := scrape(t, m)
			for _, line := range tt.want {
				assert.Contains(t, got, line)
			}
		})
	}
}

func TestTwoServersDoNotShareCounts(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.ToolCall("create_endpoint", "success")
	assert.NotContains(t, scrape(t, b), `vast_mcp_tool_calls_total{outcome="success",tool="create_endpoint"}`)
}

// TestScrapeIsPrometheusText parses a scrape as Prometheus does: every
// family once, with its help and type, and label values that survive
// escaping.
func TestScrapeIsPrometheusText(t *testing.T) {
	m := metrics.New()
	m.Start([]string{"create_instance"}, []string{"done"}, []string{"asked"})
	m.ToolCall("a \"quoted\"\\tool\nname", "done")
	m.APIAttempt(gen.Attempt{Operation: "createInstance", Status: 429, Duration: 40 * time.Millisecond})
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrape(t, m)))
	require.NoError(t, err)

	for name, kind := range map[string]dto.MetricType{
		"vast_mcp_tool_calls_total":             dto.MetricType_COUNTER,
		"vast_mcp_api_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"vast_mcp_api_rate_limited_total":       dto.MetricType_COUNTER,
		"vast_mcp_confirmations_total":          dto.MetricType_COUNTER,
	} {
		require.Contains(t, families, name)
		assert.Equal(t, kind, families[name].GetType(), name)
		assert.NotEmpty(t, families[name].GetHelp(), name)
	}
	for _, runtime := range []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		assert.Contains(t, families, runtime)
	}
	histogram := families["vast_mcp_api_request_duration_seconds"].GetMetric()[0].GetHistogram()
	assert.Equal(t, uint64(1), histogram.GetSampleCount())
	assert.Len(t, histogram.GetBucket(), 11, "the ten bounds of the API's latency and +Inf")

	var tools []string
	for _, metric := range families["vast_mcp_tool_calls_total"].GetMetric() {
		for _, label := range metric.GetLabel() {
			if label.GetName() == "tool" {
				tools = append(tools, label.GetValue())
			}
		}
	}
	assert.ElementsMatch(t, []string{"create_instance", "a \"quoted\"\\tool\nname"}, tools)
}
