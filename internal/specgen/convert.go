package main

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// convert turns an OpenAPI 3.1 schema into the JSON Schema a tool declares.
// It copies the keywords it knows and fails on any other, so a constraint
// added to the spec can never be dropped from the tools without notice.
func convert(s *openapi3.Schema) (map[string]any, error) {
	var raw map[string]any
	if err := remarshal(s, &raw); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for keyword, value := range raw {
		switch keyword {
		case "type", "enum", "minimum", "maximum", "minLength", "maxLength",
			"pattern", "minItems", "maxItems", "default", "format", "deprecated":
			out[keyword] = value
		case "description":
			out[keyword] = strings.TrimSpace(s.Description)
		case "example", "examples":
			// Documentation only: the overlay's descriptions carry an example
			// an agent reads, and the seeds' examples often contradict them.
		case "required":
			out[keyword] = s.Required
		case "properties":
			properties := map[string]any{}
			for name, ref := range s.Properties {
				p, err := convert(ref.Value)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				properties[name] = p
			}
			out[keyword] = properties
		case "items":
			items, err := convert(s.Items.Value)
			if err != nil {
				return nil, fmt.Errorf("items: %w", err)
			}
			out[keyword] = items
		case "additionalProperties":
			switch ap := s.AdditionalProperties; {
			case ap.Schema != nil:
				schema, err := convert(ap.Schema.Value)
				if err != nil {
					return nil, fmt.Errorf("additionalProperties: %w", err)
				}
				out[keyword] = schema
			case ap.Has != nil:
				out[keyword] = *ap.Has
			}
		default:
			if strings.HasPrefix(keyword, "x-") {
				continue // our own annotations, read by toolFrom
			}
			return nil, fmt.Errorf("keyword %q is not translated to tool schemas; teach internal/specgen/convert.go", keyword)
		}
	}
	if _, ok := out["properties"]; !ok && s.Type.Is(openapi3.TypeObject) && s.AdditionalProperties.Schema == nil {
		out["properties"] = map[string]any{}
	}
	return out, nil
}
