package mcp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
)

// With --confirm, a create first asks the human, through MCP elicitation,
// showing exactly the request that will be sent. The handler is written in
// the multi round-trip form (SEP-2322): it returns an input-required result
// carrying an opaque state; the client asks the user and calls again with
// the answer and the state. A client that predates it is asked with the
// older server-initiated elicitation, within confirmTTL, by the handler
// itself: the redemption below serves both.
//
// The state is sealed by the server (sealed.go) and redeemed once, within
// confirmTTL, and only for the very request that was shown: the agent cannot
// forge, replay or reuse a confirmation, nor change the arguments after the
// human said yes.

const (
	confirmTTL     = 5 * time.Minute
	confirmInputID = "confirm"
)

// confirmWait bounds how long an older client's human may take to answer;
// a variable for tests.
var confirmWait = confirmTTL

type confirmer struct {
	sealed *sealedStates // sealed.go
	now    func() time.Time

	observe func(event string) // Options.OnConfirmation; may be nil
	wait    time.Duration      // for an older client's human to answer
	policy  ConfirmPolicy      // the operator's --confirm, named when a client cannot ask
}

type pendingConfirmation struct {
	request [sha256.Size]byte // digest of the exact request shown
	expires time.Time
}

// newConfirmer seals states with keys (a random one when none is given) and
// spends them in spent (this process's memory when nil).
func newConfirmer(keys [][]byte, spent SpentStates) (*confirmer, error) {
	sealed, err := newSealedStates(keys, spent)
	if err != nil {
		return nil, err
	}
	return &confirmer{sealed: sealed, now: time.Now, wait: confirmWait}, nil
}

// confirm returns nil when the human approved this exact request, and
// otherwise the result to answer with: the question, or why nothing was sent.
func (cf *confirmer) confirm(ctx context.Context, spec *toolSpec, req mcpgo.CallToolRequest, vast *gen.Vast, op operation, what string) *mcpgo.CallToolResult {
	shown, digest, err := exactRequest(ctx, spec, vast, op)
	if err != nil {
		return notSent(fmt.Sprintf("%s: cannot show the request for confirmation (%v); nothing was sent.", spec.Name, err))
	}
	round := req.Params.MultiRoundTripParams
	if round.RequestState == "" {
		if !clientCanElicit(ctx) {
			return errorResult(fmt.Sprintf("%s needs a human's confirmation (the operator's --confirm=%s setting), "+
				"but this MCP client cannot ask its user (it has no elicitation support). Nothing was sent. "+
				"The person running vast-mcp decides: --confirm=none lets such calls through unasked.",
				spec.Name, cf.policy), OutcomeRefused)
		}
		state, err := cf.ask(digest)
		if err != nil {
			return notSent(fmt.Sprintf("%s: %v; nothing was sent.", spec.Name, err))
		}
		cf.event(ConfirmationAsked)
		ask := server.NewInputRequestBuilder(state).Elicit(confirmInputID, mcpgo.ElicitationParams{
			Message: confirmationPrompt(spec, shown, what),
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"approve": map[string]any{"type": "boolean", "title": "Send this request to Vast.ai"},
				},
				"required": []string{"approve"},
			},
		}).ToolResult()
		if mcpgo.IsModernProtocol(server.RequestProtocolVersion(ctx)) {
			return ask
		}
		// An older client is asked here, with a server-initiated request and a
		// time limit: mcp-go's bridge for such clients waits without one.
		answer, err := cf.askNow(ctx, *ask.InputRequests[confirmInputID].Elicitation)
		if err != nil {
			// The state never left the server: nothing to spend.
			if errors.Is(err, context.DeadlineExceeded) {
				return notSent(fmt.Sprintf("%s: no answer from the human within %s; nothing was sent. Call the tool again to ask anew.", spec.Name, cf.wait))
			}
			return notSent(fmt.Sprintf("%s: the human's confirmation did not arrive (%v); nothing was sent.", spec.Name, err))
		}
		round = mcpgo.MultiRoundTripParams{RequestState: state, InputResponses: mcpgo.InputResponses{confirmInputID: mcpgo.NewElicitationInputResponse(*answer)}}
	}

	pending, ok, err := cf.take(ctx, round.RequestState)
	switch {
	case errors.Is(err, errExpired):
		return notSent(fmt.Sprintf("%s: the confirmation expired (after %s); nothing was sent. Call the tool again to ask the human anew.", spec.Name, confirmTTL))
	case err != nil:
		return notSent(fmt.Sprintf("%s: %v; nothing was sent. Try again shortly.", spec.Name, err))
	case !ok:
		return notSent(spec.Name + ": this confirmation is unknown or was already used; nothing was sent. Call the tool again to ask the human anew.")
	case pending.request != digest:
		return notSent(spec.Name + ": the arguments changed after the human was asked; nothing was sent. Call the tool again to ask anew.")
	}
	cf.event(ConfirmationRedeemed)
	answer := server.ElicitationResponse(round.InputResponses, confirmInputID)
	switch {
	case answer == nil:
		return notSent(spec.Name + ": no answer from the human; nothing was sent.")
	case answer.Action == mcpgo.ElicitationResponseActionAccept && approved(answer.Content):
		return nil
	case answer.Action == mcpgo.ElicitationResponseActionCancel:
		return notSent(spec.Name + ": the human cancelled the confirmation; nothing was sent.")
	default:
		return notSent(spec.Name + ": the human declined; nothing was sent. Do not retry unless the human asks for it.")
	}
}

// askNow asks the human through the client's elicitation/create and waits
// at most cf.wait, and not past the server's shutdown.
func (cf *confirmer) askNow(ctx context.Context, params mcpgo.ElicitationParams) (*mcpgo.ElicitationResult, error) {
	s := server.ServerFromContext(ctx)
	if s == nil {
		return nil, errors.New("no MCP server in the call's context")
	}
	// A human may take minutes: other calls must not wait for this one's
	// spend turn meanwhile. The handler checks again once approved.
	facts := factsOf(ctx)
	facts.waitedForHuman = facts.holdsTurn()
	facts.giveTurnBack()
	human, release := humanContext(ctx)
	defer release()
	wait, cancel := context.WithTimeout(human, cf.wait)
	defer cancel()
	return s.RequestElicitation(wait, mcpgo.ElicitationRequest{
		Request: mcpgo.Request{Method: string(mcpgo.MethodElicitationCreate)},
		Params:  params,
	})
}

// exactRequest renders the request op would send, key redacted, and its digest.
func exactRequest(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation) (string, [sha256.Size]byte, error) {
	_, err := vast.DryRun().Do(ctx, gen.Call{Operation: spec.OperationID, Serverless: spec.Serverless, Send: op.send})
	var dry *gen.DryRunError
	if !errors.As(err, &dry) {
		return "", [sha256.Size]byte{}, fmt.Errorf("dry run did not produce a request: %w", err)
	}
	shown := dry.Method + " " + dry.URL + "\n" + string(dry.Body)
	return shown, sha256.Sum256([]byte(shown)), nil
}

func approved(content any) bool {
	m, ok := content.(map[string]any)
	return ok && m["approve"] == true
}

func clientCanElicit(ctx context.Context) bool {
	session, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo)
	return ok && session.GetClientCapabilities().Elicitation != nil
}

func (cf *confirmer) event(name string) {
	if cf.observe != nil {
		cf.observe(name)
	}
}
