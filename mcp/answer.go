package mcp

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// present turns a successful answer into the tool's result: the fields the
// declaration shows, conformed to its output schema, without the fields it
// hides, and the one line an agent can quote. Answers drift from the spec:
// a field of an unexpected type is dropped rather than failing the call.
func present(spec *toolSpec, body []byte, args map[string]any, opts Options) (*mcpgo.CallToolResult, error) {
	var decoded any
	if err := json.Unmarshal(body, &decoded); err != nil {
		return nil, wrongShape(spec, "an answer that is not JSON")
	}
	answer, ok := decoded.(map[string]any)
	if !ok {
		return nil, wrongShape(spec, "an answer that is not a JSON object")
	}
	if err := canonicalID(spec, answer); err != nil {
		return nil, err
	}
	var withheld []string
	for _, name := range spec.Hide {
		removeField(answer, name)
	}
	if !opts.ExposeInstanceKey {
		for _, name := range spec.Sensitive {
			if removeField(answer, name) {
				withheld = append(withheld, name)
			}
		}
	}
	if len(spec.Show) > 0 {
		answer = projectFields(answer, spec.Show)
	}
	answer, _ = outputSchemaOf(spec).conform(answer).(map[string]any)

	text := renderLine(spec.Line, args, answer)
	if spec.note != nil {
		if note := spec.note(answer); note != "" {
			text += " " + note
		}
	}
	if len(withheld) > 0 {
		text += fmt.Sprintf(" (%s withheld: a credential; the operator can show it with --expose-instance-key)", strings.Join(withheld, ", "))
	}
	if spec.Kind == kindRead {
		// Clients that read only text see the data too; compact keeps it small.
		data, _ := json.Marshal(answer)
		text += "\n" + string(data)
	}
	result := &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewTextContent(text)}, StructuredContent: answer}
	return withOutcome(result, OutcomeDone, opts), nil
}

// wrongShape is an answer the tool cannot read. The request was sent, so
// whatever it asked for may have happened.
func wrongShape(spec *toolSpec, what string) error {
	return &gen.RequestError{Operation: spec.OperationID, Sent: true, Err: errors.New(what)}
}

// canonicalID puts the resource's id in the declared field, whichever of
// the alternatives the API used, and refuses a create whose answer carries
// no id the API could have assigned (a positive integer).
func canonicalID(spec *toolSpec, answer map[string]any) error {
	if len(spec.IDFields) == 0 {
		return nil
	}
	var id any
	for _, field := range spec.IDFields {
		if v, ok := answer[field]; ok && v != nil {
			id = v
			break
		}
	}
	if spec.Kind != kindCreate {
		if id != nil {
			answer[spec.IDFields[0]] = id
		}
		return nil
	}
	n, ok := id.(float64)
	if !ok || n < 1 || n != math.Trunc(n) || n > 1<<53 {
		return wrongShape(spec, fmt.Sprintf("the API answered success without a positive integer %s", strings.Join(spec.IDFields, " or ")))
	}
	answer[spec.IDFields[0]] = n
	return nil
}

// removeField deletes a field name wherever it occurs and reports whether
// it held a value.
func removeField(v any, name string) bool {
	found := false
	switch v := v.(type) {
	case map[string]any:
		if value, ok := v[name]; ok {
			found = value != nil
			delete(v, name)
		}
		for _, child := range v {
			found = removeField(child, name) || found
		}
	case []any:
		for _, child := range v {
			found = removeField(child, name) || found
		}
	}
	return found
}

// projectFields keeps the fields paths name: "success", "offers[].gpu_name".
func projectFields(answer map[string]any, paths []string) map[string]any {
	out := map[string]any{}
	for _, path := range paths {
		keepField(answer, out, strings.Split(path, "."))
	}
	return out
}

func keepField(from, into map[string]any, segments []string) {
	name, each := strings.CutSuffix(segments[0], "[]")
	value, ok := from[name]
	if !ok {
		return
	}
	last := len(segments) == 1
	switch {
	case last && !each:
		into[name] = value
	case each:
		list, ok := value.([]any)
		if !ok {
			return
		}
		kept, _ := into[name].([]any)
		if kept == nil {
			kept = make([]any, len(list))
		}
		for i, item := range list {
			if last {
				kept[i] = item
				continue
			}
			src, ok := item.(map[string]any)
			if !ok {
				continue
			}
			dst, _ := kept[i].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				kept[i] = dst
			}
			keepField(src, dst, segments[1:])
		}
		into[name] = kept
	default:
		src, ok := value.(map[string]any)
		if !ok {
			return
		}
		dst, _ := into[name].(map[string]any)
		if dst == nil {
			dst = map[string]any{}
			into[name] = dst
		}
		keepField(src, dst, segments[1:])
	}
}

// valueSchema is the part of an output schema that conforming reads.
type valueSchema struct {
	Type                 any                     `json:"type"`
	Properties           map[string]*valueSchema `json:"properties"`
	Items                *valueSchema            `json:"items"`
	AdditionalProperties json.RawMessage         `json:"additionalProperties"`
}

var outputSchemas sync.Map // tool name -> *valueSchema

