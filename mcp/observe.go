package mcp

import (
	"context"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Outcomes of a tool call, as Options.OnToolCall reports them.
const (
	OutcomeSuccess       = "success"        // the API created the resource (or the sandbox said so)
	OutcomeError         = "error"          // an isError result: bad arguments, a guardrail, the API refused, ...
	OutcomeInputRequired = "input_required" // asking the human to confirm
	OutcomeDryRun        = "dry_run"        // the request was shown, not sent
	OutcomeFailed        = "failed"         // a JSON-RPC error: no such tool, unreadable request
)

// Events of a confirmation, as Options.OnConfirmation reports them.
const (
	ConfirmationAsked    = "asked"    // the human was asked
	ConfirmationRedeemed = "redeemed" // a valid answer came back, approving or not
)

// UnknownTool stands for a tool name the server does not offer: the name
// comes from the caller, and a metric label must keep a bounded set.
const UnknownTool = "unknown"

// observeToolCalls reports each tools/call's outcome to report.
func observeToolCalls(hooks *server.Hooks, specs map[string]*toolSpec, report func(tool, outcome string)) {
	tool := func(name string) string {
		if _, ok := specs[name]; ok {
			return name
		}
		return UnknownTool
	}
	hooks.AddAfterCallTool(func(_ context.Context, _ any, req *mcpgo.CallToolRequest, result any) {
		report(tool(req.Params.Name), outcome(result))
	})
	hooks.AddOnError(func(_ context.Context, _ any, method mcpgo.MCPMethod, message any, _ error) {
		if method != mcpgo.MethodToolsCall {
			return
		}
		name := ""
		if req, ok := message.(*mcpgo.CallToolRequest); ok {
			name = req.Params.Name
		}
		report(tool(name), OutcomeFailed)
	})
}

func outcome(result any) string {
	r, ok := result.(*mcpgo.CallToolResult)
	switch {
	case !ok:
		return OutcomeFailed
	case r.ResultType == mcpgo.ResultTypeInputRequired:
		return OutcomeInputRequired
	case r.IsError:
		return OutcomeError
	case r.Meta != nil && r.Meta.AdditionalFields[MetaDryRun] == true:
		return OutcomeDryRun
	}
	return OutcomeSuccess
}
