package mcp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestSandboxAnswersEveryToolAndSaysSo(t *testing.T) {
	c := connect(t, gen.Config{APIKey: "sandbox", HTTPClient: &http.Client{Transport: mcp.SandboxTransport()}}, mcp.Options{Sandbox: true})
	for tool, args := range map[string]string{
		"create_endpoint":    `{"endpoint_name": "e"}`,
		"create_workergroup": `{"endpoint_name": "e", "template_hash": "h"}`,
		"create_instance":    `{"offer_id": 4242, "image": "img"}`,
	} {
		t.Run(tool, func(t *testing.T) {
			res := call(t, c, tool, args)
			require.False(t, res.IsError, text(t, res))
			assert.Contains(t, text(t, res), "[sandbox")
			require.NotNil(t, res.Meta)
			assert.Equal(t, true, res.Meta.AdditionalFields[mcp.MetaSandbox])
			assert.Equal(t, true, structured(t, res)["success"])
			assertMatchesOutputSchema(t, tool, res)
		})
	}
	// Validation still applies in the sandbox.
	res := call(t, c, "create_instance", `{"offer_id": 1, "image": "img", "price": 999}`)
	assert.True(t, res.IsError)
}

func TestDryRunReturnsTheExactRequestAndSendsNothing(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, DryRun: true}, mcp.Options{})
	res := call(t, c, "create_instance", `{"offer_id": 4242, "image": "img", "env": "-e A=1"}`)

	got := text(t, res)
	assert.False(t, res.IsError, got)
	assert.Empty(t, api.Requests())
	assert.Equal(t, true, res.Meta.AdditionalFields[mcp.MetaDryRun])
	assert.NotContains(t, got, testKey)

	_, shown, ok := strings.Cut(got, "would send:\n")
	require.True(t, ok, got)
	var req struct {
		Method  string              `json:"method"`
		URL     string              `json:"url"`
		Headers map[string][]string `json:"headers"`
		Body    json.RawMessage     `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(shown), &req))
	assert.Equal(t, req.URL, structured(t, res)["dry_run"].(map[string]any)["url"], "the same request as structuredContent")
	assertMatchesOutputSchema(t, "create_instance", res)
	assert.Equal(t, http.MethodPut, req.Method)
	assert.Equal(t, api.URL+"/api/v0/asks/4242/", req.URL)
	assert.Equal(t, []string{gen.Redacted}, req.Headers["Authorization"])
	assert.JSONEq(t, `{"image": "img", "env": {"A": "1"}}`, string(req.Body))
}

func TestMissingKeySaysHowToProvideIt(t *testing.T) {
	t.Setenv("VAST_API_KEY", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
	c := connect(t, gen.Config{BaseURL: api.URL}, mcp.Options{})

	res := call(t, c, "create_endpoint", `{"endpoint_name": "e"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, text(t, res), "VAST_API_KEY")
	assert.Contains(t, text(t, res), "nothing was sent")
	assert.Empty(t, api.Requests())
}

func TestUnknownToolIsAProtocolError(t *testing.T) {
	c, _ := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "endpoint/200"))
	_, err := c.CallTool(t.Context(), toolRequest("create_volume", `{}`))
	assert.Error(t, err, "an unknown tool is the client's mistake, not the model's")
}
