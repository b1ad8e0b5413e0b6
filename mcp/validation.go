package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// mcp-go validates every call against the input schema (WithInputSchemaValidation)
// and refuses a bad one before any handler runs. Its message, though, prints
// the validator's internals ("/price: &{Got:500/1 Want:128/1}"). This file
// rewrites such a refusal into words an agent can act on ("price: must be at
// most 128, got 500"). It runs only on the failure path; mcp-go's decision
// stands unchanged.

const mcpGoValidationPrefix = "input schema validation failed"

// schemaNode is the part of a generated input schema the explanation
// reads: the keywords internal/specgen/convert.go emits, no others. Its own
// walk, instead of a general validator, keeps one (and its metaschemas,
// compiled at init) out of every start-up.
type schemaNode struct {
	Type                 any                    `json:"type"`
	Enum                 []any                  `json:"enum"`
	Minimum              *json.Number           `json:"minimum"`
	Maximum              *json.Number           `json:"maximum"`
	MinLength            *int                   `json:"minLength"`
	MaxLength            *int                   `json:"maxLength"`
	MinItems             *int                   `json:"minItems"`
	MaxItems             *int                   `json:"maxItems"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	AnyOf                []*schemaNode          `json:"anyOf"`
	AllOf                []*schemaNode          `json:"allOf"`
}

var inputSchemas sync.Map // tool name -> *schemaNode

func inputSchemaOf(spec *toolSpec) (*schemaNode, error) {
	if s, ok := inputSchemas.Load(spec.Name); ok {
		return s.(*schemaNode), nil
	}
	dec := json.NewDecoder(strings.NewReader(spec.InputSchema))
	dec.UseNumber()
	var s schemaNode
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	inputSchemas.Store(spec.Name, &s)
	return &s, nil
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
	schema, err := inputSchemaOf(spec)
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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return []string{"the arguments are not valid JSON"}
	}
	p := &problems{spec: spec, seen: map[string]bool{}}
	p.walk(value, schema, nil)
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

// walk describes each way value breaks schema, at path.
func (p *problems) walk(value any, s *schemaNode, path []string) {
	if s == nil {
		return
	}
	at := func(name ...string) string {
		full := strings.Join(append(slices.Clone(path), name...), ".")
		if full == "" {
			return "arguments"
		}
		return bound(full, maxProblemText/2)
	}
	add := func(problem string) {
		if p.full() {
			p.more++
			return
		}
		p.add(problem)
	}
	for _, all := range s.AllOf {
		p.walk(value, all, path)
	}
	if len(s.AnyOf) > 0 {
		p.anyOf(value, s.AnyOf, path, at(), add)
	}
	if s.Type != nil && !typeAllows(s.Type, value) {
		add(fmt.Sprintf("%s: must be %s, got %s", at(), typeNames(s.Type), gotType(value)))
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return sameJSON(e, value) }) {
		add(fmt.Sprintf("%s: must be one of %s, got %s", at(), joinJSON(s.Enum), bound(jsonText(value), maxShownValue)))
	}
	switch v := value.(type) {
	case json.Number:
		n, _ := new(big.Rat).SetString(v.String())
		if s.Minimum != nil {
			if limit, _ := new(big.Rat).SetString(s.Minimum.String()); n != nil && limit != nil && n.Cmp(limit) < 0 {
				add(fmt.Sprintf("%s: must be at least %s, got %s", at(), ratText(limit), bound(ratText(n), maxShownValue)))
			}
		}
		if s.Maximum != nil {
			if limit, _ := new(big.Rat).SetString(s.Maximum.String()); n != nil && limit != nil && n.Cmp(limit) > 0 {
				add(fmt.Sprintf("%s: must be at most %s, got %s", at(), ratText(limit), bound(ratText(n), maxShownValue)))
			}
		}
	case string:
		n := utf8.RuneCountInString(v)
		if s.MinLength != nil && n < *s.MinLength {
			if n == 0 {
				add(at() + ": must not be empty")
			} else {
				add(fmt.Sprintf("%s: must be at least %d characters, got %d", at(), *s.MinLength, n))
			}
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			add(fmt.Sprintf("%s: must be at most %d characters, got %d", at(), *s.MaxLength, n))
		}
	case []any:
		if s.MinItems != nil && len(v) < *s.MinItems {
			add(fmt.Sprintf("%s: must have at least %d items, got %d", at(), *s.MinItems, len(v)))
		}
		if s.MaxItems != nil && len(v) > *s.MaxItems {
			add(fmt.Sprintf("%s: must have at most %d items, got %d", at(), *s.MaxItems, len(v)))
		}
		for i, item := range v {
			if p.full() {
				p.more++
				continue
			}
			p.walk(item, s.Items, append(slices.Clone(path), strconv.Itoa(i)))
		}
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := v[name]; !ok {
				add(at(name) + ": required")
			}
		}
		closed := string(s.AdditionalProperties) == "false"
		var each *schemaNode // a map's values (additionalProperties as a schema)
		if bytes.HasPrefix(s.AdditionalProperties, []byte("{")) {
			each = &schemaNode{}
			_ = json.Unmarshal(s.AdditionalProperties, each)
		}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			child, known := s.Properties[name]
			switch {
			case known:
				p.walk(v[name], child, append(slices.Clone(path), name))
			case each != nil:
				p.walk(v[name], each, append(slices.Clone(path), name))
			case closed && len(path) == 0:
				p.unknownNames = true
				add(bound(name, maxShownValue) + ": unknown argument")
			case closed:
				add(at(bound(name, maxShownValue)) + ": unknown field")
			}
		}
	}
}

// anyOf describes a value no alternative takes: a "give one of" group
// (x-required-any-of), or an argument of several types (env).
func (p *problems) anyOf(value any, alternatives []*schemaNode, path []string, at string, add func(string)) {
	var groups, types []string
	for _, alt := range alternatives {
		trial := &problems{spec: p.spec, seen: map[string]bool{}}
		trial.walk(value, alt, path)
		if len(trial.shown) == 0 && trial.more == 0 {
			return // one alternative takes it
		}
		switch {
		case len(alt.Required) > 0 && alt.Type == nil && len(alt.Properties) == 0:
			groups = append(groups, alt.Required...)
		case alt.Type != nil && !typeAllows(alt.Type, value):
			types = append(types, typeNames(alt.Type))
		default:
			// The alternative of the value's own type: its problems.
			p.walk(value, alt, path)
			return
		}
	}
	switch {
	case len(groups) > 0:
		add(fmt.Sprintf("%s: give one of %s", at, strings.Join(groups, " or ")))
	case len(types) > 0:
		add(fmt.Sprintf("%s: must be %s, got %s", at, strings.Join(types, " or "), gotType(value)))
	}
}

// typeAllows reports whether value has one of the schema's types; an
// integer is a number written without a fraction (4242.0 counts, as JSON
// Schema says).
func typeAllows(want, value any) bool {
	got := jsonType(value)
	for _, t := range typeList(want) {
		if t == got || (t == "number" && got == "integer") || (t == "integer" && got == "number" && isWhole(value)) {
			return true
		}
	}
	return false
}

func typeList(want any) []string {
	switch w := want.(type) {
	case string:
		return []string{w}
	case []any:
		var out []string
		for _, t := range w {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func typeNames(want any) string { return strings.Join(typeList(want), " or ") }

// jsonType names a decoded value's JSON type; a number without a fraction
// is an integer.
func jsonType(value any) string {
	switch v := value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if !strings.ContainsAny(v.String(), ".eE") {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

// gotType names a value's type for the agent, numbers as "number" whether
// or not they have a fraction.
func gotType(value any) string {
	if t := jsonType(value); t != "integer" {
		return t
	}
	return "number"
}

func isWhole(value any) bool {
	n, ok := value.(json.Number)
	if !ok {
		return false
	}
	r, ok := new(big.Rat).SetString(n.String())
	return ok && r.IsInt()
}

func sameJSON(a, b any) bool { return jsonText(a) == jsonText(b) }

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

// argumentNames lists the arguments a tool takes, for an error naming them.
func argumentNames(spec *toolSpec) []string {
	return slices.Sorted(maps.Keys(inputPropertiesOf(spec)))
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
