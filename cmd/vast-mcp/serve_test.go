package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Calls over stdio run concurrently: the API answers none of three
// creates until all three are waiting on it.
func TestStdioCallsOverlap(t *testing.T) {
	t.Setenv("VAST_API_KEY", "k-overlap-test-key")
	const calls = 3
	var arrived atomic.Int32
	all := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if arrived.Add(1) == calls {
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
	stdinW.Close()
	select {
	case code := <-exited:
		assert.Zero(t, code)
	case <-ctx.Done():
		t.Fatal("the server did not stop")
	}
}
