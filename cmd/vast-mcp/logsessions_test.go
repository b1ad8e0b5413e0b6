package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// The lines mcp-go writes name session ids in attributes and in error
// text; none reaches the log, and the rest of each line does.
func TestSessionIDsNeverReachTheLog(t *testing.T) {
	const id = "2RTONK62T4J54QVSJJW7C5FOLP"
	tests := []struct {
		name string
		log  func(*slog.Logger)
		keep string
	}{
		{"session attribute", func(l *slog.Logger) { l.Info("Delivered sampling response", "session", id, "request", 1) }, "request=1"},
		{"sessionID attribute", func(l *slog.Logger) { l.Warn("failed to terminate session", "sessionID", id) }, "failed to terminate session"},
		{"in an error", func(l *slog.Logger) {
			l.Error("Failed", "err", fmt.Errorf("notification channel blocked for session %s: %w", id, errors.New("full")))
		}, "blocked for session [REDACTED]: full"},
		{"in a message", func(l *slog.Logger) { l.Info("session: " + id + " swept") }, "session: [REDACTED] swept"},
		{"in a group", func(l *slog.Logger) { l.Info("x", slog.Group("g", "note", "Session-Id="+id)) }, `g.note="Session-Id=[REDACTED]"`},
		{"added to the logger", func(l *slog.Logger) { l.With("session", id).Info("x") }, "session=[REDACTED]"},
		{"words only", func(l *slog.Logger) { l.Error("x", "err", errors.New("missing session ID")) }, "missing session ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.log(slog.New(sessionsUnnamed{slog.NewTextHandler(&out, nil)}))
			assert.NotContains(t, out.String(), id)
			assert.Contains(t, out.String(), tt.keep)
		})
	}
}

// End to end: a confirmation answered over streamable HTTP, which mcp-go
// logs with the session's id.
func TestHTTPConfirmationLogsNoSessionID(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance_show/200"), fakeapi.Fixture(t, "destroy/200"))
	env := map[string]string{"VAST_API_KEY": "vk-TESTKEY-0b7e-DO-NOT-LEAK"}
	t.Setenv("VAST_API_KEY", env["VAST_API_KEY"])
	cfg := &config{transport: "http", baseURL: api.URL, timeout: 5 * time.Second, confirm: confirmValue(mcp.ConfirmDestructive),
		env: func(k string) string { return env[k] }}
	base, logs := serveForTest(t, cfg)
	ctx := context.Background()
	tr, err := transport.NewStreamableHTTP(base + "/mcp")
	require.NoError(t, err)
	c := client.NewClient(tr, client.WithElicitationHandler(approve{}))
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() { _ = c.Close() })
	init := inprocess.InitializeRequest()
	init.Params.ProtocolVersion = "2025-06-18"
	init.Params.Capabilities.Elicitation = &mcpgo.ElicitationCapability{}
	_, err = c.Initialize(ctx, init)
	require.NoError(t, err)
	res, err := c.CallTool(ctx, mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: "destroy_instance", Arguments: map[string]any{"instance_id": 883}}})
	require.NoError(t, err)
	require.False(t, res.IsError, callText(res)+"\n"+logs.String())
	session := tr.GetSessionId()
	require.NotEmpty(t, session)
	// mcp-go writes it once the answer is handed on, which may be after the call returns.
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "Delivered sampling response") },
		5*time.Second, 10*time.Millisecond, "the line that named the session is still written")
	assert.NotContains(t, logs.String(), session)
}

type approve struct{}

func (approve) Elicit(context.Context, mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	return &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}}, nil
}
