package mcp_test

import (
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

func listed(t *testing.T, g *mcp.Guardrails) []string {
	t.Helper()
	c, _ := connectFake(t, mcp.Options{Guardrails: g}, fakeapi.Fixture(t, "common/401"))
	list, err := c.ListTools(t.Context(), mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// --toolsets and --read-only decide what is listed; --tools narrows it.
func TestToolsetsAndReadOnlyDecideWhatIsListed(t *testing.T) {
	tests := []struct {
		name string
		g    *mcp.Guardrails
		want []string
	}{
		{"default: all", nil, mcp.ToolNames()},
		{"serverless", &mcp.Guardrails{Toolsets: []string{"serverless"}},
			[]string{"create_endpoint", "create_workergroup", "show_endpoints", "show_workergroups", "show_endpoint_workers", "delete_endpoint", "delete_workergroup"}},
		{"instances and account", &mcp.Guardrails{Toolsets: []string{"instances", "account"}},
			[]string{"create_instance", "show_instances", "show_instance", "wait_for_instance", "show_user", "stop_instance", "start_instance", "destroy_instance"}},
		{"search", &mcp.Guardrails{Toolsets: []string{"search"}}, []string{"search_offers", "search_templates"}},
		{"read-only", &mcp.Guardrails{ReadOnly: true},
			[]string{"search_offers", "search_templates", "show_instances", "show_instance", "wait_for_instance", "show_endpoints",
				"show_workergroups", "show_endpoint_workers", "show_user"}},
		{"read-only serverless", &mcp.Guardrails{ReadOnly: true, Toolsets: []string{"serverless"}},
			[]string{"show_endpoints", "show_workergroups", "show_endpoint_workers"}},
		{"--tools narrows the toolsets", &mcp.Guardrails{Toolsets: []string{"instances"}, Tools: []string{"show_instance", "create_endpoint"}},
			[]string{"show_instance"}},
		{"--tools narrows read-only", &mcp.Guardrails{ReadOnly: true, Tools: []string{"create_instance", "show_user"}}, []string{"show_user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ElementsMatch(t, tt.want, listed(t, tt.g))
		})
	}
	assert.ElementsMatch(t, []string{"account", "instances", "search", "serverless"}, mcp.Toolsets())
}

// A tool that read-only mode or the toolsets leave out cannot be called
// either, and nothing is sent.
func TestToolsLeftOutCannotBeCalled(t *testing.T) {
	for _, g := range []*mcp.Guardrails{{ReadOnly: true}, {Toolsets: []string{"search"}}} {
		c, api := connectFake(t, mcp.Options{Guardrails: g}, fakeapi.Fixture(t, "endpoint/200"))
		_, err := c.CallTool(t.Context(), toolRequest("create_endpoint", `{"endpoint_name": "e"}`))
		assert.Error(t, err)
		assert.Empty(t, api.Requests())
	}
	c, api := connectFake(t, mcp.Options{Guardrails: &mcp.Guardrails{ReadOnly: true}}, fakeapi.Fixture(t, "user/200"))
	res := call(t, c, "show_user", `{}`)
	assert.False(t, res.IsError, text(t, res))
	assert.Len(t, api.Requests(), 1)
}

// Reads are retried after a transient failure (creates never are), and
// never wait for a human, whatever --confirm says.
func TestReadsAreRetriedAndNeverConfirmed(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/502_html"), fakeapi.Fixture(t, "user/200"))
	c := connect(t, retryingConfig(api.URL), mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmAll}})
	res := call(t, c, "show_user", `{}`)
	require.False(t, res.IsError, text(t, res))
	assert.Contains(t, text(t, res), "Account 123456")
	assert.Len(t, api.Requests(), 2, "retried once after the 502")
}

func retryingConfig(url string) gen.Config {
	return gen.Config{APIKey: testKey, BaseURL: url, ServerlessURL: url, Retry: gen.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}}
}
