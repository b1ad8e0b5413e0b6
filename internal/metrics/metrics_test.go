package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
