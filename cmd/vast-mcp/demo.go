package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// demoSteps are an agent's loop, in the sandbox: find an offer, rent it,
// wait for it, destroy it (a human approves); then an endpoint, a
// workergroup on it, and its workers. Each
// step's arguments may name a value an earlier step returned, as
// {step.field} (a dotted path into its structuredContent).
var demoSteps = []struct {
	name string // what later steps call its result
	why  string
	tool string
	args string
}{
	{"offers", "find an offer: one GPU with at least 24 GB, under 1 $/hour, cheapest first", "search_offers",
		`{"num_gpus": {"eq": 1}, "gpu_ram": {"gte": 24}, "dph_total": {"lte": 1}, "order": [["dph_total", "asc"]], "limit": 3}`},
	{"instance", "rent the first offer, env given as Docker flags", "create_instance",
		`{"offer_id": {offers.offers.0.id}, "image": "vllm/vllm-openai:latest", "disk": 40, "env": "-e HF_TOKEN=hf_demo -p 8000:8000"}`},
	{"", "wait until it runs (progress is reported at each poll)", "wait_for_instance",
		`{"instance_id": {instance.new_contract}}`},
	{"", "done with it: destroy it (billing ends, the disk is gone); by default a human approves, shown what will go", "destroy_instance",
		`{"instance_id": {instance.new_contract}}`},
	{"endpoint", "create a serverless endpoint", "create_endpoint",
		`{"endpoint_name": "demo-llm", "max_workers": 2, "cold_workers": 1}`},
	{"", "attach a workergroup to it", "create_workergroup",
		`{"endpoint_id": {endpoint.result}, "template_hash": "4e17788f74f075dd9aab7d0d4427968f", "gpu_ram": 24}`},
	{"", "see the workers behind the endpoint", "show_endpoint_workers",
		`{"id": {endpoint.result}}`},
	{"", "a bad argument is refused before any request (VRAM written in MB)", "search_offers",
		`{"gpu_ram": {"gte": 24000}}`},
}

// fill replaces each {step.path} in args with the value an earlier step
// returned.
func fill(args string, results map[string]any) (string, error) {
	var missing error
	out := demoPlaceholder().ReplaceAllStringFunc(args, func(m string) string {
		var v any = results
		for _, part := range strings.Split(m[1:len(m)-1], ".") {
			switch node := v.(type) {
			case map[string]any:
				v = node[part]
			case []any:
				i, err := strconv.Atoi(part)
				if err != nil || i >= len(node) {
					v = nil
				} else {
					v = node[i]
				}
			default:
				v = nil
			}
		}
		if v == nil {
			missing = fmt.Errorf("no value for %s", m)
			return "null"
		}
		data, _ := json.Marshal(v)
		return string(data)
	})
	return out, missing
}

var demoPlaceholder = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{[a-z_]+(\.[a-z_0-9]+)+\}`) })

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
	c, info, err := startChild(ctx, self, cfg, "--sandbox", demoHuman{p})
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo:", err)
		return 1
	}
	defer c.Close()
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			p.say("   <- progress: %v", n.Params.AdditionalFields["message"])
		}
	})
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

	results := map[string]any{}
	var instanceArgs string
	for i, step := range demoSteps {
		p.say("\n%d. %s", i+1, step.why)
		args, err := fill(step.args, results)
		if err != nil {
			fmt.Fprintln(stderr, "vast-mcp demo:", step.tool, err)
			return 1
		}
		if step.tool == "create_instance" {
			instanceArgs = args
		}
		result, ok := p.call(ctx, c, step.tool, args)
		if !ok {
			return 1
		}
		if step.name != "" {
			results[step.name] = result
		}
	}

	p.say("\n%d. the same instance under --dry-run: the exact HTTP request, key redacted, nothing sent", len(demoSteps)+1)
	dry, _, err := startChild(ctx, self, cfg, "--dry-run", demoHuman{p})
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp demo:", err)
		return 1
	}
	defer dry.Close()
	if _, ok := p.call(ctx, dry, "create_instance", instanceArgs); !ok {
		return 1
	}
	p.say("\nDemo complete. With your Vast.ai key in VAST_API_KEY or the vastai key file, point an MCP client at `vast-mcp` (README: agent setup) to do this for real.")
	return 0
}

func startChild(ctx context.Context, self string, cfg *config, mode string, human client.ElicitationHandler) (*client.Client, *mcpgo.InitializeResult, error) {
	// The child gets none of this process's VAST_* settings: no key (the
	// sandbox and a dry run need none) and no guardrail or transport that
	// would change what the demo shows.
	env := isolatedEnv("VAST_MCP_LOG_LEVEL="+cfg.logLevel, "VAST_URL="+cfg.baseURL)
	stdio := transport.NewStdioWithOptions(self, nil, []string{mode}, transport.WithCommandFunc(
		func(ctx context.Context, command string, _ []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = env
			return cmd, nil
		}))
	if err := stdio.Start(ctx); err != nil {
		return nil, nil, err
	}
	c := client.NewClient(stdio, client.WithElicitationHandler(human))
	// The transport is already running; Start also routes notifications
	// (wait_for_instance's progress) to OnNotification.
	if err := c.Start(ctx); err != nil {
		c.Close()
		return nil, nil, err
	}
	init := inprocess.InitializeRequest()
	init.Params.Capabilities.Elicitation = &mcpgo.ElicitationCapability{}
	info, err := c.Initialize(ctx, init)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("initialize: %w", err)
	}
	return c, info, nil
}

// printer writes whole lines; progress notifications arrive on another
// goroutine.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// call makes one tools/call, prints what went each way, and returns the
// structuredContent.
func (p *printer) call(ctx context.Context, c *client.Client, tool, args string) (any, bool) {
	p.say("   -> tools/call %s %s", tool, args)
	req := mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tool, Arguments: json.RawMessage(args)}}
	req.Params.Meta = &mcpgo.Meta{ProgressToken: tool}
	result, err := c.CallTool(ctx, req)
	if err != nil {
		p.say("   <- protocol error: %v", err)
		return nil, false
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
	var structured any
	if result.StructuredContent != nil {
		data, _ := json.Marshal(result.StructuredContent)
		p.say("      structuredContent: %s", data)
		_ = json.Unmarshal(data, &structured)
	}
	return structured, true
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

// demoHuman plays the person at the client: it prints what vast-mcp asks
// them to approve, and approves it.
type demoHuman struct{ p *printer }

func (h demoHuman) Elicit(_ context.Context, req mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	h.p.say("   <- the human is asked:\n      %s", strings.ReplaceAll(req.Params.Message, "\n", "\n      "))
	h.p.say("   -> the human approves")
	return &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{
		Action:  mcpgo.ElicitationResponseActionAccept,
		Content: map[string]any{"approve": true},
	}}, nil
}
