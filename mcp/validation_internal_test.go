package mcp

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// agreesWithJSONSchema reports whether explainArguments and a general JSON
// Schema validator take the same arguments.
func agreesWithJSONSchema(t *testing.T, spec *toolSpec, schema *jsonschema.Schema, args []byte) {
	t.Helper()
	value, err := jsonschema.UnmarshalJSON(strings.NewReader(string(args)))
	if err != nil {
		return // not JSON: no MCP client sends it
	}
	problems := explainArguments(spec, json.RawMessage(args))
	if hasNumber(value, func(n json.Number) bool { return numberProblem(n) != "" }) {
		// Refused on purpose, though JSON Schema takes it (numberProblem);
		// the general validator can panic on such a number anyway.
		if len(problems) == 0 {
			t.Fatalf("%s %s: a number no float64 holds was accepted", spec.Name, args)
		}
		return
	}
	if verr := schema.Validate(value); (verr == nil) != (len(problems) == 0) {
		t.Fatalf("%s %s: JSON Schema says %v; explainArguments says %q", spec.Name, args, verr, problems)
	}
}

// TestValidationAgreesWithJSONSchema tries, for every tool, each argument
// at and past each edge its schema draws, and arguments left out or
// unknown: the schema walk that gates every call takes exactly what a JSON
// Schema validator takes.
func TestValidationAgreesWithJSONSchema(t *testing.T) {
	for i := range toolSpecs {
		spec := &toolSpecs[i]
		t.Run(spec.Name, func(t *testing.T) {
			schema, err := compileInputSchema(spec)
			require.NoError(t, err)
			root, err := inputSchemaOf(spec)
			require.NoError(t, err)
			variants := argumentVariants(root)
			assert.GreaterOrEqual(t, len(variants), 3)
			for _, args := range variants {
				agreesWithJSONSchema(t, spec, schema, args)
			}
		})
	}
}

// hasNumber reports whether any number in a decoded value satisfies match.
func hasNumber(value any, match func(json.Number) bool) bool {
	switch v := value.(type) {
	case json.Number:
		return match(v)
	case []any:
		return slices.ContainsFunc(v, func(item any) bool { return hasNumber(item, match) })
	case map[string]any:
		for _, item := range v {
			if hasNumber(item, match) {
				return true
			}
		}
	}
	return false
}

// FuzzValidationAgreesWithJSONSchema is the same for any arguments.
func FuzzValidationAgreesWithJSONSchema(f *testing.F) {
	for i := range toolSpecs {
		root, err := inputSchemaOf(&toolSpecs[i])
		if err != nil {
			f.Fatal(err)
		}
		for _, args := range argumentVariants(root) {
			f.Add(i, args)
		}
	}
	schemas := make([]*jsonschema.Schema, len(toolSpecs))
	for i := range toolSpecs {
		var err error
		if schemas[i], err = compileInputSchema(&toolSpecs[i]); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, tool int, args []byte) {
		i := ((tool % len(toolSpecs)) + len(toolSpecs)) % len(toolSpecs)
		agreesWithJSONSchema(t, &toolSpecs[i], schemas[i], args)
	})
}

// argumentVariants builds argument objects around the schema's edges: one
// with every property at an accepted value, then that one with a required
// property left out, an unknown one added, and each property in turn set
// to every edge value of its own schema.
func argumentVariants(root *schemaNode) [][]byte {
	base := map[string]any{}
	for name, prop := range root.Properties {
		base[name] = accepted(prop)
	}
	encode := func(m map[string]any) []byte {
		data, _ := json.Marshal(m)
		return data
	}
	variants := [][]byte{encode(base), []byte(`{}`), encode(map[string]any{"not_an_argument": 1})}
	for _, name := range root.Required {
		without := maps.Clone(base)
		delete(without, name)
		variants = append(variants, encode(without))
	}
	for _, name := range slices.Sorted(maps.Keys(root.Properties)) {
		for _, v := range edges(root.Properties[name]) {
			with := maps.Clone(base)
			with[name] = v
			variants = append(variants, encode(with))
		}
	}
	return variants
}

