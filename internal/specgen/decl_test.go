package main

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func declared(t *testing.T, src string) declaration {
	t.Helper()
	var d declaration
	require.NoError(t, json.Unmarshal([]byte(src), &d))
	return d
}

// What the generator cannot translate into a working tool is refused at
// generate time, naming the declaration.
func TestDeclarationsThatCannotWorkAreRefused(t *testing.T) {
	hooks := map[string]bool{"prepareX": true, "noteX": true}
	base := `"name": "show_x", "title": "X", "description": "d", "kind": "read", "toolset": "s", "result": {"line": "x"}`
	tests := []struct {
		name, extra, want string
	}{
		{"extra without a hook to use it", `, "extra": {"a": {"type": "string", "description": "d"}}`, "need a prepare or handler hook"},
		{"extra without a description", `, "extra": {"a": {"type": "string"}}, "hooks": {"prepare": "prepareX"}`, "needs a description"},
		{"extra of an untranslated type", `, "extra": {"a": {"type": "object", "description": "d"}}, "hooks": {"prepare": "prepareX"}`, "not translated"},
		{"an unknown hook kind", `, "hooks": {"present": "noteX"}`, "want one of"},
		{"a hook that does not exist", `, "hooks": {"note": "noteY"}`, "does not declare"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := declared(t, "{"+base+tt.extra+"}")
			err := d.validate(hooks)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "show_x")
		})
	}
	ok := declared(t, "{"+base+`, "extra": {"a": {"type": "string", "description": "d"}}, "hooks": {"prepare": "prepareX", "note": "noteX"}}`)
	assert.NoError(t, ok.validate(hooks))
}

// accept narrows what is offered, keeps path parameters, and refuses a
// name the operation does not have; extra arguments join the offer.
func TestAcceptAndExtraShapeTheInput(t *testing.T) {
	op := &openapi3.Operation{Parameters: openapi3.Parameters{
		{Value: &openapi3.Parameter{Name: "id", In: "path", Required: true, Schema: openapi3.NewIntegerSchema().NewRef()}},
		{Value: &openapi3.Parameter{Name: "limit", In: "query", Schema: openapi3.NewIntegerSchema().NewRef()}},
		{Value: &openapi3.Parameter{Name: "select_filters", In: "query", Schema: openapi3.NewStringSchema().NewRef()}},
	}}
	o := &operation{HasQuery: true}

	d := declared(t, `{"arguments": {"id": "thing_id"}, "accept": ["limit"], "extra": {"label": {"type": "string", "description": "d"}}}`)
	input, err := inputSchema(d, o, op)
	require.NoError(t, err)
	props := input["properties"].(map[string]any)
	assert.ElementsMatch(t, []string{"thing_id", "limit", "label"}, keys(props))
	assert.Equal(t, []string{"thing_id"}, input["required"])

	d = declared(t, `{"accept": []}`)
	input, err = inputSchema(d, o, op)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"id"}, keys(input["properties"].(map[string]any)), "path parameters are always offered")

	_, err = inputSchema(declared(t, `{"accept": ["limt"]}`), o, op)
	assert.ErrorContains(t, err, "accept names limt")
	_, err = inputSchema(declared(t, `{"extra": {"limit": {"type": "integer", "description": "d"}}}`), o, op)
	assert.ErrorContains(t, err, "collides")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A tool declared without result.show or result.hide cannot show a field
// that looks like a credential: the generator refuses it.
func TestShownCredentialsAreRefusedAtGenerateTime(t *testing.T) {
	schema := func(inner map[string]any) map[string]any {
		return map[string]any{"type": "object", "properties": map[string]any{
			"success": map[string]any{"type": "boolean"},
			"results": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": inner}},
		}}
	}
	tests := []struct {
		name      string
		inner     map[string]any
		sensitive []string
		refused   string
	}{
		{"an endpoint's api_key", map[string]any{"id": map[string]any{}, "api_key": map[string]any{}}, nil, "results[].api_key"},
		{"a jupyter_token", map[string]any{"jupyter_token": map[string]any{}}, nil, "results[].jupyter_token"},
		{"extra_env", map[string]any{"extra_env": map[string]any{}}, nil, "results[].extra_env"},
		{"marked sensitive", map[string]any{"instance_api_key": map[string]any{}}, []string{"instance_api_key"}, ""},
		{"nothing secret", map[string]any{"id": map[string]any{}, "label": map[string]any{}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := refuseCredentials(schema(tt.inner), tt.sensitive, "")
			if tt.refused == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.refused)
		})
	}
}

// A fixed value that does not fit its field would make every call fail
// with an error the caller cannot fix: refused at generate time.
func TestFixedValuesMustFitTheirField(t *testing.T) {
	state := map[string]any{"type": "string", "enum": []any{"running", "stopped"}}
	disk := map[string]any{"type": "number"}
	assert.True(t, fits("stopped", state))
	assert.False(t, fits("paused", state))
	assert.False(t, fits(1.0, state))
	assert.True(t, fits(40.0, disk))
	assert.False(t, fits("lots", disk))
}
