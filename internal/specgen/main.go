// Command specgen turns the tools declared in overlay.yaml (x-mcp-tool on
// an operation) into mcp/tools.gen.go at generate time: each tool's input
// and output JSON Schemas, its typed arguments (the generated request type
// plus path and query parameters), the call to the generated client, the
// hooks it names, and the sandbox reply from the spec's examples. The
// server parses no YAML and walks no spec at start-up. It also writes the
// effective (overlaid) spec for the linter.
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
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"gopkg.in/yaml.v3"
)

func main() {
	specPath := flag.String("spec", "openapi.yaml", "the vendored spec")
	overlayPath := flag.String("overlay", "overlay.yaml", "corrections applied to it")
	codegenConfig := flag.String("codegen-config", "oapi-codegen.yaml", "the operations the client includes")
	out := flag.String("out", "", "write the tool definitions (Go) here; hooks are looked up beside it")
	effective := flag.String("effective", "", "write the overlaid spec (JSON) here")
	flag.Parse()

	if err := run(*specPath, *overlayPath, *codegenConfig, *out, *effective); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(specPath, overlayPath, codegenConfig, out, effective string) error {
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
	included, err := includedOperations(codegenConfig)
	if err != nil {
		return err
	}
	hooks, err := declaredFuncs(filepath.Dir(out))
	if err != nil {
		return err
	}
	g, err := collect(doc, included, hooks)
	if err != nil {
		return err
	}
	src, err := g.render()
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// generated is everything tools.gen.go holds.
type generated struct {
	tools      []tool
	operations map[string]*operation // by operationId, for the tools' glue
	replies    []sandboxReply
}

// operation is what the glue for one operation needs; several tools may
// share it.
type operation struct {
	ID, GoName         string
	Method, Path       string
	Serverless         bool
	PathParams         []pathParam
	HasQuery, HasBody  bool
	DockerFlagArgument string            // body field that also takes a Docker flag string
	Extra              map[string]string // tool-only argument -> Go type, of every tool on it
}

type pathParam struct{ Name, Argument, Field, GoType string }

// tool is one MCP tool: a declaration on an operation.
type tool struct {
	declaration
	Operation     *operation
	Input, Output string // JSON Schemas
	Sensitive     []string
	FixedJSON     string
}

type sandboxReply struct {
	Method, Path string
	IDFields     []string
	Body         string
}

func collect(doc *openapi3.T, included []string, hooks map[string]bool) (*generated, error) {
	g := &generated{operations: map[string]*operation{}}
	seen := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			raw, declared := op.Extensions["x-mcp-tool"]
			if !slices.Contains(included, op.OperationID) {
				if declared {
					return nil, fmt.Errorf("%s %s declares x-mcp-tool but %s is not in oapi-codegen.yaml's include-operation-ids", method, path, op.OperationID)
				}
				continue
			}
			seen[op.OperationID] = true
			reply, err := sandboxReplyFor(method, path, op)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			if !declared {
				g.replies = append(g.replies, reply)
				continue
			}
			var decls []declaration
			if err := remarshal(raw, &decls); err != nil {
				var one declaration
				if err := remarshal(raw, &one); err != nil {
					return nil, fmt.Errorf("%s %s: x-mcp-tool: %w", method, path, err)
				}
				decls = []declaration{one}
			}
			o, err := operationFrom(method, path, op, decls)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			g.operations[o.ID] = o
			for _, d := range decls {
				if err := d.validate(hooks); err != nil {
					return nil, fmt.Errorf("%s %s: x-mcp-tool %w", method, path, err)
				}
				t, err := toolFrom(d, o, op)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %s: %w", method, path, d.Name, err)
				}
				g.tools = append(g.tools, t)
			}
			reply.IDFields = decls[0].Result.ID
			g.replies = append(g.replies, reply)
		}
	}
	for _, id := range included {
		if !seen[id] {
			return nil, fmt.Errorf("oapi-codegen.yaml includes %s, which the spec does not define", id)
		}
	}
	if len(g.tools) == 0 {
		return nil, fmt.Errorf("no operation declares x-mcp-tool")
	}
	names := map[string]bool{}
	for _, t := range g.tools {
		if names[t.Name] {
			return nil, fmt.Errorf("two tools are named %s", t.Name)
		}
		names[t.Name] = true
	}
	slices.SortFunc(g.tools, func(a, b tool) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(g.replies, func(a, b sandboxReply) int { return strings.Compare(a.Method+a.Path, b.Method+b.Path) })
	return g, nil
}

