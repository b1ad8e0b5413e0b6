package mcp

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Every call's arguments are checked against the tool's input schema before
// anything else reads them (toolSpec.arguments), by a walk of the keywords
// the generator emits that says what is wrong in words an agent can act on
// ("price: must be at most 128, got 500"). TestValidationAgreesWithJSONSchema
// and FuzzValidationAgreesWithJSONSchema hold it to a JSON Schema validator.

// schemaNode is a generated input schema as the walk reads it: the
// keywords internal/specgen/convert.go emits, no others. Its own walk,
// instead of a general validator, reads it in one pass and words each
// problem for the caller. A schema with any other keyword is refused when
// read (inputSchemaOf), so that no constraint goes unchecked.
type schemaNode struct {
	Type                 any                    `json:"type"`
	Enum                 []any                  `json:"enum"`
	Minimum              *json.Number           `json:"minimum"`
	Maximum              *json.Number           `json:"maximum"`
	MinLength            *int                   `json:"minLength"`
	MaxLength            *int                   `json:"maxLength"`
	Pattern              string                 `json:"pattern"`
	MinItems             *int                   `json:"minItems"`
	MaxItems             *int                   `json:"maxItems"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	AnyOf                []*schemaNode          `json:"anyOf"`
	AllOf                []*schemaNode          `json:"allOf"`

	// Annotations, for the agent to read; they constrain nothing.
	Title       json.RawMessage `json:"title"`
	Description json.RawMessage `json:"description"`
	Default     json.RawMessage `json:"default"`
	Format      json.RawMessage `json:"format"`
	Deprecated  json.RawMessage `json:"deprecated"`

	// Made once by prepare.
	pattern *regexp.Regexp
	closed  bool        // additionalProperties: false
	each    *schemaNode // additionalProperties as a schema: every other value's
}

var inputSchemas sync.Map // tool name -> *schemaNode

func inputSchemaOf(spec *toolSpec) (*schemaNode, error) {
	if s, ok := inputSchemas.Load(spec.Name); ok {
		return s.(*schemaNode), nil
	}
	var s schemaNode
	if err := decodeSchema([]byte(spec.InputSchema), &s); err != nil {
		return nil, err
	}
	inputSchemas.Store(spec.Name, &s)
	return &s, nil
}

// decodeSchema reads a schema, refusing any keyword schemaNode does not
// name, and prepares it.
func decodeSchema(data []byte, into *schemaNode) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	return into.prepare()
}

// prepare compiles the patterns and reads additionalProperties, through
// every subschema, once instead of on every call.
func (s *schemaNode) prepare() error {
	if s.Pattern != "" {
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			return fmt.Errorf("pattern %q: %w", s.Pattern, err)
		}
		s.pattern = re
	}
	switch extra := bytes.TrimSpace(s.AdditionalProperties); {
	case len(extra) == 0, string(extra) == "true":
	case string(extra) == "false":
		s.closed = true
	case extra[0] == '{':
		s.each = &schemaNode{}
		if err := decodeSchema(extra, s.each); err != nil {
			return fmt.Errorf("additionalProperties: %w", err)
		}
	default:
		return fmt.Errorf("additionalProperties is %s, neither a schema nor a boolean", extra)
	}
	children := slices.Concat(s.AnyOf, s.AllOf, slices.Collect(maps.Values(s.Properties)))
	if s.Items != nil {
		children = append(children, s.Items)
	}
	for _, child := range children {
		if child == nil {
			return fmt.Errorf("a subschema is null")
		}
		if err := child.prepare(); err != nil {
			return err
		}
	}
	return nil
}

// invalidArguments is a call whose arguments break the input schema.
type invalidArguments struct{ problems []string }

func (e *invalidArguments) Error() string { return strings.Join(e.problems, "; ") }

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
	data, ok := args.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(args); err != nil {
			return nil
		}
	}
	_, problems := checkArguments(spec, data)
	return problems
}

// checkArguments decodes a call's arguments and lists what breaks the
// input schema; the decoded object fills the quotable line too.
func checkArguments(spec *toolSpec, data []byte) (map[string]any, []string) {
	schema, err := inputSchemaOf(spec)
	if err != nil { // a generated schema always reads (TestToolSnapshots); refuse rather than pass
		return nil, []string{bound(fmt.Sprintf("the tool's input schema cannot be checked (%v), so no call to it is sent", err), maxProblemText)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return nil, []string{"the arguments are not valid JSON"}
	}
	p := &problems{spec: spec}
	p.walk(value, schema, nil)
	values, _ := value.(map[string]any)
	return values, p.list()
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
	if p.seen == nil {
		p.seen = map[string]bool{}
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

// walk describes each way value breaks schema, at path. It allocates only
// to describe a problem: it runs on every call's arguments.
func (p *problems) walk(value any, s *schemaNode, path []string) {
	if s == nil {
		return
	}
	if n, ok := value.(json.Number); ok {
		if problem := numberProblem(n); problem != "" {
			p.report(at(path) + ": " + problem)
			return // before any exact arithmetic, whose cost grows with the digits
		}
	}
	for _, all := range s.AllOf {
		p.walk(value, all, path)
	}
	if len(s.AnyOf) > 0 {
		p.anyOf(value, s.AnyOf, path)
	}
	if s.Type != nil && !typeAllows(s.Type, value) {
		p.report(fmt.Sprintf("%s: must be %s, got %s", at(path), typeNames(s.Type), gotType(value)))
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return sameJSON(e, value) }) {
		p.report(fmt.Sprintf("%s: must be one of %s, got %s", at(path), joinJSON(s.Enum), bound(jsonText(value), maxShownValue)))
	}
	switch v := value.(type) {
	case json.Number:
		if s.Minimum != nil {
			if order, ok := compareNumbers(v, *s.Minimum); !ok || order < 0 {
				p.report(fmt.Sprintf("%s: must be at least %s, got %s", at(path), numberText(*s.Minimum), bound(numberText(v), maxShownValue)))
			}
		}
		if s.Maximum != nil {
			if order, ok := compareNumbers(v, *s.Maximum); !ok || order > 0 {
				p.report(fmt.Sprintf("%s: must be at most %s, got %s", at(path), numberText(*s.Maximum), bound(numberText(v), maxShownValue)))
			}
		}
	case string:
		n := utf8.RuneCountInString(v)
		if s.MinLength != nil && n < *s.MinLength {
			if n == 0 {
				p.report(at(path) + ": must not be empty")
			} else {
				p.report(fmt.Sprintf("%s: must be at least %d characters, got %d", at(path), *s.MinLength, n))
			}
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			p.report(fmt.Sprintf("%s: must be at most %d characters, got %d", at(path), *s.MaxLength, n))
		}
		if s.pattern != nil && !s.pattern.MatchString(v) {
			p.report(fmt.Sprintf("%s: must match the pattern %s", at(path), bound(s.Pattern, maxShownValue)))
		}
	case []any:
		if s.MinItems != nil && len(v) < *s.MinItems {
			p.report(fmt.Sprintf("%s: must have at least %d items, got %d", at(path), *s.MinItems, len(v)))
		}
		if s.MaxItems != nil && len(v) > *s.MaxItems {
			p.report(fmt.Sprintf("%s: must have at most %d items, got %d", at(path), *s.MaxItems, len(v)))
		}
		for i, item := range v {
			if p.full() {
				p.more++
				continue
			}
			p.walk(item, s.Items, append(path, strconv.Itoa(i)))
		}
	case map[string]any:
		for _, name := range s.Required {
			if _, ok := v[name]; !ok {
				p.report(at(append(path, name)) + ": required")
			}
		}
		closed, each := s.closed, s.each
		// In name order, so that the same arguments are described alike.
		var few [16]string
		names := slices.AppendSeq(few[:0], maps.Keys(v))
		slices.Sort(names)
		for _, name := range names {
			child, known := s.Properties[name]
			switch {
			case known:
				p.walk(v[name], child, append(path, name))
			case each != nil:
				p.walk(v[name], each, append(path, name))
			case closed && len(path) == 0:
				p.unknownNames = true
				p.report(bound(name, maxShownValue) + ": unknown argument")
			case closed:
				p.report(at(append(path, bound(name, maxShownValue))) + ": unknown field")
			}
		}
	}
}

// report adds a problem, or counts it once maxProblems are shown.
func (p *problems) report(problem string) {
	if p.full() {
		p.more++
		return
	}
	p.add(problem)
}

// at names a place in the arguments: "arguments", or its path.
func at(path []string) string {
	if len(path) == 0 {
		return "arguments"
	}
	return bound(strings.Join(path, "."), maxProblemText/2)
}

// maxNumberLength bounds how a number argument may be written: no amount,
// count or id needs more, and exact comparison costs more with each digit.
const maxNumberLength = 40

// maxExponent bounds a number's written exponent. Within maxNumberLength a
// float64 never needs one much past 340, and math/big, which compares
// numbers exactly, cannot read one past int64 at all.
const maxExponent = 1000

// numberProblem refuses a number no float64 holds, which would reach the
// API as 0 or fail to decode, one written longer than maxNumberLength, and
// one whose exponent is past maxExponent, which could not be compared with
// a bound. JSON Schema takes all three; an argument never needs them.
func numberProblem(n json.Number) string {
	if len(n) > maxNumberLength {
		return fmt.Sprintf("must be written in at most %d characters", maxNumberLength)
	}
	mantissa, exponent, scientific := strings.Cut(strings.ToLower(string(n)), "e")
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f == 0 && strings.ContainsAny(mantissa, "123456789") {
		return "out of range: beyond ±1.7e308, or too small to tell from 0"
	}
	if scientific {
		if e, err := strconv.Atoi(exponent); err != nil || e < -maxExponent || e > maxExponent {
			return fmt.Sprintf("must be written with an exponent between -%d and %d", maxExponent, maxExponent)
		}
	}
	return ""
}

// compareNumbers compares two JSON numbers exactly: as float64 when both
// are short decimals, else as rationals. ok is false when either cannot be
// read exactly; a caller then refuses the value rather than pass a bound.
func compareNumbers(a, b json.Number) (order int, ok bool) {
	if shortDecimal(a) && shortDecimal(b) {
		// Fifteen significant digits survive float64 exactly, in order.
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		return cmp.Compare(x, y), true
	}
	x, okA := new(big.Rat).SetString(string(a))
	y, okB := new(big.Rat).SetString(string(b))
	if !okA || !okB {
		return 0, false
	}
	return x.Cmp(y), true
}

// shortDecimal reports whether n is written without an exponent in at most
// fifteen digits.
func shortDecimal(n json.Number) bool {
	digits := 0
	for i, c := range []byte(n) {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '-' && i == 0, c == '.':
		default:
			return false
		}
	}
	return digits > 0 && digits <= 15
}

// numberText writes a JSON number as the caller reads one (1e3 as 1000).
func numberText(n json.Number) string {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return string(n)
	}
	return ratText(r)
}

// anyOf describes a value no alternative takes: a "give one of" group
// (x-required-any-of), or an argument of several types (env).
func (p *problems) anyOf(value any, alternatives []*schemaNode, path []string) {
	var groups, types []string
	for _, alt := range alternatives {
		trial := &problems{spec: p.spec}
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
		p.report(fmt.Sprintf("%s: give one of %s", at(path), strings.Join(groups, " or ")))
	case len(types) > 0:
		p.report(fmt.Sprintf("%s: must be %s, got %s", at(path), strings.Join(types, " or "), gotType(value)))
	}
}

// typeAllows reports whether value has one of the schema's types; an
// integer is a number written without a fraction (4242.0 counts, as JSON
// Schema says).
func typeAllows(want, value any) bool {
	got := jsonType(value)
	allows := func(t string) bool {
		return t == got || (t == "number" && got == "integer") || (t == "integer" && got == "number" && isWhole(value))
	}
	switch w := want.(type) {
	case string:
		return allows(w)
	case []any:
		for _, t := range w {
			if name, ok := t.(string); ok && allows(name) {
				return true
			}
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
