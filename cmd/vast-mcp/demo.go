package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// demoCalls are the calls the demo makes: one per tool, then one an agent
// gets wrong.
var demoCalls = []struct {
	why  string
	tool string
	args string
}{
	{"create a serverless endpoint", "create_endpoint",
		`{"endpoint_name": "demo-llm", "max_workers": 2, "cold_workers": 1}`},
	{"attach a workergroup to it", "create_workergroup",
		`{"endpoint_name": "demo-llm", "template_hash": "4e17788f74f075dd9aab7d0d4427968f", "gpu_ram": 24}`},
	{"rent a GPU instance, env given as Docker flags", "create_instance",
		`{"offer_id": 4242, "image": "vllm/vllm-openai:latest", "disk": 40, "env": "-e HF_TOKEN=hf_demo -p 8000:8000"}`},
	{"a bad argument is refused before any request (price above 128 $/h)", "create_instance",
		`{"offer_id": 4242, "image": "vllm/vllm-openai:latest", "price": 500}`},
}

// demo starts this binary as `vast-mcp --sandbox` (and `--dry-run`), talks
// to it over stdio with a real MCP client, and prints every exchange.
func demo(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p := &printer{w: stdout}

	p.say("vast-mcp demo: a real MCP client drives `vast-mcp --sandbox` over stdio.")
	p.say("Nothing here reaches Vast.ai or needs an account: the sandbox answers with canned responses.\n")
	c, info, err := startChild(ctx, self, cfg, "--sandbox")
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo:", err)
		return 1
	}
	defer c.Close()
	p.say("initialize -> %s %s (protocol %s)\n", info.ServerInfo.Name, info.ServerInfo.Version, info.ProtocolVersion)

	tools, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo: tools/list:", err)
		return 1
	}
	p.say("tools/list -> %d tools", len(tools.Tools))
	for _, t := range tools.Tools {
		p.say("  %-20s %-30s %d arguments, required: %s", t.Name, t.Title, len(t.InputSchema.Properties), orNone(t.InputSchema.Required))
	}

	for i, call := range demoCalls {
		p.say("\n%d. %s", i+1, call.why)
		if !p.call(ctx, c, call.tool, call.args) {
			return 1
		}
	}

	p.say("\n%d. the same instance under --dry-run: the exact HTTP request, key redacted, nothing sent", len(demoCalls)+1)
	dry, _, err := startChild(ctx, self, cfg, "--dry-run")
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo:", err)
		return 1
	}
	defer dry.Close()
	if !p.call(ctx, dry, demoCalls[2].tool, demoCalls[2].args) {
		return 1
	}
	p.say("\nDemo complete. With your Vast.ai key in VAST_API_KEY or the vastai key file, point an MCP client at `vast-mcp` (README: agent setup) to do this for real.")
	return 0
}

func startChild(ctx context.Context, self string, cfg *config, mode string) (*client.Client, *mcpgo.InitializeResult, error) {
	// The child gets none of this process's VAST_* settings: no key (the
	// sandbox and a dry run need none) and no guardrail or transport that
	// would change what the demo shows.
	env := isolatedEnv("VAST_MCP_LOG_LEVEL="+cfg.logLevel, "VAST_URL="+cfg.baseURL)
	c, err := client.NewStdioMCPClientWithOptions(self, nil, []string{mode}, transport.WithCommandFunc(
		func(ctx context.Context, command string, _ []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = env
			return cmd, nil
		}))
	if err != nil {
		return nil, nil, err
	}
	info, err := c.Initialize(ctx, inprocess.InitializeRequest())
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("initialize: %w", err)
	}
	return c, info, nil
}

type printer struct{ w io.Writer }

func (p *printer) say(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

// call makes one tools/call and prints what went each way.
func (p *printer) call(ctx context.Context, c *client.Client, tool, args string) bool {
	p.say("   -> tools/call %s %s", tool, args)
	result, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tool, Arguments: json.RawMessage(args)}})
	if err != nil {
		p.say("   <- protocol error: %v", err)
		return false
	}
	label := "result"
	if result.IsError {
		label = "isError result"
	}
	for _, content := range result.Content {
		if text, ok := content.(mcpgo.TextContent); ok {
			p.say("   <- %s: %s", label, strings.ReplaceAll(text.Text, "\n", "\n      "))
		}
	}
	if result.StructuredContent != nil {
		data, _ := json.Marshal(result.StructuredContent)
		p.say("      structuredContent: %s", data)
	}
	return true
}

// isolatedEnv is this process's environment without any VAST_ setting, plus
// extra.
func isolatedEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAST_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
