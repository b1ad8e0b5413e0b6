package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Keys of the _meta a result may carry.
const (
	MetaSandbox = "vast-mcp/sandbox"
	MetaDryRun  = "vast-mcp/dryRun"
	MetaOutcome = "vast-mcp/outcome" // one of the Outcome constants
)

// withOutcome records what happened in the result's _meta, and that the
// answer was canned in sandbox mode.
func withOutcome(result *mcpgo.CallToolResult, outcome string, opts Options) *mcpgo.CallToolResult {
	if result.Meta == nil {
		result.Meta = &mcpgo.Meta{AdditionalFields: map[string]any{}}
	}
	if result.Meta.AdditionalFields == nil {
		result.Meta.AdditionalFields = map[string]any{}
	}
	result.Meta.AdditionalFields[MetaOutcome] = outcome
	if opts.Sandbox {
		result.Meta.AdditionalFields[MetaSandbox] = true
		if outcome == OutcomeDone && len(result.Content) > 0 {
			if text, ok := result.Content[0].(mcpgo.TextContent); ok {
				text.Text = "[sandbox: canned response, nothing was created, changed or billed] " + text.Text
				result.Content[0] = text
			}
		}
	}
	return result
}

func errorResult(text, outcome string) *mcpgo.CallToolResult {
	return withOutcome(mcpgo.NewToolResultError(text), outcome, Options{})
}

// notSent is a refusal after which nothing went to the API.
func notSent(text string) *mcpgo.CallToolResult { return errorResult(text, OutcomeNotSent) }

func argumentError(spec *toolSpec, err error) *mcpgo.CallToolResult {
	var invalid *invalidArguments
	if errors.As(err, &invalid) {
		return errorResult(fmt.Sprintf("Invalid arguments for %s: %s. Nothing was sent; fix the arguments and call again.",
			spec.Name, strings.Join(invalid.problems, "; ")), OutcomeInvalid)
	}
	return errorResult(fmt.Sprintf("Invalid arguments for %s: %s. Nothing was sent; fix the argument and call again.", spec.Name, bound(err.Error(), maxProblemText)), OutcomeInvalid)
}

// refused says which operator guardrail stopped the call.
func refused(spec *toolSpec, err error) *mcpgo.CallToolResult {
	return errorResult(fmt.Sprintf("%s refused: %v. Nothing was sent. The person running vast-mcp sets this limit; "+
		"no tool argument can change it. Stay within it, or ask the human to change the setting.", spec.Name, err), OutcomeRefused)
}

func failure(spec *toolSpec, op operation, err error, opts Options) *mcpgo.CallToolResult {
	var (
		dry    *gen.DryRunError
		apiErr *gen.APIError
		reqErr *gen.RequestError
	)
	rules := spec.Kind.rules()
	var result *mcpgo.CallToolResult
	switch {
	case errors.As(err, &dry):
		return withOutcome(dryRun(spec, dry), OutcomeDryRun, opts)
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && spec.Kind == kindDestroy:
		// Idempotent undo: what is already gone need not be removed again.
		result = mcpgo.NewToolResultText(fmt.Sprintf("%s: %s %d is already gone (HTTP 404); nothing more to do.", spec.Name, spec.PathArgument, op.pathID()))
		return withOutcome(result, OutcomeDone, opts)
	case errors.As(err, &apiErr):
		outcome := OutcomeNotSent
		if errors.Is(apiErr, gen.ErrOutcomeUnknown) {
			outcome = OutcomeUnknown
		}
		result = withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s failed: %s. %s", spec.Name, describeAPIError(apiErr), nextStep(spec, op.pathID(), apiErr))), outcome, opts)
	case errors.Is(err, gen.ErrNoAPIKey):
		result = withOutcome(mcpgo.NewToolResultError("No Vast.ai API key is configured, so nothing was sent. Set VAST_API_KEY in the environment "+
			"vast-mcp starts with (or save the key with `vastai set api-key`), then restart the server. "+
			"--dry-run and --sandbox work without a key."), OutcomeNotSent, opts)
	case errors.As(err, &reqErr) && reqErr.Sent:
		result = withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s: no usable answer after the request was sent (%v). %s", spec.Name, reqErr.Err, rules.unknown)), OutcomeUnknown, opts)
	case errors.As(err, &reqErr):
		result = withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s: the request was not sent (%v). %s", spec.Name, reqErr.Err, rules.notSent)), OutcomeNotSent, opts)
	default:
		result = withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s failed: %s", spec.Name, gen.Sanitize(err.Error(), maxQuotedMessage))), OutcomeUnknown, opts)
	}
	return result
}

