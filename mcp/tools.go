package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
)

// toolSpec is one tool as overlay.yaml declares it on its operation;
// tools.gen.go holds one per declaration, with its schemas, its typed
// arguments and the hooks it names.
type toolSpec struct {
	Name, Title, Description string
	Kind                     kind
	Toolset                  string
	OperationID              string
	Method, Path             string
	Serverless               bool     // sent to the serverless host
	PathArgument             string   // argument that fills the path's id, if any
	Line                     string   // what the agent can quote: {field} from arguments or answer
	IDFields                 []string // the resource's id; the first is canonical
	Show                     []string // answer fields shown; all when empty
	Hide                     []string // field names never shown
	Sensitive                []string // credentials shown only with --expose-instance-key
	Fixed                    string   // JSON object of body fields the tool sets itself
	Pages                    *pages   // cursor pagination, followed up to Max pages
	InputSchema              string
	OutputSchema             string

	decode  func(args []byte) (operation, error)
	check   func(g *Guardrails, op operation) error // a guardrail
	prepare func(op operation) error                // a conversion before sending
	handler func(spec *toolSpec, vast *gen.Vast, opts Options) server.ToolHandlerFunc
	// guard is a guardrail that reads before sending (ownership, spend);
	// it fails closed: an error refuses the call.
	guard func(ctx context.Context, vast *gen.Vast, g *Guardrails, op operation) error
	// describe reads what a call acts on, for the human who confirms it
	// and for the answer.
	describe func(ctx context.Context, vast *gen.Vast, op operation) (string, error)
	// settle finds out, with reads only, whether a create whose answer was
	// lost happened.
	settle func(ctx context.Context, vast *gen.Vast, op operation, since time.Time) settlement
	note   func(answer map[string]any) string // advice after the line, from the shown answer
}

// pages describes a cursor-paginated answer.
type pages struct {
	Cursor string // answer field holding the next page's token
	Param  string // query parameter that takes it
	Items  string // answer field whose list is concatenated
	Max    int    // pages followed at most
}

// operation is one call's decoded arguments: the generated request type
// plus the path and query parameters (tools.gen.go).
type operation interface {
	send(ctx context.Context, api *gen.Client) (*http.Response, error)
	pathID() int // the path's id, or 0 for an operation without one
}

// decodeAs decodes arguments into an operation's generated argument type.
func decodeAs[T any, PT interface {
	*T
	operation
}](args []byte) (operation, error) {
	op := PT(new(T))
	if err := decodeArguments(args, op); err != nil {
		return nil, err
	}
	return op, nil
}

// ToolNames lists every tool the server can offer.
func ToolNames() []string {
	names := make([]string, len(toolSpecs))
	for i, spec := range toolSpecs {
		names[i] = spec.Name
	}
	return names
}

// Tools returns the server tools wired to vast: those the operator's
// guardrails (tools, toolsets, read-only) leave.
func Tools(vast *gen.Vast, opts Options) []server.ServerTool {
	tools := make([]server.ServerTool, 0, len(toolSpecs))
	confirmations, err := newConfirmer(opts.StateKeys, opts.SpentStates)
	if err != nil {
		panic(err) // keys come checked by ParseStateKeys; rand does not fail
	}
	confirmations.observe = opts.OnConfirmation
	confirmations.policy = opts.Guardrails.confirmPolicy()
	turns, taken := newSpendTurns(opts.SpendLocks), newClaims(opts.SharedClaims, opts.Logger)
	for i := range toolSpecs {
		spec := &toolSpecs[i]
		if !opts.Guardrails.allows(spec) {
			continue
		}
		h := handler(spec, vast, opts, confirmations, turns, taken)
		if spec.handler != nil {
			h = spec.handler(spec, vast, opts)
		}
		tools = append(tools, server.ServerTool{Tool: newTool(spec, opts.Guardrails), Handler: h})
	}
	return tools
}

func newTool(spec *toolSpec, g *Guardrails) mcpgo.Tool {
	return mcpgo.Tool{
		Name:            spec.Name,
		Title:           spec.Title,
		Description:     spec.Description + g.describe(spec),
		RawInputSchema:  json.RawMessage(spec.InputSchema),
		RawOutputSchema: json.RawMessage(spec.OutputSchema),
		Annotations:     spec.Kind.annotations(),
	}
}

// arguments reads a call's arguments into its operation: the raw JSON,
// each key named once, checked against the input schema (closed: an
// argument it does not offer is refused, though the generated type may
// have a field for it), then decoded into the generated types. Every
// handler, the declared one and a hook's own, starts here.
func (spec *toolSpec) arguments(req mcpgo.CallToolRequest) (callArguments, operation, error) {
	raw, err := rawArguments(req)
	if err != nil {
		return callArguments{}, nil, err
	}
	if err := repeatedArgumentKeys(raw); err != nil {
		return callArguments{}, nil, &invalidArguments{[]string{err.Error()}}
	}
	values, problems := checkArguments(spec, raw)
	if len(problems) > 0 {
		return callArguments{}, nil, &invalidArguments{problems}
	}
	op, err := spec.decodeCall(raw)
	return callArguments{raw, values}, op, err
}

