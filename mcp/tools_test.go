package mcp_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// want is what the agent must see for one canned API response.
type want struct {
	isError    bool
	contains   []string       // substrings of the text content
	structured map[string]any // structuredContent, for successes
}

// Failures every operation can meet, and what the agent is told to do.
var commonOutcomes = map[string]want{
	"common/200_success_false": {isError: true, contains: []string{"HTTP 200 with success=false", "auth_error", "Invalid user key", "check VAST_API_KEY"}},
	"common/401":               {isError: true, contains: []string{"HTTP 401", "auth_error", "check VAST_API_KEY", "Nothing was created"}},
	"common/429_detail":        {isError: true, contains: []string{"HTTP 429", "threshold=4.0", "wait 10 s"}},
	"common/429_text":          {isError: true, contains: []string{"HTTP 429", "API requests too frequent", "wait 10 s"}},
	"common/429_retry_after":   {isError: true, contains: []string{"HTTP 429", "HTTPTooManyRequests", "wait 10 s"}},
	"common/502_html":          {isError: true, contains: []string{"HTTP 502", "502 Bad Gateway", "may or may not have happened", "check the Vast.ai console"}},
}

var toolCases = []struct {
	tool     string
	dir      string
	args     string
	method   string
	path     string
	body     string
	outcomes map[string]want
}{
	{
		tool:   "create_endpoint",
		dir:    "endpoint",
		args:   `{"endpoint_name": "llm", "max_workers": 4, "target_util": 0.8}`,
		method: http.MethodPost, path: "/api/v0/endptjobs/",
		body: `{"endpoint_name": "llm", "max_workers": 4, "target_util": 0.8}`,
		outcomes: map[string]want{
			"endpoint/200": {contains: []string{`Created endpoint 1234 ("llm")`}, structured: map[string]any{"success": true, "result": 1234.0}},
			"endpoint/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect", "--base-url"}},
			"endpoint/400": {isError: true, contains: []string{"HTTP 400", "invalid_args", "max_workers must be", "Correct the argument"}},
			"endpoint/403": {isError: true, contains: []string{"HTTP 403", "forbidden", "may not do this"}},
		},
	},
	{
		tool:   "create_workergroup",
		dir:    "workergroup",
		args:   `{"endpoint_name": "llm", "template_hash": "4e17788f", "gpu_ram": 24}`,
		method: http.MethodPost, path: "/api/v0/workergroups/",
		body: `{"endpoint_name": "llm", "template_hash": "4e17788f", "gpu_ram": 24}`,
		outcomes: map[string]want{
			"workergroup/200_id":     {contains: []string{`Created workergroup 789 for endpoint "llm"`}, structured: map[string]any{"success": true, "id": 789.0}},
			"workergroup/200_result": {contains: []string{`Created workergroup 789`}, structured: map[string]any{"success": true, "id": 789.0, "result": 789.0}},
			"workergroup/200_no_id":  {isError: true, contains: []string{"may or may not have happened", "check the Vast.ai console"}},
			"workergroup/301":        {isError: true, contains: []string{"HTTP 301", "never follows a redirect"}},
			"workergroup/400":        {isError: true, contains: []string{"HTTP 400", "valid endpoint identifier"}},
		},
	},
	{
		tool:   "create_instance",
		dir:    "instance",
		args:   `{"offer_id": 4242, "image": "vllm/vllm-openai:latest", "disk": 32, "env": "-e HF_TOKEN=hf_x -p 8000:8000"}`,
		method: http.MethodPut, path: "/api/v0/asks/4242/",
		body: `{"image": "vllm/vllm-openai:latest", "disk": 32, "env": {"HF_TOKEN": "hf_x", "-p 8000:8000": "1"}}`,
		outcomes: map[string]want{
			"instance/200":                     {contains: []string{"Created instance 12345678 from offer 4242", "instance_api_key withheld"}, structured: map[string]any{"success": true, "new_contract": 12345678.0}},
			"instance/200_seed":                {contains: []string{"Created instance 1234568 from offer 4242"}, structured: map[string]any{"success": true, "new_contract": 1234568.0}},
			"instance/301":                     {isError: true, contains: []string{"HTTP 301", "never follows a redirect"}},
			"instance/400_invalid_args":        {isError: true, contains: []string{"HTTP 400", "invalid_args", "valid offer ID"}},
			"instance/400_invalid_price":       {isError: true, contains: []string{"invalid_price", "minimum bid"}},
			"instance/400_no_ssh_key_for_vm":   {isError: true, contains: []string{"no_ssh_key_for_vm", "Add an SSH key"}},
			"instance/400_insufficient_credit": {isError: true, contains: []string{"insufficient_credit", "Add credit"}},
			"instance/403":                     {isError: true, contains: []string{"HTTP 403", "not your own"}},
			"instance/404":                     {isError: true, contains: []string{"HTTP 404", "no_such_ask", "Offer 4242 is gone", "another offer_id"}},
			"instance/410":                     {isError: true, contains: []string{"HTTP 410", "no longer available", "another offer_id"}},
		},
	},
}

