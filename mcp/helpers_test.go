package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// testKey is distinctive so a leak is easy to find in any output.
const testKey = "vk-TESTKEY-1c9e77d2b05f43aa-DO-NOT-LEAK"

// suiteLogs collects, at debug level, everything the servers and clients
// of this package's tests log; TestMain sweeps it for the key.
var suiteLogs lockedBuffer

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// connections counts servers the tests started, so TestMain knows the
// sweep had something to see (a fuzzing run starts none).
var connections atomic.Int32

var debugLogger = slog.New(slog.NewTextHandler(&suiteLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))

func TestMain(m *testing.M) {
	code := m.Run()
	if logs := suiteLogs.String(); strings.Contains(logs, "DO-NOT-LEAK") {
		fmt.Fprintln(os.Stderr, "a test key appeared in the server and client logs of this package's tests")
		code = 1
	} else if code == 0 && connections.Load() > 0 && !strings.Contains(logs, "vast api call") {
		fmt.Fprintln(os.Stderr, "the log sweep saw no client log lines: is the debug logger wired?")
		code = 1
	}
	os.Exit(code)
}

// connect starts the real server wired to cfg and returns an initialized
// in-process MCP client.
func connect(t *testing.T, cfg gen.Config, opts mcp.Options) *client.Client {
	t.Helper()
	connections.Add(1)
	if cfg.Logger == nil {
		cfg.Logger = debugLogger
	}
	if opts.Logger == nil {
		opts.Logger = debugLogger
	}
	vast, err := gen.New(cfg)
	require.NoError(t, err)
	c, err := inprocess.Connect(context.Background(), mcp.NewServer(vast, opts), inprocess.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// connectFake wires the server to a fake API that replays handlers.
func connectFake(t *testing.T, opts mcp.Options, handlers ...http.Handler) (*client.Client, *fakeapi.Server) {
	t.Helper()
	api := fakeapi.New(t, handlers...)
	return connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, ServerlessURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}}, opts), api
}

// call makes a tools/call with JSON arguments; a protocol error fails the
// test, since every failure must come back as a result.
func call(t *testing.T, c *client.Client, tool, args string) *mcpgo.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, toolRequest(tool, args))
	require.NoError(t, err, "a tool failure must be an isError result, not a JSON-RPC error")
	return res
}

func text(t *testing.T, res *mcpgo.CallToolResult) string {
	t.Helper()
	require.NotEmpty(t, res.Content)
	tc, ok := res.Content[0].(mcpgo.TextContent)
	require.True(t, ok, "first content is text")
	return tc.Text
}

func structured(t *testing.T, res *mcpgo.CallToolResult) map[string]any {
	t.Helper()
	data, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func toolRequest(tool, args string) mcpgo.CallToolRequest {
	return mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tool, Arguments: json.RawMessage(args)}}
}
