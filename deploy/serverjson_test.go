package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/registry/pkg/model"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imageRepository is where the image is published; server.json and the
// Deployment name it with the version as tag.
const imageRepository = "ghcr.io/vast-mcp/vast-mcp"

// registrySchema compiles the server.json schema the MCP registry itself
// validates with. It comes from the registry's Go module (a package
// registry, pinned in go.mod), not from a copy or the network: the
// registry embeds one file per schema version in internal/validators.
func registrySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/modelcontextprotocol/registry").Output()
	require.NoError(t, err, "go list -m github.com/modelcontextprotocol/registry")
	file := filepath.Join(strings.TrimSpace(string(out)), "internal", "validators", "schemas", model.CurrentSchemaVersion+".json")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource(model.CurrentSchemaURL, doc))
	schema, err := c.Compile(model.CurrentSchemaURL)
	require.NoError(t, err)
	return schema
}

func serverJSON(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../server.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	return doc.(map[string]any)
}

func TestServerJSONIsValidForTheRegistry(t *testing.T) {
	schema := registrySchema(t)
	manifest := serverJSON(t)
	assert.Equal(t, model.CurrentSchemaURL, manifest["$schema"], "server.json names the schema the registry currently takes")
	require.NoError(t, schema.Validate(manifest))

	assert.Equal(t, version(t), manifest["version"])
	packages := manifest["packages"].([]any)
	require.Len(t, packages, 1)
	image := packages[0].(map[string]any)
	assert.Equal(t, model.RegistryTypeOCI, image["registryType"])
	assert.Equal(t, imageRepository+":"+version(t), image["identifier"])
}

// The validation above must be able to fail: each broken copy is refused.
func TestTheRegistrySchemaRefusesABrokenManifest(t *testing.T) {
	schema := registrySchema(t)
	tests := []struct {
		name  string
		spoil func(m map[string]any)
	}{
		{"no version", func(m map[string]any) { delete(m, "version") }},
		{"a name without a namespace", func(m map[string]any) { m["name"] = "vast-mcp" }},
		{"a description over 100 characters", func(m map[string]any) { m["description"] = strings.Repeat("x", 101) }},
		{"a package without a transport", func(m map[string]any) {
			delete(m["packages"].([]any)[0].(map[string]any), "transport")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := serverJSON(t)
			tt.spoil(m)
			assert.Error(t, schema.Validate(m))
		})
	}
}

// The registry checks that the image carries its server name as a label.
func TestImageLabelNamesTheServer(t *testing.T) {
	var manifest struct{ Name string }
	raw, err := os.ReadFile("../server.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &manifest))
	assert.Equal(t, manifest.Name, dockerfile(t).labels["io.modelcontextprotocol.server.name"])
}
