package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// callTool runs one tool through an in-process MCP client, so a shell user
// gets the same validation and client path an agent does. The result's text
// goes to stdout (stderr on error), its structured content after it as JSON.
func callTool(ctx context.Context, cfg *config, logger *slog.Logger, args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || len(args) > 2 {
		fmt.Fprintln(stderr, `usage: vast-mcp call TOOL '{"argument": "value"}'`)
		return 2
	}
	arguments := json.RawMessage(`{}`)
	if len(args) == 2 {
		arguments = json.RawMessage(args[1])
		if !json.Valid(arguments) {
			fmt.Fprintf(stderr, "vast-mcp call: the arguments are not valid JSON: %s\n", args[1])
			return 2
		}
	}
	s, err := newServer(cfg, logger)
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp call:", err)
		return 2
	}
	c, err := connectInProcess(ctx, s)
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp call:", err)
		return 1
	}
	defer c.Close()

	result, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: args[0], Arguments: arguments}})
	if err != nil {
		fmt.Fprintln(stderr, "vast-mcp call:", err)
		return 1
	}
	out := stdout
	if result.IsError {
		out = stderr
	}
	for _, content := range result.Content {
		if text, ok := content.(mcpgo.TextContent); ok {
			fmt.Fprintln(out, text.Text)
		}
	}
	if result.StructuredContent != nil {
		data, _ := json.MarshalIndent(result.StructuredContent, "", "  ")
		fmt.Fprintln(out, string(data))
	}
	if result.IsError {
		return 1
	}
	return 0
}

func connectInProcess(ctx context.Context, s *server.MCPServer) (*client.Client, error) {
	return inprocess.Connect(ctx, s, inprocess.Options{})
}
