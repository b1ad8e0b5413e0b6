package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// callFacts are what a call's hooks learnt on the way, for the answer and
// the audit line: the $/hour at stake, when a read told it.
type callFacts struct {
	hourly float64 // $/hour; 0 when unknown
	turns  *spendTurns
	turn   SpendLease // while the call holds it
	// waitedForHuman: the turn was given back while a human decided, so
	// the spend check must run again before anything is sent.
	waitedForHuman bool
	claims         *claims
	// underway is the create's token in the replicas' record; its claim
	// unrecorded keeps that record until it lapses.
	underway        string
	claimUnrecorded bool
}

func (f *callFacts) holdsTurn() bool { return f.turn != nil }

// giveTurnBack gives back the spend turn, if the call holds it.
func (f *callFacts) giveTurnBack() {
	if turn := f.turn; turn != nil {
		f.turn = nil
		turn.Release()
	}
}

// turnHeld refuses to send once the spend turn is lost: what the check
// read may no longer hold.
func (f *callFacts) turnHeld() error {
	if f.turn != nil && !f.turn.Held() {
		return errTurnLost
	}
	return nil
}

var errTurnLost = errors.New("the spend lock the replicas share lapsed before the request went out " +
	"(this server stalled, or Redis stopped answering), so another call may have added spend since the check; call again to check anew")

type factsKey struct{}

func withFacts(ctx context.Context) (context.Context, *callFacts) {
	f := &callFacts{}
	return context.WithValue(ctx, factsKey{}, f), f
}

func factsOf(ctx context.Context) *callFacts {
	if f, ok := ctx.Value(factsKey{}).(*callFacts); ok {
		return f
	}
	return &callFacts{}
}

func noteHourly(ctx context.Context, dph float64) {
	if dph > 0 && !math.IsInf(dph, 0) {
		factsOf(ctx).hourly = dph
	}
}

// audit leaves one log line per call that spends or ends spending, for the
// team that reads the log later. Only ids, outcomes and prices: never an
// argument's value, which could hold a secret.
func audit(logger *slog.Logger, spec *toolSpec, op operation, result *mcpgo.CallToolResult, facts *callFacts) {
	if logger == nil || spec.Kind == kindRead {
		return
	}
	if result.ResultType == mcpgo.ResultTypeInputRequired {
		return // the call comes again with the human's answer
	}
	outcome := outcomeOf(result)
	if outcome == "" {
		outcome = OutcomeNotSent // a human declined, or could not be asked
	}
	attrs := append(make([]slog.Attr, 0, 4), slog.String("tool", spec.Name), slog.String("outcome", outcome))
	if id := resultID(spec, op, result); id > 0 {
		attrs = append(attrs, slog.Int("id", id))
	}
	if facts.hourly > 0 {
		attrs = append(attrs, slog.Float64("dph", facts.hourly))
	}
	// Straight to the handler: the logger would first walk the call's deep
	// stack for a source line the audit never shows, on every create.
	ctx, handler := context.Background(), logger.Handler()
	if handler.Enabled(ctx, slog.LevelInfo) {
		line := slog.NewRecord(time.Now(), slog.LevelInfo, "vast-mcp audit", 0)
		line.AddAttrs(attrs...)
		_ = handler.Handle(ctx, line)
	}
}

// resultID is the resource a call acted on: the path's id, or a create's
// new id.
func resultID(spec *toolSpec, op operation, result *mcpgo.CallToolResult) int {
	if spec.Kind != kindCreate {
		return op.pathID()
	}
	if m, ok := result.StructuredContent.(map[string]any); ok && len(spec.IDFields) > 0 {
		if n, ok := m[spec.IDFields[0]].(float64); ok {
			return int(n)
		}
	}
	return 0
}

func outcomeOf(result *mcpgo.CallToolResult) string {
	if result.Meta == nil {
		return ""
	}
	s, _ := result.Meta.AdditionalFields[MetaOutcome].(string)
	return s
}

// appendText adds a sentence to the result's first text.
func appendText(result *mcpgo.CallToolResult, sentence string) {
	if len(result.Content) == 0 {
		return
	}
	t, ok := result.Content[0].(mcpgo.TextContent)
	if !ok {
		return
	}
	// After the quotable line, before any data a read shows under it.
	line, data, hasData := strings.Cut(t.Text, "\n")
	if !strings.HasSuffix(line, ".") && !strings.HasSuffix(line, ")") && !strings.HasSuffix(line, ":") {
		line += "."
	}
	t.Text = line + " " + sentence
	if hasData {
		t.Text += "\n" + data
	}
	result.Content[0] = t
}

