package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
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

// matches sorts the resources that fit the request: fresh ones were made
// since the call began; undated ones have no readable creation time, so
// they can be neither ruled out nor claimed. Those another call of this
// server already reported as its own are left out: two creates alike
// within the clock skew look the same in the list.
type matches struct {
	fresh, undated []int
	theirs         func(id int) bool
	// othersInFlight: another create of this kind is under way, here or
	// on another replica, so a fresh match may be its, not reported yet.
	othersInFlight bool
}

func (m *matches) add(id int, age freshness) {
	if m.theirs != nil && m.theirs(id) {
		return
	}
	switch age {
	case isFresh:
		m.fresh = append(m.fresh, id)
	case undated:
		m.undated = append(m.undated, id)
	}
}

// settle decides: created only when exactly one fresh resource matches and
// nothing undated could be it.
func (m matches) settle() settlement {
	switch {
	case len(m.fresh) == 1 && len(m.undated) == 0 && m.othersInFlight:
		return settlement{candidates: m.fresh, why: "another create like it is under way, and the match may be that one"}
	case len(m.fresh) == 1 && len(m.undated) == 0:
		return settlement{created: m.fresh[0]}
	case len(m.fresh) == 0 && len(m.undated) == 0:
		return settlement{notCreated: true}
	case len(m.fresh) > 1:
		return settlement{candidates: append(m.fresh, m.undated...), why: "more than one resource matches"}
	}
	return settlement{candidates: append(m.fresh, m.undated...), why: "a match has no readable creation time, so it may be older than the call"}
}

type freshness int

const (
	older freshness = iota
	isFresh
	undated
)

// settled answers a create whose outcome was unknown, from reads only: the
// create is never sent again.
func settled(ctx context.Context, spec *toolSpec, vast *gen.Vast, op operation, since time.Time, unknown *mcpgo.CallToolResult, opts Options) *mcpgo.CallToolResult {
	s := spec.settle(ctx, vast, op, since)
	lost := lostText(spec, unknown)
	switch {
	case s.created > 0:
		factsOf(ctx).claims.claim(ctx, spec.OperationID, s.created)
		idField := spec.IDFields[0]
		text := strings.TrimSpace(fmt.Sprintf("%s: the answer was lost (%s), but reads show the create happened: id %d (%s %d). %s",
			spec.Name, lost, s.created, idField, s.created, billingNote(spec, factsOf(ctx))))
		result := &mcpgo.CallToolResult{
			Content:           []mcpgo.Content{mcpgo.NewTextContent(text)},
			StructuredContent: map[string]any{idField: float64(s.created), "success": true},
		}
		return withOutcome(result, OutcomeDone, opts)
	case s.notCreated:
		// A create still running at the API (the answer timed out, a proxy
		// gave up) appears later: finding nothing now proves nothing yet.
		return withOutcome(mcpgo.NewToolResultError(fmt.Sprintf("%s: the answer was lost (%s), and reads found no such resource yet. "+
			"It was most likely not created, but a create still running at the API would appear later: read again in a minute "+
			"(the read tools or the Vast.ai console) before calling again, or it may be created and billed twice.",
			spec.Name, lost)), OutcomeUnknown, opts)
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

// createdSince reads a list item's creation time (field), as RFC 3339 or
// Unix seconds, against the call's start less the clock skew allowed.
func createdSince(item map[string]any, field string, since time.Time) freshness {
	earliest := since.Add(-clockSkew).Truncate(time.Second)
	var at time.Time
	switch v := item[field].(type) {
	case string:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return undated
		}
		at = t
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return undated
		}
		at = time.Unix(int64(v), 0)
	default:
		return undated
	}
	if at.Before(earliest) {
		return older
	}
	return isFresh
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
	found, err := factsOf(ctx).claims.matching(ctx, "createInstance")
	if err != nil {
		return unsettled(err.Error())
	}
	for _, inst := range instances {
		if match(inst) {
			found.add(intOf(inst["id"]), createdSince(inst, "start_date", since))
		}
	}
	return found.settle()
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
	found, err := factsOf(ctx).claims.matching(ctx, "createEndpoint")
	if err != nil {
		return unsettled(err.Error())
	}
	for _, ep := range endpoints {
		if stringOf(ep["endpoint_name"]) == *c.EndpointName {
			found.add(intOf(ep["id"]), createdSince(ep, "created_at", since))
		}
	}
	return found.settle()
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
	found, err := factsOf(ctx).claims.matching(ctx, "createWorkergroup")
	if err != nil {
		return unsettled(err.Error())
	}
	for _, g := range groups {
		onEndpoint := (c.EndpointId != nil && intOf(g["endpoint_id"]) == *c.EndpointId) ||
			(c.EndpointName != nil && stringOf(g["endpoint_name"]) == *c.EndpointName)
		template := (c.TemplateHash != nil && stringOf(g["template_hash"]) == *c.TemplateHash) ||
			(c.TemplateId != nil && intOf(g["template_id"]) == *c.TemplateId)
		if onEndpoint && template {
			found.add(intOf(g["id"]), createdSince(g, "created_at", since))
		}
	}
	return found.settle()
}

