package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/internal/redistest"
)

// serveForTest serves cfg as serve wires it for --transport http and
// returns its base URL and the log it writes.
func serveForTest(t *testing.T, cfg *config) (string, *lockedLog) {
	t.Helper()
	var logs lockedLog
	logger := forHTTP(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	s, err := newServer(cfg, logger)
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveHTTPOn(ctx, listener, cfg, s, nil, logger) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return "http://" + listener.Addr().String(), &logs
}

func callWithHeaders(t *testing.T, url string, headers map[string]string, tool string, args map[string]any) (*mcpgo.CallToolResult, error) {
	t.Helper()
	ctx := context.Background()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(headers))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start(ctx))
	if _, err := c.Initialize(ctx, inprocess.InitializeRequest()); err != nil {
		return nil, err
	}
	return c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tool, Arguments: args}})
}

func TestCallersKeyIsUsedForThatRequestOnlyAndNeverShown(t *testing.T) {
	const serverKey, callersKey, token = "vk-SERVER-KEY-0123456789-DO-NOT-LEAK", "vk-CALLERS-KEY-9876543210-DO-NOT-LEAK", "t0ken-for-caller-keys"
	api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
	env := map[string]string{"VAST_API_KEY": serverKey}
	t.Setenv("VAST_API_KEY", serverKey)
	cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, httpToken: token,
		env: func(k string) string { return env[k] }, scale: scaleSettings{callerKeys: true}}
	base, logs := serveForTest(t, cfg)
	args := map[string]any{"endpoint_name": "e"}

	_, err := callWithHeaders(t, base+"/mcp", map[string]string{callerKeyHeader: callersKey}, "create_endpoint", args)
	require.Error(t, err, "the bearer token is still required")

	res, err := callWithHeaders(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token, callerKeyHeader: callersKey}, "create_endpoint", args)
	require.NoError(t, err)
	require.False(t, res.IsError, "%v", res.Content)
	res2, err := callWithHeaders(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token}, "create_endpoint", args)
	require.NoError(t, err)

	requests := api.Requests()
	require.Len(t, requests, 2)
	assert.Equal(t, "Bearer "+callersKey, requests[0].Header.Get("Authorization"), "the caller's key for the caller's request")
	assert.Equal(t, "Bearer "+serverKey, requests[1].Header.Get("Authorization"), "never reused for another request")

	req, err := http.NewRequest(http.MethodGet, base+pathMetrics, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for where, text := range map[string]string{"logs": logs.String(), "metrics": string(scraped), "result": callText(res), "second result": callText(res2)} {
		assert.NotContains(t, text, callersKey, where)
		assert.NotContains(t, text, callersKey[:16], where+" (in part)")
	}
}

func callText(res *mcpgo.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcpgo.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestCallersKeyRefusedUnlessTheOperatorAllowsIt(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
	t.Setenv("VAST_API_KEY", "vk-SERVER-KEY-0123456789")
	for name, tt := range map[string]struct {
		enabled bool
		key     string
		want    string
	}{
		"not allowed": {false, "vk-CALLERS-KEY-9876543210", "does not take callers' keys"},
		"blank":       {true, "vk-CALLERS KEY", "no blanks, control"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, scale: scaleSettings{callerKeys: tt.enabled}}
			base, _ := serveForTest(t, cfg)
			req, err := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(callerKeyHeader, tt.key)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, string(body), tt.want)
			assert.NotContains(t, string(body), tt.key)
		})
	}
	assert.Empty(t, api.Requests())
}

func TestReadinessFollowsRedis(t *testing.T) {
	srv := redistest.Start(t)
	cfg := &config{transport: "http", baseURL: "http://127.0.0.1:1", timeout: time.Second, sandbox: true,
		env: func(string) string { return "" }, scale: scaleSettings{redisURL: srv.URL()}}
	base, _ := serveForTest(t, cfg)
	status := func() int {
		resp, err := http.Get(base + pathReady)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, status())
	srv.Stop()
	assert.Equal(t, http.StatusServiceUnavailable, status(), "not ready while Redis does not answer")
	resp, err := http.Get(base + pathHealth)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "but alive: a restart would not bring Redis back")
}

func TestScaleSettingsRefusals(t *testing.T) {
	const key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"rate", []string{"--rate", "5 per 10s"}, nil, "--rate"},
		{"zero rate", []string{"--rate", "0/10s"}, nil, "positive whole number"},
		{"operation rate", []string{"--operation-rate", "createInstance"}, nil, "operationId=N/duration"},
		{"operation rate value", []string{"--operation-rate", "createInstance=4"}, nil, "--operation-rate createInstance"},
		{"caller keys on stdio", []string{"--caller-keys"}, nil, "needs --transport http"},
		{"redis URL", []string{"--redis", "http://user:s3cretpass@host"}, nil, "--redis"},
		{"state key", nil, map[string]string{"VAST_MCP_STATE_KEY": "c2hvcnQ="}, "VAST_MCP_STATE_KEY"},
		{"previous without current", nil, map[string]string{"VAST_MCP_STATE_KEY_PREVIOUS": key}, "without VAST_MCP_STATE_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			code := run(context.Background(), append([]string{"--sandbox"}, tt.args...), strings.NewReader(""), io.Discard, &stderr,
				func(k string) string { return tt.env[k] })
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tt.want)
			assert.NotContains(t, stderr.String(), "s3cretpass")
			assert.NotContains(t, stderr.String(), "c2hvcnQ")
		})
	}
}