// accepted is a value the schema takes, where one is easy to make.
func accepted(s *schemaNode) any {
	if s == nil {
		return "x"
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if len(s.AnyOf) > 0 {
		return accepted(s.AnyOf[0])
	}
	switch first(typeList(s.Type)) {
	case "integer", "number":
		if s.Minimum != nil {
			return s.Minimum
		}
		return 1
	case "boolean":
		return true
	case "array":
		return []any{accepted(s.Items)}
	case "object":
		m := map[string]any{}
		for _, name := range s.Required {
			m[name] = accepted(s.Properties[name])
		}
		return m
	}
	n := 1
	if s.MinLength != nil {
		n = max(n, *s.MinLength)
	}
	return strings.Repeat("x", n)
}

// edges are values on and past each bound of the schema, and of each
// other type.
func edges(s *schemaNode) []any {
	out := []any{nil, true, "", "x", 0, -1, 1, 1.5, 1e300, json.Number("1e-1000001"), json.Number("0e99999999999999999999"), json.Number("-0.0e-1001"), json.Number("1e1000"), json.Number("-0"), json.Number("1." + strings.Repeat("0", 40)),
		[]any{}, []any{"x"}, map[string]any{}, map[string]any{"k": "v"}}
	if s == nil {
		return out
	}
	for _, limit := range []*json.Number{s.Minimum, s.Maximum} {
		if limit != nil {
			f, _ := limit.Float64()
			out = append(out, f, f-1, f+1, f-0.5, f+0.5)
		}
	}
	for _, n := range []*int{s.MinLength, s.MaxLength} {
		if n != nil {
			out = append(out, strings.Repeat("é", *n), strings.Repeat("é", *n+1), strings.Repeat("é", max(*n-1, 0)))
		}
	}
	for _, n := range []*int{s.MinItems, s.MaxItems} {
		if n != nil {
			for _, k := range []int{*n - 1, *n, *n + 1} {
				out = append(out, slices.Repeat([]any{accepted(s.Items)}, max(k, 0)))
			}
		}
	}
	if len(s.Enum) > 0 {
		out = append(out, s.Enum[len(s.Enum)-1], "not one of them")
	}
	if s.Pattern != "" {
		out = append(out, "0", "A", "a-b", " ", "\n")
	}
	if s.Items != nil {
		for _, v := range edges(s.Items)[:5] {
			out = append(out, []any{v})
		}
	}
	for name, prop := range s.Properties {
		for _, v := range []any{accepted(prop), nil, []any{}} {
			out = append(out, map[string]any{name: v})
		}
	}
	for _, alt := range s.AnyOf {
		out = append(out, accepted(alt))
	}
	return out
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// TestSchemaKeywordsAreCheckedOrStopEveryCall: the schema walk is the only
// check between an agent and the API, so every keyword the generator can
// emit (internal/specgen/convert.go) is either checked or an annotation,
// and a schema with any other keyword refuses every call instead of
// letting that constraint go unchecked.
func TestSchemaKeywordsAreCheckedOrStopEveryCall(t *testing.T) {
	const (
		label       = `{"type":"object","additionalProperties":false,"properties":{"label":{"type":"string","pattern":"^vast-[a-z]+$"}}}`
		labels      = `{"type":"object","additionalProperties":false,"properties":{"labels":{"type":"array","items":{"type":"string","pattern":"^[a-z]+$"}}}}`
		env         = `{"type":"object","additionalProperties":false,"properties":{"env":{"type":"object","additionalProperties":{"type":"string","pattern":"^[0-9]+$"}}}}`
		annotations = `{"type":"object","additionalProperties":false,"properties":{"url":{"type":"string","description":"d","title":"t","default":"x","format":"uri","deprecated":true}}}`
	)
	tests := []struct {
		name, schema, args string
		accepted           bool
		oracle             bool // a JSON Schema validator decides the same way
	}{
		{"pattern matched", label, `{"label":"vast-abc"}`, true, true},
		{"pattern broken", label, `{"label":"other"}`, false, true},
		{"pattern broken in an item", labels, `{"labels":["ok","NO"]}`, false, true},
		{"pattern matched in every item", labels, `{"labels":["ok","fine"]}`, true, true},
		{"pattern broken in a map value", env, `{"env":{"A":"12","B":"x"}}`, false, true},
		{"pattern matched in every map value", env, `{"env":{"A":"12"}}`, true, true},
		{"annotations constrain nothing", annotations, `{"url":"not a url"}`, true, true},
		{"a keyword the walk does not read", `{"type":"object","properties":{"a":{"type":"string","const":"x"}}}`, `{"a":"x"}`, false, false},
		{"one nested in anyOf", `{"type":"object","properties":{"a":{"anyOf":[{"type":"string","multipleOf":2},{"type":"integer"}]}}}`, `{"a":1}`, false, false},
		{"one in a map's value schema", `{"type":"object","additionalProperties":{"type":"string","oneOf":[{"maxLength":2}]}}`, `{"a":"x"}`, false, false},
		{"one in items", `{"type":"object","properties":{"a":{"type":"array","items":{"not":{"type":"string"}}}}}`, `{"a":[1]}`, false, false},
		{"a pattern Go cannot compile", `{"type":"object","properties":{"a":{"type":"string","pattern":"(?<=x)y"}}}`, `{"a":"xy"}`, false, false},
		{"additionalProperties neither a schema nor a boolean", `{"type":"object","additionalProperties":3}`, `{"a":1}`, false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &toolSpec{Name: fmt.Sprintf("keyword_case_%d", i), InputSchema: tt.schema}
			values, problems := checkArguments(spec, []byte(tt.args))
			if tt.accepted {
				assert.Empty(t, problems)
				assert.NotNil(t, values)
			} else {
				assert.NotEmpty(t, problems, "nothing may reach the API unchecked")
			}
			if tt.oracle {
				schema, err := compileInputSchema(spec)
				require.NoError(t, err)
				agreesWithJSONSchema(t, spec, schema, []byte(tt.args))
			}
		})
	}
}
