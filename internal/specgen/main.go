// Command specgen derives the MCP tools' JSON Schemas from openapi.yaml with
// overlay.yaml applied, at generate time, so the server does no YAML parsing
// or spec walking at start-up. It also writes the effective (overlaid) spec
// for the linter.
//
//	go run ./internal/specgen -spec openapi.yaml -overlay overlay.yaml -out mcp/tools.gen.go
//	go run ./internal/specgen -spec openapi.yaml -overlay overlay.yaml -effective /tmp/openapi.json
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
)

func main() {
	specPath := flag.String("spec", "openapi.yaml", "the vendored spec")
	overlayPath := flag.String("overlay", "overlay.yaml", "corrections applied to it")
	out := flag.String("out", "", "write the tool definitions (Go) here")
	effective := flag.String("effective", "", "write the overlaid spec (JSON) here")
	flag.Parse()

	if err := run(*specPath, *overlayPath, *out, *effective); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(specPath, overlayPath, out, effective string) error {
	if err := checkProvenance(specPath); err != nil {
		return err
	}
	// The same loader oapi-codegen uses, so client and tools see one spec.
	doc, err := util.LoadSwaggerWithOverlay(specPath, util.LoadSwaggerWithOverlayOpts{Path: overlayPath, Strict: true})
	if err != nil {
		return err
	}
	if effective != "" {
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(effective, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if out == "" {
		return nil
	}
	tools, err := toolsFrom(doc)
	if err != nil {
		return err
	}
	src, err := render(tools)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// tool is one MCP tool derived from an operation carrying x-mcp-tool.
type tool struct {
	Name, Title, Description string
	OperationID              string
	Method, Path             string
	Input, Output            string // JSON Schemas
	PathArgument             string // tool argument holding the path parameter, if any
	DockerFlagArguments      []string
	SensitiveOutputs         []string
}

func toolsFrom(doc *openapi3.T) ([]tool, error) {
	var tools []tool
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			raw, ok := op.Extensions["x-mcp-tool"]
			if !ok {
				continue
			}
			t, err := toolFrom(op, raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			t.Method, t.Path = method, path
			tools = append(tools, t)
		}
	}
	if len(tools) == 0 {
		return nil, fmt.Errorf("no operation carries x-mcp-tool")
	}
	slices.SortFunc(tools, func(a, b tool) int { return strings.Compare(a.Name, b.Name) })
	return tools, nil
}

func toolFrom(op *openapi3.Operation, raw any) (tool, error) {
	var meta struct{ Name, Title, Description string }
	if err := remarshal(raw, &meta); err != nil || meta.Name == "" || meta.Description == "" {
		return tool{}, fmt.Errorf("x-mcp-tool needs name and description (%v)", err)
	}
	t := tool{Name: meta.Name, Title: meta.Title, Description: meta.Description, OperationID: op.OperationID}

	body := op.RequestBody.Value.Content.Get("application/json").Schema.Value
	input, err := convert(body)
	if err != nil {
		return tool{}, fmt.Errorf("request body: %w", err)
	}
	closeObjects(input)
	properties := input["properties"].(map[string]any)
	required, _ := input["required"].([]string)

	for _, p := range op.Parameters {
		param := p.Value
		if param.In != openapi3.ParameterInPath {
			return tool{}, fmt.Errorf("parameter %q in %s: only path parameters are supported", param.Name, param.In)
		}
		name := param.Name
		if alias, ok := param.Extensions["x-mcp-argument"].(string); ok {
			name = alias
		}
		schema, err := convert(param.Schema.Value)
		if err != nil {
			return tool{}, fmt.Errorf("parameter %q: %w", param.Name, err)
		}
		if param.Description != "" {
			schema["description"] = strings.TrimSpace(param.Description)
		}
		properties[name] = schema
		required = append(required, name)
		t.PathArgument = name
	}
	if len(required) > 0 {
		input["required"] = required
	}

	// Rules the docs state only in prose: each group needs one member.
	if raw, ok := body.Extensions["x-required-any-of"]; ok {
		var groups [][]string
		if err := remarshal(raw, &groups); err != nil {
			return tool{}, fmt.Errorf("x-required-any-of: %w", err)
		}
		var all []any
		for _, group := range groups {
			var anyOf []any
			for _, name := range group {
				if _, ok := properties[name]; !ok {
					return tool{}, fmt.Errorf("x-required-any-of names unknown property %q", name)
				}
				anyOf = append(anyOf, map[string]any{"required": []string{name}})
			}
			all = append(all, map[string]any{"anyOf": anyOf})
		}
		input["allOf"] = all
	}

	for name, prop := range body.Properties {
		if prop.Value.Deprecated {
			// Fields the service ignores are not offered to agents.
			delete(properties, name)
		}
		if prop.Value.Extensions["x-mcp-accepts-docker-flags"] == true {
			t.DockerFlagArguments = append(t.DockerFlagArguments, name)
			properties[name] = acceptDockerFlags(properties[name].(map[string]any))
		}
	}
	slices.Sort(t.DockerFlagArguments)

	success := op.Responses.Status(200)
	if success == nil {
		return tool{}, fmt.Errorf("no 200 response")
	}
	okSchema := success.Value.Content.Get("application/json").Schema.Value
	output, err := convert(okSchema)
	if err != nil {
		return tool{}, fmt.Errorf("200 response: %w", err)
	}
	output["properties"].(map[string]any)["dry_run"] = dryRunSchema
	for name, prop := range okSchema.Properties {
		if prop.Value.Extensions["x-vast-sensitive"] == true {
			t.SensitiveOutputs = append(t.SensitiveOutputs, name)
		}
	}
	slices.Sort(t.SensitiveOutputs)

	if t.Input, err = marshal(input); err != nil {
		return tool{}, err
	}
	if t.Output, err = marshal(output); err != nil {
		return tool{}, err
	}
	return t, nil
}

// dryRunSchema is the part of every tool's output that only vast-mcp
// --dry-run fills: the request that would have been sent. Clients that
// check structuredContent against outputSchema then accept a dry run too.
var dryRunSchema = map[string]any{
	"type":        "object",
	"description": "Only with vast-mcp --dry-run: the exact request that would have been sent, key redacted. Nothing was created.",
	"properties": map[string]any{
		"method":  map[string]any{"type": "string"},
		"url":     map[string]any{"type": "string"},
		"headers": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}},
		"body":    map[string]any{"description": "The JSON body."},
	},
	"required": []string{"method", "url", "headers"},
}

// closeObjects refuses unknown fields in every object that lists its
// properties, so a misspelt argument is an error rather than silently
// ignored. Maps (objects with only additionalProperties) stay open.
func closeObjects(schema map[string]any) {
	properties, ok := schema["properties"].(map[string]any)
	if !ok {
		return
	}
	if _, set := schema["additionalProperties"]; !set {
		schema["additionalProperties"] = false
	}
	for _, p := range properties {
		if child, ok := p.(map[string]any); ok {
			closeObjects(child)
		}
	}
}

// acceptDockerFlags lets a property also take the vastai CLI's flag string,
// which the server converts to the object the API wants.
func acceptDockerFlags(object map[string]any) map[string]any {
	description := object["description"]
	delete(object, "description")
	delete(object, "examples")
	return map[string]any{
		"description": description,
		"anyOf": []any{
			object,
			map[string]any{
				"type":        "string",
				"description": `The same as Docker flags, as the vastai CLI takes them: "-e HF_TOKEN=hf_xxx -e MODEL=llama -p 8000:8000".`,
			},
		},
	}
}

func marshal(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

func remarshal(in, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// checkProvenance refuses a spec whose bytes are not the ones its
// provenance file records: openapi.yaml is Vast's document as published,
// and every correction belongs in the overlay (`make vendor` rewrites both).
func checkProvenance(specPath string) error {
	data, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	recordPath := filepath.Join(filepath.Dir(specPath), "openapi.provenance.json")
	raw, err := os.ReadFile(recordPath)
	if err != nil {
		return err
	}
	var record struct {
		SHA256 string `json:"sha256"`
		Size   int    `json:"size"`
	}
	if err := json.Unmarshal(raw, &record); err != nil {
		return fmt.Errorf("%s: %w", recordPath, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != record.SHA256 || len(data) != record.Size {
		return fmt.Errorf("%s is not the document %s records (sha256 %s, %d bytes; recorded %s, %d bytes): "+
			"put corrections in overlay.yaml, and take a new document in with `make vendor SPEC=file`",
			specPath, recordPath, got, len(data), record.SHA256, record.Size)
	}
	return nil
}
