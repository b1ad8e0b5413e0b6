package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// Failures every read can meet: a read changed nothing, so it is always
// safe to call again.
var readCommonOutcomes = map[string]want{
	"common/200_success_false": {isError: true, contains: []string{"HTTP 200 with success=false", "auth_error", "check VAST_API_KEY"}},
	"common/401":               {isError: true, contains: []string{"HTTP 401", "auth_error", "check VAST_API_KEY"}},
	"common/429_detail":        {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/429_text":          {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/429_retry_after":   {isError: true, contains: []string{"HTTP 429", "wait 10 s"}},
	"common/502_html":          {isError: true, contains: []string{"HTTP 502", "A read changes nothing: it is safe to call again"}},
}

// readCases replay every read tool against its operation's fixtures and
// the common failures, asserting the exact request.
var readCases = []struct {
	tool   string
	dir    string
	args   string
	method string
	path   string
	query  url.Values // nil: none
	body   string     // "": none
	// outcomes: for each fixture of dir, what the agent sees.
	outcomes map[string]want
}{
	{
		tool: "search_offers", dir: "offers",
		args:   `{"gpu_name": {"in": ["RTX 4090"]}, "gpu_ram": {"gte": 24}, "cpu_ram": {"gte": 32}, "dph_total": {"lte": 0.5}, "order": [["dph_total", "asc"]]}`,
		method: http.MethodPost, path: "/api/v0/bundles/",
		body: `{"gpu_name": {"in": ["RTX 4090"]}, "gpu_ram": {"gte": 24000}, "cpu_ram": {"gte": 32000}, "dph_total": {"lte": 0.5}, "order": [["dph_total", "asc"]],
			"limit": 10, "verified": {"eq": true}, "rentable": {"eq": true}, "rented": {"eq": false}, "external": {"eq": false}}`,
		outcomes: map[string]want{
			"offers/200": {contains: []string{"Offers (id is create_instance's offer_id", "1 offers"},
				structured: map[string]any{"offers": []any{map[string]any{"id": 12345678.0, "gpu_name": "Imaginary RTX 9999", "num_gpus": 4.0, "gpu_ram": 24576.0,
					"dph_total": 0.234567, "reliability": 0.9999, "geolocation": "Atlantis, AT", "disk_space": 2048.5, "inet_down": 9876.5, "inet_up": 8765.4, "cuda_max_good": 11.2}}}},
			// Fields the tool does not show, in types the spec does not give them.
			"offers/200_drift": {contains: []string{"1 offers"}},
			"offers/400":       {isError: true, contains: []string{"HTTP 400", "Invalid json body"}},
		},
	},
	{
		tool: "search_templates", dir: "templates",
		args:   `{"name": "vLLM"}`,
		method: http.MethodGet, path: "/api/v0/template/",
		query: url.Values{"select_filters": {`{"name":{"eq":"vLLM"}}`}, "select_cols": {`["id","hash_id","name","image"]`}},
		outcomes: map[string]want{
			"templates/200": {contains: []string{"template_hash_id"},
				structured: map[string]any{"templates_found": 1.0, "templates": []any{map[string]any{"id": 123.0, "hash_id": "4e17788f74f075dd9aab7d0d4427968f", "name": "vLLM", "image": "vllm/vllm-openai"}}}},
			"templates/400": {isError: true, contains: []string{"HTTP 400", "select_filters is not valid JSON"}},
		},
	},
	{
		tool: "show_instances", dir: "instances",
		args:   `{"status": "running", "label": "ML Training Job 2025"}`,
		method: http.MethodGet, path: "/api/v1/instances/",
		query: url.Values{"limit": {"25"}, "select_filters": {`{"actual_status":{"eq":"running"},"label":{"eq":"ML Training Job 2025"}}`}},
		outcomes: map[string]want{
			"instances/200_last": {contains: []string{"Instances (actual_status", "1 instances", "Ages: 313 ", "d."},
				structured: map[string]any{"instances": []any{map[string]any{"id": 313.0, "label": "second page", "actual_status": "running", "gpu_name": "RTX 4090",
					"num_gpus": 1.0, "dph_total": 0.8021, "image_uuid": "nvidia/cuda:11.0.3-devel-ubuntu18.04", "start_date": 1668804745.1223178}}}},
			// Every page names a next one: pages followed to the bound.
			"instances/200": {contains: []string{"4 instances"}},
			"instances/400": {isError: true, contains: []string{"HTTP 400", "dph_total is not a valid search key"}},
		},
	},
	{
		tool: "show_instance", dir: "instance_show",
		args:   `{"instance_id": 883}`,
		method: http.MethodGet, path: "/api/v0/instances/883/",
		outcomes: map[string]want{
			"instance_show/200":         {contains: []string{`Instance 883 is "running"`, "bills per hour"}},
			"instance_show/200_loading": {contains: []string{`Instance 883 is "loading"`, "wait_for_instance", "will never run"}},
			"instance_show/200_exited":  {contains: []string{`Instance 883 is "exited"`, "will not reach running", "stop polling"}},
			"instance_show/200_offline": {contains: []string{`Instance 883 is "offline"`, "stop polling"}},
			"instance_show/200_unknown": {contains: []string{`Instance 883 is "unknown"`, "stop polling"}},
			"instance_show/200_created": {contains: []string{"being created", "wait_for_instance"}},
			"instance_show/400":         {isError: true, contains: []string{"HTTP 400", "Invalid instance ID"}},
		},
	},
	{
		tool: "wait_for_instance", dir: "instance_show",
		args:   `{"instance_id": 883, "timeout_seconds": 1}`,
		method: http.MethodGet, path: "/api/v0/instances/883/",
		outcomes: map[string]want{
			"instance_show/200":         {contains: []string{`Instance 883 is "running"`}},
			"instance_show/200_loading": {contains: []string{`Still "loading" after 0s`, "call wait_for_instance again"}},
			"instance_show/200_exited":  {contains: []string{`Instance 883 is "exited"`, "stop polling"}},
			"instance_show/200_offline": {contains: []string{`Instance 883 is "offline"`, "stop polling"}},
			"instance_show/200_unknown": {contains: []string{`Instance 883 is "unknown"`, "stop polling"}},
			"instance_show/200_created": {contains: []string{"Still not yet reported"}},
			"instance_show/400":         {isError: true, contains: []string{"HTTP 400", "Invalid instance ID"}},
		},
	},
	{
		tool: "show_endpoints", dir: "endpoints",
		args:   `{}`,
		method: http.MethodGet, path: "/api/v0/endptjobs/",
		outcomes: map[string]want{
			"endpoints/200": {contains: []string{"Endpoints", "vLLM-Qwen3-8B"},
				structured: map[string]any{"results": []any{map[string]any{"id": 123.0, "endpoint_name": "vLLM-Qwen3-8B", "endpoint_state": "active", "min_load": 0.0,
					"target_util": 0.9, "cold_mult": 2.5, "cold_workers": 5.0, "max_workers": 20.0}}}},
			"endpoints/400": {isError: true, contains: []string{"HTTP 400", "No endpoints for user found"}},
		},
	},
	{
		tool: "show_workergroups", dir: "workergroups",
		args:   `{}`,
		method: http.MethodGet, path: "/api/v0/workergroups/",
		outcomes: map[string]want{
			"workergroups/200": {contains: []string{"Workergroups", "abc123def456"}},
			"workergroups/400": {isError: true, contains: []string{"HTTP 400", "bad request"}},
		},
	},
	{
		tool: "show_endpoint_workers", dir: "endpoint_workers",
		args:   `{"id": 1234}`,
		method: http.MethodPost, path: "/get_endpoint_workers/",
		body: `{"id": 1234}`,
		outcomes: map[string]want{
			"endpoint_workers/200": {contains: []string{"Workers of endpoint 1234"},
				structured: map[string]any{"workers": []any{map[string]any{"id": 67890.0, "status": "running", "created_at": "2023-10-01T12:00:00Z", "url": "http://192.168.1.10:8000"}}}},
		},
	},
	{
		tool: "show_user", dir: "user",
		args:   `{}`,
		method: http.MethodGet, path: "/api/v0/users/current",
		outcomes: map[string]want{
			"user/200": {contains: []string{"Account 123456: balance 42.5 $."}, structured: map[string]any{"id": 123456.0, "balance": 42.5}},
			"user/500": {isError: true, contains: []string{"HTTP 500", "safe to call again"}},
		},
	},
}

func TestEveryReadAgainstEveryCannedResponse(t *testing.T) {
	for _, tc := range readCases {
		names := append(fakeapi.All(t, tc.dir), fakeapi.All(t, "common")...)
		for _, name := range names {
			expected, ok := tc.outcomes[name]
			if !ok {
				expected, ok = readCommonOutcomes[name]
			}
			require.True(t, ok, "fixture %s has no expected outcome for %s", name, tc.tool)

			t.Run(tc.tool+"/"+name, func(t *testing.T) {
				c, api := connectFake(t, mcp.Options{Sleep: noSleep}, fakeapi.Fixture(t, name))
				res := call(t, c, tc.tool, tc.args)

				reqs := api.Requests()
				require.NotEmpty(t, reqs)
				for i, req := range reqs {
					assert.Equal(t, tc.method, req.Method)
					assert.Equal(t, tc.path, req.Path)
					assert.Equal(t, "Bearer "+testKey, req.Header.Get("Authorization"))
					query, err := url.ParseQuery(req.Query)
					require.NoError(t, err)
					switch {
					case i > 0:
						// Later pages: TestShowInstancesFollowsPagesUpToTheBound.
					case tc.query == nil:
						assert.Empty(t, query)
					default:
						assert.Equal(t, tc.query, query)
					}
					if tc.body == "" {
						assert.Empty(t, req.Body)
					} else {
						assert.JSONEq(t, tc.body, string(req.Body))
					}
				}
				switch {
				case name == "instances/200":
					assert.Len(t, reqs, 4, "pages followed up to the bound")
				case tc.tool != "wait_for_instance":
					assert.Len(t, reqs, 1, "one request per read")
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
				if expected.structured != nil {
					assert.Equal(t, expected.structured, structured(t, res))
				}
				assertMatchesOutputSchema(t, tc.tool, res)
				assertNoCredential(t, got)
			})
		}
	}
}

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// Credential values the fixtures and the spec's examples hold; none may
// reach an agent.
var credentialValues = regexp.MustCompile(`your_api_key_here|hf_secret|session-secret|apikey-secret|AAAAsecret|53fc448d6644aa7535c6fa5498cdbedc782753e88d81b44090e54dcf1332ed30|df77e27085bd4b3bd5d9024bdefb9e6df614b27adb0689e9d8f066fce5e01f0c`)

func assertNoCredential(t *testing.T, s string) {
	t.Helper()
	assert.False(t, credentialValues.MatchString(s), "a credential reached the agent: %s", credentialValues.FindString(s))
}

func TestShowInstancesFollowsPagesUpToTheBound(t *testing.T) {
	t.Run("until the last page", func(t *testing.T) {
		c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instances/200"), fakeapi.Fixture(t, "instances/200_last"))
		res := call(t, c, "show_instances", `{}`)
		require.False(t, res.IsError, text(t, res))
		reqs := api.Requests()
		require.Len(t, reqs, 2)
		assert.Equal(t, "limit=25", reqs[0].Query)
		q, err := url.ParseQuery(reqs[1].Query)
		require.NoError(t, err)
		assert.Equal(t, url.Values{"limit": {"25"}, "after_token": {"eyJ2YWx1ZXMiOiB7ImlkIjogMTIzfX0="}}, q)
		ids := []any{}
		for _, inst := range structured(t, res)["instances"].([]any) {
			ids = append(ids, inst.(map[string]any)["id"])
		}
		assert.Equal(t, []any{312.0, 313.0}, ids)
		assertMatchesOutputSchema(t, "show_instances", res)
	})
	t.Run("bounded", func(t *testing.T) {
		// Every page names a next one: the tool stops at its bound.
		c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instances/200"))
		res := call(t, c, "show_instances", `{}`)
		require.False(t, res.IsError, text(t, res))
		assert.Len(t, api.Requests(), 4)
		assert.Len(t, structured(t, res)["instances"], 4)
	})
}

// Bad input is refused with the argument named, and nothing is sent.
func TestBadReadArgumentsAreRefusedBeforeAnyRequest(t *testing.T) {
	tests := []struct {
		tool, args string
		want       []string
	}{
		{"search_offers", `{"gpu_ram": {"gte": 24000}}`, []string{"gpu_ram.gte", "GB", "looks like MB", "give 24"}},
		{"search_offers", `{"gpu_total_ram": {"gte": 80000}}`, []string{"gpu_total_ram.gte", "looks like MB"}},
		{"search_offers", `{"cpu_ram": {"lte": 64000}}`, []string{"cpu_ram.lte", "looks like MB"}},
		{"search_offers", `{"gpu_ram": {"gte": -1}}`, []string{"gpu_ram.gte", "negative"}},
		{"search_offers", `{"limit": -1}`, []string{"limit"}},
		{"search_offers", `{"limit": 0}`, []string{"limit"}},
		{"search_offers", `{"limit": 500}`, []string{"limit"}},
		{"search_offers", `{"limit": "ten"}`, []string{"limit"}},
		{"search_offers", `{"gpu_vram": {"gte": 24}}`, []string{"gpu_vram"}},
		{"search_offers", `{"gpu_ram": {"atleast": 24}}`, []string{"atleast"}},
		{"search_offers", `{"gpu_ram": {"gte": "24GB"}}`, []string{"gpu_ram"}},
		{"search_offers", `{"gpu_ram": 24}`, []string{"gpu_ram"}},
		{"search_offers", `{"verified": true}`, []string{"verified"}},
		{"search_offers", `{"type": "spot"}`, []string{"type"}},
		{"search_offers", `{"order": [["dph_total"]]}`, []string{"order"}},
		{"search_offers", `{"bw_nvlink": {"gte": 1}}`, []string{"bw_nvlink"}},
		{"search_templates", `{"name": 7}`, []string{"name"}},
		{"search_templates", `{"select_filters": "{}"}`, []string{"select_filters"}},
		{"show_instances", `{"status": "sleeping"}`, []string{"status"}},
		{"show_instances", `{"after_token": "x"}`, []string{"after_token"}},
		{"show_instance", `{}`, []string{"instance_id"}},
		{"show_instance", `{"instance_id": -3}`, []string{"instance_id"}},
		{"show_instance", `{"instance_id": "883"}`, []string{"instance_id"}},
		{"wait_for_instance", `{"instance_id": 883, "timeout_seconds": 0}`, []string{"timeout_seconds"}},
		{"show_endpoint_workers", `{}`, []string{"id"}},
		{"show_endpoint_workers", `{"id": 0}`, []string{"id"}},
		{"show_user", `{"api_key": "x"}`, []string{"api_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.tool+"/"+tt.args, func(t *testing.T) {
			c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "common/401"))
			res := call(t, c, tt.tool, tt.args)
			got := text(t, res)
			assert.True(t, res.IsError, got)
			for _, s := range tt.want {
				assert.Contains(t, got, s)
			}
			assert.Empty(t, api.Requests(), "nothing is sent")
		})
	}
}

