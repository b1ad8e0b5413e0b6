//go:build vastschemas

package main

import (
	"github.com/mark3labs/mcp-go/mcp"

	vastmcp "github.com/vast-mcp/vast-mcp/mcp"
)

func init() {
	vastTools = func() []mcp.Tool {
		var tools []mcp.Tool
		for _, t := range vastmcp.Tools(nil, vastmcp.Options{}) {
			tools = append(tools, t.Tool)
		}
		return tools
	}
}
