package mcp

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
)

// mcp-go reads the keys of a request case-insensitively and keeps the last
// of two; a proxy in front may read the first, or the exact spelling. A
// request where the two readings can differ is refused whole: as a
// JSON-RPC error, except inside a tool's arguments, where the agent can fix
// it and so gets an isError result (SEP-1303).
func TestAmbiguousKeysAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		message string
		refused string // in the error; "" when accepted
		// refused as a tool result the agent can act on, not a JSON-RPC error
		asToolResult bool
	}{
		{"plain", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e"}}}`, "", false},
		{"arguments then Arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"Arguments":{"endpoint_name":"e"}}}`, `params has the keys "arguments" and "Arguments"`, false},
		{"name twice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","name":"create_instance","arguments":{}}}`, `params has the key "name" twice`, false},
		{"method in two spellings", `{"jsonrpc":"2.0","id":1,"method":"ping","METHOD":"tools/call","params":{"name":"create_endpoint"}}`, `the message has the keys "method" and "METHOD"`, false},
		{"a Unicode case variant (Kelvin sign)", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"_meta":{"k":1,"\u212a":2}}}`, `params._meta has the keys`, false},
		{"nested in _meta", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"_meta":{"progressToken":1,"progressToken":2}}}`, `params._meta has the key "progressToken" twice`, false},
		{"an argument twice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"a","endpoint_name":"b"}}}`, `arguments has the key "endpoint_name" twice`, true},
		{"an argument twice, to a tool with a handler of its own", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait_for_instance","arguments":{"instance_id":1,"instance_id":2}}}`, `arguments has the key "instance_id" twice`, true},
		{"an argument twice under other spellings mcp-go reads as params.arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","Params":{"name":"create_endpoint","Arguments":{"endpoint_name":"a","endpoint_name":"b"}}}`, `arguments has the key "endpoint_name" twice`, true},
		{"in an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"x":[{"a":1,"a":2}]}}}`, `arguments.x[] has the key "a" twice`, true},
		{"a key spelt with an escape", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"a","endpoint_n\u0061me":"b"}}}`, `arguments has the key "endpoint_name" twice`, true},
		{"braces and quotes inside strings are not structure", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"}\",{\"endpoint_name\":1"}}}`, "", false},
		{"many keys, the repeat far apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":3}}}`, `arguments has the key "k3" twice`, true},
		{"two keys that decode alike (invalid UTF-8 becomes U+FFFD)", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"create_endpoint\",\"arguments\":{\"a\xff\":1,\"a\xfe\":2}}}", "arguments has the key \"a\ufffd\" twice", true},
		// Argument keys are data: an environment may hold PATH and Path.
		{"case variants inside arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_instance","arguments":{"offer_id":1,"image":"i","env":{"PATH":"/a","Path":"/b"}}}}`, "", false},
		{"and under another spelling of arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_instance","ARGUMENTS":{"offer_id":1,"image":"i","env":{"PATH":"/a","Path":"/b"}}}}`, "", false},
	}
	vast, err := gen.New(gen.Config{DryRun: true})
	require.NoError(t, err)
	s := NewServer(vast, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp := s.HandleMessage(ctx, json.RawMessage(tt.message))
			rpcErr, isErr := resp.(mcpgo.JSONRPCError)
			if tt.refused == "" {
				assert.False(t, isErr, "%v", resp)
				return
			}
			if tt.asToolResult {
				require.False(t, isErr, "a JSON-RPC error where the agent needs a tool result: %v", resp)
				result, ok := resp.(mcpgo.JSONRPCResponse).Result.(*mcpgo.CallToolResult)
				require.True(t, ok, "%v", resp)
				assert.True(t, result.IsError)
				assert.Equal(t, OutcomeInvalid, outcome(result))
				assert.Contains(t, result.Content[0].(mcpgo.TextContent).Text, tt.refused)
				return
			}
			require.True(t, isErr, "refused: %v", resp)
			assert.Equal(t, mcpgo.INVALID_REQUEST, rpcErr.Error.Code)
			assert.Equal(t, mcpgo.NewRequestId(1.0), rpcErr.ID, "answered under its id")
			assert.Contains(t, rpcErr.Error.Message, tt.refused)
		})
	}
}
