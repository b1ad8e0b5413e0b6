package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// arguments are a tool call's arguments, split into the path parameter and
// the JSON body the API receives.
type arguments struct {
	pathID int
	body   map[string]json.RawMessage
}

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

// parseArguments runs after mcp-go validated the arguments against the
// input schema. It does what a schema cannot: lift the path parameter out
// of the body and convert Docker flag strings. Its checks are a second line
// of defence should validation ever be skipped.
func parseArguments(spec *toolSpec, raw any) (arguments, error) {
	var data []byte
	switch v := raw.(type) {
	case nil:
		data = []byte("{}")
	case json.RawMessage:
		data = v
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			return arguments{}, &argError{reason: "arguments are not JSON: " + err.Error()}
		}
	}
	args := arguments{}
	if err := json.Unmarshal(data, &args.body); err != nil || args.body == nil {
		return arguments{}, &argError{reason: "arguments must be a JSON object"}
	}

	if spec.PathArgument != "" {
		raw, ok := args.body[spec.PathArgument]
		if !ok {
			return arguments{}, &argError{arg: spec.PathArgument, reason: "required"}
		}
		if err := json.Unmarshal(raw, &args.pathID); err != nil || args.pathID < 1 {
			return arguments{}, &argError{arg: spec.PathArgument, reason: "must be a positive integer, got " + string(raw)}
		}
		delete(args.body, spec.PathArgument)
	}

	for _, name := range spec.DockerFlagArguments {
		raw, ok := args.body[name]
		if !ok || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) {
			continue
		}
		var flags string
		if err := json.Unmarshal(raw, &flags); err != nil {
			return arguments{}, &argError{arg: name, reason: err.Error()}
		}
		env, err := ParseDockerFlags(flags)
		if err != nil {
			return arguments{}, &argError{arg: name, reason: err.Error()}
		}
		if args.body[name], err = json.Marshal(env); err != nil {
			return arguments{}, &argError{arg: name, reason: err.Error()}
		}
	}
	return args, nil
}

// decodeBody fills a generated request type. Unknown fields are refused so
// that nothing the caller sent is silently dropped.
func (a arguments) decodeBody(into any) error {
	data, err := json.Marshal(a.body)
	if err != nil {
		return &argError{reason: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return describeDecodeError(err)
	}
	return nil
}

func describeDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &argError{arg: typeErr.Field, reason: fmt.Sprintf("must be %s, got a JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &argError{arg: strings.Trim(name, `"`), reason: "unknown argument"}
	}
	return &argError{reason: err.Error()}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "float64":
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
