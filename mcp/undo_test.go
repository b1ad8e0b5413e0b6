package mcp_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// readsAnd answers the reads the undo tools make first from testdata/api/reads,
// and everything else with op.
func readsAnd(t *testing.T, op http.Handler) http.Handler {
	reads := map[string]http.Handler{
		"GET /api/v0/endptjobs/":      fakeapi.Fixture(t, "reads/show_endpoints"),
		"GET /api/v0/workergroups/":   fakeapi.Fixture(t, "reads/show_workergroups"),
		"POST /get_endpoint_workers/": fakeapi.Fixture(t, "reads/endpoint_workers"),
	}
	return fakeapi.Func(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := reads[r.Method+" "+r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v0/instances/") {
			fakeapi.Fixture(t, "reads/show_instance").ServeHTTP(w, r)
			return
		}
		op.ServeHTTP(w, r)
	})
}

// connectUndo wires the server to a fake API that also serves the
// serverless host.
func connectUndo(t *testing.T, opts mcp.Options, handlers ...http.Handler) (*client.Client, *fakeapi.Server) {
	t.Helper()
	api := fakeapi.New(t, handlers...)
	return connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, ServerlessURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}}, opts), api
}

// sent lists the requests that were not reads.
func sent(api *fakeapi.Server) []fakeapi.Request {
	var out []fakeapi.Request
	for _, r := range api.Requests() {
		if r.Method == http.MethodGet || r.Path == "/api/v0/bundles/" || r.Path == "/get_endpoint_workers/" {
			continue
		}
		out = append(out, r)
	}
	return out
}

var noConfirm = &mcp.Guardrails{Confirm: mcp.ConfirmNone}

var undoCases = []struct {
	tool, dir, args    string
	method, path, body string
	outcomes           map[string]want
}{
	{
		tool: "stop_instance", dir: "manage", args: `{"instance_id": 4242}`,
		method: http.MethodPut, path: "/api/v0/instances/4242/", body: `{"state": "stopped"}`,
		outcomes: map[string]want{
			"manage/200": {contains: []string{"Stopped instance 4242"}, structured: map[string]any{"success": true}},
			"manage/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect", "Nothing was changed"}},
			"manage/400": {isError: true, contains: []string{"HTTP 400", "Invalid state requested"}},
			"manage/404": {isError: true, contains: []string{"HTTP 404", "instance_id 4242 was not found"}},
		},
	},
	{
		tool: "start_instance", dir: "manage", args: `{"instance_id": 4242}`,
		method: http.MethodPut, path: "/api/v0/instances/4242/", body: `{"state": "running"}`,
		outcomes: map[string]want{
			"manage/200": {contains: []string{"Asked instance 4242 to start"}, structured: map[string]any{"success": true}},
			"manage/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect"}},
			"manage/400": {isError: true, contains: []string{"HTTP 400", "Invalid state requested"}},
			"manage/404": {isError: true, contains: []string{"HTTP 404", "instance_id 4242 was not found"}},
		},
	},
	{
		tool: "destroy_instance", dir: "destroy", args: `{"instance_id": 4242}`,
		method: http.MethodDelete, path: "/api/v0/instances/4242/",
		outcomes: map[string]want{
			"destroy/200": {contains: []string{"Destroyed instance 4242; its billing has stopped", `label "vast-mcp-llm"`, `1x "RTX 4090"`, "$0.8021/hour"},
				structured: map[string]any{"success": true, "msg": "Instance destroyed successfully"}},
			"destroy/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect", "Nothing was removed"}},
			"destroy/400": {isError: true, contains: []string{"HTTP 400", "invalid instance_id"}},
			"destroy/404": {contains: []string{"instance_id 4242 is already gone"}},
			"destroy/429": {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
		},
	},
	{
		tool: "delete_workergroup", dir: "delete_workergroup", args: `{"workergroup_id": 789}`,
		method: http.MethodDelete, path: "/api/v0/workergroups/789/",
		outcomes: map[string]want{
			"delete_workergroup/200": {contains: []string{"Deleted workergroup 789", "NOT destroyed", "instances 67890"},
				structured: map[string]any{"success": true, "deleted_workers": []any{}, "failed_workers": []any{}, "msg": "Workergroup deleted"}},
			"delete_workergroup/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect"}},
			"delete_workergroup/400": {isError: true, contains: []string{"HTTP 400", "Invalid autojob ID"}},
			"delete_workergroup/404": {contains: []string{"workergroup_id 789 is already gone"}},
		},
	},
	{
		tool: "delete_endpoint", dir: "delete_endpoint", args: `{"endpoint_id": 1234}`,
		method: http.MethodDelete, path: "/api/v0/endptjobs/1234/",
		outcomes: map[string]want{
			"delete_endpoint/200": {contains: []string{"Deleted endpoint 1234 and its workergroups", "with workergroups 789"},
				structured: map[string]any{"success": true, "deleted_workers": []any{}, "failed_workers": []any{}, "msg": "Endpoint group deleted"}},
			"delete_endpoint/301": {isError: true, contains: []string{"HTTP 301", "never follows a redirect"}},
			"delete_endpoint/400": {isError: true, contains: []string{"HTTP 400", "Routegroup not found"}},
		},
	},
}

