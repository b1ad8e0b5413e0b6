package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
)

// toolSpec is what a tool takes from the spec; tools.gen.go holds one per
// operation that carries x-mcp-tool.
type toolSpec struct {
	Name, Title, Description string
	OperationID              string
	Method, Path             string
	PathArgument             string   // argument that fills the path's one parameter
	DockerFlagArguments      []string // arguments that may be a Docker flag string
	SensitiveOutputs         []string // result fields hidden unless the operator opts in
	InputSchema              string
	OutputSchema             string
}

// created is what a successful operation hands back to the handler.
type created struct {
	body any    // the API's success body, as a generated type
	text string // one line an agent can quote
}

// operation decodes a tool's arguments into the generated request type and
// makes the call.
type operation func(ctx context.Context, vast *gen.Vast, args arguments) (created, error)

// operations is keyed by operationId; a test checks that it and toolSpecs
// name the same operations.
var operations = map[string]operation{
	"createEndpoint": func(ctx context.Context, vast *gen.Vast, args arguments) (created, error) {
		var req gen.CreateEndpointRequest
		if err := args.decodeBody(&req); err != nil {
			return created{}, err
		}
		resp, err := vast.CreateEndpoint(ctx, req)
		if err != nil {
			return created{}, err
		}
		text := fmt.Sprintf("Created endpoint %d", *resp.Result)
		if req.EndpointName != nil {
			text += fmt.Sprintf(" (%q)", *req.EndpointName)
		}
		return created{body: resp, text: text}, nil
	},
	"createWorkergroup": func(ctx context.Context, vast *gen.Vast, args arguments) (created, error) {
		var req gen.CreateWorkergroupRequest
		if err := args.decodeBody(&req); err != nil {
			return created{}, err
		}
		resp, err := vast.CreateWorkergroup(ctx, req)
		if err != nil {
			return created{}, err
		}
		id := resp.ID()
		resp.Id = &id // one field for agents, whichever the API used
		text := fmt.Sprintf("Created workergroup %d", id)
		switch {
		case req.EndpointName != nil:
			text += fmt.Sprintf(" for endpoint %q", *req.EndpointName)
		case req.EndpointId != nil:
			text += fmt.Sprintf(" for endpoint %d", *req.EndpointId)
		}
		return created{body: resp, text: text}, nil
	},
	"createInstance": func(ctx context.Context, vast *gen.Vast, args arguments) (created, error) {
		var req gen.CreateInstanceRequest
		if err := args.decodeBody(&req); err != nil {
			return created{}, err
		}
		resp, err := vast.CreateInstance(ctx, args.pathID, req)
		if err != nil {
			return created{}, err
		}
		return created{body: resp, text: fmt.Sprintf("Created instance %d from offer %d", *resp.NewContract, args.pathID)}, nil
	},
}

// Tools returns the server tools, in the spec's order, wired to vast.
func Tools(vast *gen.Vast, opts Options) []server.ServerTool {
	tools := make([]server.ServerTool, 0, len(toolSpecs))
	for i := range toolSpecs {
		spec := &toolSpecs[i]
		tools = append(tools, server.ServerTool{Tool: newTool(spec), Handler: handler(spec, vast, opts)})
	}
	return tools
}

func newTool(spec *toolSpec) mcpgo.Tool {
	no, yes := false, true
	return mcpgo.Tool{
		Name:            spec.Name,
		Title:           spec.Title,
		Description:     spec.Description,
		RawInputSchema:  json.RawMessage(spec.InputSchema),
		RawOutputSchema: json.RawMessage(spec.OutputSchema),
		Annotations: mcpgo.ToolAnnotation{
			Title:           spec.Title,
			ReadOnlyHint:    &no,  // it creates a resource
			DestructiveHint: &no,  // it only adds; nothing is changed or removed
			IdempotentHint:  &no,  // a second call creates (and bills) a second one
			OpenWorldHint:   &yes, // it acts on the Vast.ai cloud
		},
	}
}

func handler(spec *toolSpec, vast *gen.Vast, opts Options) server.ToolHandlerFunc {
	call := operations[spec.OperationID]
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		args, err := parseArguments(spec, req.GetRawArguments())
		if err != nil {
			return argumentError(spec, err), nil
		}
		out, err := call(ctx, vast, args)
		if err != nil {
			return failure(spec, args, err, opts), nil
		}
		return success(spec, out, opts), nil
	}
}
