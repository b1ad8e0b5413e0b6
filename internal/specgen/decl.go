package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// declaration is one x-mcp-tool entry: everything a tool is, apart from
// what the operation itself says (schemas, path, method). An operation
// carries one declaration or a list of them (stop_instance and
// start_instance are both manageInstance).
type declaration struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Kind        string            `json:"kind"`      // read, create, update or destroy
	Toolset     string            `json:"toolset"`   // for --toolsets
	Arguments   map[string]string `json:"arguments"` // path parameter -> argument name
	Fixed       map[string]any    `json:"fixed"`     // body fields the tool sets itself
	// Accept, when set, lists the body fields and query parameters offered
	// as arguments; the others stay in the generated type for hooks to
	// fill. An empty list offers none.
	Accept *[]string `json:"accept"`
	// Extra are tool-only arguments (name -> JSON Schema): offered and
	// decoded into the call type, never sent as they are; a prepare hook
	// turns them into what the API takes.
	Extra  map[string]map[string]any `json:"extra"`
	Result struct {
		ID   []string `json:"id"`   // the new or named resource's id; the first is canonical
		Line string   `json:"line"` // what the agent can quote: "{field}" from arguments or answer
		Show []string `json:"show"` // answer fields shown (dotted, "[]" for each item); all when empty
		Hide []string `json:"hide"` // field names never shown, at any depth
	} `json:"result"`
	Pages *struct {
		Cursor string `json:"cursor"` // answer field holding the next page's token
		Param  string `json:"param"`  // query parameter that takes it
		Items  string `json:"items"`  // answer field whose list is concatenated
		Max    int    `json:"max"`    // pages followed at most
	} `json:"pages"`
	Hooks map[string]string `json:"hooks"` // hook kind -> Go function in package mcp
}

var (
	kinds     = []string{"read", "create", "update", "destroy"}
	hookKinds = []string{"check", "prepare", "handler", "note", "guard", "describe", "settle"}
	toolName  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	lineField = regexp.MustCompile(`\{([a-zA-Z0-9_.]+)\}`)
)

// validate refuses at generate time what the server could only get wrong
// at run time.
func (d *declaration) validate(hooks map[string]bool) error {
	switch {
	case !toolName.MatchString(d.Name):
		return fmt.Errorf("name %q: want lower_snake_case", d.Name)
	case d.Title == "" || strings.TrimSpace(d.Description) == "":
		return fmt.Errorf("%s: title and description are required", d.Name)
	case !slices.Contains(kinds, d.Kind):
		return fmt.Errorf("%s: kind %q: want one of %s", d.Name, d.Kind, strings.Join(kinds, ", "))
	case d.Toolset == "":
		return fmt.Errorf("%s: toolset is required", d.Name)
	case d.Result.Line == "":
		return fmt.Errorf("%s: result.line is required: the one line an agent can quote", d.Name)
	case d.Kind == "create" && len(d.Result.ID) == 0:
		return fmt.Errorf("%s: a create needs result.id, the new resource's id", d.Name)
	}
	if d.Pages != nil && (d.Pages.Cursor == "" || d.Pages.Param == "" || d.Pages.Items == "" || d.Pages.Max < 1) {
		return fmt.Errorf("%s: pages needs cursor, param, items and max", d.Name)
	}
	if len(d.Extra) > 0 && d.Hooks["prepare"] == "" && d.Hooks["handler"] == "" {
		return fmt.Errorf("%s: extra arguments need a prepare or handler hook to use them", d.Name)
	}
	for name, schema := range d.Extra {
		if _, ok := extraGoTypes[fmt.Sprint(schema["type"])]; !ok {
			return fmt.Errorf("%s: extra argument %s: type %v is not translated", d.Name, name, schema["type"])
		}
		if description, _ := schema["description"].(string); strings.TrimSpace(description) == "" {
			return fmt.Errorf("%s: extra argument %s needs a description", d.Name, name)
		}
	}
	for kind, fn := range d.Hooks {
		if !slices.Contains(hookKinds, kind) {
			return fmt.Errorf("%s: hook %q: want one of %s", d.Name, kind, strings.Join(hookKinds, ", "))
		}
		if !hooks[fn] {
			return fmt.Errorf("%s: hook %s names %s, which package mcp does not declare", d.Name, kind, fn)
		}
	}
	return nil
}

// lineFields lists the {field} references of the result line.
func (d *declaration) lineFields() []string {
	var fields []string
	for _, m := range lineField.FindAllStringSubmatch(d.Result.Line, -1) {
		fields = append(fields, m[1])
	}
	return fields
}

// extraGoTypes are the Go types of the JSON Schema types an extra argument
// may have.
var extraGoTypes = map[string]string{
	"string":  "*string",
	"integer": "*int",
	"number":  "*float64",
	"boolean": "*bool",
	"array":   "[]string",
}