// What the removals and state changes meet on every operation.
var undoCommon = map[string]want{
	"common/200_success_false": {isError: true, contains: []string{"HTTP 200 with success=false", "check VAST_API_KEY"}},
	"common/401":               {isError: true, contains: []string{"HTTP 401", "check VAST_API_KEY", "Nothing was"}},
	"common/429_detail":        {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/429_text":          {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/429_retry_after":   {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/502_html":          {isError: true, contains: []string{"HTTP 502", "may or may not have", "read the resource"}},
}

func TestUndoToolsAgainstEveryCannedResponse(t *testing.T) {
	for _, tc := range undoCases {
		for _, name := range append(fakeapi.All(t, tc.dir), fakeapi.All(t, "common")...) {
			expected, ok := tc.outcomes[name]
			if !ok && !strings.HasPrefix(name, tc.dir+"/") {
				expected, ok = undoCommon[name]
			}
			if !ok {
				continue // another tool's fixture in a shared directory
			}
			t.Run(tc.tool+"/"+name, func(t *testing.T) {
				c, api := connectUndo(t, mcp.Options{Guardrails: noConfirm}, readsAnd(t, fakeapi.Fixture(t, name)))
				res := call(t, c, tc.tool, tc.args)

				reqs := sent(api)
				require.Len(t, reqs, 1, "exactly one request that changes anything")
				assert.Equal(t, tc.method, reqs[0].Method)
				assert.Equal(t, tc.path, reqs[0].Path)
				assert.Equal(t, "Bearer "+testKey, reqs[0].Header.Get("Authorization"))
				if tc.body != "" {
					assert.JSONEq(t, tc.body, string(reqs[0].Body))
				} else {
					assert.Empty(t, reqs[0].Body)
				}

				got := text(t, res)
				assert.Equal(t, expected.isError, res.IsError, got)
				for _, s := range expected.contains {
					assert.Contains(t, got, s)
				}
				assert.NotContains(t, got, testKey)
				if expected.isError {
					return
				}
				assert.Equal(t, mcp.OutcomeDone, outcomeOf(res))
				if expected.structured != nil {
					assert.Equal(t, expected.structured, structured(t, res))
					assertMatchesOutputSchema(t, tc.tool, res)
				}
			})
		}
	}
}

// Every fixture of every undo tool has an expected outcome, so a new
// fixture cannot go unreplayed.
func TestEveryUndoFixtureIsReplayed(t *testing.T) {
	for _, tc := range undoCases {
		for _, name := range fakeapi.All(t, tc.dir) {
			_, ok := tc.outcomes[name]
			assert.True(t, ok, "%s: no expected outcome for %s", tc.tool, name)
		}
	}
}

// A 404 on a removal means it is already gone: done, not an error to retry.
func TestAlreadyGoneIsDoneForEveryRemoval(t *testing.T) {
	for _, tc := range undoCases {
		if tc.method != http.MethodDelete {
			continue
		}
		t.Run(tc.tool, func(t *testing.T) {
			c, _ := connectUndo(t, mcp.Options{Guardrails: noConfirm}, readsAnd(t, fakeapi.Fixture(t, "destroy/404")))
			res := call(t, c, tc.tool, tc.args)
			assert.False(t, res.IsError, text(t, res))
			assert.Contains(t, text(t, res), "already gone")
			assert.Equal(t, mcp.OutcomeDone, outcomeOf(res))
		})
	}
}

// net/http would follow a 301 on a DELETE or PUT as a GET; every undo tool
// refuses it instead, and nothing but the one request reaches the API.
func TestRedirectOnEveryUndoToolIsNeverFollowed(t *testing.T) {
	for _, tc := range undoCases {
		t.Run(tc.tool, func(t *testing.T) {
			c, api := connectUndo(t, mcp.Options{Guardrails: noConfirm}, readsAnd(t, fakeapi.Fixture(t, "destroy/301")))
			res := call(t, c, tc.tool, tc.args)
			assert.True(t, res.IsError)
			assert.Contains(t, text(t, res), "never follows a redirect")
			assert.NotEqual(t, mcp.OutcomeDone, outcomeOf(res))
			reqs := sent(api)
			require.Len(t, reqs, 1)
			assert.Equal(t, tc.method, reqs[0].Method)
		})
	}
}

func TestUndoToolsInDryRunSendNothing(t *testing.T) {
	for _, tc := range undoCases {
		t.Run(tc.tool, func(t *testing.T) {
			api := fakeapi.New(t, fakeapi.Fixture(t, "common/502_html"))
			// The default policy: a dry run asks nobody, since nothing is sent.
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, DryRun: true}, mcp.Options{})
			res := call(t, c, tc.tool, tc.args)
			require.False(t, res.IsError, text(t, res))
			assert.Equal(t, mcp.OutcomeDryRun, outcomeOf(res))
			dry := structured(t, res)["dry_run"].(map[string]any)
			assert.Equal(t, tc.method, dry["method"])
			assert.Equal(t, api.URL+tc.path, dry["url"])
			assert.Empty(t, api.Requests())
		})
	}
}

