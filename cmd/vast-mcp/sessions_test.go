package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// noLeaks checks, after every other cleanup, that no goroutine outlives
// the test.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// serveSessions serves the sandbox over HTTP with cfg until the test ends.
func serveSessions(t *testing.T, cfg *config) string {
	t.Helper()
	vast, err := gen.New(gen.Config{DryRun: true})
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTPOn(ctx, listener, cfg, mcp.NewServer(vast, mcp.Options{}), nil, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		http.DefaultClient.CloseIdleConnections()
	})
	return "http://" + listener.Addr().String() + "/mcp"
}

func post(t *testing.T, url, session, body string) (status int, header http.Header, answer string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set(server.HeaderKeySessionID, session)
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"flood","version":"0"}}}`

// initialize opens a session; it returns its id, or "" when refused.
func initialize(t *testing.T, url string) string {
	t.Helper()
	status, header, answer := post(t, url, "", initializeBody)
	if status == http.StatusOK {
		require.NotEmpty(t, header.Get(server.HeaderKeySessionID))
		return header.Get(server.HeaderKeySessionID)
	}
	require.Equal(t, http.StatusServiceUnavailable, status, answer)
	assert.NotEmpty(t, header.Get("Retry-After"))
	var rpc struct {
		ID    int `json:"id"`
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(answer), &rpc), answer)
	assert.Equal(t, 1, rpc.ID)
	assert.Contains(t, rpc.Error.Message, "--http-max-sessions")
	return ""
}

func pingIn(t *testing.T, url, session string) int {
	t.Helper()
	status, _, _ := post(t, url, session, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	return status
}

// A flood of initializes keeps at most --http-max-sessions sessions; the
// rest are refused with 503 and a JSON-RPC error, and live sessions still
// serve.
func TestHTTPSessionsAreBounded(t *testing.T) {
	noLeaks(t)
	const limit, flood = 5, 50
	url := serveSessions(t, &config{httpMaxSessions: limit, httpSessionTTL: time.Hour})
	var opened []string
	for range flood {
		if id := initialize(t, url); id != "" {
			opened = append(opened, id)
		}
	}
	assert.Len(t, opened, limit, "live sessions")
	for _, id := range opened {
		assert.Equal(t, http.StatusOK, pingIn(t, url, id))
	}
	assert.Equal(t, http.StatusNotFound, pingIn(t, url, "mcp-session-6f1c1d8e-2b7a-4d0e-9a53-5c8f3b2e1a07"), "a session never opened")

	status, _, _ := post(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	assert.Equal(t, http.StatusNotFound, status, "no session, no service")
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a GET may not open a session")
	req.Header.Set(server.HeaderKeySessionID, "mcp-session-6f1c1d8e-2b7a-4d0e-9a53-5c8f3b2e1a07")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "nor keep one the server never opened")

	// A session the client ends frees its place.
	req, err = http.NewRequest(http.MethodDelete, url, nil)
	require.NoError(t, err)
	req.Header.Set(server.HeaderKeySessionID, opened[0])
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.NotEmpty(t, initialize(t, url))
	assert.Empty(t, initialize(t, url))
}

// Idle sessions expire: mcp-go's sweeper frees them and their ids stop
// working, and their places serve new sessions.
func TestHTTPIdleSessionsExpire(t *testing.T) {
	noLeaks(t)
	const limit = 3
	url := serveSessions(t, &config{httpMaxSessions: limit, httpSessionTTL: time.Millisecond})
	var first []string
	for range limit {
		id := initialize(t, url)
		require.NotEmpty(t, id)
		first = append(first, id)
	}
	// The sweeper runs once a second at the soonest.
	require.Eventually(t, func() bool { return pingIn(t, url, first[0]) == http.StatusNotFound }, 30*time.Second, 100*time.Millisecond,
		"an idle session expires")
	for range limit {
		require.NotEmpty(t, initialize(t, url), "an expired session's place is free")
	}
}

func TestSessionSettings(t *testing.T) {
	tests := []struct {
		args    []string
		env     map[string]string
		max     int
		ttl     time.Duration
		problem string
	}{
		{nil, nil, defaultMaxSessions, defaultSessionTTL, ""},
		{[]string{"--http-max-sessions", "7"}, map[string]string{"VAST_MCP_HTTP_SESSION_TTL": "10m"}, 7, 10 * time.Minute, ""},
		{[]string{"--http-max-sessions", "0"}, nil, 0, 0, "--http-max-sessions and --http-session-ttl take a positive value"},
		{nil, map[string]string{"VAST_MCP_HTTP_SESSION_TTL": "0s"}, 0, 0, "take a positive value"},
		{nil, map[string]string{"VAST_MCP_HTTP_SESSION_TTL": "soon"}, 0, 0, `http-session-ttl "soon": want a duration`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr strings.Builder
			cfg, _, exit := parse(tt.args, func(k string) string { return tt.env[k] }, io.Discard, &stderr)
			if tt.problem != "" {
				assert.Equal(t, 2, exit)
				assert.Contains(t, stderr.String(), tt.problem)
				return
			}
			require.Equal(t, -1, exit, stderr.String())
			assert.Equal(t, tt.max, cfg.httpMaxSessions)
			assert.Equal(t, tt.ttl, cfg.httpSessionTTL)
		})
	}
}