// callArguments are a call's arguments as they arrived and as decoded for
// the quotable line (numbers as json.Number).
type callArguments struct {
	raw    []byte
	values map[string]any
}

func handler(spec *toolSpec, vast *gen.Vast, opts Options, confirmations *confirmer, turns *spendTurns, taken *claims) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		args, op, err := spec.arguments(req)
		if err != nil {
			return argumentError(spec, err), nil
		}
		if spec.check != nil {
			if err := spec.check(opts.Guardrails, op); err != nil {
				return refused(spec, err), nil
			}
		}
		ctx, facts := withFacts(ctx)
		facts.turns, facts.claims = turns, taken
		defer facts.giveTurnBack()
		if spec.guard != nil {
			if err := spec.guard(ctx, vast, opts.Guardrails, op); err != nil {
				result := refused(spec, err)
				audit(opts.Logger, spec, op, result, facts)
				return result, nil
			}
		}
		// A dry run sends nothing, so there is nothing for a human to approve.
		asks := opts.Guardrails.confirmPolicy().asks(spec.Kind) && !vast.IsDryRun()
		var what string
		if spec.describe != nil && (asks || spec.Kind == kindDestroy) {
			what = whatItActsOn(ctx, spec, vast, op)
		}
		if asks {
			if result := confirmations.confirm(ctx, spec, req, vast, op, what); result != nil {
				audit(opts.Logger, spec, op, result, facts)
				return result, nil // asking, declined, or not confirmable
			}
			if facts.waitedForHuman {
				if err := spec.guard(ctx, vast, opts.Guardrails, op); err != nil {
					result := refused(spec, err)
					audit(opts.Logger, spec, op, result, facts)
					return result, nil
				}
			}
		}
		result := sendAndPresent(ctx, spec, vast, op, args, opts)
		if what != "" && !result.IsError {
			appendText(result, "Before the call: "+what)
		}
		audit(opts.Logger, spec, op, result, facts)
		return result, nil
	}
}

// sendAndPresent makes the call and shapes its answer; a create whose
// outcome is unknown is settled with reads, never sent again.
func sendAndPresent(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation, args callArguments, opts Options) *mcpgo.CallToolResult {
	if spec.Kind != kindCreate || vast.IsDryRun() {
		return sendAndSettle(ctx, spec, vast, op, args, opts)
	}
	end, err := factsOf(ctx).claims.begin(ctx, spec.OperationID)
	if err != nil {
		return failure(spec, op, &gen.RequestError{Err: err}, opts)
	}
	var result *mcpgo.CallToolResult
	defer func() { end(result) }() // nil on a panic: the outcome is unknown
	result = sendAndSettle(ctx, spec, vast, op, args, opts)
	return result
}

func sendAndSettle(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation, args callArguments, opts Options) *mcpgo.CallToolResult {
	since := time.Now()
	sendCtx := ctx
	if facts := factsOf(ctx); facts.holdsTurn() {
		sendCtx = gen.WithSendCheck(ctx, facts.turnHeld)
	}
	body, err := spec.send(sendCtx, vast, op, args.raw)
	if err == nil {
		var result *mcpgo.CallToolResult
		if result, err = present(spec, body, args.values, opts); err == nil {
			if note := billingNote(spec, factsOf(ctx)); note != "" {
				appendText(result, note)
			}
			if spec.Kind == kindCreate && len(spec.IDFields) > 0 {
				answer, _ := result.StructuredContent.(map[string]any)
				factsOf(ctx).claims.claim(ctx, spec.OperationID, intOf(answer[spec.IDFields[0]]))
			}
			return result
		}
	}
	result := failure(spec, op, err, opts)
	if spec.settle != nil && outcomeOf(result) == OutcomeUnknown {
		return settled(ctx, spec, vast, op, since, result, opts)
	}
	return result
}

var inputProperties sync.Map // tool name -> map[string]json.RawMessage