// progressLog records the progress notifications a client receives.
type progressLog struct {
	mu       sync.Mutex
	messages []string
	tokens   []any
}

func (p *progressLog) record(n mcpgo.JSONRPCNotification) {
	if n.Method != "notifications/progress" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.messages = append(p.messages, n.Params.AdditionalFields["message"].(string))
	p.tokens = append(p.tokens, n.Params.AdditionalFields["progressToken"])
}

func (p *progressLog) seen() ([]string, []any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.messages...), append([]any(nil), p.tokens...)
}

func waitRequest(args string) mcpgo.CallToolRequest {
	req := toolRequest("wait_for_instance", args)
	req.Params.Meta = &mcpgo.Meta{ProgressToken: "wait-1"}
	return req
}

func connectWaiting(t *testing.T, opts mcp.Options, fixtures ...string) (*client.Client, *fakeapi.Server, *progressLog) {
	t.Helper()
	var handlers []http.Handler
	for _, f := range fixtures {
		handlers = append(handlers, fakeapi.Fixture(t, f))
	}
	c, api := connectFake(t, opts, handlers...)
	log := &progressLog{}
	c.OnNotification(log.record)
	return c, api, log
}

func TestWaitForInstancePollsUntilRunningWithProgress(t *testing.T) {
	var slept []time.Duration
	var mu sync.Mutex
	sleep := func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		slept = append(slept, d)
		return ctx.Err()
	}
	c, api, log := connectWaiting(t, mcp.Options{Sleep: sleep}, "instance_show/200_created", "instance_show/200_loading", "instance_show/200")
	res, err := c.CallTool(t.Context(), waitRequest(`{"instance_id": 883}`))
	require.NoError(t, err)
	got := text(t, res)
	require.False(t, res.IsError, got)
	assert.True(t, strings.HasPrefix(got, `Instance 883 is "running"`), got)
	assert.Len(t, api.Requests(), 3)
	assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second}, slept)
	assertMatchesOutputSchema(t, "wait_for_instance", res)

	require.Eventually(t, func() bool { m, _ := log.seen(); return len(m) == 3 }, 5*time.Second, 10*time.Millisecond)
	messages, tokens := log.seen()
	assert.Equal(t, []string{"instance 883: not yet reported", `instance 883: "loading"`, `instance 883: "running"`}, messages)
	assert.Equal(t, []any{"wait-1", "wait-1", "wait-1"}, tokens)
}

