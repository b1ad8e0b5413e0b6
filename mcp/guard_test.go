package mcp_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestToolAllowlistListsAndServesOnlyTheNamedTools(t *testing.T) {
	c, api := connectFake(t, mcp.Options{Guardrails: &mcp.Guardrails{Tools: []string{"create_endpoint"}}}, fakeapi.Fixture(t, "endpoint/200"))
	list, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	require.Len(t, list.Tools, 1)
	assert.Equal(t, "create_endpoint", list.Tools[0].Name)

	_, err = c.CallTool(context.Background(), toolRequest("create_instance", `{"offer_id": 1, "image": "img"}`))
	assert.Error(t, err, "a tool off the allowlist does not exist for the client")
	assert.Empty(t, api.Requests())
}

func TestCapsRefuseAndNameTheCap(t *testing.T) {
	caps := &mcp.Guardrails{MaxWorkers: 4, MaxPrice: 1.5, MaxDisk: 100, Images: []string{"vllm/vllm-openai:latest", "pytorch/pytorch:*"}}
	tests := []struct {
		name, tool, args string
		want             []string
	}{
		{"endpoint max_workers over", "create_endpoint", `{"max_workers": 5}`, []string{"max_workers 5 is over the cap of 4", "--max-workers 4"}},
		{"endpoint max_workers omitted", "create_endpoint", `{"endpoint_name": "e"}`, []string{"max_workers is required", "--max-workers 4"}},
		{"endpoint cold_workers over", "create_endpoint", `{"max_workers": 4, "cold_workers": 9}`, []string{"cold_workers 9 is over the cap of 4"}},
		{"workergroup max_workers over", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "max_workers": 50}`, []string{"max_workers 50 is over the cap of 4"}},
		{"workergroup max_workers omitted", "create_workergroup", `{"endpoint_id": 1, "template_id": 2}`, []string{"max_workers is required"}},
		{"bid over the price cap", "create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest", "disk": 20, "price": 2}`, []string{"price 2 $/hour is over the cap of 1.5", "--max-price 1.5"}},
		{"disk over", "create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest", "disk": 500}`, []string{"disk 500 GB is over the cap of 100 GB", "--max-disk 100"}},
		{"disk omitted", "create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest"}`, []string{"disk is required"}},
		{"image not listed", "create_instance", `{"offer_id": 1, "image": "evil/miner:latest", "disk": 20}`, []string{`image "evil/miner:latest" is not on the operator's list`, "--allow-image"}},
		{"exact entry is not a prefix", "create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest-evil", "disk": 20}`, []string{"not on the operator's list"}},
		{"template without image", "create_instance", `{"offer_id": 1, "template_hash_id": "abc", "disk": 20}`, []string{"image is required", "template's image cannot be checked"}},
		{"workergroup launch_args image not listed", "create_workergroup", `{"endpoint_id": 1, "search_params": "gpu_name=RTX_4090", "max_workers": 1, "launch_args": "--image evil/miner --disk 20"}`, []string{`launch_args: image "evil/miner" is not on the operator's list`}},
		{"workergroup launch_args disk over", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "max_workers": 1, "launch_args": "--disk=5000"}`, []string{"launch_args: disk 5000 GB is over the cap of 100 GB"}},
		{"workergroup launch_args bid over", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "max_workers": 1, "launch_args": "--bid_price 9"}`, []string{"launch_args: price 9 $/hour is over the cap of 1.5"}},
		{"workergroup launch_args template", "create_workergroup", `{"endpoint_id": 1, "search_params": "x", "max_workers": 1, "launch_args": "--template_hash abc"}`, []string{"launch_args --template_hash names a template"}},
		{"workergroup launch_args unreadable", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "max_workers": 1, "launch_args": "--image 'unclosed"}`, []string{"launch_args cannot be checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := connectFake(t, mcp.Options{Guardrails: caps}, fakeapi.Fixture(t, "instance/200"))
			res := call(t, c, tt.tool, tt.args)
			got := text(t, res)
			require.True(t, res.IsError, got)
			assert.Contains(t, got, tt.tool+" refused")
			assert.Contains(t, got, "no tool argument can change it")
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			assert.Empty(t, api.Requests(), "nothing is sent over a cap")
		})
	}

	withCommands := *caps
	withCommands.AllowCommands = true
	within := []struct {
		tool, args, fixture string
		caps                *mcp.Guardrails
	}{
		{"create_endpoint", `{"max_workers": 4, "cold_workers": 4}`, "endpoint/200", caps},
		{"create_workergroup", `{"endpoint_id": 1, "search_params": "x", "max_workers": 1, "launch_args": "--image pytorch/pytorch:2.5"}`, "workergroup/200_id", caps},
		{"create_workergroup", `{"endpoint_id": 1, "search_params": "x", "max_workers": 1, "launch_args": "--ima pytorch/pytorch:2.5 --dis=50 --env '-e A=1' --create-volume 3 --volume-size 100"}`, "workergroup/200_id", caps},
		{"create_workergroup", `{"endpoint_id": 1, "template_id": 2, "max_workers": 1, "launch_args": "--image pytorch/pytorch:2.5 --disk 50 --onstart-cmd 'echo hi'"}`, "workergroup/200_id", &withCommands},
		{"create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest", "disk": 100, "price": 1.5}`, "instance/200", caps},
		{"create_instance", `{"offer_id": 1, "image": "vllm/vllm-openai:latest", "disk": 100, "volume_info": {"create_new": true, "volume_id": 3, "size": 100}}`, "instance/200", caps},
		{"create_instance", `{"offer_id": 1, "image": "pytorch/pytorch:2.5-cuda12", "template_hash_id": "abc", "disk": 8, "onstart": "echo hi"}`, "instance/200", &withCommands},
	}
	for _, tt := range within {
		t.Run("within caps "+tt.tool, func(t *testing.T) {
			c, api := connectFake(t, mcp.Options{Guardrails: tt.caps}, fakeapi.Fixture(t, tt.fixture))
			res := call(t, c, tt.tool, tt.args)
			assert.False(t, res.IsError, text(t, res))
			assert.Len(t, api.Requests(), 1)
		})
	}
}