// --redis gives the replicas one spend lock, and it fails closed: with
// Redis gone, a create under a cap is refused before it spends.
func TestRedisSpendLockHoldsCreatesUnderACap(t *testing.T) {
	srv := redistest.Start(t)
	api := fakeapi.New(t, accounts(""))
	t.Setenv("VAST_API_KEY", "vk-SERVER-KEY-0123456789-DO-NOT-LEAK")
	cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, maxCount: 3,
		env: func(string) string { return "" }, scale: scaleSettings{redisURL: srv.URL()}}
	base, _ := serveForTest(t, cfg)
	srv.Stop()
	res, err := callWithHeaders(t, base+"/mcp", nil, "create_instance", map[string]any{"offer_id": 42, "image": "img"})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, callText(res), "the spend lock the replicas share was not taken (no answer from Redis)")
	for _, r := range api.Requests() {
		assert.Equal(t, "/api/v0/users/current", r.Path, "only the account is read")
	}
}

// With --caller-keys, one account waiting for its lock holds up no other
// account's create on the same replica.
func TestSpendLocksAreHeldPerAccount(t *testing.T) {
	srv := redistest.Start(t)
	const token, keyA, keyB = "t0ken-for-caller-keys", "vk-ACCOUNT-A-0123456789", "vk-ACCOUNT-B-0123456789"
	api := fakeapi.New(t, accounts(keyB))
	t.Setenv("VAST_API_KEY", keyA)
	cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, maxCount: 3, httpToken: token,
		env: func(string) string { return "" }, scale: scaleSettings{redisURL: srv.URL(), callerKeys: true, rate: "100/1s"}}
	base, _ := serveForTest(t, cfg)
	held, err := redislock.Obtain(context.Background(), srv.Client(t), "vast-mcp:spend:user:7", time.Minute, nil)
	require.NoError(t, err) // account A's lock, held by another replica
	args := map[string]any{"offer_id": 42, "image": "img"}
	create := func(key string) <-chan *mcpgo.CallToolResult {
		done := make(chan *mcpgo.CallToolResult, 1)
		go func() {
			res, err := callWithHeaders(t, base+"/mcp", map[string]string{"Authorization": "Bearer " + token, callerKeyHeader: key}, "create_instance", args)
			assert.NoError(t, err)
			done <- res
		}()
		return done
	}
	waitingA := create(keyA)
	require.Eventually(t, func() bool { return len(api.Requests()) > 0 }, 5*time.Second, 10*time.Millisecond, "A reads its account, then waits")
	select {
	case res := <-create(keyB):
		assert.False(t, res.IsError, callText(res))
	case <-time.After(10 * time.Second):
		t.Fatal("account B waited for account A's lock")
	}
	select {
	case res := <-waitingA:
		t.Fatalf("account A did not wait for its lock: %s", callText(res))
	default:
	}
	require.NoError(t, held.Release(context.Background()))
	res := <-waitingA
	assert.False(t, res.IsError, callText(res))
}

// accounts answers as Vast.ai would for an empty account per key: user 8
// for keyB, user 7 for any other; one offer; every create succeeds.
func accounts(keyB string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v0/users/current":
			user := 7
			if keyB != "" && r.Header.Get("Authorization") == "Bearer "+keyB {
				user = 8
			}
			_, _ = fmt.Fprintf(w, `{"id": %d}`, user)
		case r.URL.Path == "/api/v1/instances/":
			_, _ = io.WriteString(w, `{"instances": []}`)
		case r.URL.Path == "/api/v0/bundles/":
			_, _ = io.WriteString(w, `{"offers": [{"id": 42, "dph_total": 1.0}]}`)
		case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v0/asks/"):
			_, _ = io.WriteString(w, `{"success": true, "new_contract": 1234}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// What replicas must share goes through Redis once --redis is set, and
// stays in the process without it.
func TestRedisCarriesWhatReplicasShare(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	for _, redisURL := range []string{"", "redis://127.0.0.1:1/0"} {
		cfg := &config{transport: "http", env: func(string) string { return "" }, scale: scaleSettings{redisURL: redisURL}}
		require.NoError(t, cfg.setupScale(quiet))
		opts := cfg.serverOptions(quiet)
		shared := redisURL != ""
		assert.Equal(t, shared, opts.SpentStates != nil, "spent confirmations, --redis %q", redisURL)
		assert.Equal(t, shared, opts.SpendLocks != nil, "spend locks, --redis %q", redisURL)
		assert.Equal(t, shared, opts.SharedClaims != nil, "the record of creates, --redis %q", redisURL)
	}
}
