package mcp

import (
	"context"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// OutcomeFailed is reported for a tools/call answered with a JSON-RPC
// error (no such tool, an unreadable request); every other call reports
// its result's MetaOutcome.
const OutcomeFailed = "failed"

// Outcomes lists every outcome Options.OnToolCall reports.
var Outcomes = []string{OutcomeDone, OutcomeInvalid, OutcomeRefused, OutcomeNotSent, OutcomeUnknown, OutcomeAsking, OutcomeDryRun, OutcomeFailed}

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
		return OutcomeAsking
	case r.Meta != nil:
		if o, ok := r.Meta.AdditionalFields[MetaOutcome].(string); ok {
			return o
		}
	}
	if r.IsError {
		return OutcomeInvalid // an error result without an outcome: nothing was sent
	}
	return OutcomeDone
}
