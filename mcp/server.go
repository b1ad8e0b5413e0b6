// Package mcp serves Vast.ai operations as MCP tools: the creates
// (create_endpoint, create_workergroup, create_instance), the reads
// around them (search_offers, show_instance, wait_for_instance, ...) and
// what undoes them (stop_instance, destroy_instance, delete_endpoint, ...),
// each declared on its operation in overlay.yaml.
//
// The tools' names, descriptions and input and output schemas come from
// openapi.yaml with overlay.yaml applied (see tools.gen.go); the calls go
// through the generated client in package gen. Every handler validates the
// arguments against the input schema before anything else reads them, so a
// bad argument never reaches the API.
package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Options configures the server. The zero value is the safe default.
type Options struct {
	// ExposeInstanceKey shows credentials the API returns (instance_api_key)
	// in tool results. Off by default: an agent's transcript is no place
	// for a key.
	ExposeInstanceKey bool
	// Sandbox marks every result as coming from canned responses.
	Sandbox bool
	// Logger receives server-side events; nil discards them.
	Logger *slog.Logger
	// Guardrails bound what an agent can do; nil means none.
	Guardrails *Guardrails
	// OnToolCall, when set, is told each tool call's outcome (Outcome*),
	// for metrics. Tool is a declared tool's name, or UnknownTool.
	OnToolCall func(tool, outcome string)
	// OnConfirmation, when set, is told of each Confirmation* event.
	OnConfirmation func(event string)
	// Shutdown, when set, lets running calls finish when the server stops
	// (see Shutdown); nil leaves each call bound to its session.
	Shutdown *Shutdown
	// MaxCallsInFlight bounds the tool calls running at once; past it a
	// call is refused at once. 0 means no bound.
	MaxCallsInFlight int
	// StateKeys seal confirmation states (ParseStateKeys): the first
	// seals, all open. Empty means a random key: only this process can
	// redeem its confirmations.
	StateKeys [][]byte
	// SpentStates makes each confirmation single-use; nil keeps the spent
	// ones in this process. Replicas share one (Redis).
	SpentStates SpentStates
	// SpendLocks, when set, extends the spend turn (--max-hourly-spend,
	// --max-instances) to every replica sharing it (Redis); nil bounds
	// the calls of this process only.
	SpendLocks SpendLocks
	// SharedClaims, when set, tells replicas of each other's creates for
	// settling lost ones (Redis); nil knows this process's only.
	SharedClaims SharedClaims
	// Sleep, when set, replaces the real wait between wait_for_instance's
	// polls (tests); it returns ctx's error when ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
}

const instructions = `Tools to find, create, watch, stop and remove Vast.ai resources. Every create ` +
	`that succeeds spends money or leads to spending: instances bill per hour until destroyed, endpoints ` +
	`and workergroups start billed workers. Call a create once per resource you mean to have; never ` +
	`repeat a create whose outcome was unknown without checking first (show_instances, ` +
	`show_endpoints, show_workergroups). Reads change nothing and are safe to repeat. ` +
	`stop_instance ends GPU billing; destroy_instance ends all of it and deletes the disk.`

// NewServer returns an MCP server exposing the tools, calling Vast.ai through vast.
func NewServer(vast *gen.Vast, opts Options) *server.MCPServer {
	specs := make(map[string]*toolSpec, len(toolSpecs))
	for i := range toolSpecs {
		specs[toolSpecs[i].Name] = &toolSpecs[i]
	}
	hooks := &server.Hooks{}
	hooks.AddOnRequestInitialization(refuseAmbiguousKeys)
	hooks.AddBeforeCallTool(keepRawArguments)
	if opts.OnToolCall != nil {
		observeToolCalls(hooks, specs, opts.OnToolCall)
	}
	serverOpts := []server.ServerOption{
		server.WithTitle("Vast.ai"),
		server.WithInstructions(instructions),
		server.WithToolCapabilities(false),
		// No WithInputSchemaValidation: every handler validates the arguments
		// itself (toolSpec.arguments), walking the schema once and naming each
		// problem, where mcp-go's validator also hashed the schema and decoded
		// the arguments again on every call.
		// No WithOutputSchemaValidation: results are built from the generated
		// types, and tests check every one against its output schema, so
		// re-validating each call in production would only cost time.
		server.WithToolHandlerMiddleware(newCallGate(opts).middleware),
		server.WithToolHandlerMiddleware(recoverPanics(opts.Logger)),
		server.WithHooks(hooks),
	}
	if asksAnyone(opts.Guardrails) {
		serverOpts = append(serverOpts, server.WithElicitation())
	}
	s := server.NewMCPServer("vast-mcp", gen.Version, serverOpts...)
	s.AddTools(Tools(vast, opts)...)
	return s
}

// keepRawArguments hands the handler the arguments as the bytes they
// arrived in, which it validates and decodes; mcp-go's map would have to be
// encoded again first.
func keepRawArguments(_ context.Context, _ any, req *mcpgo.CallToolRequest) {
	if len(req.Params.RawArguments) > 0 {
		req.Params.Arguments = req.Params.RawArguments
	}
}

// recoverPanics turns a panic in a handler into an isError result the agent
// can read, instead of a JSON-RPC internal error, and keeps the server up.
// The panic value is logged, never returned: it could hold request data.
func recoverPanics(logger *slog.Logger) server.ToolHandlerMiddleware {
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcpgo.CallToolRequest) (result *mcpgo.CallToolResult, err error) {
			defer func() {
				if p := recover(); p != nil {
					if logger != nil {
						logger.Error("tool handler panicked", "tool", req.Params.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					}
					result = errorResult(fmt.Sprintf("%s failed inside vast-mcp (a bug; see the server log). "+
						"The call may or may not have been sent: check the Vast.ai console (or the read tools) before calling again.", req.Params.Name), OutcomeUnknown)
					err = nil
				}
			}()
			return next(ctx, req)
		}
	}
}

// asksAnyone reports whether some tool on offer waits for a human.
func asksAnyone(g *Guardrails) bool {
	for i := range toolSpecs {
		if g.allows(&toolSpecs[i]) && g.confirmPolicy().asks(toolSpecs[i].Kind) {
			return true
		}
	}
	return false
}
