package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestNonLoopbackBindNeedsAToken(t *testing.T) {
	tests := []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"[::]:8080", "", false},
		{"192.0.2.10:8080", "", false},
		{"example.com:8080", "", false},
		{"0.0.0.0:8080", "s3cret", true},
		{"no-port", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkBind(tt.addr, tt.token)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
	// The binary refuses at start-up, before listening.
	var stderr strings.Builder
	code := run(context.Background(), []string{"--sandbox", "--transport", "http", "--addr", "0.0.0.0:0"}, nil, io.Discard, &stderr, func(string) string { return "" })
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "not a loopback address")
}

func TestHTTPRefusals(t *testing.T) {
	const token = "t0ken-for-tests"
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`
	tests := []struct {
		name   string
		token  string
		header map[string]string
		host   string
		body   string
		status int
	}{
		{"accepted", token, map[string]string{"Authorization": "Bearer " + token}, "", initialize, http.StatusOK},
		{"no token", token, nil, "", initialize, http.StatusUnauthorized},
		{"wrong token", token, map[string]string{"Authorization": "Bearer guess"}, "", initialize, http.StatusUnauthorized},
		{"foreign origin", "", map[string]string{"Origin": "https://evil.example"}, "", initialize, http.StatusForbidden},
		{"loopback origin", "", map[string]string{"Origin": "http://localhost:3000"}, "", initialize, http.StatusOK},
		{"DNS rebinding host", "", nil, "evil.example:8080", initialize, http.StatusForbidden},
		{"oversized body", "", nil, "", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", maxRequestBody) + `"}}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startHTTP(t, &config{httpToken: tt.token})
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, "%s", body)
		})
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	const short, long = 200 * time.Millisecond, time.Minute
	tests := []struct {
		name                    string
		readHeader, read, idle  time.Duration
		send                    string
		completeRequestThenIdle bool
	}{
		{name: "headers sent too slowly (slowloris)", readHeader: short, read: long, idle: long,
			send: "POST /mcp HTTP/1.1\r\nHost: %s\r\n"},
		{name: "body sent too slowly", readHeader: long, read: short, idle: long,
			send: "POST /mcp HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\""},
		{name: "idle keep-alive connection", readHeader: long, read: long, idle: short,
			send: "GET /elsewhere HTTP/1.1\r\nHost: %s\r\n\r\n", completeRequestThenIdle: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := httpTimeouts
			t.Cleanup(func() { httpTimeouts = saved })
			httpTimeouts.readHeader, httpTimeouts.read, httpTimeouts.idle = tt.readHeader, tt.read, tt.idle

			url := startHTTP(t, &config{})
			host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/mcp")
			conn, err := net.Dial("tcp", host)
			require.NoError(t, err)
			defer conn.Close()
			_, err = fmt.Fprintf(conn, tt.send, host)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			reader := bufio.NewReader(conn)
			if tt.completeRequestThenIdle {
				resp, err := http.ReadResponse(reader, nil)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			start := time.Now()
			_, err = io.ReadAll(reader)
			assert.NoError(t, err, "the server closed the connection before the test gave up")
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// startHTTP serves the sandbox in process on a free loopback port until
// the test ends.
func startHTTP(t *testing.T, cfg *config) string {
	t.Helper()
	vast, err := gen.New(gen.Config{APIKey: "sandbox", HTTPClient: &http.Client{Transport: mcp.SandboxTransport()}})
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTPOn(ctx, listener, cfg, mcp.NewServer(vast, mcp.Options{Sandbox: true}), nil, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + listener.Addr().String() + "/mcp"
}

// TestLoadOverStreamableHTTP makes 200 concurrent tool calls over streamable
// HTTP against the fake API, under -race: each caller must get its own
// answer, and no goroutine may outlive the server.
func TestLoadOverStreamableHTTP(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	const sessions, callsPerSession = 20, 10
	// The fake API answers each endpoint with the number in its name, so a
	// crossed wire shows as a wrong id.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			EndpointName string `json:"endpoint_name"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		n, _ := strconv.Atoi(strings.TrimPrefix(body.EndpointName, "load-"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"success": true, "result": %d}`, 100000+n)
	}))
	defer api.Close()

	apiTransport := &http.Transport{}
	defer apiTransport.CloseIdleConnections()
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.URL, HTTPClient: &http.Client{Transport: apiTransport}})
	require.NoError(t, err)
	s := mcp.NewServer(vast, mcp.Options{})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveHTTPOn(ctx, listener, &config{}, s, nil, slog.New(slog.DiscardHandler)) }()
	url := "http://" + listener.Addr().String() + "/mcp"

	clientTransport := &http.Transport{MaxIdleConnsPerHost: sessions * callsPerSession}
	var clients []*client.Client
	var wg sync.WaitGroup
	errs := make(chan error, sessions*callsPerSession)
	for i := range sessions {
		c, err := client.NewStreamableHttpClient(url, transport.WithHTTPBasicClient(&http.Client{Transport: clientTransport}))
		require.NoError(t, err)
		require.NoError(t, c.Start(ctx))
		_, err = c.Initialize(ctx, inprocess.InitializeRequest())
		require.NoError(t, err)
		clients = append(clients, c)
		for j := range callsPerSession {
			n := i*callsPerSession + j
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{
					Name: "create_endpoint", Arguments: map[string]any{"endpoint_name": fmt.Sprintf("load-%d", n)},
				}})
				switch {
				case err != nil:
					errs <- err
				case res.IsError:
					errs <- fmt.Errorf("call %d: %v", n, res.Content)
				default:
					want := fmt.Sprintf("Created endpoint %d (\"load-%d\")", 100000+n, n)
					if got := res.Content[0].(mcpgo.TextContent).Text; got != want {
						errs <- fmt.Errorf("call %d got %q, want %q", n, got, want)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for _, c := range clients {
		require.NoError(t, c.Close())
	}
	clientTransport.CloseIdleConnections()
	cancel()
	require.NoError(t, <-done)
}

func TestHTTPClientGoingAwayCancelsTheAPIRequest(t *testing.T) {
	apiURL, arrived, cancelled := blockingAPI(t)
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: apiURL, Timeout: time.Minute})
	require.NoError(t, err)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTPOn(ctx, listener, &config{}, mcp.NewServer(vast, mcp.Options{}), nil, slog.New(slog.DiscardHandler))
	}()
	defer func() { stop(); <-done }()

	c, err := client.NewStreamableHttpClient("http://" + listener.Addr().String() + "/mcp")
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start(ctx))
	_, err = c.Initialize(ctx, inprocess.InitializeRequest())
	require.NoError(t, err)

	callCtx, cancelCall := context.WithCancel(ctx)
	go func() {
		_, _ = c.CallTool(callCtx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: map[string]any{"endpoint_name": "e"}}})
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the call never reached the API")
	}
	cancelCall()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the API request outlived the HTTP client's call")
	}
}

