package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Hooks of the read tools (overlay.yaml, issue 14): the conversions
// between what an agent writes and what the API takes, and the advice that
// follows an answer.

// defaultOffers is search_offers' limit when the agent sets none: ten
// offers are a choice, and a few KB.
const defaultOffers = 10

// offerDefaults are vast-cli's default filters: offers a person would rent.
var offerDefaults = []struct {
	arg   string
	field func(c *searchOffersCall) any
	value string
}{
	{"verified", func(c *searchOffersCall) any { return &c.Verified }, `{"eq": true}`},
	{"rentable", func(c *searchOffersCall) any { return &c.Rentable }, `{"eq": true}`},
	{"rented", func(c *searchOffersCall) any { return &c.Rented }, `{"eq": false}`},
	{"external", func(c *searchOffersCall) any { return &c.External }, `{"eq": false}`},
}

// gbFilters are the RAM filters an agent gives in GB and the API takes in
// MB; above most, a value is MB written by mistake.
var gbFilters = []struct {
	arg   string
	field func(c *searchOffersCall) any
	most  float64 // GB no offer reaches
}{
	{"gpu_ram", func(c *searchOffersCall) any { return &c.GpuRam }, 1000},
	{"gpu_total_ram", func(c *searchOffersCall) any { return &c.GpuTotalRam }, 8000},
	{"cpu_ram", func(c *searchOffersCall) any { return &c.CpuRam }, 8000},
}

// prepareOffers applies vast-cli's defaults and turns GB into the API's MB
// (x1000, as vast-cli does).
func prepareOffers(c *searchOffersCall) error {
	for _, d := range offerDefaults {
		field := d.field(c)
		if isNilPointer(field) {
			if err := json.Unmarshal([]byte(d.value), field); err != nil {
				return err
			}
		}
	}
	if c.Limit == nil {
		c.Limit = ptr(defaultOffers)
	}
	for _, f := range gbFilters {
		field := f.field(c)
		if isNilPointer(field) {
			continue
		}
		var ops map[string]float64
		data, _ := json.Marshal(field)
		if err := json.Unmarshal(data, &ops); err != nil {
			return &argError{arg: f.arg, reason: "want {op: number}"}
		}
		for op, gb := range ops {
			switch {
			case gb < 0:
				return &argError{arg: f.arg + "." + op, reason: "cannot be negative"}
			case gb >= f.most:
				return &argError{arg: f.arg + "." + op, reason: fmt.Sprintf("is in GB, and %s GB is more than any offer has: it looks like MB; give %s for %s MB",
					FormatNumber(gb), FormatNumber(gb/1000), FormatNumber(gb))}
			}
			ops[op] = gb * 1000
		}
		data, _ = json.Marshal(ops)
		if err := json.Unmarshal(data, field); err != nil {
			return err
		}
	}
	return nil
}

// isNilPointer reports whether p, a pointer to a pointer field, holds nil.
func isNilPointer(p any) bool {
	data, _ := json.Marshal(p)
	return string(data) == "null"
}

// noteOffers says how many offers came, and what to loosen when none did.
func noteOffers(answer map[string]any) string {
	offers, _ := answer["offers"].([]any)
	if len(offers) == 0 {
		return "No offer matches: loosen a filter (gpu_ram is GB; gpu_name as the API spells it, e.g. \"RTX 4090\")."
	}
	return fmt.Sprintf("%d offers; next: create_instance with one's id as offer_id.", len(offers))
}

// templateColumns are what search_templates shows, asked for by name so
// that the service sends no more.
const templateColumns = `["id","hash_id","name","image"]`

// prepareTemplates turns name and image into the API's select_filters;
// without either, it lists Vast's recommended templates.
func prepareTemplates(c *searchTemplatesCall) error {
	filters := map[string]any{}
	if c.Name != nil {
		filters["name"] = map[string]any{"eq": *c.Name}
	}
	if c.Image != nil {
		filters["image"] = map[string]any{"eq": *c.Image}
	}
	if len(filters) == 0 {
		filters["recommended"] = map[string]any{"eq": true}
	}
	c.SelectFilters = ptr(string(mustJSON(filters)))
	c.SelectCols = ptr(templateColumns)
	return nil
}

// instancesPerPage is the most the API sends in one page.
const instancesPerPage = 25

// prepareInstances turns label and status into the API's select_filters.
func prepareInstances(c *showInstancesCall) error {
	filters := map[string]any{}
	if c.Label != nil {
		filters["label"] = map[string]any{"eq": *c.Label}
	}
	if c.Status != nil {
		filters["actual_status"] = map[string]any{"eq": *c.Status}
	}
	if len(filters) > 0 {
		c.SelectFilters = ptr(string(mustJSON(filters)))
	}
	c.Limit = ptr(instancesPerPage)
	return nil
}

// noteInstances counts what the list shows and says how old each
// instance is (billing runs from start_date).
func noteInstances(answer map[string]any) string {
	instances, _ := answer["instances"].([]any)
	if len(instances) == 0 {
		return "No instances."
	}
	var ages []string
	for _, item := range instances {
		instance, _ := item.(map[string]any)
		id, okID := instance["id"].(float64)
		start, okStart := instance["start_date"].(float64)
		if okID && okStart {
			ages = append(ages, fmt.Sprintf("%d %s", int64(id), age(time.Since(time.Unix(int64(start), 0)))))
		}
	}
	note := fmt.Sprintf("%d instances; show_instance gives one in detail.", len(instances))
	if len(ages) > 0 {
		note += " Ages: " + strings.Join(ages, ", ") + "."
	}
	return note
}