func outputSchemaOf(spec *toolSpec) *valueSchema {
	if s, ok := outputSchemas.Load(spec.Name); ok {
		return s.(*valueSchema)
	}
	s := &valueSchema{}
	if err := json.Unmarshal([]byte(spec.OutputSchema), s); err != nil {
		panic(fmt.Sprintf("%s: generated output schema: %v", spec.Name, err)) // caught by TestToolSnapshots
	}
	outputSchemas.Store(spec.Name, s)
	return s
}

// maxAPIString bounds each string the API sends before an agent reads it.
const maxAPIString = 1000

// conform keeps what matches the schema: known properties of the right
// type, strings cleaned and bounded. What does not match is dropped (nil).
func (s *valueSchema) conform(v any) any {
	if s == nil {
		return nil
	}
	if v == nil {
		if s.allows("null") {
			return nil
		}
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		if !s.allows("object") {
			return nil
		}
		out := map[string]any{}
		open := len(s.AdditionalProperties) > 0 && string(s.AdditionalProperties) != "false"
		for name, value := range v {
			child, declared := s.Properties[name]
			switch {
			case declared:
				if c := child.conform(value); c != nil {
					out[name] = c
				}
			case open && s.Properties == nil:
				out[name] = cleanValue(value)
			}
		}
		return out
	case []any:
		if !s.allows("array") {
			return nil
		}
		out := make([]any, 0, len(v))
		for _, item := range v {
			if c := s.Items.conform(item); c != nil || s.Items == nil {
				out = append(out, c)
			}
		}
		return out
	case string:
		if !s.allows("string") {
			return nil
		}
		return cleanString(v)
	case float64:
		if s.allows("number") || (s.allows("integer") && v == math.Trunc(v)) {
			return v
		}
		return nil
	case bool:
		if s.allows("boolean") {
			return v
		}
		return nil
	}
	return nil
}

// allows reports whether the schema takes a JSON type; a schema without a
// type takes any.
func (s *valueSchema) allows(t string) bool {
	switch typ := s.Type.(type) {
	case nil:
		return true
	case string:
		return typ == t
	case []any:
		return slices.Contains(typ, any(t))
	}
	return false
}

func cleanValue(v any) any {
	switch v := v.(type) {
	case string:
		return cleanString(v)
	case map[string]any:
		for k, child := range v {
			v[k] = cleanValue(child)
		}
	case []any:
		for i, child := range v {
			v[i] = cleanValue(child)
		}
	}
	return v
}

// cleanString makes a string the API sent fit to show (gen.Sanitize):
// control and invisible formatting characters (bidi overrides among them)
// removed, credential-like values redacted, the length bounded. What the
// API sends is data, never something that can steer a terminal or hide text.
func cleanString(s string) string { return gen.Sanitize(s, maxAPIString) }

// renderLine fills the declared line from the arguments, then the answer.
// A bracketed part ("[ for endpoint {endpoint_id}]") is left out when a
// field it names has no value.
func renderLine(line string, args, answer map[string]any) string {
	fill := func(part string) (string, bool) {
		var out strings.Builder
		complete := true
		for {
			before, name, after, found := nextPlaceholder(part)
			out.WriteString(before)
			if !found {
				return out.String(), complete
			}
			value, ok := lookup(name, args, answer)
			complete = complete && ok
			out.WriteString(value)
			part = after
		}
	}
	var b strings.Builder
	for line != "" {
		start := strings.IndexByte(line, '[')
		end := strings.IndexByte(line, ']')
		if start < 0 || end < start {
			out, _ := fill(line)
			b.WriteString(out)
			break
		}
		out, _ := fill(line[:start])
		b.WriteString(out)
		if optional, complete := fill(line[start+1 : end]); complete {
			b.WriteString(optional)
		}
		line = line[end+1:]
	}
	return b.String()
}

// nextPlaceholder finds the first {name} in s, name being letters, digits,
// '_' and '.'; a brace around anything else is text.
func nextPlaceholder(s string) (before, name, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '{' {
			continue
		}
		end := i + 1
		for end < len(s) && isPlaceholderByte(s[end]) {
			end++
		}
		if end > i+1 && end < len(s) && s[end] == '}' {
			return s[:i], s[i+1 : end], s[end+1:], true
		}
	}
	return s, "", "", false
}

func isPlaceholderByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.'
}

func lookup(path string, sources ...map[string]any) (string, bool) {
	for _, source := range sources {
		var v any = source
		for rest, more := path, true; more && v != nil; {
			var segment string
			segment, rest, more = strings.Cut(rest, ".")
			m, _ := v.(map[string]any)
			v = m[segment]
		}
		switch v := v.(type) {
		case nil:
			continue
		case string:
			// Quoted: words the caller or the API chose, not the server's.
			return strconv.Quote(cleanString(v)), true
		case float64:
			return FormatNumber(v), true
		case json.Number: // an argument, as the caller wrote it
			f, err := v.Float64()
			if err != nil {
				return "", false
			}
			return FormatNumber(f), true
		case bool:
			return strconv.FormatBool(v), true
		}
	}
	return "", false
}
