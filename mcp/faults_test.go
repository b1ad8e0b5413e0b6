package mcp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// faultTimeout is the per-request deadline in these tests; every call must
// end well within a few of them.
const faultTimeout = 300 * time.Millisecond

// rawListener accepts connections and hands each to serve.
func rawListener(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(conn)
		}
	}()
	return "http://" + ln.Addr().String()
}

// reset closes with RST rather than FIN.
func reset(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func TestFaultsEndInAnErrorResultAndTheServerKeepsServing(t *testing.T) {
	chunk := strings.Repeat("x", 1<<20)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"hung API", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, "may or may not have happened"},
		{"garbage JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "\x00\xff{{{ not json")
		}, "not JSON"},
		{"truncated JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"success": true, "new_contr`)
		}, "not JSON"},
		{"50 MiB body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"success": true, "pad": "`)
			for range 50 {
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
			_, _ = io.WriteString(w, `"}`)
		}, "response body too large"},
		{"slow drip", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			for _, b := range []byte(`{"success": true, "new_contract": 1}`) {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
				_, _ = w.Write([]byte{b})
				w.(http.Flusher).Flush()
			}
		}, "may or may not have happened"},
		{"302 redirect", redirect(http.StatusFound), "never follows a redirect"},
		{"307 redirect", redirect(http.StatusTemporaryRedirect), "never follows a redirect"},
		{"308 redirect", redirect(http.StatusPermanentRedirect), "never follows a redirect"},
		{"503 with HTML", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html><title>503 Service Unavailable</title></html>")
		}, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := fakeapi.New(t, tt.handler, fakeapi.Fixture(t, "instance/200"))
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, Timeout: faultTimeout}, mcp.Options{})

			start := time.Now()
			res := call(t, c, "create_instance", `{"offer_id": 4242, "image": "img"}`)
			elapsed := time.Since(start)

			got := text(t, res)
			assert.True(t, res.IsError, got)
			assert.Contains(t, got, tt.want)
			assert.Less(t, elapsed, 5*faultTimeout, "the call ends within its deadline")
			// After an unknown outcome only reads follow, to settle it.
			creates := 0
			for _, r := range api.Requests() {
				if r.Method == http.MethodPut {
					creates++
					continue
				}
				assert.Contains(t, []string{"POST /api/v0/bundles/", "GET /api/v1/instances/"}, r.Method+" "+r.Path, "no redirect was followed")
			}
			assert.Equal(t, 1, creates, "a create is sent at most once")

			res = call(t, c, "create_instance", `{"offer_id": 4242, "image": "img"}`)
			assert.False(t, res.IsError, "the server keeps serving: %s", text(t, res))
		})
	}
}

func redirect(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api/v0/asks/", status)
	}
}

func TestConnectionResetAfterSendIsNeverRetried(t *testing.T) {
	tests := []struct {
		name      string
		readFirst bool
		wantRead  int32
	}{
		// The RST can land while connecting; that attempt sent nothing and
		// may be retried, and the next one is reset the same way.
		{"reset before the request is read", false, 0},
		{"reset after the request is read", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var read atomic.Int32
			url := rawListener(t, func(conn net.Conn) {
				if tt.readFirst {
					if req, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
						_, _ = io.Copy(io.Discard, req.Body)
						if req.Method == http.MethodPut { // the reads that settle it are not creates
							read.Add(1)
						}
					}
				}
				reset(conn)
			})
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: url, Timeout: faultTimeout, Retry: gen.RetryPolicy{BaseDelay: time.Millisecond}}, mcp.Options{})
			res := call(t, c, "create_instance", `{"offer_id": 4242, "image": "img"}`)
			assert.True(t, res.IsError)
			if got := text(t, res); tt.readFirst || outcomeOf(res) != mcp.OutcomeNotSent {
				assert.Contains(t, got, "may or may not have happened")
			} else {
				// Every attempt was reset while connecting: nothing left.
				assert.Contains(t, got, "the request was not sent")
			}
			assert.Equal(t, tt.wantRead, read.Load(), "the API receives the create at most once")
		})
	}
}

func TestConnectionRefusedIsRetriedAndSaysNothingWasSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	c := connect(t, gen.Config{APIKey: testKey, BaseURL: url, Retry: gen.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}}, mcp.Options{})
	res := call(t, c, "create_endpoint", `{"endpoint_name": "e"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, text(t, res), "the request was not sent")
	assert.Contains(t, text(t, res), "safe to call again")
}

func TestRateLimitIsRetriedThenSucceeds(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Func(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"detail": "API requests too frequent"}`)
	}), fakeapi.Fixture(t, "endpoint/200"))
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, Retry: gen.RetryPolicy{BaseDelay: time.Millisecond}}, mcp.Options{})
	res := call(t, c, "create_endpoint", `{"endpoint_name": "e"}`)
	assert.False(t, res.IsError, text(t, res))
	assert.Len(t, api.Requests(), 2)
}

func TestCancellingACallCancelsTheAPIRequest(t *testing.T) {
	arrived, cancelled := make(chan struct{}), make(chan struct{})
	api := fakeapi.New(t, fakeapi.Func(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
		close(cancelled)
	}))
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, Timeout: time.Minute}, mcp.Options{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.CallTool(ctx, toolRequest("create_instance", `{"offer_id": 1, "image": "img"}`))
	}()
	<-arrived
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the API request was not cancelled with the call")
	}
	<-done
}
