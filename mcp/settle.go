package mcp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vast-mcp/vast-mcp/gen"
)

// clockSkew is how far the API's clock (and its whole-second timestamps)
// may lag this server's when matching what a create made.
const clockSkew = time.Minute

// settlement is what reads found out about a create whose answer was lost.
type settlement struct {
	created    int    // the new resource's id, when exactly one matched
	notCreated bool   // the reads were complete and nothing matched
	candidates []int  // several matched: a human must tell
	why        string // why it stays unknown, when it does
}

func unsettled(why string) settlement { return settlement{why: why} }

// settleFrom decides from the matching ids.
func settleFrom(ids []int) settlement {
	switch len(ids) {
	case 0:
		return settlement{notCreated: true}
	case 1:
		return settlement{created: ids[0]}
	}
	return settlement{candidates: ids, why: "more than one resource matches"}
}

// settled answers a create whose outcome was unknown, from reads only: the
// create is never sent again.
func settled(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation, since time.Time, unknown *mcpgo.CallToolResult, opts Options) *mcpgo.CallToolResult {
	s := spec.settle(ctx, vast, op, since)
	lost := lostText(spec, unknown)
	switch {
	case s.created > 0:
		idField := spec.IDFields[0]
		text := strings.TrimSpace(fmt.Sprintf("%s: the answer was lost (%s), but reads show the create happened: id %d (%s %d). %s",
			spec.Name, lost, s.created, idField, s.created, billingNote(spec, factsOf(ctx))))
		result := &mcpgo.CallToolResult{
			Content:           []mcpgo.Content{mcpgo.NewTextContent(text)},
			StructuredContent: map[string]any{idField: float64(s.created), "success": true},
		}
		return withOutcome(result, OutcomeDone, opts)
	case s.notCreated:
		return withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s: the answer was lost (%s), and reads show nothing was created (as of these reads). %s",
			spec.Name, lost, spec.Kind.rules().notSent)), OutcomeNotSent, opts)
	}
	text := fmt.Sprintf("%s: the answer was lost (%s). The create may or may not have happened: reads could not settle it (%s).", spec.Name, lost, s.why)
	if len(s.candidates) > 0 {
		ids := make([]string, len(s.candidates))
		for i, id := range s.candidates {
			ids[i] = strconv.Itoa(id)
		}
		text += " Candidates: " + strings.Join(ids, ", ") + "."
	}
	text += " Do not call again yet: check the Vast.ai console (or the read tools) first, or it may be created and billed twice."
	return withOutcome(mcpgo.NewToolResultError(text), OutcomeUnknown, opts)
}

// lostText is the failure's own words (the API's quoted too), without the
// kind's advice on an unknown outcome, which the settlement replaces.
func lostText(spec *toolSpec, result *mcpgo.CallToolResult) string {
	if len(result.Content) == 0 {
		return ""
	}
	t, _ := result.Content[0].(mcpgo.TextContent)
	text, _, _ := strings.Cut(t.Text, spec.Kind.rules().unknown)
	return strings.TrimRight(strings.TrimSpace(text), ".")
}

// createdSince reads a list item's created_at; an item without one cannot
// be ruled out.
func createdSince(item map[string]any, since time.Time) bool {
	at, err := time.Parse(time.RFC3339, stringOf(item["created_at"]))
	return err != nil || !at.Before(since.Add(-clockSkew).Truncate(time.Second))
}

// settleInstance looks for the instance the create would have made: one
// with the request's label created since the call began; without a label,
// one of the request's image (or template) on the offer's machine.
func settleInstance(ctx context.Context, vast *gen.Vast, c *createInstanceCall, since time.Time) settlement {
	req := c.CreateInstanceJSONRequestBody
	var match func(map[string]any) bool
	switch {
	case req.Label != nil && *req.Label != "":
		label := *req.Label
		match = func(inst map[string]any) bool { return stringOf(inst["label"]) == label }
	default:
		offer, err := readOffer(ctx, vast, c.OfferID)
		if err != nil {
			return unsettled("the offer's machine could not be read: " + readFailure(err))
		}
		machine := intOf(offer["machine_id"])
		if machine == 0 {
			return unsettled("the offer names no machine")
		}
		match = func(inst map[string]any) bool {
			if intOf(inst["machine_id"]) != machine {
				return false
			}
			if req.Image != nil {
				return stringOf(inst["image_uuid"]) == *req.Image
			}
			return req.TemplateHashId != nil && stringOf(inst["template_hash_id"]) == *req.TemplateHashId
		}
	}
	instances, err := listInstances(ctx, vast)
	if err != nil {
		return unsettled("the instance list could not be read: " + readFailure(err))
	}
	// Whole seconds: the API's start_date may be truncated.
	earliest := float64(since.Add(-clockSkew).Unix())
	var ids []int
	for _, inst := range instances {
		if match(inst) && floatOf(inst["start_date"]) >= earliest {
			ids = append(ids, intOf(inst["id"]))
		}
	}
	return settleFrom(ids)
}

// settleEndpoint looks for an endpoint of the request's name.
func settleEndpoint(ctx context.Context, vast *gen.Vast, c *createEndpointCall, since time.Time) settlement {
	if c.EndpointName == nil {
		return unsettled("the request named no endpoint to look for")
	}
	endpoints, err := readEndpoints(ctx, vast)
	if err != nil {
		return unsettled("the endpoint list could not be read: " + readFailure(err))
	}
	var ids []int
	for _, ep := range endpoints {
		if stringOf(ep["endpoint_name"]) == *c.EndpointName && createdSince(ep, since) {
			ids = append(ids, intOf(ep["id"]))
		}
	}
	return settleFrom(ids)
}

// settleWorkergroup looks for a workergroup on the request's endpoint with
// its template.
func settleWorkergroup(ctx context.Context, vast *gen.Vast, c *createWorkergroupCall, since time.Time) settlement {
	if c.TemplateHash == nil && c.TemplateId == nil {
		return unsettled("the request named no template to look for")
	}
	groups, err := readWorkergroups(ctx, vast)
	if err != nil {
		return unsettled("the workergroup list could not be read: " + readFailure(err))
	}
	var ids []int
	for _, g := range groups {
		onEndpoint := (c.EndpointId != nil && intOf(g["endpoint_id"]) == *c.EndpointId) ||
			(c.EndpointName != nil && stringOf(g["endpoint_name"]) == *c.EndpointName)
		template := (c.TemplateHash != nil && stringOf(g["template_hash"]) == *c.TemplateHash) ||
			(c.TemplateId != nil && intOf(g["template_id"]) == *c.TemplateId)
		if onEndpoint && template && createdSince(g, since) {
			ids = append(ids, intOf(g["id"]))
		}
	}
	return settleFrom(ids)
}
