package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/santhosh-tekuri/jsonschema/v6"
	schemakind "github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// mcp-go validates every call against the input schema (WithInputSchemaValidation)
// and refuses a bad one before any handler runs. Its message, though, prints
// the validator's internals ("/price: &{Got:500/1 Want:128/1}"). This file
// rewrites such a refusal into words an agent can act on ("price: must be at
// most 128, got 500"). It runs only on the failure path; mcp-go's decision
// stands unchanged.

const mcpGoValidationPrefix = "input schema validation failed"

// compiledInput is a tool's input schema, compiled on first need.
type compiledInput struct {
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

var compiledInputs sync.Map // tool name -> *compiledInput

func compileInputSchema(spec *toolSpec) (*jsonschema.Schema, error) {
	entry, _ := compiledInputs.LoadOrStore(spec.Name, &compiledInput{})
	c := entry.(*compiledInput)
	c.once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(spec.InputSchema))
		if err != nil {
			c.err = err
			return
		}
		url := "mem:///" + spec.Name + "/input.json"
		compiler := jsonschema.NewCompiler()
		if c.err = compiler.AddResource(url, doc); c.err != nil {
			return
		}
		c.schema, c.err = compiler.Compile(url)
	})
	return c.schema, c.err
}

// explainValidationFailures is an after-call hook that replaces mcp-go's
// validation message with explainArguments' wording.
func explainValidationFailures(specs map[string]*toolSpec) server.OnAfterCallToolFunc {
	return func(_ context.Context, _ any, req *mcpgo.CallToolRequest, result any) {
		r, ok := result.(*mcpgo.CallToolResult)
		if !ok || !r.IsError || len(r.Content) != 1 {
			return
		}
		text, ok := r.Content[0].(mcpgo.TextContent)
		spec := specs[req.Params.Name]
		if !ok || spec == nil || !strings.HasPrefix(text.Text, mcpGoValidationPrefix) {
			return
		}
		if problems := explainArguments(spec, req.GetRawArguments()); len(problems) > 0 {
			text.Text = fmt.Sprintf("Invalid arguments for %s: %s. Nothing was sent; fix the arguments and call again.",
				spec.Name, strings.Join(problems, "; "))
			r.Content[0] = text
		}
	}
}

// explainArguments validates args against the tool's input schema and
// describes each problem as "argument: what is wrong".
func explainArguments(spec *toolSpec, args any) []string {
	schema, err := compileInputSchema(spec)
	if err != nil {
		return nil
	}
	data, err := json.Marshal(args)
	if raw, ok := args.(json.RawMessage); ok {
		data, err = raw, nil
	}
	if err != nil {
		return nil
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []string{"the arguments are not valid JSON"}
	}
	verr, ok := schema.Validate(value).(*jsonschema.ValidationError)
	if !ok {
		return nil
	}
	problems := describeValidation(verr, spec)
	return slices.Compact(problems)
}

var printer = message.NewPrinter(language.English)

func describeValidation(v *jsonschema.ValidationError, spec *toolSpec) []string {
	at := func(name ...string) string {
		path := strings.Join(append(slices.Clone(v.InstanceLocation), name...), ".")
		if path == "" {
			return "arguments"
		}
		return path
	}
	switch k := v.ErrorKind.(type) {
	case *schemakind.AnyOf, *schemakind.OneOf:
		if names, ok := allRequired(v.Causes); ok {
			return []string{fmt.Sprintf("%s: give one of %s", at(), strings.Join(names, " or "))}
		}
		if wants, got, ok := allTypes(v.Causes); ok {
			return []string{fmt.Sprintf("%s: must be %s, got %s", at(), strings.Join(wants, " or "), got)}
		}
	case *schemakind.Required:
		var out []string
		for _, name := range k.Missing {
			out = append(out, at(name)+": required")
		}
		return out
	case *schemakind.AdditionalProperties:
		var out []string
		for _, name := range k.Properties {
			if len(v.InstanceLocation) == 0 {
				out = append(out, fmt.Sprintf("%s: unknown argument (%s takes %s)", name, spec.Name, strings.Join(argumentNames(spec), ", ")))
			} else {
				out = append(out, at(name)+": unknown field")
			}
		}
		return out
	case *schemakind.Type:
		return []string{fmt.Sprintf("%s: must be %s, got %s", at(), strings.Join(k.Want, " or "), k.Got)}
	case *schemakind.Enum:
		return []string{fmt.Sprintf("%s: must be one of %s, got %s", at(), joinJSON(k.Want), jsonText(k.Got))}
	case *schemakind.Minimum:
		return []string{fmt.Sprintf("%s: must be at least %s, got %s", at(), ratText(k.Want), ratText(k.Got))}
	case *schemakind.Maximum:
		return []string{fmt.Sprintf("%s: must be at most %s, got %s", at(), ratText(k.Want), ratText(k.Got))}
	case *schemakind.MinLength:
		if k.Got == 0 {
			return []string{at() + ": must not be empty"}
		}
		return []string{fmt.Sprintf("%s: must be at least %d characters, got %d", at(), k.Want, k.Got)}
	case *schemakind.MaxLength:
		return []string{fmt.Sprintf("%s: must be at most %d characters, got %d", at(), k.Want, k.Got)}
	}
	if len(v.Causes) == 0 {
		return []string{at() + ": " + v.ErrorKind.LocalizedString(printer)}
	}
	var out []string
	for _, cause := range v.Causes {
		out = append(out, describeValidation(cause, spec)...)
	}
	return out
}

// allRequired recognises the anyOf groups of x-required-any-of.
func allRequired(causes []*jsonschema.ValidationError) ([]string, bool) {
	var names []string
	for _, c := range causes {
		r, ok := c.ErrorKind.(*schemakind.Required)
		if !ok {
			return nil, false
		}
		names = append(names, r.Missing...)
	}
	return names, len(names) > 0
}

// allTypes recognises an argument that may take several types (env).
func allTypes(causes []*jsonschema.ValidationError) (wants []string, got string, ok bool) {
	for _, c := range causes {
		t, ok := c.ErrorKind.(*schemakind.Type)
		if !ok {
			return nil, "", false
		}
		wants, got = append(wants, t.Want...), t.Got
	}
	return wants, got, len(wants) > 0
}

func argumentNames(spec *toolSpec) []string {
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal([]byte(spec.InputSchema), &schema)
	names := make([]string, 0, len(schema.Properties))
	for name := range schema.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return FormatNumber(f)
}

func jsonText(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func joinJSON(values []any) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = jsonText(v)
	}
	return strings.Join(parts, ", ")
}
