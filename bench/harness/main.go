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
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
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
	before := flag.String("before", "", "another vast-mcp binary to measure in the same run (say, built from the commit before a change)")
	flag.Parse()
	if err := run(*spawns, *calls, *sessions, *duration, *before); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

func run(spawns, calls, sessionCount int, duration time.Duration, before string) error {
	dir, err := os.MkdirTemp("", "vast-mcp-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ours := subject{name: "vast-mcp", bin: filepath.Join(dir, "vast-mcp")}
	floor := subject{name: "floor", bin: filepath.Join(dir, "floor")}
	// The floor serving vast-mcp's own tool definitions: what mcp-go
	// spends on larger schemas, apart from vast-mcp's code.
	schemaFloor := subject{name: "floor+schemas", bin: filepath.Join(dir, "floor-schemas")}
	// Another build of vast-mcp, to compare a change in one run: -before
	// names its binary (build it from the commit before the change).
	other := subject{name: "vast-mcp before", bin: before}
	subjects := []subject{ours, floor, schemaFloor}
	if before != "" {
		subjects = append(subjects, other)
	}
	// vast-mcp as `make build` builds it; the floors as a plain go build
	// does, but for the like-for-like one.
	for _, s := range []struct {
		out, pkg, tags string
		static         bool
	}{
		{ours.bin, "./cmd/vast-mcp", "", true},
		{floor.bin, "./bench/floor", "", false},
		{schemaFloor.bin, "./bench/floor", "vastschemas", false},
	} {
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags="+s.tags, "-o", s.out, s.pkg)
		if s.static {
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		if out, err := build.CombinedOutput(); err != nil {
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
	env := append(os.Environ(), "VAST_API_KEY=bench-key", "VAST_URL="+api.URL)

	fmt.Printf("# vast-mcp vs bare mcp-go floor, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("machine: %s/%s, %d CPUs, %s, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())

	fmt.Println("Ratios are to the bare floor. floor+schemas serves vast-mcp's tool definitions from the bare floor.")
	fmt.Println()
	header := "| measure |"
	for _, s := range subjects {
		header += " " + s.name + " |"
	}
	fmt.Printf("%s vast-mcp / floor | target |\n|%s---|---|\n", header, strings.Repeat("---|", len(subjects)+1))
	sizes := make([]float64, len(subjects))
	for i, s := range subjects {
		sizes[i] = mib(fileSize(s.bin))
	}
	row("stripped binary (MiB)", sizes, "≤ 20 MiB", sizes[0] <= 20)

	// Cold start, interleaved so drift hits every subject alike.
	starts := make([][]time.Duration, len(subjects))
	peaks := make([]int64, len(subjects))
	for range spawns {
		for i, s := range subjects {
			d, rss, err := coldStart(s, env)
			if err != nil {
				return fmt.Errorf("%s cold start: %w", s.name, err)
			}
			starts[i] = append(starts[i], d)
			peaks[i] = max(peaks[i], rss)
		}
	}
	medians := each(starts, func(d []time.Duration) float64 { return ms(percentile(d, 50)) })
	row("cold start to tools/list, median (ms)", medians, "≤ 1.25×", medians[0] <= 1.25*medians[1])
	row("cold start to tools/list, p90 (ms)", each(starts, func(d []time.Duration) float64 { return ms(percentile(d, 90)) }), "", true)
	rss := make([]float64, len(peaks))
	for i, peak := range peaks {
		rss[i] = mib(peak)
	}
	if slices.Contains(peaks, 0) {
		fmt.Println("| peak RSS over the cold starts (MiB) | n/a: needs /proc (Linux) | ≤ 16 MiB |")
	} else {
		row("peak RSS over the cold starts (MiB)", rss, "≤ 16 MiB", rss[0] <= 16)
	}

	// Per call over stdio, with a direct POST to the same fake as the base,
	// taking turns call by call: the machine's drift (other tenants, CPU
	// frequency) then hits every subject alike, which blocks of calls did
	// not. The order of the turns is shuffled every round: in a fixed order
	// a subject's place alone moved its figure by up to 5 %.
	sessions := make([]*stdioSession, len(subjects))
	for i, s := range subjects {
		sess, err := startStdio(s, env)
		if err != nil {
			return err
		}
		sessions[i] = sess
	}
	direct := &http.Client{}
	callTimes := make([][]time.Duration, len(subjects))
	var directTimes []time.Duration
	turns := make([]int, len(sessions)+1) // the last turn is the direct POST
	for i := range turns {
		turns[i] = i
	}
	for range calls {
		rand.Shuffle(len(turns), func(a, b int) { turns[a], turns[b] = turns[b], turns[a] })
		for _, i := range turns {
			var err error
			if i == len(sessions) {
				err = timePosts(direct, api.URL, 1, &directTimes)
			} else {
				err = timeCalls(sessions[i], 1, &callTimes[i])
			}
			if err != nil {
				return err
			}
		}
	}
	perCall := each(callTimes, func(d []time.Duration) float64 { return us(percentile(d, 50)) })
	row("tools/call over stdio, median (µs)", perCall, "vast-mcp − floor ≤ 100 µs", perCall[0]-perCall[1] <= 100)
	base := us(percentile(directTimes, 50))
	above := make([]float64, len(perCall))
	for i, d := range perCall {
		above[i] = d - base
	}
	row("  of which above a direct POST (µs)", above, "", true)
	row("direct POST to the fake, median (µs)", slices.Repeat([]float64{base}, len(perCall)), "", true)
	// Server CPU per call (user + system, start-up included) is steadier
	// than latency on a busy 2-core machine.
	cpu := make([]float64, len(sessions))
	for i, sess := range sessions {
		used := sess.close()
		cpu[i] = math.Round(float64(used) / float64(time.Microsecond) / float64(sess.id-10))
	}
	row("server CPU per tools/call (µs)", cpu, "", true)
	ownCost := ""
	if before != "" {
		const other = 3 // the -before binary's place in subjects
		ownCost = fmt.Sprintf("\nvast-mcp next to vast-mcp before: %+g ms cold start; per stdio call %+g µs latency, %+g µs CPU.\n",
			math.Round((medians[0]-medians[other])*100)/100, perCall[0]-perCall[other], cpu[0]-cpu[other])
	}

	// Streamable HTTP throughput: two interleaved rounds, averaged.
	rates := make([]float64, len(subjects))
	for range 2 {
		for i, s := range subjects {
			rate, err := httpThroughput(s, env, sessionCount, duration/2)
			if err != nil {
				return fmt.Errorf("%s http: %w", s.name, err)
			}
			rates[i] += math.Round(rate / 2)
		}
	}
	row(fmt.Sprintf("streamable HTTP, %d sessions (calls/s)", sessionCount), rates, "≥ 0.9×", rates[0] >= 0.9*rates[1])
	fmt.Print(ownCost)
	fmt.Printf("\n%d spawns and %d stdio calls per binary; HTTP for %s per binary; the fake API served %d requests.\n",
		spawns, calls, duration, apiCalls.Load())
	return nil
}

// row prints one measure for every subject, vast-mcp first and the floor second.
func row(name string, v []float64, target string, ok bool) {
	mark := ""
	if target != "" {
		mark = " ✔"
		if !ok {
			mark = " ✘"
		}
	}
	ratio := ""
	if v[1] != 0 {
		ratio = fmt.Sprintf("%.2f×", v[0]/v[1])
	}
	cells := make([]string, len(v))
	for i, f := range v {
		cells[i] = num(f)
	}
	fmt.Printf("| %s | %s | %s | %s%s |\n", name, strings.Join(cells, " | "), ratio, target, mark)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func each(series [][]time.Duration, f func([]time.Duration) float64) []float64 {
	out := make([]float64, len(series))
	for i, s := range series {
		out[i] = f(s)
	}
	return out
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
	peak, _ := peakRSS(cmd.Process.Pid) // 0 without /proc
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return 0, 0, err
	}
	if elapsed == 0 {
		return 0, 0, fmt.Errorf("no tools/list answer")
	}
	return elapsed, peak, nil
}

// peakRSS is the live process's peak resident set since exec (VmHWM), in
// bytes. wait4's maxrss is no use here: Go starts a child with vfork, so
// the child's memory is the harness's until exec, and maxrss keeps that
// peak.
func peakRSS(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
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

// close ends the session and returns the CPU time the server used.
func (s *stdioSession) close() time.Duration {
	s.stdin.Close()
	_ = s.cmd.Wait()
	return s.cmd.ProcessState.UserTime() + s.cmd.ProcessState.SystemTime()
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
	cmd := exec.Command(s.bin, append([]string{"--transport", "http", "--addr", addr}, s.args...)...)
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

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*10) / 10 }
func us(d time.Duration) float64 { return math.Round(float64(d) / float64(time.Microsecond)) }
func mib(n int64) float64        { return math.Round(float64(n)/(1<<20)*10) / 10 }

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