func TestWaitForInstanceStopsAtAStateThatNeverRuns(t *testing.T) {
	c, api, _ := connectWaiting(t, mcp.Options{Sleep: noSleep}, "instance_show/200_loading", "instance_show/200_exited")
	res := call(t, c, "wait_for_instance", `{"instance_id": 883}`)
	assert.Contains(t, text(t, res), "will not reach running from exited")
	assert.Len(t, api.Requests(), 2, "no poll after exited: it never runs from there")
}

func TestWaitForInstanceIsBoundedByTheOperator(t *testing.T) {
	tests := []struct {
		name     string
		maxWait  time.Duration
		args     string
		requests int
		waited   string
	}{
		{"default 50 s", 0, `{"instance_id": 883}`, 11, `Still "loading" after 50s (the most this call waits is 50s)`},
		{"operator's most", 20 * time.Second, `{"instance_id": 883}`, 5, "after 20s (the most this call waits is 20s)"},
		{"an agent may ask for less", 20 * time.Second, `{"instance_id": 883, "timeout_seconds": 10}`, 3, "after 10s"},
		{"but not for more", 20 * time.Second, `{"instance_id": 883, "timeout_seconds": 600}`, 5, "after 20s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := mcp.Options{Sleep: noSleep, Guardrails: &mcp.Guardrails{MaxWait: tt.maxWait}}
			c, api, _ := connectWaiting(t, opts, "instance_show/200_loading")
			res := call(t, c, "wait_for_instance", tt.args)
			assert.False(t, res.IsError)
			assert.Contains(t, text(t, res), tt.waited)
			assert.Len(t, api.Requests(), tt.requests)
		})
	}
}