// readArgs are arguments for every read tool, as an agent would send them.
var readArgs = map[string]string{
	"search_offers":         `{"gpu_ram": {"gte": 24}, "dph_total": {"lte": 1}, "order": [["dph_total", "asc"]]}`,
	"search_templates":      `{"image": "vllm/vllm-openai"}`,
	"show_instances":        `{"status": "running"}`,
	"show_instance":         `{"instance_id": 883}`,
	"wait_for_instance":     `{"instance_id": 883}`,
	"show_endpoints":        `{}`,
	"show_workergroups":     `{}`,
	"show_endpoint_workers": `{"id": 1234}`,
	"show_user":             `{}`,
}

// Every read tool answers over stdio and streamable HTTP, from the binary.
func TestEveryReadOverStdioAndHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	stdio, err := client.NewStdioMCPClient(binary, []string{"HOME=" + t.TempDir()}, "--sandbox")
	require.NoError(t, err)
	defer stdio.Close()
	_, err = stdio.Initialize(ctx, inprocess.InitializeRequest())
	require.NoError(t, err)

	_, hc := serveHTTPBinary(t, ctx, "--sandbox", "--read-only")

	list, err := hc.ListTools(ctx, mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, list.Tools, len(readArgs), "--read-only lists the reads, all of them")
	for _, tool := range list.Tools {
		require.Contains(t, readArgs, tool.Name)
	}
	for name, args := range readArgs {
		for transport, c := range map[string]*client.Client{"stdio": stdio, "http": hc} {
			t.Run(name+"/"+transport, func(t *testing.T) {
				res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: name, Arguments: json.RawMessage(args)}})
				require.NoError(t, err)
				got := res.Content[0].(mcpgo.TextContent).Text
				assert.False(t, res.IsError, got)
				assert.Contains(t, got, "[sandbox")
				assert.NotNil(t, res.StructuredContent)
			})
		}
	}
}