func TestCapsAreToldToAgentsInTheDescription(t *testing.T) {
	tools := mcp.Tools(nil, mcp.Options{Guardrails: &mcp.Guardrails{MaxWorkers: 3, MaxPrice: 2, Images: []string{"ubuntu:*"}, Confirm: mcp.ConfirmAll}})
	for _, tool := range tools {
		if *tool.Tool.Annotations.ReadOnlyHint {
			// Reads spend nothing: no cap applies and nobody confirms them.
			assert.NotContains(t, tool.Tool.Description, "Operator limits:", tool.Tool.Name)
			continue
		}
		assert.Contains(t, tool.Tool.Description, "Operator limits:")
		assert.Contains(t, tool.Tool.Description, "a human confirms each call")
		if tool.Tool.Name == "create_instance" {
			assert.Contains(t, tool.Tool.Description, "price at most 2 $/hour")
			assert.Contains(t, tool.Tool.Description, "ubuntu:*")
			assert.Contains(t, tool.Tool.Description, "onstart, args, args_str and template_hash_id are refused")
		} else if strings.HasPrefix(tool.Tool.Name, "create_") {
			assert.Contains(t, tool.Tool.Description, "max_workers is required and at most 3")
		}
		if tool.Tool.Name == "create_workergroup" {
			assert.Contains(t, tool.Tool.Description, "launch_args --image is required")
		}
	}
}

// human answers elicitation requests as a person at the client would, and
// remembers what it was shown.
type human struct {
	mu     sync.Mutex
	answer mcpgo.ElicitationResponse
	shown  []string
}

func (h *human) Elicit(_ context.Context, req mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shown = append(h.shown, req.Params.Message)
	return &mcpgo.ElicitationResult{ElicitationResponse: h.answer}, nil
}

func connectWithHuman(t *testing.T, h *human, protocol string) (*client.Client, *fakeapi.Server) {
	t.Helper()
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	vast, err := gen.New(gen.Config{APIKey: testKey, BaseURL: api.URL})
	require.NoError(t, err)
	o := inprocess.Options{Protocol: protocol}
	if h != nil {
		o.Elicitation = h
	}
	c, err := inprocess.Connect(context.Background(), mcp.NewServer(vast, mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmAll}}), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, api
}

func TestConfirmAsksTheHumanFirst(t *testing.T) {
	const args = `{"offer_id": 4242, "image": "img", "price": 0.5}`
	accept := mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}
	tests := []struct {
		name     string
		answer   mcpgo.ElicitationResponse
		wantSent bool
		want     string
	}{
		{"accepted", accept, true, "Created instance 12345678"},
		{"declined", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}, false, "the human declined; nothing was sent"},
		{"cancelled", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionCancel}, false, "cancelled the confirmation; nothing was sent"},
		{"accepted without approving", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": false}}, false, "declined"},
	}
	// The same flow over the multi round-trip protocol and the older
	// server-initiated elicitation.
	for _, protocol := range []string{mcpgo.LATEST_PROTOCOL_VERSION, "2025-06-18"} {
		for _, tt := range tests {
			t.Run(protocol+"/"+tt.name, func(t *testing.T) {
				h := &human{answer: tt.answer}
				c, api := connectWithHuman(t, h, protocol)
				res := call(t, c, "create_instance", args)
				got := text(t, res)
				assert.Contains(t, got, tt.want)
				assert.Equal(t, !tt.wantSent, res.IsError, got)
				if tt.wantSent {
					assert.Len(t, api.Requests(), 1)
				} else {
					assert.Empty(t, api.Requests())
				}

				require.Len(t, h.shown, 1, "the human is asked once")
				shown := h.shown[0]
				assert.Contains(t, shown, "PUT "+api.URL+"/api/v0/asks/4242/")
				assert.Contains(t, shown, "{\n  \"image\": \"img\",\n  \"price\": 0.5\n}")
				assert.NotContains(t, shown, testKey)
			})
		}
	}
}

func TestConfirmWithoutElicitationSendsNothing(t *testing.T) {
	c, api := connectWithHuman(t, nil, mcpgo.LATEST_PROTOCOL_VERSION)
	res := call(t, c, "create_instance", `{"offer_id": 1, "image": "img"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, text(t, res), "cannot ask its user")
	assert.Empty(t, api.Requests())
}

func TestConfirmShowsTheRequestInFull(t *testing.T) {
	h := &human{answer: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}}
	c, _ := connectWithHuman(t, h, mcpgo.LATEST_PROTOCOL_VERSION)
	call(t, c, "create_instance", `{"offer_id": 1, "image": "img", "env": "-e TOKEN=abc -p 80:80"}`)
	require.Len(t, h.shown, 1)
	assert.True(t, strings.Contains(h.shown[0], "\"env\": {\n    \"-p 80:80\": \"1\",\n    \"TOKEN\": \"abc\"\n  }"), h.shown[0])
}
