package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

var update = flag.Bool("update", false, "rewrite the tool schema snapshots in testdata/tools")

// TestToolSnapshots compares each tool's full definition, as tools/list
// serves it, with testdata/tools/<name>.json, so any schema change is a
// reviewed diff. `go test ./mcp -run TestToolSnapshots -update` rewrites them.
func TestToolSnapshots(t *testing.T) {
	tools := mcp.Tools(nil, mcp.Options{})
	require.Len(t, tools, len(mcp.ToolNames()))
	for _, tool := range tools {
		t.Run(tool.Tool.Name, func(t *testing.T) {
			data, err := json.Marshal(tool.Tool)
			require.NoError(t, err)
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, data, "", "  "))
			pretty.WriteByte('\n')

			path := filepath.Join("..", "testdata", "tools", tool.Tool.Name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
			}
			snapshot, err := os.ReadFile(path)
			require.NoError(t, err, "no snapshot; run: go test ./mcp -run TestToolSnapshots -update")
			assert.Equal(t, string(snapshot), pretty.String(), "tool definition changed; review and run with -update")
		})
	}
}

// Clients validate with these schemas too, and a JSON Schema validator is
// what the schema walk is held to, so every schema must compile in one.
func TestEveryToolSchemaCompiles(t *testing.T) {
	for _, tool := range mcp.Tools(nil, mcp.Options{}) {
		for kind, schema := range map[string]json.RawMessage{"input": tool.Tool.RawInputSchema, "output": tool.Tool.RawOutputSchema} {
			t.Run(tool.Tool.Name+"/"+kind, func(t *testing.T) {
				doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
				require.NoError(t, err)
				compiler := jsonschema.NewCompiler()
				require.NoError(t, compiler.AddResource("mem:///schema.json", doc))
				_, err = compiler.Compile("mem:///schema.json")
				require.NoError(t, err)

				var root map[string]any
				require.NoError(t, json.Unmarshal(schema, &root))
				assert.Equal(t, "object", root["type"], "MCP requires an object schema")
				if kind == "input" {
					assert.Equal(t, false, root["additionalProperties"])
				}
			})
		}
	}
}

func TestToolsAreAnnotatedTruthfully(t *testing.T) {
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: "http://127.0.0.1:1"}, mcp.Options{})
	list, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		a := tool.Annotations
		assert.NotEmpty(t, tool.Title)
		assert.Empty(t, a.Title, "the title is said once, by the tool itself")
		require.NotNil(t, a.ReadOnlyHint)
		require.NotNil(t, a.DestructiveHint)
		require.NotNil(t, a.IdempotentHint)
		switch name := tool.Name; {
		case strings.HasPrefix(name, "create_"):
			assert.False(t, *a.ReadOnlyHint, "creates things")
			assert.False(t, *a.DestructiveHint, "only adds")
			assert.False(t, *a.IdempotentHint, "a second call creates a second resource")
		case strings.HasPrefix(name, "destroy_"), strings.HasPrefix(name, "delete_"):
			assert.False(t, *a.ReadOnlyHint, name)
			assert.True(t, *a.DestructiveHint, "%s removes for good", name)
			assert.True(t, *a.IdempotentHint, "%s again changes nothing more", name)
		case strings.HasPrefix(name, "stop_"), strings.HasPrefix(name, "start_"):
			assert.False(t, *a.ReadOnlyHint, name)
			assert.False(t, *a.DestructiveHint, "%s can be undone", name)
			assert.True(t, *a.IdempotentHint, name)
		default:
			assert.True(t, *a.ReadOnlyHint, "%s reads", name)
		}
		require.NotNil(t, a.OpenWorldHint)
		assert.True(t, *a.OpenWorldHint)
		assert.NotEmpty(t, tool.OutputSchema.Properties, "an output schema is declared")
	}
	assert.ElementsMatch(t, mcp.ToolNames(), names)
}

func TestSchemasComeFromTheSpec(t *testing.T) {
	byName := map[string]map[string]any{}
	for _, tool := range mcp.Tools(nil, mcp.Options{}) {
		var schema map[string]any
		require.NoError(t, json.Unmarshal(tool.Tool.RawInputSchema, &schema))
		byName[tool.Tool.Name] = schema["properties"].(map[string]any)
	}
	instance := byName["create_instance"]
	// Limits the overlay adds to the seeds (API-NOTES.md).
	assert.Equal(t, 1024.0, instance["image"].(map[string]any)["maxLength"])
	assert.Equal(t, 256.0, instance["label"].(map[string]any)["maxLength"])
	assert.Equal(t, 8.0, instance["disk"].(map[string]any)["minimum"])
	assert.Equal(t, 0.001, instance["price"].(map[string]any)["minimum"])
	assert.Equal(t, 128.0, instance["price"].(map[string]any)["maximum"])
	assert.Contains(t, instance["volume_info"].(map[string]any)["properties"], "name")
	assert.Contains(t, instance, "offer_id")
	// The extra endpoint fields the service accepts.
	for _, name := range []string{"max_queue_time", "target_queue_time", "inactivity_timeout", "min_cold_load"} {
		assert.Contains(t, byName["create_endpoint"], name)
	}
	// Every workergroup field Vast documents is offered, disputed or not
	// (API-NOTES.md), so an agent following Vast's docs is not refused.
	for _, name := range []string{"min_load", "target_util", "cold_mult", "cold_workers", "max_workers", "test_workers", "gpu_ram"} {
		assert.Contains(t, byName["create_workergroup"], name)
	}
	// The seeds' client-side defaults are not advertised.
	for tool, props := range byName {
		for name, p := range props {
			assert.NotContains(t, p, "default", "%s.%s advertises a default", tool, name)
		}
	}
	// Descriptions tell an agent the unit or an example.
	for _, name := range []string{"disk", "price", "gpu_ram"} {
		props := instance
		if name == "gpu_ram" {
			props = byName["create_workergroup"]
		}
		d := props[name].(map[string]any)["description"].(string)
		assert.True(t, strings.Contains(d, "GB") || strings.Contains(d, "$/hour"), "%s: %s", name, d)
		assert.Contains(t, d, "Example")
	}
}

// Every argument of every tool is described: trimming for the tools/list
// budget (BENCHMARKS.md) must not leave an agent guessing.
func TestEveryArgumentIsDescribed(t *testing.T) {
	for _, tool := range mcp.Tools(nil, mcp.Options{}) {
		var schema struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(tool.Tool.RawInputSchema, &schema))
		for name, p := range schema.Properties {
			assert.NotEmpty(t, strings.TrimSpace(p.Description), "%s.%s has no description", tool.Tool.Name, name)
		}
		assert.NotEmpty(t, tool.Tool.Description, tool.Tool.Name)
	}
}

// assertMatchesOutputSchema checks a result's structuredContent against the
// tool's outputSchema, the contract the server does not re-check per call.
func assertMatchesOutputSchema(t *testing.T, tool string, res *mcpgo.CallToolResult) {
	t.Helper()
	var schema json.RawMessage
	for _, candidate := range mcp.Tools(nil, mcp.Options{}) {
		if candidate.Tool.Name == tool {
			schema = candidate.Tool.RawOutputSchema
		}
	}
	require.NotNil(t, schema, tool)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	require.NoError(t, err)
	compiler := jsonschema.NewCompiler()
	require.NoError(t, compiler.AddResource("mem:///output.json", doc))
	compiled, err := compiler.Compile("mem:///output.json")
	require.NoError(t, err)
	data, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	assert.NoError(t, compiled.Validate(value), "structuredContent %s", data)
}