func TestEveryToolAgainstEveryCannedResponse(t *testing.T) {
	for _, tc := range toolCases {
		names := append(fakeapi.All(t, tc.dir), fakeapi.All(t, "common")...)
		for _, name := range names {
			expected, ok := tc.outcomes[name]
			if !ok {
				expected, ok = commonOutcomes[name]
			}
			require.True(t, ok, "fixture %s has no expected outcome for %s", name, tc.tool)

			t.Run(tc.tool+"/"+name, func(t *testing.T) {
				c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, name))
				res := call(t, c, tc.tool, tc.args)

				// Exactly one request per call; a create whose outcome is
				// unknown is followed by reads only (settling it).
				reqs := api.Requests()
				require.NotEmpty(t, reqs)
				assert.Equal(t, tc.method, reqs[0].Method)
				assert.Equal(t, tc.path, reqs[0].Path)
				assert.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
				assert.JSONEq(t, tc.body, string(reqs[0].Body))
				for _, r := range reqs[1:] {
					assert.NotEqual(t, tc.method+" "+tc.path, r.Method+" "+r.Path, "sent twice")
				}
				if outcomeOf(res) != mcp.OutcomeUnknown {
					assert.Len(t, reqs, 1, "exactly one request per call")
				}

				got := text(t, res)
				assert.Equal(t, expected.isError, res.IsError, got)
				for _, s := range expected.contains {
					assert.Contains(t, got, s)
				}
				assert.NotContains(t, got, testKey)
				if expected.isError {
					assert.Nil(t, res.StructuredContent)
					return
				}
				assert.Equal(t, expected.structured, structured(t, res))
				assertMatchesOutputSchema(t, tc.tool, res)
			})
		}
	}
}

func TestInstanceAPIKeyIsShownOnlyWhenEnabled(t *testing.T) {
	const args = `{"offer_id": 1, "image": "img"}`
	c, _ := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance/200"))
	res := call(t, c, "create_instance", args)
	assert.NotContains(t, structured(t, res), "instance_api_key")
	assert.NotContains(t, text(t, res), "inst-key-3f9c2a7d0b1e")

	c, _ = connectFake(t, mcp.Options{ExposeInstanceKey: true}, fakeapi.Fixture(t, "instance/200"))
	res = call(t, c, "create_instance", args)
	assert.Equal(t, "inst-key-3f9c2a7d0b1e", structured(t, res)["instance_api_key"])
}

func TestImageIsNotSentWithOnlyATemplate(t *testing.T) {
	c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance/200"))
	res := call(t, c, "create_instance", `{"offer_id": 7, "template_hash_id": "4e17788f"}`)
	require.False(t, res.IsError, text(t, res))
	assert.JSONEq(t, `{"template_hash_id": "4e17788f"}`, string(api.Requests()[0].Body))
}

func TestEnvAsAnObjectIsSentAsIs(t *testing.T) {
	c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance/200"))
	res := call(t, c, "create_instance", `{"offer_id": 7, "image": "img", "env": {"A": "1", "-p 22:22": "1"}}`)
	require.False(t, res.IsError, text(t, res))
	assert.JSONEq(t, `{"image": "img", "env": {"A": "1", "-p 22:22": "1"}}`, string(api.Requests()[0].Body))
}

// Vast's docs tell agents to set these; whether the service reads them per
// workergroup is disputed, so they are sent exactly as given, never refused.
func TestDocumentedWorkergroupFieldsReachTheAPIAsGiven(t *testing.T) {
	const args = `{"endpoint_name": "e", "template_hash": "h", "test_workers": 3, "target_util": 0.8, "cold_mult": 2, "min_load": 1, "cold_workers": 0}`
	c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "workergroup/200_id"))
	res := call(t, c, "create_workergroup", args)
	require.False(t, res.IsError, text(t, res))
	assert.JSONEq(t, args, string(api.Requests()[0].Body))
}
