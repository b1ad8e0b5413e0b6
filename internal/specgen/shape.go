package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// constraints are dropped from output schemas: they say what the API
// accepts, not what it promises to send.
var constraints = []string{"minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
	"enum", "required", "default", "format", "deprecated"}

func dropConstraints(schema map[string]any) {
	for _, k := range constraints {
		delete(schema, k)
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		for _, p := range props {
			if child, ok := p.(map[string]any); ok {
				dropConstraints(child)
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		dropConstraints(items)
	}
	if ap, ok := schema["additionalProperties"].(map[string]any); ok {
		dropConstraints(ap)
	}
}

// dropDescriptions removes the descriptions of an output schema's members:
// an agent reads what a field means in the tool's description and in the
// result's line, and each is paid for in every tools/list.
func dropDescriptions(schema map[string]any, top bool) {
	if !top {
		delete(schema, "description")
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		for _, p := range props {
			if child, ok := p.(map[string]any); ok {
				dropDescriptions(child, false)
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		dropDescriptions(items, false)
	}
	if ap, ok := schema["additionalProperties"].(map[string]any); ok {
		dropDescriptions(ap, false)
	}
}

// project keeps only the fields paths name: "success", "offers[].gpu_name".
func project(schema map[string]any, paths []string) (map[string]any, error) {
	out := shallow(schema)
	out["properties"] = map[string]any{}
	for _, path := range paths {
		if err := keepPath(schema, out, strings.Split(path, "."), path); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func keepPath(from, into map[string]any, segments []string, full string) error {
	name, each := strings.CutSuffix(segments[0], "[]")
	props, _ := from["properties"].(map[string]any)
	prop, ok := props[name].(map[string]any)
	if !ok {
		if ap, open := from["additionalProperties"]; open && ap != false && len(segments) == 1 && !each {
			// An open object (an offer's ~100 fields): declare the field
			// without a type; conforming keeps whatever the API sent.
			into["properties"].(map[string]any)[name] = map[string]any{}
			return nil
		}
		return fmt.Errorf("result.show %s: no field %s", full, name)
	}
	intoProps := into["properties"].(map[string]any)
	if len(segments) == 1 && !each {
		intoProps[name] = prop
		return nil
	}
	target := prop
	existing, _ := intoProps[name].(map[string]any)
	if existing == nil {
		existing = shallow(prop)
		intoProps[name] = existing
	}
	holder := existing
	if each {
		items, ok := prop["items"].(map[string]any)
		if !ok {
			return fmt.Errorf("result.show %s: %s is not a list", full, name)
		}
		target = items
		holderItems, _ := existing["items"].(map[string]any)
		if holderItems == nil {
			holderItems = shallow(items)
			holderItems["properties"] = map[string]any{}
			existing["items"] = holderItems
		}
		holder = holderItems
	} else if holder["properties"] == nil || sameProps(holder, prop) {
		holder["properties"] = map[string]any{}
	}
	if len(segments) == 1 {
		holder["properties"] = target["properties"]
		return nil
	}
	return keepPath(target, holder, segments[1:], full)
}

func sameProps(a, b map[string]any) bool {
	pa, _ := a["properties"].(map[string]any)
	pb, _ := b["properties"].(map[string]any)
	return len(pa) > 0 && len(pa) == len(pb)
}

// shallow copies a schema's keywords except its members.
func shallow(schema map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range schema {
		if k != "properties" && k != "items" {
			out[k] = v
		}
	}
	return out
}

// removeProperty deletes a field name wherever it occurs.
func removeProperty(schema map[string]any, name string) {
	if props, ok := schema["properties"].(map[string]any); ok {
		delete(props, name)
		for _, p := range props {
			if child, ok := p.(map[string]any); ok {
				removeProperty(child, name)
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		removeProperty(items, name)
	}
}

// sandboxReplyFor is an operation's documented success, as the sandbox
// answers it: the 200 example, else one built from the schema's examples.
func sandboxReplyFor(method, path string, op *openapi3.Operation) (sandboxReply, error) {
	reply := sandboxReply{Method: method, Path: path}
	success := op.Responses.Status(200)
	if success == nil {
		return reply, fmt.Errorf("no 200 response to answer in the sandbox")
	}
	media := success.Value.Content.Get("application/json")
	if media == nil {
		return reply, fmt.Errorf("no JSON 200 response to answer in the sandbox")
	}
	var example any
	switch {
	case media.Example != nil:
		example = media.Example
	case len(media.Examples) > 0:
		for _, name := range sortedKeys(media.Examples) {
			example = media.Examples[name].Value.Value
			break
		}
	default:
		example = exampleOf(media.Schema.Value, 0)
	}
	body, err := marshal(example)
	if err != nil {
		return reply, err
	}
	reply.Body = body
	return reply, nil
}

// exampleOf builds a value from a schema's own examples.
func exampleOf(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if s.Example != nil {
		return s.Example
	}
	switch {
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		out := map[string]any{}
		for _, name := range sortedKeys(s.Properties) {
			if v := exampleOf(s.Properties[name].Value, depth+1); v != nil {
				out[name] = v
			}
		}
		return out
	case s.Type.Is(openapi3.TypeArray) && s.Items != nil:
		if item := exampleOf(s.Items.Value, depth+1); item != nil {
			return []any{item}
		}
		return []any{}
	}
	return nil
}

// declaredFuncs lists the top-level functions of the hand-written Go in
// dir, so that a hook the overlay names is checked at generate time.
func declaredFuncs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	funcs := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".gen.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range file.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil {
				funcs[fn.Name.Name] = true
			}
		}
	}
	return funcs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
