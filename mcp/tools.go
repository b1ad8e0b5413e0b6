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

// call is one decoded create request, ready to be checked and sent.
type call interface {
	// check applies the operator's guardrails; it returns a *capError.
	check(g *Guardrails) error
	send(ctx context.Context, vast *gen.Vast) (created, error)
	// pathID is the path parameter's value, or 0 for an operation without one.
	pathID() int
}

// operations decode a tool's arguments, in one pass, into the generated
// request type, keyed by operationId. Tests check that they match toolSpecs,
// including the path argument and the arguments that take Docker flags.
var operations = map[string]func(args []byte) (call, error){
	"createEndpoint": func(args []byte) (call, error) {
		var c endpointCall
		return &c, decodeArguments(args, &c.req)
	},
	"createWorkergroup": func(args []byte) (call, error) {
		var c workergroupCall
		return &c, decodeArguments(args, &c.req)
	},
	"createInstance": func(args []byte) (call, error) {
		var a struct {
			OfferID int         `json:"offer_id"`
			Env     envArgument `json:"env"` // shadows the request's Env
			gen.CreateInstanceRequest
		}
		if err := decodeArguments(args, &a); err != nil {
			return nil, err
		}
		if a.OfferID < 1 {
			return nil, &argError{arg: "offer_id", reason: "required: a positive offer id"}
		}
		a.CreateInstanceRequest.Env = a.Env.vars
		return &instanceCall{offerID: a.OfferID, req: a.CreateInstanceRequest}, nil
	},
}

type endpointCall struct{ req gen.CreateEndpointRequest }

func (*endpointCall) pathID() int { return 0 }

func (c *endpointCall) send(ctx context.Context, vast *gen.Vast) (created, error) {
	resp, err := vast.CreateEndpoint(ctx, c.req)
	if err != nil {
		return created{}, err
	}
	text := fmt.Sprintf("Created endpoint %d", *resp.Result)
	if c.req.EndpointName != nil {
		text += fmt.Sprintf(" (%q)", *c.req.EndpointName)
	}
	return created{body: resp, text: text}, nil
}

type workergroupCall struct{ req gen.CreateWorkergroupRequest }

func (*workergroupCall) pathID() int { return 0 }

func (c *workergroupCall) send(ctx context.Context, vast *gen.Vast) (created, error) {
	resp, err := vast.CreateWorkergroup(ctx, c.req)
	if err != nil {
		return created{}, err
	}
	id := resp.ID()
	resp.Id = &id // one field for agents, whichever the API used
	text := fmt.Sprintf("Created workergroup %d", id)
	switch {
	case c.req.EndpointName != nil:
		text += fmt.Sprintf(" for endpoint %q", *c.req.EndpointName)
	case c.req.EndpointId != nil:
		text += fmt.Sprintf(" for endpoint %d", *c.req.EndpointId)
	}
	return created{body: resp, text: text}, nil
}

type instanceCall struct {
	offerID int
	req     gen.CreateInstanceRequest
}

func (c *instanceCall) pathID() int { return c.offerID }

func (c *instanceCall) send(ctx context.Context, vast *gen.Vast) (created, error) {
	resp, err := vast.CreateInstance(ctx, c.offerID, c.req)
	if err != nil {
		return created{}, err
	}
	return created{body: resp, text: fmt.Sprintf("Created instance %d from offer %d", *resp.NewContract, c.offerID)}, nil
}

// ToolNames lists every tool the server can offer.
func ToolNames() []string {
	names := make([]string, len(toolSpecs))
	for i, spec := range toolSpecs {
		names[i] = spec.Name
	}
	return names
}

// Tools returns the server tools wired to vast: all of them, or those named
// in opts.Guardrails.Tools.
func Tools(vast *gen.Vast, opts Options) []server.ServerTool {
	tools := make([]server.ServerTool, 0, len(toolSpecs))
	confirmations := newConfirmer()
	confirmations.observe = opts.OnConfirmation
	for i := range toolSpecs {
		spec := &toolSpecs[i]
		if !opts.Guardrails.allows(spec.Name) {
			continue
		}
		tools = append(tools, server.ServerTool{Tool: newTool(spec, opts.Guardrails), Handler: handler(spec, vast, opts, confirmations)})
	}
	return tools
}

func newTool(spec *toolSpec, g *Guardrails) mcpgo.Tool {
	no, yes := false, true
	return mcpgo.Tool{
		Name:            spec.Name,
		Title:           spec.Title,
		Description:     spec.Description + g.describe(spec.OperationID),
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

func handler(spec *toolSpec, vast *gen.Vast, opts Options, confirmations *confirmer) server.ToolHandlerFunc {
	decode := operations[spec.OperationID]
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		args, err := rawArguments(req)
		if err != nil {
			return argumentError(spec, err), nil
		}
		c, err := decode(args)
		if err != nil {
			return argumentError(spec, err), nil
		}
		if err := c.check(opts.Guardrails); err != nil {
			return refused(spec, err), nil
		}
		if opts.Guardrails != nil && opts.Guardrails.Confirm {
			if result := confirmations.confirm(ctx, spec, req, vast, c); result != nil {
				return result, nil // asking, declined, or not confirmable
			}
		}
		out, err := c.send(ctx, vast)
		if err != nil {
			return failure(spec, c, err, opts), nil
		}
		return success(spec, out, opts), nil
	}
}
