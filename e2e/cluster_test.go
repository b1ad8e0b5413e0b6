//go:build e2e

// Package e2e runs vast-mcp as a team would: three replicas behind HAProxy,
// sharing one Redis, against a fake Vast.ai API that enforces the rate
// limit. `make e2e` runs it (CI too, with VAST_MCP_E2E=1, so that a missing
// haproxy or redis-server fails instead of skipping).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/redistest"
)

const (
	apiKey   = "vk-E2E-SERVER-KEY-0123456789abcdef"
	stateKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	token    = "e2e-bearer-token"
)

// need finds a binary, or skips (fails under VAST_MCP_E2E=1).
func need(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if redistest.Required() {
			t.Fatalf("%s is not installed and VAST_MCP_E2E=1: apt-get install haproxy redis-server (.ci/run does)", name)
		}
		t.Skipf("%s is not installed: skipping the end-to-end test (apt-get install haproxy redis-server; CI runs it)", name)
	}
	return path
}

// buildBinary builds vast-mcp once per test binary run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vast-mcp-e2e-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "vast-mcp")
		cmd := exec.Command("go", "build", "-o", buildOnce.path, "./cmd/vast-mcp")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildOnce.err)
	return buildOnce.path
}

// replica is one vast-mcp process.
type replica struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (r *replica) alive() bool {
	return r.cmd.ProcessState == nil && r.cmd.Process.Signal(syscall.Signal(0)) == nil
}

// rss is the replica's resident memory, from /proc.
func (r *replica) rss(t *testing.T) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cluster is replicas behind HAProxy.
type cluster struct {
	url      string // the balancer's /mcp
	replicas []*replica
	haproxy  *exec.Cmd
	redis    *redistest.Server
}

type clusterOptions struct {
	replicas int
	redis    bool
	args     []string // extra vast-mcp flags
}

