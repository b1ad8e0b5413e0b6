package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// argError names the argument at fault; it is what the agent must fix.
type argError struct {
	arg    string
	reason string
}

func (e *argError) Error() string {
	if e.arg == "" {
		return e.reason
	}
	return e.arg + ": " + e.reason
}

// rawArguments returns a call's arguments as JSON, without re-encoding them
// when the request kept the bytes it arrived with.
func rawArguments(req mcpgo.CallToolRequest) ([]byte, error) {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments, nil
	}
	switch v := req.GetRawArguments().(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return v, nil
	default:
		return json.Marshal(v)
	}
}

// decodeArguments fills an operation's argument struct in one pass. It runs
// after the arguments were validated against the input schema; refusing
// unknown fields here is a second line of defence should validation ever be
// skipped, so that nothing the caller sent is silently dropped.
func decodeArguments(data []byte, into any) error {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return describeDecodeError(err, embeddedNames(reflect.TypeOf(into)))
	}
	return nil
}

// embeddedNames are the Go names of the structs a type embeds, at any
// depth. encoding/json puts them in an error's field path, where the
// caller, who never wrote them, needs the argument's own path.
func embeddedNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				names[f.Name] = true
			}
			walk(f.Type)
		}
	}
	walk(t)
	return names
}

// envArgument is an `env` that is either the object the API takes or the
// vastai CLI's Docker flag string, which it converts (x-mcp-accepts-docker-flags).
type envArgument struct{ vars *map[string]string }

func (e *envArgument) UnmarshalJSON(data []byte) error {
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte(`"`)) {
		if err := json.Unmarshal(data, &e.vars); err != nil {
			return err
		}
		if e.vars != nil {
			if err := CheckEnvObject(*e.vars); err != nil {
				return &argError{arg: "env", reason: err.Error()}
			}
		}
		return nil
	}
	var flags string
	if err := json.Unmarshal(data, &flags); err != nil {
		return err
	}
	vars, err := ParseDockerFlags(flags)
	if err != nil {
		return &argError{arg: "env", reason: err.Error()}
	}
	e.vars = &vars
	return nil
}

func describeDecodeError(err error, embedded map[string]bool) error {
	var argErr *argError
	if errors.As(err, &argErr) {
		return argErr
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		path := slices.DeleteFunc(strings.Split(typeErr.Field, "."), func(name string) bool { return name == "" || embedded[name] })
		field := strings.Join(path, ".")
		if field == "" {
			return &argError{reason: "arguments must be a JSON object"}
		}
		kind := jsonKind(typeErr.Type.Kind().String())
		if kind == "a whole number" && strings.HasPrefix(typeErr.Value, "number") {
			// JSON Schema calls 4242.0 an integer; Go's decoder does not.
			return &argError{arg: field, reason: fmt.Sprintf("must be a whole number written without a decimal point, got %s", strings.TrimPrefix(typeErr.Value, "number "))}
		}
		return &argError{arg: field, reason: fmt.Sprintf("must be %s, got a JSON %s", kind, typeErr.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &argError{arg: strings.Trim(name, `"`), reason: "unknown argument"}
	}
	return &argError{reason: "arguments are not valid JSON: " + err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return goKind
}
