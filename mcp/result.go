package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Keys of the _meta a result may carry.
const (
	MetaSandbox = "vast-mcp/sandbox"
	MetaDryRun  = "vast-mcp/dryRun"
)

func success(spec *toolSpec, out created, opts Options) *mcpgo.CallToolResult {
	text := out.text
	if !opts.ExposeInstanceKey {
		if hidden := withhold(out.body, spec.SensitiveOutputs); len(hidden) > 0 {
			text += fmt.Sprintf(" (%s withheld: a credential; the operator can show it with --expose-instance-key)", strings.Join(hidden, ", "))
		}
	}
	result := &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewTextContent(text)}, StructuredContent: out.body}
	if opts.Sandbox {
		markSandbox(result)
	}
	return result
}

// withhold clears the named JSON fields (pointers in a generated struct)
// and reports those that held a value.
func withhold(body any, fields []string) []string {
	if len(fields) == 0 {
		return nil
	}
	v := reflect.ValueOf(body).Elem()
	var hidden []string
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if f := v.Field(i); slices.Contains(fields, name) && f.Kind() == reflect.Pointer && !f.IsNil() {
			f.SetZero()
			hidden = append(hidden, name)
		}
	}
	return hidden
}

func markSandbox(result *mcpgo.CallToolResult) {
	text := result.Content[0].(mcpgo.TextContent)
	text.Text = "[sandbox: canned response, nothing was created or billed] " + text.Text
	result.Content[0] = text
	result.Meta = &mcpgo.Meta{AdditionalFields: map[string]any{MetaSandbox: true}}
}

func argumentError(spec *toolSpec, err error) *mcpgo.CallToolResult {
	return mcpgo.NewToolResultError(fmt.Sprintf("Invalid arguments for %s: %s. Nothing was sent; fix the argument and call again.", spec.Name, bound(err.Error(), maxProblemText)))
}

// refused says which operator guardrail stopped the call.
func refused(spec *toolSpec, err error) *mcpgo.CallToolResult {
	return mcpgo.NewToolResultError(fmt.Sprintf("%s refused: %v. Nothing was sent. The person running vast-mcp sets this limit; "+
		"no tool argument can change it. Stay within it, or ask the human to change the setting.", spec.Name, err))
}

func failure(spec *toolSpec, c call, err error, opts Options) *mcpgo.CallToolResult {
	var (
		dry    *gen.DryRunError
		apiErr *gen.APIError
		reqErr *gen.RequestError
	)
	var result *mcpgo.CallToolResult
	switch {
	case errors.As(err, &dry):
		return dryRun(spec, dry)
	case errors.As(err, &apiErr):
		result = mcpgo.NewToolResultError(fmt.Sprintf("%s failed: %s. %s", spec.Name, describeAPIError(apiErr), nextStep(spec, c.pathID(), apiErr)))
	case errors.Is(err, gen.ErrNoAPIKey):
		result = mcpgo.NewToolResultError("No Vast.ai API key is configured, so nothing was sent. Set VAST_API_KEY in the environment " +
			"vast-mcp starts with (or save the key with `vastai set api-key`), then restart the server. " +
			"--dry-run and --sandbox work without a key.")
	case errors.As(err, &reqErr) && reqErr.Sent:
		result = mcpgo.NewToolResultError(fmt.Sprintf("%s: no usable answer after the request was sent (%v). The create may or may not have happened: "+
			"check the Vast.ai console before calling again, or it may be created and billed twice.", spec.Name, reqErr.Err))
	case errors.As(err, &reqErr):
		result = mcpgo.NewToolResultError(fmt.Sprintf("%s: the request was not sent (%v). Nothing was created; it is safe to call again.", spec.Name, reqErr.Err))
	default:
		result = mcpgo.NewToolResultError(fmt.Sprintf("%s failed: %s", spec.Name, gen.Sanitize(err.Error(), maxQuotedMessage)))
	}
	if opts.Sandbox {
		result.Meta = &mcpgo.Meta{AdditionalFields: map[string]any{MetaSandbox: true}}
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
	const nothing = " Nothing was created."
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
	case (status == http.StatusNotFound || status == http.StatusGone) && spec.PathArgument != "" && pathID > 0:
		return fmt.Sprintf("Offer %d is gone or taken: search offers again and call %s with another %s.%s", pathID, spec.Name, spec.PathArgument, nothing)
	case status == http.StatusNotFound:
		return "The API path was not found: check --base-url / VAST_URL (normally " + gen.DefaultBaseURL + ")." + nothing
	case status >= 300 && status < 400:
		return "vast-mcp never follows a redirect on a create (it would be re-sent as a GET). Check --base-url / VAST_URL (normally " + gen.DefaultBaseURL + ")." + nothing
	case status >= 500:
		return "The create may or may not have happened: check the Vast.ai console before calling again, or it may be created and billed twice."
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