// operationFrom reads what the call to the generated client needs, and
// refuses what the glue cannot translate.
func operationFrom(method, path string, op *openapi3.Operation, decls []declaration) (*operation, error) {
	o := &operation{ID: op.OperationID, GoName: exported(op.OperationID), Method: method, Path: path}
	if op.Servers != nil && len(*op.Servers) > 0 {
		o.Serverless = true // the serverless host is the only other server the API documents
	}
	rename := map[string]string{}
	for _, d := range decls {
		for name, schema := range d.Extra {
			goType := extraGoTypes[fmt.Sprint(schema["type"])]
			if o.Extra == nil {
				o.Extra = map[string]string{}
			}
			if prev, ok := o.Extra[name]; ok && prev != goType {
				return nil, fmt.Errorf("tools on one operation give extra argument %s two types", name)
			}
			o.Extra[name] = goType
		}
		for param, arg := range d.Arguments {
			if prev, ok := rename[param]; ok && prev != arg {
				return nil, fmt.Errorf("tools on one operation name parameter %s differently (%s, %s)", param, prev, arg)
			}
			rename[param] = arg
		}
	}
	for _, p := range op.Parameters {
		param := p.Value
		switch param.In {
		case openapi3.ParameterInPath:
			if param.Schema == nil || !param.Schema.Value.Type.Is(openapi3.TypeInteger) {
				return nil, fmt.Errorf("path parameter %s: only integer ids are translated", param.Name)
			}
			arg := cmpOr(rename[param.Name], param.Name)
			goType := "int" // oapi-codegen's mapping of an integer by its format
			if f := param.Schema.Value.Format; f == "int64" || f == "int32" {
				goType = f
			}
			o.PathParams = append(o.PathParams, pathParam{Name: param.Name, Argument: arg, Field: exported(arg), GoType: goType})
		case openapi3.ParameterInQuery:
			if _, renamed := rename[param.Name]; renamed {
				return nil, fmt.Errorf("query parameter %s cannot be renamed: it decodes into the generated params type", param.Name)
			}
			o.HasQuery = true
		case openapi3.ParameterInHeader:
			if !strings.EqualFold(param.Name, "Authorization") {
				return nil, fmt.Errorf("header parameter %s is not translated", param.Name)
			}
		default:
			return nil, fmt.Errorf("parameter %s in %s is not translated", param.Name, param.In)
		}
	}
	if op.RequestBody != nil {
		if op.RequestBody.Value.Content.Get("application/json") == nil {
			return nil, fmt.Errorf("only JSON request bodies are translated")
		}
		o.HasBody = true
	}
	if o.HasBody && o.HasQuery {
		return nil, fmt.Errorf("an operation with both a body and query parameters is not translated")
	}
	return o, nil
}

func toolFrom(d declaration, o *operation, op *openapi3.Operation) (tool, error) {
	t := tool{declaration: d, Operation: o}
	input, err := inputSchema(d, o, op)
	if err != nil {
		return t, err
	}
	if len(d.Fixed) > 0 {
		if t.FixedJSON, err = marshal(d.Fixed); err != nil {
			return t, err
		}
	}
	output, sensitive, err := outputSchema(d, op)
	if err != nil {
		return t, err
	}
	t.Sensitive = sensitive
	properties := input["properties"].(map[string]any)
	outProps := output["properties"].(map[string]any)
	for _, field := range d.lineFields() {
		top, _, _ := strings.Cut(field, ".")
		if properties[top] == nil && outProps[top] == nil && !slices.Contains(d.Result.ID, top) {
			return t, fmt.Errorf("result.line names {%s}, neither an argument nor a shown answer field", field)
		}
	}
	for _, id := range d.Result.ID {
		if outProps[id] == nil {
			return t, fmt.Errorf("result.id %s is not a field of the answer shown", id)
		}
	}
	if t.Input, err = marshal(input); err != nil {
		return t, err
	}
	if t.Output, err = marshal(output); err != nil {
		return t, err
	}
	return t, nil
}

