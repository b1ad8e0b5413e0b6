// Command floor is the bare mcp-go server that vast-mcp's benchmarks measure
// against: one tool that POSTs its arguments to the API and returns the
// answer, with none of vast-mcp's schemas, validation, client or
// guardrails. Whatever vast-mcp costs above it is vast-mcp's own.
//
// Built with -tags vastschemas it registers every vast-mcp tool definition
// instead (the same descriptions and JSON Schemas), still without
// validation or client, to separate what mcp-go spends serving larger
// schemas from what vast-mcp's own code spends. Without the tag it links
// nothing of vast-mcp.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"runtime/pprof"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// vastTools is set by schemas.go under the vastschemas build tag.
var vastTools func() []mcp.Tool

func main() {
	transport := flag.String("transport", "stdio", "stdio or http")
	addr := flag.String("addr", "127.0.0.1:0", "listen address for http")
	flag.Parse()
	if path := os.Getenv("VAST_MCP_CPUPROFILE"); path != "" {
		// The same switch vast-mcp has, so the two profiles compare.
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	api := os.Getenv("VAST_URL") + "/api/v0/endptjobs/"

	s := server.NewMCPServer("floor", "1.0.0", server.WithToolCapabilities(false))
	tools := []mcp.Tool{mcp.NewTool("create_endpoint", mcp.WithString("endpoint_name"))}
	if vastTools != nil {
		tools = vastTools()
	}
	post := func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		body, _ := json.Marshal(req.GetRawArguments())
		httpReq, _ := http.NewRequestWithContext(ctx, http.MethodPost, api, bytes.NewReader(body))
		httpReq.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(httpReq)
		if err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return mcp.NewToolResultText(string(answer)), nil
	}
	for _, tool := range tools {
		s.AddTool(tool, post)
	}

	if *transport == "http" {
		httpServer := server.NewStreamableHTTPServer(s)
		log.Printf("listening on %s", *addr)
		if err := httpServer.Start(*addr); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := server.NewStdioServer(s).Listen(context.Background(), os.Stdin, os.Stdout); err != nil {
		log.Print(err)
	}
}
