package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
)

func TestEveryToolHasAnOperationAndASandboxReply(t *testing.T) {
	var ids []string
	for _, spec := range toolSpecs {
		ids = append(ids, spec.OperationID)
	}
	assert.ElementsMatch(t, ids, slices.Collect(maps.Keys(operations)))
	assert.ElementsMatch(t, ids, slices.Collect(maps.Keys(sandboxReplies)))
}

// The spec names the path argument and the arguments that take Docker
// flags; the decoders must handle exactly those.
func TestDecodersHandleWhatTheSpecDeclares(t *testing.T) {
	spec := specNamed("create_instance")
	require.Equal(t, "offer_id", spec.PathArgument)
	require.Equal(t, []string{"env"}, spec.DockerFlagArguments)
	c, err := operations[spec.OperationID]([]byte(`{"offer_id": 7, "image": "img", "env": "-e A=1 -p 80:80"}`))
	require.NoError(t, err)
	ic := c.(*instanceCall)
	assert.Equal(t, 7, ic.pathID())
	assert.Equal(t, &map[string]string{"A": "1", "-p 80:80": "1"}, ic.req.Env)

	for _, other := range []string{"create_endpoint", "create_workergroup"} {
		spec := specNamed(other)
		assert.Empty(t, spec.PathArgument)
		assert.Empty(t, spec.DockerFlagArguments)
		c, err := operations[spec.OperationID]([]byte(`{}`))
		require.NoError(t, err)
		assert.Zero(t, c.pathID())
	}
}

func TestPanicInAHandlerBecomesAnErrorResult(t *testing.T) {
	saved := operations["createEndpoint"]
	operations["createEndpoint"] = func([]byte) (call, error) {
		panic("boom: secret-looking detail")
	}
	t.Cleanup(func() { operations["createEndpoint"] = saved })

	var logs bytes.Buffer
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	c, err := client.NewInProcessClient(NewServer(vast, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Start(ctx))
	var init mcpgo.InitializeRequest
	init.Params.ProtocolVersion = mcpgo.LATEST_PROTOCOL_VERSION
	_, err = c.Initialize(ctx, init)
	require.NoError(t, err)

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
