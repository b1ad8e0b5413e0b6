//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var figures = flag.Bool("figures", false, "measure the figures BENCHMARKS.md records (make figures)")

// TestFigures measures, through the balancer, calls/s and p99 at 64
// concurrent callers against an unlimited fake, and a replica's memory
// with 1,000 idle clients.
func TestFigures(t *testing.T) {
	if !*figures {
		t.Skip("run with -figures (make figures)")
	}
	_, apiURL := startFakeVast(t, 0, 0)
	c := startCluster(t, apiURL, clusterOptions{replicas: 3, args: []string{"--confirm=none", "--log-level", "warn"}})
	ctx := context.Background()

	const callers, duration = 64, 10 * time.Second
	lb := newClient(c.url)
	var calls, failed atomic.Int64
	latencies := make([][]time.Duration, callers)
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				start := time.Now()
				r := lb.call(ctx, "create_instance", createArgs(fmt.Sprintf("f-%d-%d", i, n)), "", nil)
				latencies[i] = append(latencies[i], time.Since(start))
				calls.Add(1)
				if r.err != nil || r.rpcError != "" || r.result.IsError {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	p := func(q float64) time.Duration { return all[int(q*float64(len(all)-1))] }
	report := fmt.Sprintf("through HAProxy to 3 replicas, %d concurrent callers, %s: %d calls (%d failed), %.0f calls/s, p50 %s, p99 %s",
		callers, duration, calls.Load(), failed.Load(), float64(calls.Load())/duration.Seconds(), p(0.50).Round(10*time.Microsecond), p(0.99).Round(10*time.Microsecond))
	t.Log(report)
	fmt.Println("FIGURE", report)
	require.Zero(t, failed.Load())

	// 1,000 idle clients on one replica: each initialized (an older,
	// session-based client, the heavier kind) and listed the tools, then
	// keeps its connection open.
	r := c.replicas[0]
	before := r.rss(t)
	conns := make([]net.Conn, 0, 1000)
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for range 1000 {
		conn, err := net.Dial("tcp", r.addr)
		require.NoError(t, err)
		conns = append(conns, conn)
		br := bufio.NewReader(conn)
		session := post(t, conn, br, r.addr, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"idle","version":"0"}}}`)
		post(t, conn, br, r.addr, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
		post(t, conn, br, r.addr, session, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	}
	time.Sleep(2 * time.Second)
	after := r.rss(t)
	report = fmt.Sprintf("one replica, 1,000 idle session-based clients (each initialized and listed tools, connection kept open): RSS %.1f MiB before, %.1f MiB after, %.1f KiB per client",
		float64(before)/(1<<20), float64(after)/(1<<20), float64(after-before)/1000/1024)
	t.Log(report)
	fmt.Println("FIGURE", report)
}

// post sends one request on conn (keep-alive) and returns the session id
// the answer carries.
func post(t *testing.T, conn net.Conn, br *bufio.Reader, host, session, body string) string {
	t.Helper()
	resp, status := send(t, conn, br, host, session, body)
	require.Less(t, status, 300, "%s answered HTTP %d", body, status)
	return resp
}

// send is post that leaves the status to the caller.
func send(t *testing.T, conn net.Conn, br *bufio.Reader, host, session, body string) (string, int) {
	t.Helper()
	var req strings.Builder
	fmt.Fprintf(&req, "POST /mcp HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: %d\r\n", host, token, len(body))
	if session != "" {
		fmt.Fprintf(&req, "Mcp-Session-Id: %s\r\nMcp-Protocol-Version: 2025-06-18\r\n", session)
	}
	req.WriteString("\r\n" + body)
	_, err := conn.Write([]byte(req.String()))
	require.NoError(t, err)
	resp, status, err := readResponse(br)
	require.NoError(t, err)
	return resp, status
}

func readResponse(br *bufio.Reader) (session string, status int, err error) {
	statusLine, err := br.ReadString('\n')
	if err != nil {
		return "", 0, err
	}
	if f := strings.Fields(statusLine); len(f) > 1 {
		fmt.Sscan(f[1], &status)
	}
	length, chunked := -1, false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", status, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "mcp-session-id":
			session = value
		case "content-length":
			fmt.Sscan(value, &length)
		case "transfer-encoding":
			chunked = strings.Contains(value, "chunked")
		}
	}
	switch {
	case chunked:
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "", status, err
			}
			var n int
			fmt.Sscanf(strings.TrimSpace(line), "%x", &n)
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(br, buf); err != nil {
				return "", status, err
			}
			if n == 0 {
				return session, status, nil
			}
		}
	case length >= 0:
		buf := make([]byte, length)
		_, err := io.ReadFull(br, buf)
		return session, status, err
	}
	return session, status, nil
}
