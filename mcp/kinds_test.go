package mcp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// minimalArguments builds the smallest valid arguments from a tool's input
// schema: every required property, and the first member of each "give one
// of" group, with a value its schema accepts.
func minimalArguments(t *testing.T, schema json.RawMessage) string {
	t.Helper()
	var s struct {
		Properties map[string]struct {
			Type    any      `json:"type"`
			Minimum *float64 `json:"minimum"`
			Enum    []any    `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
		AllOf    []struct {
			AnyOf []struct {
				Required []string `json:"required"`
			} `json:"anyOf"`
		} `json:"allOf"`
	}
	require.NoError(t, json.Unmarshal(schema, &s))
	names := s.Required
	for _, group := range s.AllOf {
		names = append(names, group.AnyOf[0].Required...)
	}
	args := map[string]any{}
	for _, name := range names {
		p := s.Properties[name]
		switch {
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case p.Type == "integer" || p.Type == "number":
			v := 1.0
			if p.Minimum != nil && *p.Minimum > v {
				v = *p.Minimum
			}
			args[name] = v
		case p.Type == "boolean":
			args[name] = true
		default:
			args[name] = "vllm/vllm-openai:latest" // a string every string argument here accepts
		}
	}
	data, err := json.Marshal(args)
	require.NoError(t, err)
	return string(data)
}

// Every result of every declared tool either validates against the tool's
// outputSchema or carries no structuredContent: in the sandbox, in a dry
// run, and when the API refuses. The official TypeScript client checks both.
func TestEveryResultMatchesItsOutputSchemaOrHasNone(t *testing.T) {
	opts := mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmNone}}
	for _, tool := range mcp.Tools(nil, opts) {
		name := tool.Tool.Name
		args := minimalArguments(t, tool.Tool.RawInputSchema)
		t.Run(name+"/sandbox", func(t *testing.T) {
			sandboxOpts := opts
			sandboxOpts.Sandbox = true
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: "http://127.0.0.1:1", HTTPClient: sandboxClient()}, sandboxOpts)
			res := call(t, c, name, args)
			require.False(t, res.IsError, "%s %s: %s", name, args, text(t, res))
			assert.Equal(t, mcp.OutcomeDone, outcomeOf(res))
			assertMatchesOutputSchema(t, name, res)
		})
		t.Run(name+"/dry run", func(t *testing.T) {
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: "http://127.0.0.1:1", DryRun: true}, opts)
			res := call(t, c, name, args)
			require.False(t, res.IsError, text(t, res))
			assert.Equal(t, mcp.OutcomeDryRun, outcomeOf(res))
			assertMatchesOutputSchema(t, name, res)
		})
		t.Run(name+"/refused by the API", func(t *testing.T) {
			c, _ := connectFake(t, opts, fakeapi.Fixture(t, "common/401"))
			res := call(t, c, name, args)
			require.True(t, res.IsError, text(t, res))
			assert.Nil(t, res.StructuredContent)
			assert.Equal(t, mcp.OutcomeNotSent, outcomeOf(res))
		})
	}
}

// The kind a tool declares decides its annotations: a client may rely on
// them to ask before a destroy, or to retry a read.
func TestAnnotationsFollowTheKind(t *testing.T) {
	for _, tool := range mcp.Tools(nil, mcp.Options{}) {
		a := tool.Tool.Annotations
		require.NotNil(t, a.ReadOnlyHint, tool.Tool.Name)
		readOnly, destructive, idempotent := *a.ReadOnlyHint, *a.DestructiveHint, *a.IdempotentHint
		assert.True(t, *a.OpenWorldHint, tool.Tool.Name)
		switch {
		case readOnly:
			assert.False(t, destructive, tool.Tool.Name)
			assert.True(t, idempotent, "%s: a read can be repeated", tool.Tool.Name)
		case destructive:
			assert.True(t, idempotent, "%s: removing twice removes once", tool.Tool.Name)
		case strings.HasPrefix(tool.Tool.Name, "create_"):
			assert.False(t, idempotent, "%s: a second create bills a second resource", tool.Tool.Name)
		}
	}
}

func outcomeOf(res *mcpgo.CallToolResult) string {
	if res.Meta == nil {
		return ""
	}
	return fmt.Sprint(res.Meta.AdditionalFields[mcp.MetaOutcome])
}

func sandboxClient() *http.Client { return &http.Client{Transport: mcp.SandboxTransport()} }
