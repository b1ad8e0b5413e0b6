// Command harness measures vast-mcp against the bare mcp-go floor
// (bench/floor) in one run on this machine: cold start over stdio, the cost
// of a tool call over stdio against a loopback fake API, streamable HTTP
// throughput, peak RSS and binary size. It needs Go and nothing else, and
// touches no network beyond loopback.
//
//	go run ./bench/harness [-spawns 40] [-calls 3000] [-sessions 8] [-duration 5s]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

type subject struct {
	name string
	bin  string
	args []string // extra arguments for stdio serving
}

func main() {
	spawns := flag.Int("spawns", 40, "cold starts per binary")
	calls := flag.Int("calls", 3000, "tool calls per binary over stdio")
	sessions := flag.Int("sessions", 8, "streamable HTTP sessions")
	duration := flag.Duration("duration", 5*time.Second, "streamable HTTP run per binary")
	flag.Parse()
	if err := run(*spawns, *calls, *sessions, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func run(spawns, calls, sessions int, duration time.Duration) error {
	dir, err := os.MkdirTemp("", "vast-mcp-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ours := subject{name: "vast-mcp", bin: filepath.Join(dir, "vast-mcp")}
	floor := subject{name: "floor", bin: filepath.Join(dir, "floor")}
	for _, s := range []struct{ out, pkg string }{{ours.bin, "./cmd/vast-mcp"}, {floor.bin, "./bench/floor"}} {
		if out, err := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", s.out, s.pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", s.pkg, err, out)
		}
	}

	var apiCalls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		apiCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success": true, "result": 1234}`)
	}))
	defer api.Close()
	env := append(os.Environ(), "VAST_API_KEY=bench-key", "VAST_URL="+api.URL, "VAST_MCP_LOG_LEVEL=warn")

	fmt.Printf("# vast-mcp vs bare mcp-go floor, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("machine: %s/%s, %d CPUs, %s, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())

	// Binary size.
	oursSize, floorSize := fileSize(ours.bin), fileSize(floor.bin)
	fmt.Printf("| measure | vast-mcp | floor | ratio | target |\n|---|---|---|---|---|\n")
	row("stripped binary (MiB)", mib(oursSize), mib(floorSize), "≤ 20 MiB", mib(oursSize) <= 20)

	// Cold start, interleaved so drift hits both alike.
	var oursStart, floorStart []time.Duration
	var oursRSS, floorRSS []int64
	for range spawns {
		for _, s := range []subject{ours, floor} {
			d, rss, err := coldStart(s, env)
			if err != nil {
				return fmt.Errorf("%s cold start: %w", s.name, err)
			}
			if s.name == ours.name {
				oursStart, oursRSS = append(oursStart, d), append(oursRSS, rss)
			} else {
				floorStart, floorRSS = append(floorStart, d), append(floorRSS, rss)
			}
		}
	}
	om, fm := percentile(oursStart, 50), percentile(floorStart, 50)
	row("cold start to tools/list, median (ms)", ms(om), ms(fm), "≤ 1.1×", ratio(om, fm) <= 1.1)
	row("cold start to tools/list, p90 (ms)", ms(percentile(oursStart, 90)), ms(percentile(floorStart, 90)), "", true)
	oursPeak, floorPeak := slices.Max(oursRSS), slices.Max(floorRSS)
	row("peak RSS over the cold starts (MiB)", mib(oursPeak), mib(floorPeak), "≤ 16 MiB", mib(oursPeak) <= 16)

	// Per call over stdio, with a direct POST to the same fake as the base.
	oursSession, err := startStdio(ours, env)
	if err != nil {
		return err
	}
	defer oursSession.close()
	floorSession, err := startStdio(floor, env)
	if err != nil {
		return err
	}
	defer floorSession.close()
	direct := &http.Client{}
	var oursCall, floorCall, directCall []time.Duration
	const block = 100
	for i := 0; i < calls; i += block {
		for _, step := range []func() error{
			func() error { return timeCalls(oursSession, block, &oursCall) },
			func() error { return timeCalls(floorSession, block, &floorCall) },
			func() error { return timePosts(direct, api.URL, block, &directCall) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
	}
	oc, fc, dc := percentile(oursCall, 50), percentile(floorCall, 50), percentile(directCall, 50)
	row("tools/call over stdio, median (µs)", us(oc), us(fc), "≤ 1.1×", ratio(oc, fc) <= 1.1)
	row("  of which above a direct POST (µs)", us(oc-dc), us(fc-dc), "ours − floor ≤ 20 µs", (oc-fc) <= 20*time.Microsecond)
	row("direct POST to the fake, median (µs)", us(dc), us(dc), "", true)

	// Streamable HTTP throughput.
	oursRate, err := httpThroughput(ours, env, sessions, duration)
	if err != nil {
		return fmt.Errorf("vast-mcp http: %w", err)
	}
	floorRate, err := httpThroughput(floor, env, sessions, duration)
	if err != nil {
		return fmt.Errorf("floor http: %w", err)
	}
	row(fmt.Sprintf("streamable HTTP, %d sessions (calls/s)", sessions), fmt.Sprintf("%.0f", oursRate), fmt.Sprintf("%.0f", floorRate),
		"≥ 0.9×", oursRate >= 0.9*floorRate)
	fmt.Printf("\n%d spawns and %d stdio calls per binary; HTTP for %s per binary; the fake API served %d requests.\n",
		spawns, calls, duration, apiCalls.Load())
	return nil
}

func row(name string, ours, floor any, target string, ok bool) {
	r := ""
	if o, ok1 := toFloat(ours); ok1 {
		if f, ok2 := toFloat(floor); ok2 && f != 0 {
			r = fmt.Sprintf("%.2f×", o/f)
		}
	}
	mark := ""
	if target != "" {
		mark = " ✔"
		if !ok {
			mark = " ✘"
		}
	}
	fmt.Printf("| %s | %v | %v | %s | %s%s |\n", name, ours, floor, r, target, mark)
}

func toFloat(v any) (float64, bool) {
	var f float64
	_, err := fmt.Sscanf(fmt.Sprint(v), "%g", &f)
	return f, err == nil
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}` + "\n" +
	`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n"

// coldStart spawns the binary and times it until tools/list is answered.
func coldStart(s subject, env []string) (time.Duration, int64, error) {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = env
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	_, _ = io.WriteString(stdin, initialize+`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`+"\n")
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	var elapsed time.Duration
	for lines.Scan() {
		if bytes.Contains(lines.Bytes(), []byte(`"id":2`)) {
			elapsed = time.Since(start)
			break
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return 0, 0, err
	}
	if elapsed == 0 {
		return 0, 0, fmt.Errorf("no tools/list answer")
	}
	return elapsed, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024, nil
}

type stdioSession struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	id    int
}

func startStdio(s subject, env []string) (*stdioSession, error) {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = env
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sess := &stdioSession{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout), id: 10}
	sess.out.Buffer(make([]byte, 1<<20), 1<<20)
	_, _ = io.WriteString(stdin, initialize)
	if !sess.out.Scan() {
		return nil, fmt.Errorf("%s: no initialize answer", s.name)
	}
	// Warm up: connection pool, schema compilation, first allocations.
	var warm []time.Duration
	return sess, timeCalls(sess, 200, &warm)
}