func describeAPIError(e *gen.APIError) string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode == http.StatusOK {
		s = "HTTP 200 with success=false"
	}
	return s + apiSaid(e.Code, e.Message)
}

// nextStep tells the agent what to do about a failure, in words it can act
// on.
func nextStep(spec *toolSpec, pathID int, e *gen.APIError) string {
	nothing := " " + spec.Kind.rules().notSent
	switch status := e.StatusCode; {
	case status == http.StatusTooManyRequests:
		wait := e.RetryAfter
		if wait <= 0 {
			wait = 10 * time.Second
		}
		// gen rounds a wait up to whole seconds; never tell the agent 0.
		return fmt.Sprintf("Rate limited by Vast.ai: wait %d s before calling again.%s", max(1, int((wait+time.Second-1)/time.Second)), nothing)
	case status == http.StatusUnauthorized || e.Code == "auth_error":
		return "The API key was refused: check VAST_API_KEY (or the vastai CLI key file) where vast-mcp runs, then restart it." + nothing
	case status == http.StatusForbidden:
		return "This key may not do this (see the message); calling again will not help." + nothing
	case (status == http.StatusNotFound || status == http.StatusGone) && spec.PathArgument == "offer_id" && pathID > 0:
		return fmt.Sprintf("Offer %d is gone or taken: search offers again and call %s with another %s.%s", pathID, spec.Name, spec.PathArgument, nothing)
	case (status == http.StatusNotFound || status == http.StatusGone) && spec.PathArgument != "" && pathID > 0:
		return fmt.Sprintf("%s %d was not found: check the id with the read tools.%s", spec.PathArgument, pathID, nothing)
	case status == http.StatusNotFound:
		return "The API path was not found: check --base-url / VAST_URL (normally " + gen.DefaultBaseURL + ")." + nothing
	case status >= 300 && status < 400:
		return "vast-mcp never follows a redirect (net/http would re-send it as a GET). Check --base-url / VAST_URL (normally " + gen.DefaultBaseURL + ")." + nothing
	case errors.Is(e, gen.ErrOutcomeUnknown):
		return spec.Kind.rules().unknown
	case e.Code == "insufficient_credit":
		return "Add credit to the Vast.ai account, then call again." + nothing
	case e.Code == "no_ssh_key_for_vm":
		return "Add an SSH key to the Vast.ai account first, or create a container instead (vm false)." + nothing
	default:
		return "Correct the argument the message names and call again." + nothing
	}
}

// dryRun shows the request that would have been sent. It is not an error:
// the call did what the operator asked.
func dryRun(spec *toolSpec, dry *gen.DryRunError) *mcpgo.CallToolResult {
	request := map[string]any{
		"method":  dry.Method,
		"url":     dry.URL,
		"headers": dry.Header,
		"body":    dry.Body,
	}
	shown, _ := json.MarshalIndent(request, "", "  ")
	text := fmt.Sprintf("Dry run: nothing was sent. %s would send:\n%s", spec.Name, shown)
	return &mcpgo.CallToolResult{
		Result:            mcpgo.Result{Meta: &mcpgo.Meta{AdditionalFields: map[string]any{MetaDryRun: true}}},
		Content:           []mcpgo.Content{mcpgo.NewTextContent(text)},
		StructuredContent: map[string]any{"dry_run": request},
	}
}
