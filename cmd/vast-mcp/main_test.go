package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// binary is vast-mcp built once for the tests that run it as agents do.
var binary string

func TestMain(m *testing.M) {
	// No test may reach Vast.ai with the developer's key or settings: clear
	// every VAST_ variable and hide the vastai CLI's key files.
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAST_") {
			os.Unsetenv(name)
		}
	}
	dir, err := os.MkdirTemp("", "vast-mcp-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "vast-mcp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build ships it
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building vast-mcp: %v\n%s", err, out)
		os.Exit(1)
	}
	// After the build, which needs the real HOME for Go's caches.
	os.Setenv("HOME", dir)
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// command runs the binary with no key and no real API in reach.
func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"HOME=" + os.TempDir(), "XDG_CONFIG_HOME=" + os.TempDir(), "VAST_URL=http://127.0.0.1:1"}
	return cmd
}

// stdioSession speaks raw JSON-RPC lines to a running server.
type stdioSession struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	stderr *bytes.Buffer
}

func startStdio(t *testing.T, args ...string) *stdioSession {
	t.Helper()
	return startStdioEnv(t, nil, args...)
}

func startStdioEnv(t *testing.T, env []string, args ...string) *stdioSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := command(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := &stdioSession{t: t, cmd: cmd, stdin: stdin, stdout: bufio.NewScanner(stdout), stderr: &bytes.Buffer{}}
	s.stdout.Buffer(make([]byte, 1<<20), 1<<20)
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	return s
}

func (s *stdioSession) send(line string) {
	s.t.Helper()
	_, err := io.WriteString(s.stdin, line+"\n")
	require.NoError(s.t, err)
}

// receive reads the next stdout line, which must be a JSON-RPC message.
func (s *stdioSession) receive() map[string]any {
	s.t.Helper()
	require.True(s.t, s.stdout.Scan(), "no answer; stderr:\n%s", s.stderr)
	var msg map[string]any
	require.NoError(s.t, json.Unmarshal(s.stdout.Bytes(), &msg), "stdout carries only MCP, got %q", s.stdout.Text())
	require.Equal(s.t, "2.0", msg["jsonrpc"])
	return msg
}

func TestBinaryOverStdio(t *testing.T) {
	s := startStdio(t, "--sandbox")
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	init := s.receive()
	assert.Equal(t, "vast-mcp", init["result"].(map[string]any)["serverInfo"].(map[string]any)["name"])
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	tools := s.receive()["result"].(map[string]any)["tools"].([]any)
	assert.Len(t, tools, len(mcp.ToolNames()))

	s.send(`{this is not json`)
	parseErr := s.receive()
	assert.Equal(t, -32700.0, parseErr["error"].(map[string]any)["code"], "malformed JSON is answered with a parse error")

	s.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"create_instance","arguments":{"offer_id":4242,"image":"img"}}}`)
	result := s.receive()["result"].(map[string]any)
	assert.NotEqual(t, true, result["isError"])
	assert.Contains(t, result["content"].([]any)[0].(map[string]any)["text"], "Created instance 9000001 from offer 4242")
	assert.Equal(t, 9000001.0, result["structuredContent"].(map[string]any)["new_contract"])

	require.NoError(t, s.stdin.Close())
	require.NoError(t, s.cmd.Wait(), "EOF on stdin is a clean exit; stderr:\n%s", s.stderr)
	assert.Contains(t, s.stderr.String(), "vast-mcp serving", "logs go to stderr")
}

func TestBinaryExitsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			s := startStdio(t)
			s.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
			s.receive()
			require.NoError(t, s.cmd.Process.Signal(sig))
			require.NoError(t, s.cmd.Wait(), "stderr:\n%s", s.stderr)
		})
	}
}

func TestBinaryWithoutKeyStartsAndSaysHowToProvideOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.NewStdioMCPClient(binary, []string{"HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(), "VAST_URL=http://127.0.0.1:1"})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Initialize(ctx, inprocess.InitializeRequest())
	require.NoError(t, err)
	list, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, list.Tools, len(mcp.ToolNames()))

	res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: map[string]any{}}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, "Set VAST_API_KEY")
}

var listening = regexp.MustCompile(`url=(http://\S+/mcp)`)

// serveHTTPBinary starts the binary over streamable HTTP with args and
// returns it with an initialized client; both stop with the test.
func serveHTTPBinary(t *testing.T, ctx context.Context, args ...string) (*exec.Cmd, *client.Client) {
	t.Helper()
	cmd := command(ctx, append(args, "--transport", "http", "--addr", "127.0.0.1:0")...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	var url string
	for url == "" && lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}
	}
	require.NotEmpty(t, url, "the server logs where it listens")
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	c, err := client.NewStreamableHttpClient(url)
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Initialize(ctx, inprocess.InitializeRequest())
	require.NoError(t, err)
	return cmd, c
}

func TestBinaryOverStreamableHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, c := serveHTTPBinary(t, ctx, "--sandbox")
	list, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, list.Tools, len(mcp.ToolNames()))
	res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: map[string]any{"endpoint_name": "e"}}})
	require.NoError(t, err)
	assert.False(t, res.IsError)
	assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, "Created endpoint 9000001")
	require.NoError(t, c.Close())

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "a SIGTERM ends the server cleanly")
}

func TestDemoRunsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := command(ctx, "demo").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, want := range []string{
		fmt.Sprintf("tools/list -> %d tools", len(mcp.ToolNames())),
		`Created endpoint 9000002 ("demo-llm")`,
		"Created workergroup 9000003 for endpoint 9000002",
		"Offers (id is create_instance",
		`Instance 9000001 is "running"`,
		"Workers of endpoint 9000002",
		"gpu_ram.gte: is in GB",
		"Created instance 9000001 from offer 12345678",
		`progress: instance 9000001: "running"`,
		"the human is asked",
		"What it acts on (read just now; the API's data): instance 9000001",
		"Destroyed instance 9000001; its billing has stopped.",
		"Dry run: nothing was sent",
		`"url": "http://127.0.0.1:1/api/v0/asks/12345678/"`,
	} {
		assert.Contains(t, string(out), want)
	}
}

func TestCallCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string
		stderr   string
	}{
		{"success", []string{"--sandbox", "call", "create_endpoint", `{"endpoint_name": "e"}`}, 0, `Created endpoint 9000001 ("e")`, ""},
		{"flags after the command", []string{"call", "create_endpoint", `{}`, "--sandbox"}, 0, "Created endpoint", ""},
		{"bad argument", []string{"--sandbox", "call", "create_instance", `{"offer_id": 1}`}, 1, "", "give one of image or template_hash_id"},
		{"not JSON", []string{"--sandbox", "call", "create_instance", `{offer_id: 1}`}, 2, "", "not valid JSON"},
		{"unknown tool", []string{"--sandbox", "call", "delete_everything", `{}`}, 1, "", "not found"},
		{"no key", []string{"call", "create_endpoint", `{}`}, 1, "", "VAST_API_KEY"},
		{"dry run", []string{"--dry-run", "call", "create_instance", `{"offer_id": 9, "image": "img"}`}, 0, "/api/v0/asks/9/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := command(ctx, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if exitErr, ok := err.(*exec.ExitError); ok {
				code = exitErr.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			assert.Contains(t, stdout.String(), tt.stdout)
			assert.Contains(t, stderr.String(), tt.stderr)
		})
	}
}

func TestFlagsAndHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--help"}, nil, &stdout, &stderr, func(string) string { return "" })
	assert.Equal(t, 0, code)
	help := stderr.String()
	for _, documented := range []string{
		"-transport", "-addr", "-base-url", "-timeout", "-dry-run", "-sandbox", "-log-level", "-version", "-expose-instance-key",
		"VAST_API_KEY", "VAST_URL", "VAST_MCP_TIMEOUT", "no flag for it", "demo", "call TOOL JSON",
	} {
		assert.Contains(t, help, documented)
	}

	tests := []struct {
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{args: []string{"--version"}, code: 0, out: "vast-mcp " + gen.Version},
		{args: []string{"--transport", "carrier-pigeon"}, code: 2, out: "--transport"},
		{args: []string{"--log-level", "loud"}, code: 2, out: "--log-level"},
		{args: []string{"--dry-run", "--sandbox"}, code: 2, out: "choose one"},
		{args: []string{"--timeout", "0s"}, code: 2, out: "--timeout"},
		{args: []string{"frobnicate"}, code: 2, out: "unknown command"},
		{args: []string{"call"}, env: map[string]string{"VAST_MCP_SANDBOX": "true"}, code: 2, out: "usage: vast-mcp call"},
		{args: []string{"--base-url", "not a url", "call", "create_endpoint", "{}"}, code: 2, out: "base URL"},
		{args: []string{}, env: map[string]string{"VAST_MCP_TRANSPORT": "smoke"}, code: 2, out: "smoke"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", &stdout, &stderr)
			assert.Contains(t, stdout.String()+stderr.String(), tt.out)
		})
	}
}
