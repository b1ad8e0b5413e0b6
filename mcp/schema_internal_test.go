package mcp

import (
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileInputSchema compiles a tool's input schema with a general JSON
// Schema validator, for tests that check the server against one.
func compileInputSchema(spec *toolSpec) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(spec.InputSchema))
	if err != nil {
		return nil, err
	}
	url := "mem:///" + spec.Name + "/input.json"
	compiler := jsonschema.NewCompiler()
	if err := compiler.AddResource(url, doc); err != nil {
		return nil, err
	}
	return compiler.Compile(url)
}
