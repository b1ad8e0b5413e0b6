package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// TestOperationsEndpoints: probes answer without the token, so that a
// kubelet needs no secret; /metrics says how the server is used, so it
// takes the same bearer token as /mcp when one is set.
func TestOperationsEndpoints(t *testing.T) {
	const token = "t0ken-for-ops-tests"
	tests := []struct {
		name, path, token, auth, host string
		status                        int
		body                          string
	}{
		{"liveness without a token", "/healthz", token, "", "", http.StatusOK, "ok"},
		{"readiness without a token", "/readyz", token, "", "", http.StatusOK, "ready"},
		{"metrics without the token", "/metrics", token, "", "", http.StatusUnauthorized, "bearer token"},
		{"metrics with a wrong token", "/metrics", token, "Bearer guess", "", http.StatusUnauthorized, "bearer token"},
		{"metrics with the token", "/metrics", token, "Bearer " + token, "", http.StatusOK, "vast_mcp_tool_calls_total"},
		{"metrics on loopback without a token configured", "/metrics", "", "", "", http.StatusOK, "go_goroutines"},
		{"metrics through DNS rebinding", "/metrics", "", "", "evil.example:8080", http.StatusForbidden, "not allowed"},
		{"liveness on loopback without a token configured", "/healthz", "", "", "", http.StatusOK, "ok"},
		{"an unknown path", "/elsewhere", token, "Bearer " + token, "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := strings.TrimSuffix(startHTTP(t, &config{httpToken: tt.token}), "/mcp")
			req, err := http.NewRequest(http.MethodGet, base+tt.path, nil)
			require.NoError(t, err)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, "%s", body)
			assert.Contains(t, string(body), tt.body)
			assert.NotEmpty(t, resp.Header.Get("X-Request-Id"), "every answer names its request id")
		})
	}
}

// TestAToolCallIsCountedAndLoggedWithItsRequestID drives the server as
// serve wires it for --transport http, against the fake API.
func TestAToolCallIsCountedAndLoggedWithItsRequestID(t *testing.T) {
	const token, key = "t0ken-for-metrics", "vk-OPS-TEST-KEY-DO-NOT-LEAK"
	api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
	t.Setenv("VAST_API_KEY", key)
	var logs lockedLog
	cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, httpToken: token}
	logger := forHTTP(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s, err := newServer(cfg, logger)
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveHTTPOn(ctx, listener, cfg, s, nil, logger) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	base := "http://" + listener.Addr().String()

	c, err := client.NewStreamableHttpClient(base+"/mcp", transport.WithHTTPHeaders(map[string]string{
		"Authorization": "Bearer " + token, requestIDHeader: "agent-7.call-1",
	}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Start(ctx))
	_, err = c.Initialize(ctx, inprocess.InitializeRequest())
	require.NoError(t, err)
	res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: map[string]any{"endpoint_name": "e"}}})
	require.NoError(t, err)
	require.False(t, res.IsError, "%v", res.Content)

	req, err := http.NewRequest(http.MethodGet, base+pathMetrics, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range []string{
		`vast_mcp_tool_calls_total{outcome="done",tool="create_endpoint"} 1`,
		`vast_mcp_tool_calls_total{outcome="not_sent",tool="create_workergroup"} 0`,
		`vast_mcp_api_request_duration_seconds_count{operation="createEndpoint",status="200"} 1`,
		`vast_mcp_confirmations_total{event="asked"} 0`,
	} {
		assert.Contains(t, string(scraped), line)
	}
	assert.NotContains(t, string(scraped), key)

	var apiLine string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="vast api call"`) {
			apiLine = line
		}
	}
	assert.Contains(t, apiLine, "request_id=agent-7.call-1", "the API client's log line names the HTTP request it served")
	assert.Contains(t, logs.String(), `msg="http request" method=POST path=/mcp status=200`)
	assert.NotContains(t, logs.String(), key)
}

func TestRequestIDIsKeptOnlyWhenSafeToLog(t *testing.T) {
	tests := []struct{ name, sent, want string }{
		{"a balancer's id is kept", "3f2a-9c.01_x", "3f2a-9c.01_x"},
		{"none sent: one is made", "", ""},
		{"spaces and quotes: replaced", `a" level=ERROR msg="forged`, ""},
		{"too long: replaced", strings.Repeat("a", 65), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedLog
			h := withRequestID(slog.New(requestIDHandler{slog.NewTextHandler(&logs, nil)}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "/mcp", nil)
			if tt.sent != "" {
				req.Header.Set(requestIDHeader, tt.sent)
			}
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(requestIDHeader)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			} else {
				assert.Regexp(t, `^[0-9a-f]{16}$`, got)
			}
			assert.Contains(t, logs.String(), "request_id="+got)
		})
	}
}

type lockedLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
