package mcp

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
)

func TestConfirmationStateIsSingleUseBoundAndExpiring(t *testing.T) {
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	spec := specNamed("create_instance")
	image, other := "img", "other-img"
	shownCall := &createInstanceCall{OfferID: 1, CreateInstanceJSONRequestBody: gen.CreateInstanceRequest{Image: &image}}
	changedCall := &createInstanceCall{OfferID: 1, CreateInstanceJSONRequestBody: gen.CreateInstanceRequest{Image: &other}}
	ctx := context.Background()

	now := time.Unix(1_700_000_000, 0)
	cf, err := newConfirmer(nil, nil)
	require.NoError(t, err)
	cf.now = func() time.Time { return now }
	ask := func(c operation) string {
		_, digest, err := exactRequest(ctx, spec, vast, c)
		require.NoError(t, err)
		state, err := cf.ask(digest)
		require.NoError(t, err)
		return state
	}
	answer := func(state string, c operation) *mcpgo.CallToolResult {
		req := mcpgo.CallToolRequest{}
		req.Params.RequestState = state
		req.Params.InputResponses = mcpgo.InputResponses{confirmInputID: mcpgo.NewElicitationInputResponse(mcpgo.ElicitationResult{
			ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}},
		})}
		return cf.confirm(ctx, spec, req, vast, c, "")
	}
	errorText := func(r *mcpgo.CallToolResult) string {
		require.NotNil(t, r, "expected a refusal")
		require.True(t, r.IsError)
		return r.Content[0].(mcpgo.TextContent).Text
	}

	state := ask(shownCall)
	id, _, ok := cf.sealed.open(state)
	require.True(t, ok)
	raw, err := base64.RawURLEncoding.DecodeString(id)
	require.NoError(t, err)
	assert.Len(t, raw, 16, "128 random bits")
	assert.Nil(t, answer(state, shownCall), "approved")
	assert.Contains(t, errorText(answer(state, shownCall)), "already used", "a confirmation is single-use")

	assert.Contains(t, errorText(answer("00112233445566778899aabbccddeeff", shownCall)), "unknown", "a forged state is refused")

	state = ask(shownCall)
	assert.Contains(t, errorText(answer(state, changedCall)), "arguments changed")
	assert.Contains(t, errorText(answer(state, shownCall)), "already used", "a refused redemption still spends the state")

	state = ask(shownCall)
	now = now.Add(confirmTTL + time.Second)
	assert.Contains(t, errorText(answer(state, shownCall)), "expired")
}
