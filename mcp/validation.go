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
	"unicode/utf8"

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
// validation message with explainArguments' wording. mcp-go's message lists
// every violation and grows with the input, so it is never passed on whole.
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
		} else {
			text.Text = bound(text.Text, maxProblemText*maxProblems)
		}
		r.Content[0] = text
		withOutcome(r, OutcomeInvalid, Options{})
	}
}

// Bounds on a refusal, whatever the size of the arguments: the first
// maxProblems problems, each at most maxProblemText bytes, then a count of
// the rest.
const (
	maxProblems    = 10
	maxProblemText = 300
	maxShownValue  = 64 // a name or value of the caller's, repeated
)

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
	p := &problems{spec: spec, seen: map[string]bool{}}
	p.describe(verr)
	return p.list()
}

// problems collects the first maxProblems distinct problems and counts the
// rest without describing them, so the work per problem past the bound is
// constant.
type problems struct {
	spec         *toolSpec
	shown        []string
	seen         map[string]bool
	more         int
	unknownNames bool // some problem is an unknown argument
}

func (p *problems) full() bool { return len(p.shown) >= maxProblems }

func (p *problems) add(problem string) {
	problem = bound(problem, maxProblemText)
	if p.seen[problem] {
		return
	}
	p.seen[problem] = true
	p.shown = append(p.shown, problem)
}

func (p *problems) list() []string {
	out := p.shown
	if p.more > 0 {
		out = append(out, fmt.Sprintf("and %d more problem(s) not listed", p.more))
	}
	if p.unknownNames {
		out = append(out, fmt.Sprintf("%s takes %s", p.spec.Name, strings.Join(argumentNames(p.spec), ", ")))
	}
	return out
}

var printer = message.NewPrinter(language.English)

func (p *problems) describe(v *jsonschema.ValidationError) {
	// Past the bound, count the leaves instead of describing them.
	if p.full() {
		if len(v.Causes) == 0 {
			p.more++
			return
		}
	}
	at := func(name ...string) string {
		path := strings.Join(append(slices.Clone(v.InstanceLocation), name...), ".")
		if path == "" {
			return "arguments"
		}
		return bound(path, maxProblemText/2)
	}
	each := func(items []string, describe func(string) string) {
		for _, item := range items {
			if p.full() {
				p.more++
				continue
			}
			p.add(describe(item))
		}
	}
	switch k := v.ErrorKind.(type) {
	case *schemakind.AnyOf, *schemakind.OneOf:
		if names, ok := allRequired(v.Causes); ok {
			p.add(fmt.Sprintf("%s: give one of %s", at(), strings.Join(names, " or ")))
			return
		}
		if wants, got, ok := allTypes(v.Causes); ok {
			p.add(fmt.Sprintf("%s: must be %s, got %s", at(), strings.Join(wants, " or "), got))
			return
		}
	case *schemakind.Required:
		each(k.Missing, func(name string) string { return at(name) + ": required" })
		return
	case *schemakind.AdditionalProperties:
		each(k.Properties, func(name string) string {
			if len(v.InstanceLocation) == 0 {
				p.unknownNames = true
				return bound(name, maxShownValue) + ": unknown argument"
			}
			return at(bound(name, maxShownValue)) + ": unknown field"
		})
		return
	case *schemakind.Type:
		p.add(fmt.Sprintf("%s: must be %s, got %s", at(), strings.Join(k.Want, " or "), k.Got))
		return
	case *schemakind.Enum:
		p.add(fmt.Sprintf("%s: must be one of %s, got %s", at(), joinJSON(k.Want), bound(jsonText(k.Got), maxShownValue)))
		return
	case *schemakind.Minimum:
		p.add(fmt.Sprintf("%s: must be at least %s, got %s", at(), ratText(k.Want), bound(ratText(k.Got), maxShownValue)))
		return
	case *schemakind.Maximum:
		p.add(fmt.Sprintf("%s: must be at most %s, got %s", at(), ratText(k.Want), bound(ratText(k.Got), maxShownValue)))
		return
	case *schemakind.MinLength:
		if k.Got == 0 {
			p.add(at() + ": must not be empty")
		} else {
			p.add(fmt.Sprintf("%s: must be at least %d characters, got %d", at(), k.Want, k.Got))
		}
		return
	case *schemakind.MaxLength:
		p.add(fmt.Sprintf("%s: must be at most %d characters, got %d", at(), k.Want, k.Got))
		return
	}
	if len(v.Causes) == 0 {
		p.add(at() + ": " + v.ErrorKind.LocalizedString(printer))
		return
	}
	for _, cause := range v.Causes {
		p.describe(cause)
	}
}

// bound cuts s to at most n bytes, on a character boundary.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
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

var argumentNameLists sync.Map // tool name -> []string

func argumentNames(spec *toolSpec) []string {
	if names, ok := argumentNameLists.Load(spec.Name); ok {
		return names.([]string)
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	_ = json.Unmarshal([]byte(spec.InputSchema), &schema)
	names := make([]string, 0, len(schema.Properties))
	for name := range schema.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	argumentNameLists.Store(spec.Name, names)
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
