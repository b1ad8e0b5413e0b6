package mcp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// --max-workers bounds every count of workers a call can start, each
// refused with nothing sent.
func TestMaxWorkersBoundsEveryWorkerCount(t *testing.T) {
	opts := mcp.Options{Guardrails: &mcp.Guardrails{MaxWorkers: 2}}
	for name, args := range map[string]string{
		"test_workers": `{"endpoint_name": "e", "search_params": "x", "max_workers": 1, "test_workers": 500}`,
		"cold_workers": `{"endpoint_name": "e", "search_params": "x", "max_workers": 1, "cold_workers": 3}`,
		"max_workers":  `{"endpoint_name": "e", "search_params": "x", "max_workers": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, api := connectFake(t, opts, fakeapi.Fixture(t, "workergroup/200_id"))
			res := call(t, c, "create_workergroup", args)
			require.True(t, res.IsError)
			assert.Contains(t, text(t, res), name+" ")
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Empty(t, api.Requests())
		})
	}
}

// A proxy's 408 or 499 can come after it passed the create on: the outcome
// is unknown, never "safe to call again".
func TestProxyTimeoutsLeaveTheOutcomeUnknown(t *testing.T) {
	for _, fixture := range []string{"proxy/408", "proxy/499", "common/502_html"} {
		t.Run(fixture, func(t *testing.T) {
			c, _ := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, fixture))
			res := call(t, c, "create_endpoint", `{"endpoint_name": "e"}`)
			require.True(t, res.IsError)
			assert.Equal(t, mcp.OutcomeUnknown, outcomeOf(res), text(t, res))
			assert.NotContains(t, text(t, res), "safe to call again")
		})
	}
}

// Every result says in _meta what happened, refusals included: the ones
// mcp-go's schema validation makes, and a human's no.
func TestEveryRefusalCarriesAnOutcome(t *testing.T) {
	c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "workergroup/200_id"))
	res := call(t, c, "create_workergroup", `{"endpoint_name": "e", "search_params": "x", "cold_workers": -5}`)
	require.True(t, res.IsError)
	assert.Equal(t, mcp.OutcomeInvalid, outcomeOf(res))
	assert.Empty(t, api.Requests())

	h := &human{answer: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}}
	for _, protocol := range []string{"2025-06-18", mcpgo.LATEST_PROTOCOL_VERSION} {
		c, api := connectWithHuman(t, h, protocol)
		res := call(t, c, "create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest"}`)
		require.True(t, res.IsError, protocol)
		assert.Equal(t, mcp.OutcomeNotSent, outcomeOf(res), protocol)
		assert.Empty(t, api.Requests())
	}
}

// An env object can say no more than the flag string: a port mapping's
// value is "1", never more flags.
func TestEnvPortMappingsCarryNothingElse(t *testing.T) {
	c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance/200"))
	res := call(t, c, "create_instance", `{"offer_id": 1, "image": "img", "env": {"-p 8000:8000": "1 --privileged -v /:/host"}}`)
	require.True(t, res.IsError)
	assert.Contains(t, text(t, res), `port mapping's value must be "1"`)
	assert.Empty(t, api.Requests())
}

// A sandbox create answers one id, in every field that carries it.
func TestSandboxCreatesAnswerOneID(t *testing.T) {
	c := connect(t, gen.Config{APIKey: testKey, HTTPClient: sandboxClient()}, mcp.Options{Sandbox: true})
	got := structured(t, call(t, c, "create_workergroup", `{"endpoint_name": "e", "search_params": "x"}`))
	if result, ok := got["result"]; ok {
		assert.Equal(t, got["id"], result)
	}
}

// The spend ceiling fails closed when the account's answers drift: a price
// that cannot be read, a cursor of the wrong type, a list item that is not
// an object. Nothing is created (found in review).
func TestSpendCeilingFailsClosedOnDriftingAnswers(t *testing.T) {
	offer := `{"offers": [{"id": 42, "dph_total": 0.2, "machine_id": 5}]}`
	for name, list := range map[string]string{
		"price as text":         `{"instances": [{"id": 1, "actual_status": "running", "dph_total": "5.0"}]}`,
		"price null":            `{"instances": [{"id": 1, "actual_status": "running", "dph_total": null}]}`,
		"price missing":         `{"instances": [{"id": 1, "actual_status": "running"}]}`,
		"a numeric cursor":      `{"instances": [{"id": 1, "actual_status": "running", "dph_total": 0.1}], "next_token": 2}`,
		"an item not an object": `{"instances": [{"id": 1, "actual_status": "running", "dph_total": 0.1}, "x"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			var creates atomic.Int32
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.Method == http.MethodGet:
					_, _ = io.WriteString(w, list)
				case r.Method == http.MethodPost:
					_, _ = io.WriteString(w, offer)
				default:
					creates.Add(1)
					_, _ = io.WriteString(w, `{"success": true, "new_contract": 7}`)
				}
			}))
			t.Cleanup(api.Close)
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}},
				mcp.Options{Guardrails: &mcp.Guardrails{MaxHourlySpend: 1, MaxInstances: 5}})
			res := call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`)
			require.True(t, res.IsError, text(t, res))
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Zero(t, creates.Load())
		})
	}
}
