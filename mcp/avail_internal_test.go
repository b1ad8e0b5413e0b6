package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// absentHuman is a client whose user never answers: it reports each
// question and waits until the server gives up on it.
type absentHuman struct{ asked chan struct{} }

func (h absentHuman) Elicit(ctx context.Context, _ mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	h.asked <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A client that predates multi round-trip requests is asked with a
// server-initiated elicitation; the wait for its human ends after the time
// limit, or when the server stops, and then nothing is sent.
func TestAnOlderClientsConfirmationWaitIsBounded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name  string
		wait  time.Duration
		event func(*Shutdown) // once the human was asked
		want  string
	}{
		{"no answer in time", 50 * time.Millisecond, func(*Shutdown) {}, "no answer from the human within 50ms; nothing was sent"},
		{"the server stops", time.Hour, func(s *Shutdown) { s.Begin(time.Hour) }, "confirmation did not arrive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := confirmWait
			t.Cleanup(func() { confirmWait = saved })
			confirmWait = tt.wait

			api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
			vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.URL})
			require.NoError(t, err)
			shutdown := NewShutdown()
			h := absentHuman{asked: make(chan struct{}, 1)}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := inprocess.Connect(ctx, NewServer(vast, Options{Shutdown: shutdown, Guardrails: &Guardrails{Confirm: ConfirmAll}}),
				inprocess.Options{Protocol: "2025-06-18", Elicitation: h})
			require.NoError(t, err)
			defer c.Close()

			go func() {
				<-h.asked
				tt.event(shutdown)
			}()
			res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "create_instance", Arguments: json.RawMessage(`{"offer_id": 1, "image": "img"}`)}})
			require.NoError(t, err)
			require.True(t, res.IsError)
			assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, tt.want)
			assert.Contains(t, res.Content[0].(mcpgo.TextContent).Text, "nothing was sent")
			assert.Empty(t, api.Requests())
		})
	}
}

// Past MaxCallsInFlight a call is refused at once, and sends nothing.
func TestCallsPastTheBoundAreRefusedAtOnce(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	gate := newCallGate(Options{MaxCallsInFlight: 2})
	slow := gate.middleware(func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		entered <- struct{}{}
		<-release
		return mcpgo.NewToolResultText("done"), nil
	})
	var req mcpgo.CallToolRequest
	req.Params.Name = "create_endpoint"
	results := make(chan *mcpgo.CallToolResult, 2)
	for range 2 {
		go func() {
			r, _ := slow(context.Background(), req)
			results <- r
		}()
		<-entered
	}
	refused, err := slow(context.Background(), req)
	require.NoError(t, err)
	require.True(t, refused.IsError)
	assert.Contains(t, refused.Content[0].(mcpgo.TextContent).Text, "already running 2 calls")
	close(release)
	for range 2 {
		assert.False(t, (<-results).IsError)
	}
	again, _ := slow(context.Background(), req)
	assert.False(t, again.IsError, "a slot is free again")
}

// The shutdown log names the tool and the new id, and nothing the API
// answered besides: not the instance's key, not a failure's text.
func TestShutdownLogLineHoldsNoCredential(t *testing.T) {
	key := "ik-SECRET-DO-NOT-LEAK"
	created := withOutcome(&mcpgo.CallToolResult{StructuredContent: map[string]any{"new_contract": 4242.0, "instance_api_key": key}}, OutcomeDone, Options{})
	tests := []struct {
		name   string
		result *mcpgo.CallToolResult
		want   []any
	}{
		{"created", created, []any{"tool", "create_instance", "outcome", "created", "id", "4242"}},
		{"failed", mcpgo.NewToolResultError("create_instance failed: the API said " + key),
			[]any{"tool", "create_instance", "outcome", "failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := finishedDuringShutdown("create_instance", tt.result, nil)
			assert.Equal(t, tt.want, attrs[:len(tt.want)])
			assert.NotContains(t, fmt.Sprint(attrs...), key)
		})
	}
}
