package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOneProcessorDecision(t *testing.T) {
	tests := []struct {
		gomaxprocs  string
		stdinBlocks bool
		want        bool
	}{
		{"", false, true},
		{"", true, false}, // the only processor would sit in read(2)
		{"2", false, false},
		{"1", false, false}, // the operator's, even when it is ours
		// Values the runtime ignores leave its default, so ours applies.
		{"0", false, true},
		{"-1", false, true},
		{"two", false, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("GOMAXPROCS=%q,stdinBlocks=%v", tt.gomaxprocs, tt.stdinBlocks), func(t *testing.T) {
			assert.Equal(t, tt.want, oneProcessor(tt.gomaxprocs, tt.stdinBlocks))
		})
	}
}

// Serving over stdio, the server runs on one processor unless the operator
// set GOMAXPROCS, and hands the previous setting back when it stops. Over
// HTTP it leaves the runtime's choice alone.
func TestStdioServesOnOneProcessor(t *testing.T) {
	const before = 3 // a known setting other than one, whatever the machine
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(before))
	tests := []struct {
		name       string
		transport  string
		gomaxprocs string // in the environment
		serving    int
	}{
		{"stdio", "stdio", "", 1},
		{"stdio, GOMAXPROCS set by the operator", "stdio", "5", before}, // the runtime read it at start
		{"http", "http", "", before},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tt.gomaxprocs)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdinR, stdinW := io.Pipe()
			stdoutR, stdoutW := io.Pipe()
			stderrR, stderrW := io.Pipe()
			args := []string{"--sandbox", "--transport", tt.transport, "--addr", "127.0.0.1:0"}
			exited := make(chan int, 1)
			go func() {
				exited <- run(ctx, args, stdinR, stdoutW, stderrW, func(string) string { return "" })
				stdoutW.Close()
				stderrW.Close()
			}()
			listening := false
			if tt.transport == "http" {
				for logLines := bufio.NewScanner(stderrR); !listening && logLines.Scan(); {
					listening = strings.Contains(logLines.Text(), "listening")
				}
			}
			go func() { _, _ = io.Copy(io.Discard, stderrR) }() // an unread log line would hold the server
			if tt.transport == "http" {
				require.True(t, listening, "the HTTP server did not start")
			} else {
				_, err := io.WriteString(stdinW, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
				require.NoError(t, err)
				require.True(t, bufio.NewScanner(stdoutR).Scan()) // answered: serving, with the setting made
			}
			assert.Equal(t, tt.serving, runtime.GOMAXPROCS(0))

			stdinW.Close() // EOF ends a stdio server, the context an HTTP one
			cancel()
			go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
			select {
			case code := <-exited:
				assert.Zero(t, code)
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not stop")
			}
			assert.Equal(t, before, runtime.GOMAXPROCS(0), "the setting is handed back")
		})
	}
}

// One processor does not serialise calls: the API answers none of three
// creates until all three are waiting on it.
func TestStdioCallsOverlapOnOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	t.Setenv("GOMAXPROCS", "")
	t.Setenv("VAST_API_KEY", "k-overlap-test-key")
	const calls = 3
	var (
		arrived atomic.Int32
		procs   atomic.Int32
	)
	all := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if arrived.Add(1) == calls {
			procs.Store(int32(runtime.GOMAXPROCS(0)))
			close(all)
		}
		select {
		case <-all:
			_, _ = io.WriteString(w, `{"success": true, "result": 7}`)
		case <-time.After(10 * time.Second):
			http.Error(w, "the other calls never came", http.StatusServiceUnavailable)
		}
	}))
	defer api.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"--base-url", api.URL}, stdinR, stdoutW, io.Discard, func(string) string { return "" })
		stdoutW.Close()
	}()
	for id := 1; id <= calls; id++ {
		_, err := fmt.Fprintf(stdinW, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e%d"}}}`+"\n", id, id)
		require.NoError(t, err)
	}
	answers := bufio.NewScanner(stdoutR)
	for range calls {
		require.True(t, answers.Scan())
		assert.Contains(t, answers.Text(), "Created endpoint 7")
	}
	assert.EqualValues(t, 1, procs.Load(), "the calls overlapped on one processor")
	stdinW.Close()
	select {
	case code := <-exited:
		assert.Zero(t, code)
	case <-ctx.Done():
		t.Fatal("the server did not stop")
	}
}
