package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

const benchArgs = `{"offer_id": 4242, "image": "vllm/vllm-openai:latest", "disk": 40, "price": 0.5, "env": {"HF_TOKEN": "hf_x", "-p 8000:8000": "1"}}`

func benchAPI(b *testing.B) *httptest.Server {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success": true, "new_contract": 12345678, "instance_api_key": "k"}`)
	}))
	b.Cleanup(api.Close)
	return api
}

// BenchmarkToolCall is one create_instance call end to end in process:
// MCP client, server, schema validation, handler, generated client, and an
// httptest API on loopback.
func BenchmarkToolCall(b *testing.B) {
	api := benchAPI(b)
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.URL})
	if err != nil {
		b.Fatal(err)
	}
	benchCalls(b, NewServer(vast, Options{}))
}

// benchCalls times create_instance calls through an in-process client.
func benchCalls(b *testing.B, s *server.MCPServer) {
	ctx := context.Background()
	c, err := inprocess.Connect(ctx, s, inprocess.Options{Protocol: "2025-06-18"})
	if err != nil {
		b.Fatal(err)
	}
	req := mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_instance", Arguments: json.RawMessage(benchArgs)}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.CallTool(ctx, req)
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

// benchToolArgs are typical arguments for each tool.
var benchToolArgs = map[string]string{
	"create_endpoint":    `{"endpoint_name": "vllm-qwen3-8b", "max_workers": 2, "cold_workers": 1, "target_util": 0.9}`,
	"create_workergroup": `{"endpoint_name": "vllm-qwen3-8b", "template_hash": "4e17788f74f075dd9aab7d0d4427968f", "gpu_ram": 24, "max_workers": 2}`,
	"create_instance":    benchArgs,
}

// BenchmarkValidateArguments is, for each tool, the input-schema check
// every call runs (explainArguments) and, apart, the decoding of the
// arguments into the generated request type.
func BenchmarkValidateArguments(b *testing.B) {
	for _, spec := range toolSpecs {
		raw, ok := benchToolArgs[spec.Name]
		if !ok {
			continue
		}
		b.Run(spec.Name+"/validate", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if problems := explainArguments(&spec, json.RawMessage(raw)); len(problems) > 0 {
					b.Fatal(problems)
				}
			}
		})
		b.Run(spec.Name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := spec.decodeCall([]byte(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewServer is the start-up work: every tool built from the
// generated schemas and registered.
func BenchmarkNewServer(b *testing.B) {
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = NewServer(vast, Options{})
	}
}

func specNamed(name string) *toolSpec {
	for i := range toolSpecs {
		if toolSpecs[i].Name == name {
			return &toolSpecs[i]
		}
	}
	panic(name)
}

// BenchmarkToolCallFloor is BenchmarkToolCall's floor: a bare mcp-go tool
// that POSTs its arguments to the same kind of API, with no validation,
// schemas or generated client.
func BenchmarkToolCallFloor(b *testing.B) {
	api := benchAPI(b)
	s := server.NewMCPServer("floor", "1", server.WithToolCapabilities(false))
	s.AddTool(mcpgo.NewTool("create_instance"), func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		body, _ := json.Marshal(req.GetRawArguments())
		httpReq, _ := http.NewRequestWithContext(ctx, http.MethodPut, api.URL+"/api/v0/asks/4242/", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(httpReq)
		if err != nil {
			return mcpgo.NewToolResultError(err.Error()), nil
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return mcpgo.NewToolResultText(string(answer)), nil
	})
	benchCalls(b, s)
}

// BenchmarkToolsList reports the context an agent pays for the tools: the
// bytes of the tools/list result as the server sends it (the budget,
// BENCHMARKS.md), and with -v each tool's share.
func BenchmarkToolsList(b *testing.B) {
	s := NewServer(nil, Options{})
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	ctx := context.Background()
	var size int
	for b.Loop() {
		data, err := json.Marshal(s.HandleMessage(ctx, req))
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
	b.ReportMetric(float64(len(toolSpecs)), "tools")
	for _, tool := range Tools(nil, Options{}) {
		data, _ := json.Marshal(tool.Tool)
		b.Logf("%-22s %5d bytes", tool.Tool.Name, len(data))
	}
}
