// Package inprocess connects an MCP client to a server in the same
// process: the `vast-mcp call` and `demo` commands use it, and so does
// every test that talks to the server, so all of them initialize alike.
package inprocess

import (
	"cmp"
	"context"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Options shape the client. The zero value speaks the newest protocol
// revision and cannot ask its user anything.
type Options struct {
	// Protocol is the revision the client asks for; "" means the newest.
	Protocol string
	// Elicitation, when set, answers the server's questions to the user,
	// and the client declares that it can.
	Elicitation client.ElicitationHandler
}

// Connect starts an in-process client of s and initializes it.
func Connect(ctx context.Context, s *server.MCPServer, o Options) (*client.Client, error) {
	var opts []client.ClientOption
	if o.Elicitation != nil {
		opts = append(opts, client.WithElicitationHandler(o.Elicitation))
	}
	c, err := client.NewInProcessClientWithOptions(s, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := InitializeRequest()
	init.Params.ProtocolVersion = cmp.Or(o.Protocol, init.Params.ProtocolVersion)
	if o.Elicitation != nil {
		init.Params.Capabilities.Elicitation = &mcpgo.ElicitationCapability{}
	}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// InitializeRequest is the initialize request vast-mcp's own clients send.
func InitializeRequest() mcpgo.InitializeRequest {
	var req mcpgo.InitializeRequest
	req.Params.ProtocolVersion = mcpgo.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcpgo.Implementation{Name: "vast-mcp", Version: "in-process"}
	return req
}