func (s *stdioSession) close() {
	s.stdin.Close()
	_ = s.cmd.Wait()
}

func timeCalls(s *stdioSession, n int, into *[]time.Duration) error {
	for range n {
		s.id++
		line := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"bench"}}}`+"\n", s.id)
		start := time.Now()
		if _, err := io.WriteString(s.stdin, line); err != nil {
			return err
		}
		if !s.out.Scan() {
			return fmt.Errorf("no answer to call %d", s.id)
		}
		*into = append(*into, time.Since(start))
		if bytes.Contains(s.out.Bytes(), []byte(`"isError":true`)) {
			return fmt.Errorf("call failed: %s", s.out.Bytes())
		}
	}
	return nil
}

func timePosts(c *http.Client, base string, n int, into *[]time.Duration) error {
	for range n {
		start := time.Now()
		resp, err := c.Post(base+"/api/v0/endptjobs/", "application/json", strings.NewReader(`{"endpoint_name":"bench"}`))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		*into = append(*into, time.Since(start))
	}
	return nil
}

// httpThroughput serves the binary over streamable HTTP and drives it with
// sessions clients calling in a loop.
func httpThroughput(s subject, env []string, sessions int, duration time.Duration) (float64, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	args := []string{"--transport", "http", "--addr", addr}
	cmd := exec.Command(s.bin, args...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitListening(addr); err != nil {
		return 0, err
	}
	url := "http://" + addr + "/mcp"
	ctx := context.Background()
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	deadline := time.Now().Add(duration)
	for range sessions {
		c, err := client.NewStreamableHttpClient(url)
		if err != nil {
			return 0, err
		}
		if err := c.Start(ctx); err != nil {
			return 0, err
		}
		var init mcp.InitializeRequest
		init.Params.ProtocolVersion = "2025-06-18"
		if _, err := c.Initialize(ctx, init); err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			args := map[string]any{"endpoint_name": "bench"}
			for time.Now().Before(deadline) {
				res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "create_endpoint", Arguments: args}})
				if err != nil || res.IsError {
					errs <- fmt.Errorf("call: %v %v", err, res)
					return
				}
				total.Add(1)
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitListening(addr string) error {
	for range 200 {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s never listened", addr)
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }
func ms(d time.Duration) string        { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string        { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }
func mib(n int64) float64              { return float64(n*10/(1<<20)) / 10 }

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name\t: "); ok {
			return name
		}
	}
	return "unknown CPU"
}

