package mcp

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// looksLikeCredential matches response field names that hold, or may
// hold, a credential: keys, tokens, secrets, passwords, session ids, and
// environment values (users put their tokens there).
var looksLikeCredential = regexp.MustCompile(`(?i)(^|_)(api_?key|key|token|secret|passw(or)?d|sid|session|cookie|credentials?|ssh_key)$|jupyter_token|extra_env|^env$|onstart|login`)

// credentialFields walks a response schema and lists the names of every
// property, at any depth, that looks like a credential.
func credentialFields(s *openapi3.Schema, seen map[*openapi3.Schema]bool) []string {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	var names []string
	for name, p := range s.Properties {
		if looksLikeCredential.MatchString(name) {
			names = append(names, name)
		}
		names = append(names, credentialFields(p.Value, seen)...)
	}
	if s.Items != nil {
		names = append(names, credentialFields(s.Items.Value, seen)...)
	}
	if s.AdditionalProperties.Schema != nil {
		names = append(names, credentialFields(s.AdditionalProperties.Schema.Value, seen)...)
	}
	for _, group := range [][]*openapi3.SchemaRef{s.OneOf, s.AnyOf, s.AllOf} {
		for _, ref := range group {
			names = append(names, credentialFields(ref.Value, seen)...)
		}
	}
	return names
}

// schemaNames lists every property name of a JSON Schema, at any depth.
func schemaNames(v any) []string {
	var names []string
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			for name := range props {
				names = append(names, name)
			}
		}
		for _, child := range v {
			names = append(names, schemaNames(child)...)
		}
	case []any:
		for _, child := range v {
			names = append(names, schemaNames(child)...)
		}
	}
	return names
}

// withCredentials puts every name, holding marker, into every object of v.
func withCredentials(v any, names []string, marker string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			v[k] = withCredentials(child, names, marker)
		}
		for _, name := range names {
			v[name] = marker + "-" + name
		}
	case []any:
		for i, child := range v {
			v[i] = withCredentials(child, names, marker)
		}
	}
	return v
}

// No credential the API returns reaches an agent: for every operation a
// tool uses, every response field whose name looks like a credential is
// absent from the tool's output schema (unless marked x-vast-sensitive,
// withheld unless the operator opts in), and never in a result, even when
// the API sends it in every object of the answer.
func TestNoCredentialTheAPIReturnsReachesTheAgent(t *testing.T) {
	doc, err := util.LoadSwaggerWithOverlay("../openapi.yaml", util.LoadSwaggerWithOverlayOpts{Path: "../overlay.yaml", Strict: true})
	require.NoError(t, err)
	var all []string
	for _, spec := range toolSpecs {
		op := doc.Paths.Find(spec.Path).GetOperation(spec.Method)
		require.NotNil(t, op, spec.Name)
		var names []string
		for _, response := range op.Responses.Map() {
			for _, media := range response.Value.Content {
				if media.Schema != nil {
					names = append(names, credentialFields(media.Schema.Value, map[*openapi3.Schema]bool{})...)
				}
			}
		}
		all = append(all, names...)

		var output any
		require.NoError(t, json.Unmarshal([]byte(spec.OutputSchema), &output))
		shown := schemaNames(output)
		for _, name := range names {
			if slices.Contains(spec.Sensitive, name) {
				continue
			}
			assert.NotContains(t, shown, name, "%s's output schema offers the credential %s", spec.Name, name)
		}

		reply := slices.IndexFunc(sandboxReplies, func(r sandboxReply) bool { return r.Method == spec.Method && r.Path == spec.Path })
		require.GreaterOrEqual(t, reply, 0, spec.Name)
		var answer any
		require.NoError(t, json.Unmarshal([]byte(sandboxReplies[reply].Body), &answer))
		if answer == nil {
			answer = map[string]any{}
		}
		credentials := append(slices.Clone(names), "api_key", "jupyter_token", "extra_env", "instance_api_key", "sid", "ssh_key", "onstart", "env")
		body, err := json.Marshal(withCredentials(answer, credentials, "CREDENTIAL"))
		require.NoError(t, err)
		result, err := present(&spec, body, map[string]any{"instance_id": json.Number("1"), "offer_id": json.Number("1"), "id": json.Number("1")}, Options{})
		require.NoError(t, err, spec.Name)
		out, err := json.Marshal(result)
		require.NoError(t, err)
		assert.NotContains(t, string(out), "CREDENTIAL", "%s shows a credential", spec.Name)
	}
	// The walk found the credentials the issue names; a spec that renamed
	// them would leave this test proving nothing.
	for _, want := range []string{"api_key", "jupyter_token", "extra_env", "instance_api_key", "sid", "ssh_key"} {
		assert.Contains(t, all, want)
	}
	t.Logf("credential-like response fields: %s", strings.Join(slices.Compact(slices.Sorted(slices.Values(all))), ", "))
}

// Compact by design: ten offers, each ~100 fields as the API sends them,
// reach the agent as a few KB: the fields a choice needs, in the text and
// in structuredContent.
func TestTenOffersAreAFewKB(t *testing.T) {
	spec := specNamed("search_offers")
	reply := slices.IndexFunc(sandboxReplies, func(r sandboxReply) bool { return r.Path == spec.Path })
	var answer map[string][]any
	require.NoError(t, json.Unmarshal([]byte(sandboxReplies[reply].Body), &answer))
	offer := answer["offers"][0]
	answer["offers"] = slices.Repeat([]any{offer}, 10)
	body, err := json.Marshal(answer)
	require.NoError(t, err)
	result, err := present(spec, body, map[string]any{}, Options{})
	require.NoError(t, err)
	out, err := json.Marshal(result)
	require.NoError(t, err)
	t.Logf("ten offers: %d bytes from the API, %d bytes to the agent", len(body), len(out))
	assert.Less(t, len(out), 6000)
	assert.Greater(t, len(body), 20000)
	text := result.Content[0].(mcpgo.TextContent).Text
	assert.True(t, strings.HasPrefix(text, "Offers (id is create_instance's offer_id"), "the text leads with what the agent acts on")
}
