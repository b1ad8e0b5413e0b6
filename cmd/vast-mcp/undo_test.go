package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/mcp"
)

// --manage, --label-prefix, --max-hourly-spend and --max-instances reach
// the guardrails from every source; --manage own without a prefix, or an
// unknown scope, stops the server.
func TestUndoGuardrailSettings(t *testing.T) {
	for _, s := range sources {
		t.Run(s.name, func(t *testing.T) {
			args, env := s.set(t, "manage", "VAST_MCP_MANAGE", "own", `"own"`)
			_, code, stderr := parseWith(args, env)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, "--manage own needs --label-prefix")

			args, env = s.set(t, "manage", "VAST_MCP_MANAGE", "mine", `"mine"`)
			_, code, stderr = parseWith(args, env)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, `--manage "mine"`)

			args, env = s.set(t, "manage", "VAST_MCP_MANAGE", "own", `"own"`)
			cfg, code, stderr := parseWith(append(args, "--label-prefix", "vast-mcp-"), env)
			require.Equal(t, -1, code, stderr)
			g := cfg.serverOptions(nil).Guardrails
			assert.Equal(t, mcp.ManageOwn, g.Manage)
			assert.Equal(t, "vast-mcp-", g.LabelPrefix)
		})
	}
	cfg, code, stderr := parseWith(nil, nil)
	require.Equal(t, -1, code, stderr)
	g := cfg.serverOptions(nil).Guardrails
	assert.Equal(t, mcp.ManageAll, g.Manage, "default: all")
	assert.Equal(t, mcp.ConfirmDestructive, g.Confirm, "default: removals are confirmed")
}

// A bare --confirm, and true in the env or the config file, mean all, as
// operators write them today: stop and start are then confirmed too.
func TestBareConfirmStillMeansAll(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--confirm"}, nil},
		{nil, map[string]string{"VAST_MCP_CONFIRM": "true"}},
	} {
		cfg, code, stderr := parseWith(tc.args, tc.env)
		require.Equal(t, -1, code, stderr)
		assert.Equal(t, mcp.ConfirmAll, cfg.serverOptions(nil).Guardrails.Confirm, "%v %v", tc.args, tc.env)
	}
	args, env := sources[2].set(t, "confirm", "", "", "true")
	cfg, code, stderr := parseWith(args, env)
	require.Equal(t, -1, code, stderr)
	assert.Equal(t, mcp.ConfirmAll, cfg.serverOptions(nil).Guardrails.Confirm, "config file true")
}

// Every undo tool works through the binary over stdio and HTTP in the
// sandbox, and in dry-run, where a removal shows its request unasked.
func TestUndoToolsThroughTheBinary(t *testing.T) {
	calls := []struct{ tool, args, want string }{
		{"stop_instance", `{"instance_id": 4242}`, "Stopped instance 4242"},
		{"start_instance", `{"instance_id": 4242}`, "Asked instance 4242 to start"},
		{"destroy_instance", `{"instance_id": 4242}`, "Destroyed instance 4242"},
		{"delete_workergroup", `{"workergroup_id": 789}`, "Deleted workergroup 789"},
		{"delete_endpoint", `{"endpoint_id": 1234}`, "Deleted endpoint 1234"},
	}
	for _, c := range calls {
		t.Run("stdio/"+c.tool, func(t *testing.T) {
			s := startStdio(t, "--sandbox", "--confirm=none")
			s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
			s.receive()
			s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args + `}}`)
			result := s.receive()["result"].(map[string]any)
			assert.NotEqual(t, true, result["isError"], result)
			assert.Contains(t, result["content"].([]any)[0].(map[string]any)["text"], c.want)
			require.NoError(t, s.stdin.Close())
			require.NoError(t, s.cmd.Wait())
			assert.Contains(t, s.stderr.String(), "vast-mcp audit", "an audit line in the log")
		})
		t.Run("dry-run/"+c.tool, func(t *testing.T) {
			s := startStdio(t, "--dry-run")
			s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`)
			s.receive()
			s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args + `}}`)
			result := s.receive()["result"].(map[string]any)
			assert.NotEqual(t, true, result["isError"], result)
			assert.Contains(t, result["content"].([]any)[0].(map[string]any)["text"], "Dry run: nothing was sent")
			require.NoError(t, s.stdin.Close())
			require.NoError(t, s.cmd.Wait())
		})
	}
	t.Run("http", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, c := serveHTTPBinary(t, ctx, "--sandbox", "--confirm=none")
		for _, call := range calls {
			var req mcpgo.CallToolRequest
			req.Params.Name = call.tool
			req.Params.Arguments = json.RawMessage(call.args)
			res, err := c.CallTool(ctx, req)
			require.NoError(t, err)
			assert.False(t, res.IsError, call.tool)
			assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, call.want)
		}
	})
}
