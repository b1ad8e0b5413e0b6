package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestStdioSurvivesHostileInput(t *testing.T) {
	s := startStdio(t, "--sandbox")
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	s.receive()
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	hostile := []struct {
		name string
		line string
	}{
		{"oversized line", `{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":"` + strings.Repeat("x", 3<<20) + `"}}`},
		{"unknown method", `{"jsonrpc":"2.0","id":3,"method":"tools/destroy_everything"}`},
		{"id of the wrong type", `{"jsonrpc":"2.0","id":{"nested":true},"method":"ping"}`},
		{"params of the wrong type", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":"create_instance"}`},
		{"arguments of the wrong type", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_instance","arguments":[1,2,3]}}`},
		{"wrong jsonrpc version", `{"jsonrpc":"1.0","id":6,"method":"ping"}`},
		{"a bare string", `"hello"`},
		{"a batch", `[{"jsonrpc":"2.0","id":7,"method":"ping"}]`},
		{"binary garbage", "\x00\x01\x02\xff\xfe"},
	}
	for _, h := range hostile {
		s.send(h.line)
		msg := s.receive() // an answer, whatever it is, and no crash
		if h.name == "arguments of the wrong type" {
			assert.Equal(t, true, msg["result"].(map[string]any)["isError"], "the tool refuses them: %v", msg)
		}

		// The server keeps serving after each.
		s.send(`{"jsonrpc":"2.0","id":100,"method":"ping"}`)
		pong := s.receive()
		require.Equal(t, 100.0, pong["id"], "after %s: %v", h.name, pong)
	}
	require.NoError(t, s.stdin.Close())
	require.NoError(t, s.cmd.Wait(), "stderr:\n%s", s.stderr)
}

// blockingAPI answers nothing; it reports when a request arrives and when
// the client gives up on it.
func blockingAPI(t *testing.T) (url string, arrived, cancelled chan struct{}) {
	arrived, cancelled = make(chan struct{}, 1), make(chan struct{}, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http notices a closed connection only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			cancelled <- struct{}{}
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(api.Close)
	return api.URL, arrived, cancelled
}

func TestStdioCancellationReachesTheAPI(t *testing.T) {
	url, arrived, cancelled := blockingAPI(t)
	s := startStdioEnv(t, []string{"VAST_API_KEY=k"}, "--base-url", url, "--timeout", "1m")
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
	s.receive()
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e"}}}`)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("the call never reached the API; stderr:\n%s", s.stderr)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"user stopped"}}`)
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the API request outlived the call")
	}
}

// A client that goes away, closing both pipes, does not cancel a create
// already sent: the server waits for the API's answer, logs the new id, and
// exits cleanly although no one reads its output any more.
func TestBinaryLogsACreateAnsweredAfterTheClientLeft(t *testing.T) {
	api := newSlowAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "--base-url", api.url, "--timeout", "1m")
	cmd.Env = append(cmd.Env, "VAST_API_KEY=k")
	log := &logWatch{}
	cmd.Stderr = log
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	_, err = io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`+"\n"+
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e"}}}`+"\n")
	require.NoError(t, err)
	select {
	case <-api.arrived:
	case <-time.After(noAnswer):
		require.FailNow(t, "the call never reached the API", "stderr:\n%s", log)
	}
	require.NoError(t, stdin.Close())
	require.NoError(t, stdout.Close())
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	api.awaitShutdownThenAnswer(t, log, exited)
	<-exited
	require.NoError(t, waitErr, "stderr:\n%s", log)
	assert.Contains(t, log.String(), createdDuringShutdown)
}

// TestKeyNeverAppearsInAnyOutput runs the binary through every mode with a
// distinctive key and sweeps everything it printed.
func TestKeyNeverAppearsInAnyOutput(t *testing.T) {
	const key = "vk-TESTKEY-5e0d2c7a9b14f36e-DO-NOT-LEAK"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Echo what the API saw, key included, as a hostile or buggy API might.
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": "invalid_args", "msg": "got " + r.URL.Path + " with " + r.Header.Get("Authorization")})
	}))
	defer api.Close()

	runs := [][]string{
		{"--help"},
		{"--version"},
		{"--log-level", "debug", "call", "create_instance", `{"offer_id": 1, "image": "img"}`},
		{"--log-level", "debug", "call", "create_instance", `{"offer_id": 1}`},
		{"--log-level", "debug", "--dry-run", "call", "create_instance", `{"offer_id": 1, "image": "img"}`},
		{"--log-level", "debug", "--sandbox", "call", "create_instance", `{"offer_id": 1, "image": "img"}`},
		{"--log-level", "debug", "--base-url", "http://127.0.0.1:1", "call", "create_endpoint", `{}`},
		{"--log-level", "debug", "demo"},
	}
	var everything bytes.Buffer
	for _, args := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := command(ctx, args...)
		cmd.Env = append(cmd.Env, "VAST_API_KEY="+key, "VAST_URL="+api.URL)
		out, _ := cmd.CombinedOutput()
		cancel()
		everything.Write(out)
	}
	require.Contains(t, everything.String(), "vast api call", "the debug log was captured")
	require.Contains(t, everything.String(), "with Bearer [REDACTED]", "the API's echo reached the output, scrubbed")
	assert.NotContains(t, everything.String(), key)
	assert.NotContains(t, everything.String(), key[len(key)/2:], "not even part of it")
}

func TestConfigFileEnvAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vast-mcp.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"max-price": 2, "max-disk": 50, "max-workers": 3, "allow-image": ["vllm/*", "ubuntu:24.04"], "tools": ["create_instance"], "confirm": true}`), 0o600))
	env := map[string]string{"VAST_MCP_CONFIG": file, "VAST_MCP_MAX_DISK": "80", "VAST_MCP_MAX_WORKERS": "5"}

	var stderr bytes.Buffer
	cfg, positional, exit := parse([]string{"--max-price", "1", "call", "--max-workers", "4"}, func(k string) string { return env[k] }, io.Discard, &stderr)
	require.Equal(t, -1, exit, stderr.String())
	assert.Equal(t, []string{"call"}, positional)
	assert.Equal(t, 1.0, cfg.maxPrice, "a flag beats the file")
	assert.Equal(t, 4, cfg.maxWorkers, "a flag beats the environment")
	assert.Equal(t, 80.0, cfg.maxDisk, "the environment beats the file")
	assert.Equal(t, list{"vllm/*", "ubuntu:24.04"}, cfg.images, "the file fills the rest")
	assert.Equal(t, list{"create_instance"}, cfg.tools)
	assert.Equal(t, mcp.ConfirmAll, mcp.ConfirmPolicy(cfg.confirm), "true in the file means all, as before")

	// --config on the command line beats VAST_MCP_CONFIG.
	other := filepath.Join(dir, "other.json")
	require.NoError(t, os.WriteFile(other, []byte(`{"max-price": 7}`), 0o600))
	cfg, _, exit = parse([]string{"--config=" + other}, func(k string) string { return env[k] }, io.Discard, &stderr)
	require.Equal(t, -1, exit, stderr.String())
	assert.Equal(t, 7.0, cfg.maxPrice)
	assert.Equal(t, mcp.ConfirmDestructive, mcp.ConfirmPolicy(cfg.confirm))

	require.NoError(t, os.WriteFile(file, []byte(`{"max-prize": 2}`), 0o600))
	code := run(context.Background(), []string{}, nil, io.Discard, &stderr, func(k string) string { return env[k] })
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), `unknown setting "max-prize"`, "a misspelt guardrail stops the server")
}

func TestGuardrailFlagsReachTheServer(t *testing.T) {
	tests := []struct {
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, []string{"--sandbox", "--max-price", "1", "call", "create_instance", `{"offer_id": 1, "image": "img", "price": 2}`}, 1, "", "--max-price 1"},
		{nil, []string{"--sandbox", "--tools", "create_endpoint", "call", "create_instance", `{"offer_id": 1, "image": "img"}`}, 1, "", "not found"},
		{nil, []string{"--sandbox", "--allow-image", "vllm/*", "call", "create_instance", `{"offer_id": 1, "image": "vllm/x"}`}, 0, "Created instance", ""},
		{nil, []string{"--tools", "create_everything"}, 2, "", "no such tool"},
		{nil, []string{"--allow-image", "a*b"}, 2, "", `may only end an entry`},
		{nil, []string{"--allow-image", "ghcr.io/myorg*"}, 2, "", `("ghcr.io/myorg/*", "ghcr.io/myorg:*")`},
		{nil, []string{"--allow-image", "ubuntu*"}, 2, "", `"ubuntu*": a prefix ends its name part`},
		{nil, []string{"--sandbox", "--allow-image", "ubuntu:*,vllm/vllm-openai@*", "call", "create_instance", `{"offer_id": 1, "image": "ubuntu:24.04"}`}, 0, "Created instance", ""},
		{nil, []string{"--max-workers", "many"}, 2, "", `invalid value "many" for flag -max-workers`},
		{map[string]string{"VAST_MCP_MAX_WORKERS": "many"}, nil, 2, "", `max-workers "many": want a whole number`},
		{map[string]string{"VAST_MCP_CONFIRM": "yes please"}, nil, 2, "", `confirm "yes please": want none, destructive or all`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return tt.env[k] })
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", &stdout, &stderr)
			assert.Contains(t, stdout.String(), tt.stdout)
			assert.Contains(t, stderr.String(), tt.stderr)
		})
	}
}

func TestGuardrailSummaryIsLoggedAtStartUp(t *testing.T) {
	s := startStdio(t, "--sandbox", "--max-price", "3", "--allow-image", "vllm/*", "--confirm", "--tools", "create_instance")
	require.NoError(t, s.stdin.Close())
	require.NoError(t, s.cmd.Wait())
	log := s.stderr.String()
	for _, want := range []string{"max_price=3", "allowed_images=vllm/*", "confirm=all", "tools=create_instance", "max_workers=none"} {
		assert.Contains(t, log, want)
	}
}
