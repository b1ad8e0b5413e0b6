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
	"strings"
	"sync"
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

// inProcessStdio runs the server in this process over pipes, as a client
// that spawned it would see it.
type inProcessStdio struct {
	t        *testing.T
	stdin    *io.PipeWriter
	messages chan map[string]any // every line the server writes, decoded
	exited   chan int
	log      *logWatch
	signal   context.CancelFunc // as SIGINT or SIGTERM does
}

const noAnswer = 30 * time.Second // only ever reached when the server is stuck

func startInProcess(t *testing.T, env map[string]string, args ...string) *inProcessStdio {
	t.Helper()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	ctx, signal := context.WithCancel(context.Background())
	t.Cleanup(signal)
	s := &inProcessStdio{t: t, stdin: stdinW, messages: make(chan map[string]any, 4096), exited: make(chan int, 1), log: &logWatch{}, signal: signal}
	go func() {
		s.exited <- run(ctx, args, stdinR, stdoutW, s.log, func(k string) string { return env[k] })
		stdoutW.Close()
	}()
	go func() {
		defer close(s.messages)
		lines := bufio.NewScanner(stdoutR)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		for lines.Scan() {
			var msg map[string]any
			if json.Unmarshal(lines.Bytes(), &msg) == nil {
				s.messages <- msg
			}
		}
	}()
	t.Cleanup(func() { stdinW.Close() })
	return s
}

// send writes a line without waiting: a stuck server reads nothing.
func (s *inProcessStdio) send(line string) {
	go func() { _, _ = io.WriteString(s.stdin, line+"\n") }()
}

// sendInOrder writes lines in order, without waiting for them to be read.
func (s *inProcessStdio) sendInOrder(lines []string) {
	go func() {
		for _, line := range lines {
			if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
				return
			}
		}
	}()
}

// next returns the next message the server writes, or fails the test when
// none comes.
func (s *inProcessStdio) next() map[string]any {
	s.t.Helper()
	select {
	case msg, ok := <-s.messages:
		require.True(s.t, ok, "the server closed its output; log:\n%s", s.log)
		return msg
	case <-time.After(noAnswer):
		require.FailNow(s.t, "the server stopped answering", "log:\n%s", s.log)
		return nil
	}
}

// answerTo skips to the answer to request id; it returns what came before.
func (s *inProcessStdio) answerTo(id float64) (answer map[string]any, before []map[string]any) {
	s.t.Helper()
	for {
		msg := s.next()
		if msg["id"] == id && msg["method"] == nil {
			return msg, before
		}
		before = append(before, msg)
	}
}