// billingNote says what a create costs from now on.
func billingNote(spec *toolSpec, facts *callFacts) string {
	switch {
	case spec.OperationID != "createInstance":
		return "" // an endpoint or workergroup bills through the workers it rents
	case facts.hourly > 0:
		return fmt.Sprintf("Billing has started: about $%.4f/hour (the offer's price) until it is destroyed; stop_instance ends the GPU part.", facts.hourly)
	default:
		return "Billing has started at the offer's $/hour (dph_total in the offer search) until it is destroyed; stop_instance ends the GPU part."
	}
}

// whatItActsOn runs the describe hook; its failure never blocks a call (a
// removal is how spending ends) but is said.
func whatItActsOn(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation) string {
	what, err := spec.describe(ctx, vast, op)
	var dry *gen.DryRunError
	switch {
	case errors.As(err, &dry):
		return "" // a dry run reads nothing
	case err != nil:
		return fmt.Sprintf("(%s %d could not be read first: %s)", spec.PathArgument, op.pathID(), readFailure(err))
	}
	return what
}

func readFailure(err error) string {
	var apiErr *gen.APIError
	if errors.As(err, &apiErr) {
		return describeAPIError(apiErr)
	}
	return cleanString(err.Error())
}

// readObject makes an idempotent read and decodes its JSON object.
func readObject(ctx context.Context, vast *gen.Vast, operation string, serverless bool, send func(context.Context, *gen.Client) (*http.Response, error)) (map[string]any, error) {
	body, err := vast.Do(ctx, gen.Call{Operation: operation, Serverless: serverless, Idempotent: true, Send: send})
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("%s: an answer that is not a JSON object", operation)
	}
	return answer, nil
}

// readInstance reads one instance (showInstance answers it under
// "instances", an object or a one-element list).
func readInstance(ctx context.Context, vast *gen.Vast, id int) (map[string]any, error) {
	answer, err := readObject(ctx, vast, "showInstance", false, func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.ShowInstance(ctx, id)
	})
	if err != nil {
		return nil, err
	}
	var inst map[string]any
	switch v := answer["instances"].(type) {
	case map[string]any:
		inst = v
	case []any:
		if len(v) == 1 {
			inst, _ = v[0].(map[string]any)
		}
	}
	switch {
	case inst == nil:
		return nil, fmt.Errorf("showInstance: no instance %d in the answer", id)
	case intOf(inst["id"]) != id:
		// Ownership and confirmations are judged on this answer.
		return nil, fmt.Errorf("showInstance: asked for instance %d, the answer is about another or names none", id)
	}
	return inst, nil
}

// listResults reads a list answered under "results" (endpoints,
// workergroups).
func listResults(ctx context.Context, vast *gen.Vast, operation string, send func(context.Context, *gen.Client) (*http.Response, error)) ([]map[string]any, error) {
	answer, err := readObject(ctx, vast, operation, false, send)
	if err != nil {
		return nil, err
	}
	return listField(operation, answer, "results")
}

// listField is an answer's list; an answer without it is not read as an
// empty list, which would settle or pass what nothing was seen of.
func listField(operation string, answer map[string]any, field string) ([]map[string]any, error) {
	list, ok := answer[field].([]any)
	if !ok {
		return nil, fmt.Errorf("%s: the answer has no %s list", operation, field)
	}
	items := objects(list)
	if len(items) != len(list) {
		// What cannot be read cannot be counted, settled or ruled out.
		return nil, fmt.Errorf("%s: %d of the %s are not objects", operation, len(list)-len(items), field)
	}
	return items, nil
}

func objects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, item := range list {
		if m, ok := item.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func readEndpoints(ctx context.Context, vast *gen.Vast) ([]map[string]any, error) {
	return listResults(ctx, vast, "showEndpoints", func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.ShowEndpoints(ctx)
	})
}

func readWorkergroups(ctx context.Context, vast *gen.Vast) ([]map[string]any, error) {
	return listResults(ctx, vast, "showWorkergroup", func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.ShowWorkergroup(ctx)
	})
}

func byID(items []map[string]any, id int) map[string]any {
	for _, item := range items {
		if intOf(item["id"]) == id {
			return item
		}
	}
	return nil
}

func intOf(v any) int {
	if n, ok := v.(float64); ok && n == math.Trunc(n) && math.Abs(n) < 1<<53 {
		return int(n)
	}
	return 0
}

func floatOf(v any) float64 {
	n, _ := v.(float64)
	return n
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