// age is a duration as an agent reads it: minutes, hours or days.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "not started"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// Instance states (actual_status) from which an instance never reaches
// running: polling them is the poll trap.
var neverRuns = map[string]string{
	"exited":  "it exited (stopped, or its command ended)",
	"unknown": "its machine stopped reporting",
	"offline": "its machine is offline",
}

// instanceStatus reads actual_status from a showInstance answer.
// It is the API's word, so it is cleaned and cut like any other.
func instanceStatus(answer map[string]any) string {
	instance, _ := answer["instances"].(map[string]any)
	status, _ := instance["actual_status"].(string)
	return gen.Sanitize(status, maxStatusText)
}

// maxStatusText bounds a state repeated in prose; Vast's are single words.
const maxStatusText = 40

// noteInstance explains the state and the next step, with the poll trap.
func noteInstance(answer map[string]any) string {
	status := instanceStatus(answer)
	if why, ok := neverRuns[status]; ok {
		return fmt.Sprintf("It will not reach running from %s (%s): stop polling. It bills (at least its disk) until destroyed; "+
			"destroy it and rent another offer, or start it again if it was stopped.", status, why)
	}
	switch status {
	case "running":
		return "It runs and bills per hour until destroyed; reach it through public_ipaddr and ports, or ssh_host:ssh_port."
	case "":
		return "No state yet: it is being created. Next: wait_for_instance."
	}
	return fmt.Sprintf("State %q: it is starting (pulling the image, booting). Next: wait_for_instance. "+
		"Once exited, unknown or offline it will never run.", status)
}

// Waiting: wait_for_instance polls showInstance every pollInterval, at
// most the operator's MaxWait (DefaultMaxWait), which fits clients' tool
// time limits.
const (
	pollInterval   = 5 * time.Second // the API allows about 5 requests per 10 s
	DefaultMaxWait = 50 * time.Second
)

// sleep waits d, or less when ctx ends; the sandbox and tests wait no
// real time.
func (o Options) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	if o.Sandbox {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *Guardrails) maxWait() time.Duration {
	if g == nil || g.MaxWait <= 0 {
		return DefaultMaxWait
	}
	return g.MaxWait
}

// waitForInstance is wait_for_instance: showInstance, polled until the
// instance runs, reaches a state it never runs from, or the bound passes,
// with an MCP progress notification at each poll.
func waitForInstance(spec *toolSpec, vast *gen.Vast, opts Options) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		args, decoded, err := spec.arguments(req)
		if err != nil {
			return argumentError(spec, err), nil
		}
		op := decoded.(*showInstanceCall)
		most := opts.Guardrails.maxWait()
		limit := most
		if op.TimeoutSeconds != nil && time.Duration(*op.TimeoutSeconds)*time.Second < most {
			limit = time.Duration(*op.TimeoutSeconds) * time.Second
		}
		polls := int(limit/pollInterval) + 1
		var token mcpgo.ProgressToken
		if req.Params.Meta != nil {
			token = req.Params.Meta.ProgressToken
		}
		call := gen.Call{Operation: spec.OperationID, Idempotent: true, Send: op.send}
		for poll := 1; ; poll++ {
			body, err := vast.Do(ctx, call)
			if err != nil {
				return failure(spec, op, err, opts), nil
			}
			var answer map[string]any
			_ = json.Unmarshal(body, &answer)
			status := instanceStatus(answer)
			progress(ctx, token, poll, polls, fmt.Sprintf("instance %d: %s", op.InstanceID, orNone(status)))
			_, never := neverRuns[status]
			waited := time.Duration(poll-1) * pollInterval
			if status == "running" || never || poll >= polls {
				result, err := present(spec, body, args.values, opts)
				if err != nil {
					return failure(spec, op, err, opts), nil
				}
				if status != "running" && !never {
					prefix(result, fmt.Sprintf("Still %s after %s (the most this call waits is %s): call wait_for_instance again.",
						orNone(status), waited, limit))
				}
				return result, nil
			}
			if err := opts.sleep(ctx, pollInterval); err != nil {
				return errorResult(fmt.Sprintf("wait_for_instance cancelled after %s; instance %d was %s. Nothing was changed.",
					waited, op.InstanceID, orNone(status)), OutcomeNotSent), nil
			}
		}
	}
}

// orNone quotes a state: the API's word, not the server's.
func orNone(status string) string {
	if status == "" {
		return "not yet reported"
	}
	return strconv.Quote(status)
}

// progress sends an MCP progress notification when the client asked for
// them (a progressToken in the request's _meta).
func progress(ctx context.Context, token mcpgo.ProgressToken, done, total int, message string) {
	s := server.ServerFromContext(ctx)
	if token == nil || s == nil {
		return
	}
	_ = s.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
		"progressToken": token,
		"progress":      done,
		"total":         total,
		"message":       message,
	})
}

// prefix puts a sentence before a result's text.
func prefix(result *mcpgo.CallToolResult, sentence string) {
	if len(result.Content) == 0 {
		return
	}
	if text, ok := result.Content[0].(mcpgo.TextContent); ok {
		text.Text = sentence + " " + text.Text
		result.Content[0] = text
	}
}

func ptr[T any](v T) *T { return &v }