func TestWaitForInstanceStopsWhenTheClientCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	polls := 0
	var mu sync.Mutex
	// The client gives up during the second wait; a real sleep would then
	// end early with the context's error.
	sleep := func(ctx context.Context, _ time.Duration) error {
		mu.Lock()
		polls++
		n := polls
		mu.Unlock()
		if n == 2 {
			cancel()
			<-ctx.Done()
		}
		return ctx.Err()
	}
	c, api, _ := connectWaiting(t, mcp.Options{Sleep: sleep}, "instance_show/200_loading")
	_, err := c.CallTool(ctx, waitRequest(`{"instance_id": 883}`))
	_ = err // the in-process client may report the cancellation or the result
	assert.Len(t, api.Requests(), 2, "no poll after the client cancelled")
}

// In the sandbox the wait takes no real time, and every read answers.
func TestEveryReadAnswersInTheSandboxAndInADryRun(t *testing.T) {
	sandbox := connect(t, gen.Config{APIKey: "sandbox", HTTPClient: &http.Client{Transport: mcp.SandboxTransport()}}, mcp.Options{Sandbox: true})
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/401"))
	dry := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, ServerlessURL: api.URL, DryRun: true}, mcp.Options{})
	for _, tc := range readCases {
		t.Run(tc.tool+"/sandbox", func(t *testing.T) {
			start := time.Now()
			res := call(t, sandbox, tc.tool, tc.args)
			got := text(t, res)
			require.False(t, res.IsError, got)
			assert.Contains(t, got, "[sandbox")
			assert.Equal(t, true, res.Meta.AdditionalFields[mcp.MetaSandbox])
			assertMatchesOutputSchema(t, tc.tool, res)
			assertNoCredential(t, got)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
		t.Run(tc.tool+"/dry-run", func(t *testing.T) {
			res := call(t, dry, tc.tool, tc.args)
			got := text(t, res)
			require.False(t, res.IsError, got)
			assert.Equal(t, mcp.OutcomeDryRun, res.Meta.AdditionalFields[mcp.MetaOutcome])
			shown := structured(t, res)["dry_run"].(map[string]any)
			assert.Equal(t, tc.method, shown["method"])
			u, err := url.Parse(shown["url"].(string))
			require.NoError(t, err)
			assert.Equal(t, tc.path, u.Path)
			if tc.body != "" {
				body, _ := json.Marshal(shown["body"])
				assert.JSONEq(t, tc.body, string(body))
			}
			assertMatchesOutputSchema(t, tc.tool, res)
		})
	}
	assert.Empty(t, api.Requests(), "a dry run sends nothing")
}

// show_endpoint_workers goes to the serverless host, not the API's.
func TestEndpointWorkersGoToTheServerlessHost(t *testing.T) {
	serverless := fakeapi.New(t, fakeapi.Fixture(t, "endpoint_workers/200"))
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/401"))
	c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, ServerlessURL: serverless.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}}, mcp.Options{})
	res := call(t, c, "show_endpoint_workers", `{"id": 1234}`)
	require.False(t, res.IsError, text(t, res))
	assert.Empty(t, api.Requests())
	require.Len(t, serverless.Requests(), 1)
	assert.Equal(t, "/get_endpoint_workers/", serverless.Requests()[0].Path)
}

// Answers drift from the spec: a field of an unexpected type does not fail
// the call. One the tool does not show is ignored; one it shows is left
// out rather than break the output schema.
func TestReadsDecodeLeniently(t *testing.T) {
	c, _ := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance_show/200_created"))
	res := call(t, c, "show_instance", `{"instance_id": 883}`)
	require.False(t, res.IsError, text(t, res))
	instance := structured(t, res)["instances"].(map[string]any)
	assert.NotContains(t, instance, "ssh_port", "a string where the spec says integer is left out")
	assert.Equal(t, "ssh2281.vast.ai", instance["ssh_host"])
	assertMatchesOutputSchema(t, "show_instance", res)

	c, _ = connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "offers/200_drift"))
	res = call(t, c, "search_offers", `{}`)
	require.False(t, res.IsError, text(t, res))
	assert.Len(t, structured(t, res)["offers"], 1)
}