func TestUndoToolsInSandbox(t *testing.T) {
	for _, tc := range undoCases {
		t.Run(tc.tool, func(t *testing.T) {
			c := connect(t, gen.Config{APIKey: "sandbox", ServerlessURL: "http://127.0.0.1:1", HTTPClient: &http.Client{Transport: mcp.SandboxTransport()}},
				mcp.Options{Sandbox: true, Guardrails: noConfirm})
			res := call(t, c, tc.tool, tc.args)
			require.False(t, res.IsError, text(t, res))
			assert.Contains(t, text(t, res), "[sandbox")
			assertMatchesOutputSchema(t, tc.tool, res)
		})
	}
}

// Each create, stop, start, destroy and delete leaves one audit line: tool,
// id, outcome and $/hour where known; never a secret.
func TestEachChangeLeavesOneAuditLine(t *testing.T) {
	for _, tc := range undoCases {
		t.Run(tc.tool, func(t *testing.T) {
			var logs lockedBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			c, _ := connectUndo(t, mcp.Options{Guardrails: noConfirm, Logger: logger}, readsAnd(t, fakeapi.Fixture(t, tc.dir+"/200")))
			res := call(t, c, tc.tool, tc.args)
			require.False(t, res.IsError, text(t, res))
			var lines []string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "vast-mcp audit") {
					lines = append(lines, line)
				}
			}
			require.Len(t, lines, 1, logs.String())
			assert.Contains(t, lines[0], "tool="+tc.tool)
			assert.Contains(t, lines[0], "outcome=done")
			assert.Contains(t, lines[0], "id="+strings.Trim(strings.SplitN(tc.args, ":", 2)[1], " }"))
			if tc.tool == "destroy_instance" {
				assert.Contains(t, lines[0], "dph=0.8021")
			}
			assert.NotContains(t, logs.String(), testKey)
		})
	}
	t.Run("create_instance", func(t *testing.T) {
		var logs lockedBuffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		c, _ := connectFake(t, mcp.Options{Logger: logger}, fakeapi.Fixture(t, "instance/200"))
		res := call(t, c, "create_instance", `{"offer_id": 4242, "image": "img"}`)
		require.False(t, res.IsError, text(t, res))
		assert.Contains(t, text(t, res), "Billing has started")
		assert.Equal(t, 1, strings.Count(logs.String(), "vast-mcp audit"))
		assert.Contains(t, logs.String(), "id=12345678")
		assert.NotContains(t, logs.String(), "inst-key-3f9c2a7d0b1e", "the instance key is never logged")
	})
}

func TestUndoToolsAreListedOverStdioAndHTTPAlike(t *testing.T) {
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: "http://127.0.0.1:1"}, mcp.Options{})
	list, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	for _, tc := range undoCases {
		assert.Contains(t, names, tc.tool)
	}
}
