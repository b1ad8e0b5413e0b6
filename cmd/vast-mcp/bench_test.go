package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// stdioBench drives a stdio server through pipes, one tools/call at a time,
// as an agent does.
func stdioBench(b *testing.B, serve func(ctx context.Context, in io.Reader, out io.Writer)) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); serve(ctx, inR, outW) }()
	defer func() { cancel(); inW.Close(); <-done }()
	answers := bufio.NewScanner(outR)
	answers.Buffer(make([]byte, 1<<20), 1<<20)
	fmt.Fprint(inW, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"0"}}}`+"\n")
	answers.Scan()
	fmt.Fprint(inW, `{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n")
	id := 1
	b.ReportAllocs()
	for b.Loop() {
		id++
		fmt.Fprintf(inW, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"bench","max_workers":2}}}`+"\n", id)
		if !answers.Scan() || bytes.Contains(answers.Bytes(), []byte(`"isError":true`)) {
			b.Fatalf("call %d: %s", id, answers.Bytes())
		}
	}
}

func fakeEndpointAPI(b *testing.B) *httptest.Server {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success": true, "result": 1234}`)
	}))
	b.Cleanup(api.Close)
	return api
}

// BenchmarkStdioCall is one create_endpoint call through vast-mcp's stdio
// server, as configured by the binary, against a loopback fake API.
func BenchmarkStdioCall(b *testing.B) {
	api := fakeEndpointAPI(b)
	cfg := config{transport: "stdio", baseURL: api.URL, timeout: 30e9, logLevel: "warn"}
	b.Setenv("VAST_API_KEY", "bench-key")
	logger := slog.New(slog.DiscardHandler)
	s, err := newServer(&cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	stdioBench(b, func(ctx context.Context, in io.Reader, out io.Writer) {
		_ = server.NewStdioServer(s).Listen(ctx, limitLines(in, maxLine), out)
	})
}

// BenchmarkStdioCallFloor is the same call through a bare mcp-go stdio
// server whose tool POSTs its arguments to the same fake.
func BenchmarkStdioCallFloor(b *testing.B) {
	api := fakeEndpointAPI(b)
	s := server.NewMCPServer("floor", "1", server.WithToolCapabilities(false))
	s.AddTool(mcpgo.NewTool("create_endpoint", mcpgo.WithString("endpoint_name")), func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		httpReq, _ := http.NewRequestWithContext(ctx, http.MethodPost, api.URL+"/api/v0/endptjobs/", bytes.NewReader(req.Params.RawArguments))
		resp, err := http.DefaultClient.Do(httpReq)
		if err != nil {
			return mcpgo.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return mcpgo.NewToolResultText(string(answer)), nil
	})
	stdioBench(b, func(ctx context.Context, in io.Reader, out io.Writer) {
		_ = server.NewStdioServer(s).Listen(ctx, in, out)
	})
}

const (
	benchInitialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"b","version":"0"}}}`
	benchToolsList  = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
)

// BenchmarkStartup is what the binary does between main and answering
// tools/list: configure, build the server and its tools, initialize, list.
func BenchmarkStartup(b *testing.B) {
	b.Setenv("VAST_API_KEY", "bench-key")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var cfg config
		fs := flagSet(&cfg, func(string, string) string { return "" }, io.Discard)
		_ = fs.Parse(nil)
		s, err := newServer(&cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		s.HandleMessage(ctx, []byte(benchInitialize))
		if _, err := json.Marshal(s.HandleMessage(ctx, []byte(benchToolsList))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartupFloor is the same for the bare mcp-go server.
func BenchmarkStartupFloor(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s := server.NewMCPServer("floor", "1", server.WithToolCapabilities(false))
		s.AddTool(mcpgo.NewTool("create_endpoint", mcpgo.WithString("endpoint_name")), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return nil, nil
		})
		s.HandleMessage(ctx, []byte(benchInitialize))
		if _, err := json.Marshal(s.HandleMessage(ctx, []byte(benchToolsList))); err != nil {
			b.Fatal(err)
		}
	}
}
