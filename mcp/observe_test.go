package mcp_test

import (
	"context"
	"sync"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// reports records what the server reports, in order.
type reports struct {
	mu     sync.Mutex
	calls  []string
	events []string
}

func (r *reports) options(opts mcp.Options) mcp.Options {
	opts.OnToolCall = func(tool, outcome string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls = append(r.calls, tool+" "+outcome)
	}
	opts.OnConfirmation = func(event string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, event)
	}
	return opts
}

func TestEachToolCallReportsItsOutcome(t *testing.T) {
	tests := []struct {
		name, fixture, tool, args string
		dryRun                    bool
		want                      string
	}{
		{"created", "endpoint/200", "create_endpoint", `{"endpoint_name":"e"}`, false, "create_endpoint done"},
		{"refused by the API", "endpoint/400", "create_endpoint", `{"endpoint_name":"e"}`, false, "create_endpoint not_sent"},
		{"invalid arguments", "endpoint/200", "create_endpoint", `{"max_workers":-1}`, false, "create_endpoint invalid"},
		{"rate limited", "common/429_detail", "create_workergroup", `{"endpoint_id":1,"template_id":2}`, false, "create_workergroup not_sent"},
		{"outcome unknown", "common/502_html", "create_instance", `{"offer_id":1,"image":"i"}`, false, "create_instance unknown"},
		{"dry run", "endpoint/200", "create_endpoint", `{"endpoint_name":"e"}`, true, "create_endpoint dry_run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r reports
			api := fakeapi.New(t, fakeapi.Fixture(t, tt.fixture))
			c := connect(t, gen.Config{APIKey: testKey, BaseURL: api.URL, DryRun: tt.dryRun, Retry: gen.RetryPolicy{MaxAttempts: 1}}, r.options(mcp.Options{}))
			call(t, c, tt.tool, tt.args)
			assert.Equal(t, []string{tt.want}, r.calls)
		})
	}

	t.Run("no such tool: the caller's name never becomes a label", func(t *testing.T) {
		var r reports
		c, _ := connectFake(t, r.options(mcp.Options{}), fakeapi.Fixture(t, "endpoint/200"))
		_, err := c.CallTool(context.Background(), toolRequest("rm -rf /", `{}`))
		require.Error(t, err)
		assert.Equal(t, []string{mcp.UnknownTool + " failed"}, r.calls)
	})
}

func TestConfirmationsAskedAndRedeemedAreReported(t *testing.T) {
	var r reports
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	vast, err := gen.New(gen.Config{APIKey: testKey, BaseURL: api.URL})
	require.NoError(t, err)
	h := &human{answer: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}}
	c, err := inprocess.Connect(context.Background(), mcp.NewServer(vast, r.options(mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmAll}})), inprocess.Options{Elicitation: h})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	res := call(t, c, "create_instance", `{"offer_id": 4242, "image": "img"}`)
	require.False(t, res.IsError, text(t, res))
	assert.Equal(t, []string{mcp.ConfirmationAsked, mcp.ConfirmationRedeemed}, r.events)
	assert.Equal(t, []string{"create_instance asking", "create_instance done"}, r.calls)
}