// claims are the ids this server's creates reported, per operation, kept
// as long as a settlement could still mistake them for another call's.
// With SharedClaims, replicas see each other's too.
type claims struct {
	mu       sync.Mutex
	ids      map[string]map[int]time.Time
	inFlight map[string]int // creates sent and not yet answered, per operation
	pruned   time.Time
	now      func() time.Time
	shared   SharedClaims
	log      *slog.Logger
}

// SharedClaims tell replicas about each other's creates, so that settling
// a lost create never takes another replica's resource for its own. Its
// errors are worded for the agent.
type SharedClaims interface {
	// Begin records a create of operation under way. The token comes back
	// even when the write failed, since it may have landed.
	Begin(ctx context.Context, operation string) (token string, err error)
	// End ends Begin's record: removed, or with keep left to lapse (its
	// resource may still appear). Until End, the record stands.
	End(ctx context.Context, operation, token string, keep bool)
	// Claim records id as the resource a create of operation reported.
	Claim(ctx context.Context, operation string, id int) error
	// Others reads the ids claimed for operation in the last KeptClaims,
	// and how many of its creates other than token's are under way.
	Others(ctx context.Context, operation, token string) (claimed map[int]bool, underway int, err error)
}

// KeptClaims outlasts any call's settlement window: its timeout, retries
// and clockSkew.
const KeptClaims = 30 * time.Minute

func newClaims(shared SharedClaims, log *slog.Logger) *claims {
	return &claims{ids: map[string]map[int]time.Time{}, inFlight: map[string]int{}, now: time.Now, shared: shared, log: log}
}

// begin counts a create under way until end is called with its result.
// With SharedClaims, a create other replicas cannot see is not sent: their
// settlements would take its resource for theirs.
func (c *claims) begin(ctx context.Context, operation string) (end func(*mcpgo.CallToolResult), err error) {
	if c == nil {
		return func(*mcpgo.CallToolResult) {}, nil
	}
	c.mu.Lock()
	c.inFlight[operation]++
	c.mu.Unlock()
	endLocal := func() {
		c.mu.Lock()
		c.inFlight[operation]--
		c.mu.Unlock()
	}
	if c.shared == nil {
		return func(*mcpgo.CallToolResult) { endLocal() }, nil
	}
	facts := factsOf(ctx)
	token, err := c.shared.Begin(ctx, operation)
	if err != nil {
		c.shared.End(ctx, operation, token, false)
		endLocal()
		return nil, fmt.Errorf("the replicas' record of creates under way could not be written: %s", cleanString(err.Error()))
	}
	facts.underway = token
	return func(result *mcpgo.CallToolResult) {
		endLocal()
		// A create whose resource may still appear, or is not on record as
		// this call's, stays under way until its record lapses: until then
		// no replica's settlement takes a single match for its own.
		keep := result == nil || outcomeOf(result) == OutcomeUnknown || facts.claimUnrecorded
		c.shared.End(ctx, operation, token, keep)
	}, nil
}

// matching starts a settlement's matches for a create of operation, itself
// under way: what other calls claimed is left out, and other creates under
// way make a single match uncertain.
func (c *claims) matching(ctx context.Context, operation string) (matches, error) {
	if c == nil {
		return matches{}, nil
	}
	var claimed map[int]bool
	othersElsewhere := false
	if c.shared != nil {
		var underway int
		var err error
		if claimed, underway, err = c.shared.Others(ctx, operation, factsOf(ctx).underway); err != nil {
			return matches{}, fmt.Errorf("the replicas' record of other calls' creates could not be read (%s)", cleanString(err.Error()))
		}
		othersElsewhere = underway > 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return matches{theirs: c.takenBy(operation, claimed), othersInFlight: c.inFlight[operation] > 1 || othersElsewhere}, nil
}

func (c *claims) claim(ctx context.Context, operation string, id int) {
	if c == nil || id <= 0 {
		return
	}
	c.mu.Lock()
	now := c.now()
	if now.Sub(c.pruned) > time.Minute { // now and then, so a claim costs the same however many there are
		c.pruned = now
		for op, ids := range c.ids {
			for old, at := range ids {
				if now.Sub(at) > KeptClaims {
					delete(ids, old)
				}
			}
			if len(ids) == 0 {
				delete(c.ids, op)
			}
		}
	}
	if c.ids[operation] == nil {
		c.ids[operation] = map[int]time.Time{}
	}
	c.ids[operation][id] = now
	c.mu.Unlock()
	if c.shared == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	for range 2 {
		if err = c.shared.Claim(ctx, operation, id); err == nil {
			return
		}
	}
	factsOf(ctx).claimUnrecorded = true
	if c.log != nil {
		c.log.WarnContext(ctx, "a created resource is not on the replicas' record: its create stays under way there until it lapses", "operation", operation, "id", id, "err", err)
	}
}

// takenBy reports the ids claimed by this server's calls or, from
// claimed, by other replicas'.
func (c *claims) takenBy(operation string, claimed map[int]bool) func(int) bool {
	if c == nil {
		return nil
	}
	return func(id int) bool {
		if claimed[id] {
			return true
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		_, taken := c.ids[operation][id]
		return taken
	}
}