func (s *inProcessStdio) initialize(capabilities string) {
	s.t.Helper()
	s.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":` + capabilities + `,"clientInfo":{"name":"old-client","version":"0"}}}`)
	s.answerTo(0)
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func (s *inProcessStdio) exitCode() int {
	s.t.Helper()
	select {
	case code := <-s.exited:
		return code
	case <-time.After(noAnswer):
		require.FailNow(s.t, "the server did not stop", "log:\n%s", s.log)
		return -1
	}
}

// logWatch is the server's log, which a test can wait on.
type logWatch struct {
	mu      sync.Mutex
	b       strings.Builder
	waiters []logWaiter
}

type logWaiter struct {
	text string
	seen chan struct{}
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	l.notify()
	return len(p), nil
}

func (l *logWatch) notify() {
	kept := l.waiters[:0]
	for _, w := range l.waiters {
		if strings.Contains(l.b.String(), w.text) {
			close(w.seen)
		} else {
			kept = append(kept, w)
		}
	}
	l.waiters = kept
}

// when returns a channel closed once the log holds text.
func (l *logWatch) when(text string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := logWaiter{text: text, seen: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	l.notify()
	return w.seen
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func resultText(t *testing.T, msg map[string]any) (text string, isError bool) {
	t.Helper()
	result, ok := msg["result"].(map[string]any)
	require.True(t, ok, "a tool result: %v", msg)
	content := result["content"].([]any)
	return content[0].(map[string]any)["text"].(string), result["isError"] == true
}

// A client that predates multi round-trip requests is asked to confirm
// with elicitation/create, and this one never answers. Far more calls wait
// than mcp-go has workers and queue; the server must still answer ping,
// refuse the calls past its bound at once, and at the end of input answer
// every waiting call with "nothing was sent" and stop.
func TestStdioConfirmationsCannotWedgeTheServer(t *testing.T) {
	noLeaks(t)
	s := startInProcess(t, nil, "--sandbox", "--confirm")
	s.initialize(`{"elicitation":{}}`)

	const calls = 300 // mcp-go: 5 workers and a queue of 100 by default
	var lines []string
	for i := range calls {
		lines = append(lines, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e%d"}}}`, 1000+i, i))
	}
	lines = append(lines, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	s.sendInOrder(lines)

	_, before := s.answerTo(1)
	asked, refused := 0, 0
	answered := map[float64]bool{}
	count := func(msg map[string]any) {
		switch {
		case msg["method"] == "elicitation/create":
			asked++
		case msg["id"] != nil:
			text, isError := resultText(t, msg)
			assert.True(t, isError, text)
			assert.Contains(t, text, "nothing was sent")
			answered[msg["id"].(float64)] = true
			refused++
		}
	}
	for _, msg := range before {
		count(msg)
	}
	for asked+refused < calls {
		count(s.next())
	}
	assert.Equal(t, stdioCallSlots, asked, "the calls that may wait for a human are bounded")

	require.NoError(t, s.stdin.Close())
	for msg := range s.messages {
		text, isError := resultText(t, msg)
		assert.True(t, isError)
		assert.Contains(t, text, "nothing was sent")
		answered[msg["id"].(float64)] = true
	}
	assert.Len(t, answered, calls, "every call is answered")
	assert.Zero(t, s.exitCode())
}

// slowAPI answers a create only when the test releases it, and reports
// when a request arrives and when its sender gave up on it.
type slowAPI struct {
	url                         string
	arrived, cancelled, release chan struct{}
}

func newSlowAPI(t *testing.T) *slowAPI {
	a := &slowAPI{arrived: make(chan struct{}, 1), cancelled: make(chan struct{}, 1), release: make(chan struct{})}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a.arrived <- struct{}{}
		select {
		case <-a.release:
			_, _ = io.WriteString(w, `{"success": true, "result": 7}`)
		case <-r.Context().Done():
			a.cancelled <- struct{}{}
		}
	}))
	t.Cleanup(api.Close)
	a.url = api.URL
	return a
}

// awaitShutdownThenAnswer waits for the server to begin stopping, then lets
// the API answer. The create must not be cancelled meanwhile, nor the
// server gone before the answer.
func (a *slowAPI) awaitShutdownThenAnswer(t *testing.T, log *logWatch, stopped <-chan struct{}) {
	t.Helper()
	select {
	case <-a.cancelled:
		require.FailNow(t, "stopping cancelled a create already sent to the API", "log:\n%s", log)
	case <-stopped:
		require.FailNow(t, "the server stopped before the create was answered", "log:\n%s", log)
	case <-log.when("stopping: calls in progress may finish"):
		close(a.release)
	case <-time.After(noAnswer):
		require.FailNow(t, "the server did not begin stopping", "log:\n%s", log)
	}
}

const createdDuringShutdown = `msg="call finished during shutdown" tool=create_endpoint outcome=created id=7`

// A create sent before end of input, or before a signal, gets its answer
// to the agent, and its id to the log, before the server exits; a call
// made after that is refused, and sends nothing.
func TestStdioStoppingLetsASentCreateFinish(t *testing.T) {
	for _, how := range []string{"end of input", "signal"} {
		t.Run(how, func(t *testing.T) {
			noLeaks(t)
			const key = "vk-TESTKEY-ab12cd34ef56-DO-NOT-LEAK"
			t.Setenv("VAST_API_KEY", key)
			api := newSlowAPI(t)
			s := startInProcess(t, nil, "--base-url", api.url, "--timeout", "1m")
			s.initialize(`{}`)
			s.send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e"}}}`)
			select {
			case <-api.arrived:
			case <-time.After(noAnswer):
				require.FailNow(t, "the call never reached the API", "log:\n%s", s.log)
			}
			if how == "signal" {
				s.signal()
			} else {
				require.NoError(t, s.stdin.Close())
			}
			exited := make(chan struct{})
			go func() {
				<-s.log.when("vast-mcp stopped")
				close(exited)
			}()
			api.awaitShutdownThenAnswer(t, s.log, exited)

			answer, _ := s.answerTo(5)
			text, isError := resultText(t, answer)
			assert.False(t, isError, text)
			assert.Contains(t, text, "Created endpoint 7")
			require.NoError(t, s.stdin.Close())
			assert.Zero(t, s.exitCode())
			assert.Contains(t, s.log.String(), createdDuringShutdown)
			assert.Contains(t, s.log.String(), map[string]string{"signal": "reason=signal", "end of input": `reason="end of input"`}[how])
			assert.NotContains(t, s.log.String(), key)
		})
	}
}

// Over HTTP, the signal stops new work, and a create already sent gets its
// answer to its client and its id to the log before the server returns.
func TestHTTPShutdownLetsASentCreateFinish(t *testing.T) {
	noLeaks(t)
	api := newSlowAPI(t)
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.url, Timeout: time.Minute})
	require.NoError(t, err)
	log := &logWatch{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	shutdown := mcp.NewShutdown()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- serveHTTPOn(ctx, listener, &config{timeout: time.Minute}, mcp.NewServer(vast, mcp.Options{Shutdown: shutdown, Logger: logger}), shutdown, logger)
	}()

	c, err := client.NewStreamableHttpClient("http://" + listener.Addr().String() + "/mcp")
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start(context.Background()))
	_, err = c.Initialize(context.Background(), inprocess.InitializeRequest())
	require.NoError(t, err)
	results := make(chan *mcpgo.CallToolResult, 1)
	go func() {
		res, _ := c.CallTool(context.Background(), mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: map[string]any{"endpoint_name": "e"}}})
		results <- res // nil on an error
	}()
	select {
	case <-api.arrived:
	case <-time.After(noAnswer):
		require.FailNow(t, "the call never reached the API")
	}

	stop() // as SIGTERM does
	stopped := make(chan struct{})
	var served error
	go func() {
		served = <-done
		close(stopped)
	}()
	api.awaitShutdownThenAnswer(t, log, stopped)
	select {
	case res := <-results:
		require.NotNil(t, res)
		assert.False(t, res.IsError)
		assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, "Created endpoint 7")
	case <-time.After(noAnswer):
		require.FailNow(t, "the client got no answer")
	}
	<-stopped
	assert.NoError(t, served)
	assert.Contains(t, log.String(), createdDuringShutdown)
}