func startCluster(t *testing.T, apiURL string, o clusterOptions) *cluster {
	t.Helper()
	haproxyBin := need(t, "haproxy")
	c := &cluster{}
	if o.redis {
		c.redis = redistest.Start(t)
	}
	bin := buildBinary(t)
	for i := range o.replicas {
		r := &replica{name: fmt.Sprintf("r%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)), log: &syncBuffer{}}
		args := append([]string{"--transport", "http", "--addr", r.addr, "--base-url", apiURL, "--timeout", "10s"}, o.args...)
		if c.redis != nil {
			args = append(args, "--redis", c.redis.URL())
		}
		r.cmd = exec.Command(bin, args...)
		r.cmd.Env = []string{"VAST_API_KEY=" + apiKey, "VAST_MCP_STATE_KEY=" + stateKey, "VAST_MCP_HTTP_TOKEN=" + token, "HOME=" + t.TempDir()}
		r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
		require.NoError(t, r.cmd.Start())
		t.Cleanup(func() {
			if r.alive() {
				_ = r.cmd.Process.Kill()
			}
			_ = r.cmd.Wait()
			if t.Failed() {
				t.Logf("%s log:\n%s", r.name, tail(r.log.String(), 4000))
			}
		})
		c.replicas = append(c.replicas, r)
	}
	for _, r := range c.replicas {
		waitFor(t, "http://"+r.addr+"/readyz", 20*time.Second)
	}

	front := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	var servers strings.Builder
	for _, r := range c.replicas {
		fmt.Fprintf(&servers, "    server %s %s check inter 200ms fall 1 rise 2\n", r.name, r.addr)
	}
	// Round robin for 2026-07-28 requests (no session); a request carrying
	// Mcp-Session-Id (an older client) sticks to the replica that minted it.
	cfg := fmt.Sprintf(`global
    maxconn 8192
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    # Retried elsewhere only when the connection never opened: nothing was sent.
    retries 2
    retry-on conn-failure
    option redispatch
frontend mcp
    bind %s
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    stick-table type string len 64 size 100k expire 30m
    stick on req.hdr(Mcp-Session-Id)
    stick store-response res.hdr(Mcp-Session-Id)
%s`, front, servers.String())
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	var hlog syncBuffer
	c.haproxy = exec.Command(haproxyBin, "-f", cfgPath, "-db")
	c.haproxy.Stdout, c.haproxy.Stderr = &hlog, &hlog
	require.NoError(t, c.haproxy.Start())
	t.Cleanup(func() {
		_ = c.haproxy.Process.Kill()
		_ = c.haproxy.Wait()
		if t.Failed() {
			t.Logf("haproxy log:\n%s", tail(hlog.String(), 2000))
		}
	})
	c.url = "http://" + front + "/mcp"
	waitFor(t, "http://"+front+"/healthz", 10*time.Second)
	time.Sleep(500 * time.Millisecond) // HAProxy's first health checks
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitFor(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %s (last: %v)", url, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// client speaks MCP 2026-07-28 over streamable HTTP: no session, so each
// request may reach any replica.
type client struct {
	url  string
	http *http.Client
}

func newClient(url string) *client {
	return &client{url: url, http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
}

const modern = "2026-07-28"

// reply is a tools/call's outcome as the test sees it.
type reply struct {
	httpStatus int
	err        error // transport failure: no answer
	rpcError   string
	result     struct {
		ResultType    string          `json:"resultType"`
		RequestState  string          `json:"requestState"`
		InputRequests json.RawMessage `json:"inputRequests"`
		IsError       bool            `json:"isError"`
		Content       []struct {
			Text string `json:"text"`
		} `json:"content"`
		Structured json.RawMessage `json:"structuredContent"`
	}
}

func (r reply) text() string {
	var b strings.Builder
	for _, c := range r.result.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

func (r reply) String() string {
	switch {
	case r.err != nil:
		return "transport error: " + r.err.Error()
	case r.rpcError != "":
		return fmt.Sprintf("HTTP %d, JSON-RPC error %s", r.httpStatus, r.rpcError)
	}
	return fmt.Sprintf("HTTP %d, isError=%v, %s", r.httpStatus, r.result.IsError, r.text())
}

func (c *client) call(ctx context.Context, tool string, args map[string]any, state string, approve *bool) reply {
	params := map[string]any{
		"name":      tool,
		"arguments": args,
		"_meta": map[string]any{
			"io.modelcontextprotocol/protocolVersion":    modern,
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "e2e-agent", "version": "0"},
			"io.modelcontextprotocol/clientCapabilities": map[string]any{"elicitation": map[string]any{}},
		},
	}
	if state != "" {
		params["requestState"] = state
		params["inputResponses"] = map[string]any{"confirm": map[string]any{"action": "accept", "content": map[string]any{"approve": *approve}}}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Protocol-Version", modern)
	req.Header.Set("Mcp-Method", "tools/call")
	req.Header.Set("Mcp-Name", tool)
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	out := reply{httpStatus: resp.StatusCode, err: err}
	if err != nil {
		return out
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		var last []byte
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				last = []byte(strings.TrimSpace(data))
			}
		}
		raw = last
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &msg) != nil {
		out.rpcError = tail(string(raw), 300)
		return out
	}
	if msg.Error != nil {
		out.rpcError = fmt.Sprintf("%d %s", msg.Error.Code, msg.Error.Message)
		return out
	}
	if err := json.Unmarshal(msg.Result, &out.result); err != nil {
		out.err = err
	}
	return out
}

// confirmed asks, then answers yes with the state it got: the two requests
// go through the balancer, so (round robin) to different replicas.
func (c *client) confirmed(ctx context.Context, tool string, args map[string]any) (asked, answered reply) {
	asked = c.call(ctx, tool, args, "", nil)
	if asked.err != nil || asked.rpcError != "" || asked.result.RequestState == "" {
		return asked, asked
	}
	yes := true
	return asked, c.call(ctx, tool, args, asked.result.RequestState, &yes)
}

var _ = runtime.NumCPU
var _ net.Conn
