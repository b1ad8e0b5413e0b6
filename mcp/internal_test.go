package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// Every operation a tool calls is answered in the sandbox: the generator
// builds a reply for every operation the client includes.
func TestEveryToolHasASandboxReply(t *testing.T) {
	for _, spec := range toolSpecs {
		found := slices.ContainsFunc(sandboxReplies, func(r sandboxReply) bool {
			return r.Method == spec.Method && r.Path == spec.Path && json.Valid([]byte(r.Body))
		})
		assert.True(t, found, "%s (%s %s) has no sandbox reply", spec.Name, spec.Method, spec.Path)
	}
}

// The spec names the path argument and the argument that takes Docker
// flags; the generated decoders handle exactly those.
func TestDecodersHandleWhatTheSpecDeclares(t *testing.T) {
	spec := specNamed("create_instance")
	require.Equal(t, "offer_id", spec.PathArgument)
	op, err := spec.decodeCall([]byte(`{"offer_id": 7, "image": "img", "env": "-e A=1 -p 80:80"}`))
	require.NoError(t, err)
	ic := op.(*createInstanceCall)
	assert.Equal(t, 7, ic.pathID())
	_, err = ic.send(context.Background(), recordingClient(t))
	require.ErrorIs(t, err, errRecorded)
	assert.Equal(t, &map[string]string{"A": "1", "-p 80:80": "1"}, ic.CreateInstanceJSONRequestBody.Env, "send converts the flag string")

	for _, spec := range toolSpecs {
		if spec.PathArgument != "" {
			continue
		}
		op, err := spec.decodeCall([]byte(`{}`))
		require.NoError(t, err, spec.Name)
		assert.Zero(t, op.pathID(), spec.Name)
	}
}

var errRecorded = errors.New("recorded")

type refusingDoer struct{}

func (refusingDoer) Do(*http.Request) (*http.Response, error) { return nil, errRecorded }

func recordingClient(t *testing.T) *gen.Client {
	c, err := gen.NewClient("http://127.0.0.1:1", gen.WithHTTPClient(refusingDoer{}))
	require.NoError(t, err)
	return c
}

func TestPanicInAHandlerBecomesAnErrorResult(t *testing.T) {
	spec := specNamed("create_endpoint")
	saved := spec.decode
	spec.decode = func([]byte) (operation, error) { panic("boom: secret-looking detail") }
	t.Cleanup(func() { spec.decode = saved })

	var logs bytes.Buffer
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	ctx := context.Background()
	c, err := inprocess.Connect(ctx, NewServer(vast, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}), inprocess.Options{})
	require.NoError(t, err)
	defer c.Close()

	res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_endpoint", Arguments: json.RawMessage(`{}`)}})
	require.NoError(t, err, "a panic must not become a JSON-RPC error")
	require.True(t, res.IsError)
	text := res.Content[0].(mcpgo.TextContent).Text
	assert.Contains(t, text, "check the Vast.ai console")
	assert.NotContains(t, text, "secret-looking", "the panic value stays in the server log")
	assert.Contains(t, logs.String(), "secret-looking")

	// The server keeps serving.
	res, err = c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_instance", Arguments: json.RawMessage(`{}`)}})
	require.NoError(t, err)
	assert.True(t, res.IsError)
}

func TestAgeReadsAsAnAgentWould(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Minute:     "not started",
		90 * time.Second: "1m",
		3 * time.Hour:    "3h",
		47 * time.Hour:   "47h",
		72 * time.Hour:   "3d",
	} {
		assert.Equal(t, want, age(d), d)
	}
}

// An argument the schema does not offer is refused by the handler too,
// should validation be skipped: a query parameter a hook fills (accept)
// has a field in the generated type, but no caller reaches it.
func TestHandlerRefusesWhatTheSchemaDoesNotOffer(t *testing.T) {
	for _, tt := range []struct{ tool, args, arg string }{
		{"show_instances", `{"select_filters": "{\"id\": {\"gt\": 0}}"}`, "select_filters"},
		{"show_instances", `{"after_token": "x"}`, "after_token"},
		{"search_templates", `{"select_cols": "[\"*\"]"}`, "select_cols"},
		{"search_offers", `{"bw_nvlink": {"gte": 1}}`, "bw_nvlink"},
		{"wait_for_instance", `{"instance_id": 1, "select": 1}`, "select"},
	} {
		spec := specNamed(tt.tool)
		cf, err := newConfirmer(nil, nil)
		require.NoError(t, err)
		h := handler(spec, nil, Options{}, cf, newSpendTurns(nil), newClaims(nil, nil))
		if spec.handler != nil {
			h = spec.handler(spec, nil, Options{})
		}
		res, err := h(context.Background(), mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: tt.tool, Arguments: json.RawMessage(tt.args)}})
		require.NoError(t, err)
		assert.True(t, res.IsError, tt.tool)
		assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, tt.arg+": unknown argument")
	}
}

// A tool's fixed field cannot be set by the caller in any spelling Go's
// decoder would match (case, Unicode folding).
func TestFixedFieldsCannotBeRespelt(t *testing.T) {
	spec := specNamed("stop_instance")
	for _, args := range []string{`{"instance_id": 1, "state": "running"}`, `{"instance_id": 1, "STATE": "running"}`, `{"instance_id": 1, "ſtate": "running"}`} {
		_, err := spec.decodeCall([]byte(args))
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "set by this tool itself", args)
	}
}

// FuzzLinePlaceholders: a quotable line's {name} placeholders are found
// as the pattern `\{([a-zA-Z0-9_.]+)\}` finds them, braces around
// anything else staying text.
func FuzzLinePlaceholders(f *testing.F) {
	for _, seed := range []string{"Created instance {new_contract} from offer {offer_id}", "{a{b}", "{}", "{a.b}}", "{{x}}", "{ x }", "x{", "}{y}", ""} {
		f.Add(seed)
	}
	pattern := regexp.MustCompile(`\{([a-zA-Z0-9_.]+)\}`)
	f.Fuzz(func(t *testing.T, line string) {
		want := pattern.ReplaceAllString(line, "<$1>")
		var got strings.Builder
		for rest := line; ; {
			before, name, after, found := nextPlaceholder(rest)
			got.WriteString(before)
			if !found {
				break
			}
			got.WriteString("<" + name + ">")
			rest = after
		}
		if got.String() != want {
			t.Fatalf("%q: placeholders give %q, the pattern %q", line, got.String(), want)
		}
	})
}
