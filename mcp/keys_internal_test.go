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
// request where the two readings can differ is refused whole.
func TestAmbiguousKeysAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		message string
		refused string // in the error; "" when accepted
	}{
		{"plain", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"e"}}}`, ""},
		{"arguments then Arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"Arguments":{"endpoint_name":"e"}}}`, `params has the keys "arguments" and "Arguments"`},
		{"name twice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","name":"create_instance","arguments":{}}}`, `params has the key "name" twice`},
		{"method in two spellings", `{"jsonrpc":"2.0","id":1,"method":"ping","METHOD":"tools/call","params":{"name":"create_endpoint"}}`, `the message has the keys "method" and "METHOD"`},
		{"a Unicode case variant (Kelvin sign)", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"_meta":{"k":1,"\u212a":2}}}`, `params._meta has the keys`},
		{"nested in _meta", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{},"_meta":{"progressToken":1,"progressToken":2}}}`, `params._meta has the key "progressToken" twice`},
		{"an argument twice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"a","endpoint_name":"b"}}}`, `params.arguments has the key "endpoint_name" twice`},
		{"in an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"x":[{"a":1,"a":2}]}}}`, `params.arguments.x[] has the key "a" twice`},
		{"a key spelt with an escape", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"a","endpoint_n\u0061me":"b"}}}`, `params.arguments has the key "endpoint_name" twice`},
		{"braces and quotes inside strings are not structure", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"endpoint_name":"}\",{\"endpoint_name\":1"}}}`, ""},
		{"many keys, the repeat far apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_endpoint","arguments":{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k3":3}}}`, `params.arguments has the key "k3" twice`},
		{"two keys that decode alike (invalid UTF-8 becomes U+FFFD)", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"create_endpoint\",\"arguments\":{\"a\xff\":1,\"a\xfe\":2}}}", "params.arguments has the key \"a\ufffd\" twice"},
		// Argument keys are data: an environment may hold PATH and Path.
		{"case variants inside arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_instance","arguments":{"offer_id":1,"image":"i","env":{"PATH":"/a","Path":"/b"}}}}`, ""},
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
			require.True(t, isErr, "refused: %v", resp)
			assert.Equal(t, mcpgo.INVALID_REQUEST, rpcErr.Error.Code)
			assert.Equal(t, mcpgo.NewRequestId(1.0), rpcErr.ID, "answered under its id")
			assert.Contains(t, rpcErr.Error.Message, tt.refused)
		})
	}
}