func inputPropertiesOf(spec *toolSpec) map[string]json.RawMessage {
	if p, ok := inputProperties.Load(spec.Name); ok {
		return p.(map[string]json.RawMessage)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal([]byte(spec.InputSchema), &schema); err != nil {
		panic(fmt.Sprintf("%s: generated input schema: %v", spec.Name, err)) // caught by TestToolSnapshots
	}
	inputProperties.Store(spec.Name, schema.Properties)
	return schema.Properties
}

// decodeCall turns a call's arguments into its operation: the tool's fixed
// fields merged in, decoded into the generated types, converted.
func (spec *toolSpec) decodeCall(args []byte) (operation, error) {
	if spec.Fixed != "" {
		merged, err := withFields(args, []byte(spec.Fixed))
		if err != nil {
			return nil, err
		}
		args = merged
	}
	op, err := spec.decode(args)
	if err != nil {
		return nil, err
	}
	if spec.PathArgument != "" && op.pathID() < 1 {
		return nil, &argError{arg: spec.PathArgument, reason: "required: a positive id"}
	}
	if spec.prepare != nil {
		if err := spec.prepare(op); err != nil {
			return nil, err
		}
	}
	return op, nil
}

// send makes the call, following pages when the answer has them.
func (spec *toolSpec) send(ctx context.Context, vast *gen.Vast, op operation, args []byte) ([]byte, error) {
	call := gen.Call{
		Operation:  spec.OperationID,
		Serverless: spec.Serverless,
		Idempotent: spec.Kind.rules().retryUnknown,
		Send:       op.send,
	}
	body, err := vast.Do(ctx, call)
	if err != nil || spec.Pages == nil {
		return body, err
	}
	return followPages(ctx, spec, vast, call, body, args)
}

// followPages concatenates the pages' item lists, up to the declared bound;
// the last cursor stays in the answer when the bound cut the list short.
func followPages(ctx context.Context, spec *toolSpec, vast *gen.Vast, call gen.Call, first, args []byte) ([]byte, error) {
	var answer map[string]any
	if err := json.Unmarshal(first, &answer); err != nil {
		return first, nil // present reports an answer of the wrong shape
	}
	items, _ := answer[spec.Pages.Items].([]any)
	for page := 1; page < spec.Pages.Max; page++ {
		cursor, _ := answer[spec.Pages.Cursor].(string)
		if cursor == "" {
			break
		}
		next, err := withCursor(args, spec.Pages.Param, cursor)
		if err != nil {
			return nil, err
		}
		op, err := spec.decodeCall(next)
		if err != nil {
			return nil, err
		}
		call.Send = op.send
		body, err := vast.Do(ctx, call)
		if err != nil {
			return nil, err
		}
		answer = map[string]any{}
		if err := json.Unmarshal(body, &answer); err != nil {
			return nil, &gen.RequestError{Operation: spec.OperationID, Sent: true, Err: errors.New("a page that is not a JSON object")}
		}
		more, _ := answer[spec.Pages.Items].([]any)
		items = append(items, more...)
	}
	answer[spec.Pages.Items] = items
	return json.Marshal(answer)
}

// withCursor sets the next page's cursor in the arguments, over any the
// caller gave for the first page.
func withCursor(args []byte, param, cursor string) ([]byte, error) {
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(args, &merged); err != nil || merged == nil {
		merged = map[string]json.RawMessage{}
	}
	for k := range merged {
		if foldKey(k) == foldKey(param) {
			delete(merged, k)
		}
	}
	merged[param] = mustJSON(cursor)
	return json.Marshal(merged)
}

// withFields sets fields (a JSON object) in the arguments object.
func withFields(args, fields []byte) ([]byte, error) {
	var merged map[string]json.RawMessage
	trimmed := bytes.TrimSpace(args)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if err := json.Unmarshal(trimmed, &merged); err != nil {
		return nil, &argError{reason: "arguments must be a JSON object"}
	}
	var extra map[string]json.RawMessage
	if err := json.Unmarshal(fields, &extra); err != nil {
		return nil, err
	}
	// Go's decoder matches names case-insensitively (with Unicode folding),
	// so any spelling of a fixed field is refused, not only the exact one.
	for given := range merged {
		for k := range extra {
			if foldKey(given) == foldKey(k) {
				return nil, &argError{arg: given, reason: "set by this tool itself; leave it out"}
			}
		}
	}
	for k, v := range extra {
		merged[k] = v
	}
	return json.Marshal(merged)
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// guardAs, describeAs and settleAs adapt a hook typed to its operation's
// call type (tools.gen.go wires them).
func guardAs[C operation](f func(context.Context, *gen.Vast, *Guardrails, C) error) func(context.Context, *gen.Vast, *Guardrails, operation) error {
	return func(ctx context.Context, vast *gen.Vast, g *Guardrails, op operation) error {
		return f(ctx, vast, g, op.(C))
	}
}

func describeAs[C operation](f func(context.Context, *gen.Vast, C) (string, error)) func(context.Context, *gen.Vast, operation) (string, error) {
	return func(ctx context.Context, vast *gen.Vast, op operation) (string, error) { return f(ctx, vast, op.(C)) }
}

func settleAs[C operation](f func(context.Context, *gen.Vast, C, time.Time) settlement) func(context.Context, *gen.Vast, operation, time.Time) settlement {
	return func(ctx context.Context, vast *gen.Vast, op operation, since time.Time) settlement {
		return f(ctx, vast, op.(C), since)
	}
}