// inputSchema is the request body's schema (less the fixed fields) plus
// the path and query parameters, every object closed to unknown names.
func inputSchema(d declaration, o *operation, op *openapi3.Operation) (map[string]any, error) {
	input := map[string]any{"type": "object", "properties": map[string]any{}}
	var body *openapi3.Schema
	if o.HasBody {
		body = op.RequestBody.Value.Content.Get("application/json").Schema.Value
		var err error
		if input, err = convert(body); err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
	}
	closeObjects(input)
	// The tool's description says what the arguments are for; the body's
	// own description would be paid for again in every tools/list.
	delete(input, "description")
	properties := input["properties"].(map[string]any)
	required, _ := input["required"].([]string)
	for name, value := range d.Fixed {
		if properties[name] == nil {
			return nil, fmt.Errorf("fixed argument %s is not a body field", name)
		}
		if schema, _ := properties[name].(map[string]any); !fits(value, schema) {
			return nil, fmt.Errorf("fixed argument %s: %v does not fit its schema (%v)", name, value, schema["type"])
		}
		delete(properties, name)
		required = slices.DeleteFunc(required, func(r string) bool { return r == name })
	}
	for _, p := range op.Parameters {
		param := p.Value
		if param.In != openapi3.ParameterInPath && param.In != openapi3.ParameterInQuery {
			continue
		}
		schema, err := convert(param.Schema.Value)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", param.Name, err)
		}
		if param.Description != "" {
			schema["description"] = strings.TrimSpace(param.Description)
		}
		name := param.Name
		if param.In == openapi3.ParameterInPath {
			name = cmpOr(d.Arguments[param.Name], param.Name)
			if _, ok := schema["minimum"]; !ok {
				schema["minimum"] = 1 // ids are positive
			}
			if _, ok := schema["maximum"]; !ok {
				// JSON numbers are exact to 2^53: a larger id would be read
				// back, and reported, as another one.
				schema["maximum"] = 1<<53 - 1
			}
		}
		if properties[name] != nil {
			return nil, fmt.Errorf("parameter %s collides with a body field", name)
		}
		properties[name] = schema
		if param.Required {
			required = append(required, name)
		}
	}
	if d.Accept != nil {
		for name := range properties {
			if !slices.Contains(*d.Accept, name) && !slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
				return p.Value.In == openapi3.ParameterInPath && cmpOr(d.Arguments[p.Value.Name], p.Value.Name) == name
			}) {
				delete(properties, name)
				required = slices.DeleteFunc(required, func(r string) bool { return r == name })
			}
		}
		for _, name := range *d.Accept {
			if properties[name] == nil {
				return nil, fmt.Errorf("accept names %s, which is neither a body field nor a query parameter", name)
			}
		}
	}
	for name, schema := range d.Extra {
		if properties[name] != nil {
			return nil, fmt.Errorf("extra argument %s collides with an argument of the operation", name)
		}
		properties[name] = schema
	}
	if len(required) > 0 {
		input["required"] = required
	} else {
		delete(input, "required")
	}
	if body == nil {
		return input, nil
	}

	// Rules the docs state only in prose: each group needs one member.
	if raw, ok := body.Extensions["x-required-any-of"]; ok {
		var groups [][]string
		if err := remarshal(raw, &groups); err != nil {
			return nil, fmt.Errorf("x-required-any-of: %w", err)
		}
		var all []any
		for _, group := range groups {
			var anyOf []any
			for _, name := range group {
				if _, ok := properties[name]; !ok {
					return nil, fmt.Errorf("x-required-any-of names unknown property %q", name)
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
			if o.DockerFlagArgument != "" && o.DockerFlagArgument != name {
				return nil, fmt.Errorf("only one argument may take Docker flags")
			}
			o.DockerFlagArgument = name
			properties[name] = acceptDockerFlags(properties[name].(map[string]any))
		}
	}
	return input, nil
}

// outputSchema describes what a successful call shows: the 200 answer's
// schema, narrowed to result.show, without the fields result.hide names,
// and with its constraints dropped (it describes what the API sent; the
// server conforms each answer to it rather than refuse the call).
func outputSchema(d declaration, op *openapi3.Operation) (map[string]any, []string, error) {
	success := op.Responses.Status(200)
	if success == nil || success.Value.Content.Get("application/json") == nil {
		return nil, nil, fmt.Errorf("no JSON 200 response")
	}
	okSchema := success.Value.Content.Get("application/json").Schema.Value
	output, err := convert(okSchema)
	if err != nil {
		return nil, nil, fmt.Errorf("200 response: %w", err)
	}
	if t, _ := output["type"].(string); t != "object" {
		return nil, nil, fmt.Errorf("200 response: an object is required (structuredContent is one)")
	}
	dropConstraints(output)
	dropDescriptions(output, false)
	if len(d.Result.Show) > 0 {
		if output, err = project(output, d.Result.Show); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range d.Result.Hide {
		removeProperty(output, name)
	}
	sensitive := sensitiveNames(okSchema, map[*openapi3.Schema]bool{})
	slices.Sort(sensitive)
	sensitive = slices.Compact(sensitive)
	if err := refuseCredentials(output, sensitive, ""); err != nil {
		return nil, nil, err
	}
	return output, sensitive, nil
}

// credentialLike matches a field name that may hold a credential (gen's
// sanitizer redacts values under such names in text).
var credentialLike = regexp.MustCompile(`(?i)key|token|secret|passw(or)?d|session|credential|signature|^sid$|extra_env`)

// refuseCredentials fails at generate time when a tool would show a field
// that looks like a credential: it must be hidden (result.hide), left out
// of result.show, or marked x-vast-sensitive (shown only with
// --expose-instance-key). A new read tool cannot show one by default.
func refuseCredentials(schema map[string]any, sensitive []string, at string) error {
	props, _ := schema["properties"].(map[string]any)
	for _, name := range sortedKeys(props) {
		path := strings.TrimPrefix(at+"."+name, ".")
		if credentialLike.MatchString(name) && !slices.Contains(sensitive, name) {
			return fmt.Errorf("the answer field %s looks like a credential and would be shown: hide it (result.hide), leave it out of result.show, or mark it x-vast-sensitive", path)
		}
		if child, ok := props[name].(map[string]any); ok {
			if err := refuseCredentials(child, sensitive, path); err != nil {
				return err
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		return refuseCredentials(items, sensitive, at+"[]")
	}
	return nil
}

// sensitiveNames lists the properties marked x-vast-sensitive, at any depth.
func sensitiveNames(s *openapi3.Schema, seen map[*openapi3.Schema]bool) []string {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	var names []string
	for name, p := range s.Properties {
		if p.Value.Extensions["x-vast-sensitive"] == true {
			names = append(names, name)
		}
		names = append(names, sensitiveNames(p.Value, seen)...)
	}
	if s.Items != nil {
		names = append(names, sensitiveNames(s.Items.Value, seen)...)
	}
	return names
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
				"description": `Or vastai CLI Docker flags: "-e HF_TOKEN=hf_x -p 8000:8000".`,
			},
		},
	}
}

func includedOperations(configPath string) ([]string, error) {
	data, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		OutputOptions struct {
			IncludeOperationIDs []string `yaml:"include-operation-ids"`
		} `yaml:"output-options"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	return cfg.OutputOptions.IncludeOperationIDs, nil
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

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// exported turns offer_id or createInstance into OfferID or CreateInstance.
func exported(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		if strings.EqualFold(part, "id") {
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// fits reports whether a fixed value has its field's type and, where the
// field lists them, one of its values: every call would otherwise fail
// with an error the caller cannot fix.
func fits(value any, schema map[string]any) bool {
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, value) {
		return false
	}
	switch schema["type"] {
	case "string":
		_, ok := value.(string)
		return ok
	case "boolean":
		_, ok := value.(bool)
		return ok
	case "integer":
		n, ok := value.(float64)
		return ok && n == float64(int64(n))
	case "number":
		_, ok := value.(float64)
		return ok
	}
	return true
}
