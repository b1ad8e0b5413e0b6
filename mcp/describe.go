package mcp

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vast-mcp/vast-mcp/gen"
)

// The describe hooks: what a stop, start, destroy or delete acts on, read
// just before, for the human who confirms it and for the answer.

// describeInstance is what stop, start and destroy act on: label, GPU,
// $/hour and age.
func describeInstance(ctx context.Context, vast *gen.Vast, c *manageInstanceCall) (string, error) {
	return instanceSummary(ctx, vast, c.InstanceID)
}

func describeDestroyInstance(ctx context.Context, vast *gen.Vast, c *destroyInstanceCall) (string, error) {
	return instanceSummary(ctx, vast, c.InstanceID)
}

func instanceSummary(ctx context.Context, vast *gen.Vast, id int) (string, error) {
	inst, err := readInstance(ctx, vast, id)
	if err != nil {
		return "", err
	}
	noteHourly(ctx, floatOf(inst["dph_total"]))
	return instanceLine(inst, time.Now()), nil
}

// instanceLine summarises an instance in the API's words, bounded.
func instanceLine(inst map[string]any, now time.Time) string {
	parts := []string{"instance " + strconv.Itoa(intOf(inst["id"]))}
	if label := stringOf(inst["label"]); label != "" {
		parts = append(parts, fmt.Sprintf("label %q", cleanString(label)))
	}
	if gpu := stringOf(inst["gpu_name"]); gpu != "" {
		n := intOf(inst["num_gpus"])
		parts = append(parts, fmt.Sprintf("%dx %q", max(n, 1), cleanString(gpu)))
	}
	if dph := floatOf(inst["dph_total"]); dph > 0 {
		parts = append(parts, fmt.Sprintf("$%.4f/hour", dph))
	}
	if status := stringOf(inst["actual_status"]); status != "" {
		parts = append(parts, fmt.Sprintf("status %q", cleanString(status)))
	}
	if start := floatOf(inst["start_date"]); start > 0 {
		age := now.Sub(time.Unix(int64(start), 0)).Round(time.Minute)
		parts = append(parts, "age "+age.String())
	}
	return strings.Join(parts, ", ")
}

// describeEndpoint is what delete_endpoint removes: the endpoint and its
// workergroups.
func describeEndpoint(ctx context.Context, vast *gen.Vast, c *deleteEndpointCall) (string, error) {
	endpoints, err := readEndpoints(ctx, vast)
	if err != nil {
		return "", err
	}
	ep := byID(endpoints, c.EndpointID)
	if ep == nil {
		return fmt.Sprintf("endpoint %d is not in the account's endpoint list", c.EndpointID), nil
	}
	line := fmt.Sprintf("endpoint %d %q", c.EndpointID, cleanString(stringOf(ep["endpoint_name"])))
	groups, err := readWorkergroups(ctx, vast)
	if err != nil {
		return line + "; its workergroups could not be listed", nil
	}
	var ids []string
	for _, g := range groups {
		if intOf(g["endpoint_id"]) == c.EndpointID {
			ids = append(ids, strconv.Itoa(intOf(g["id"])))
		}
	}
	if len(ids) == 0 {
		return line + ", no workergroups", nil
	}
	return line + ", with workergroups " + strings.Join(ids, ", ") + " (they go with it)", nil
}

// describeWorkergroup names the instances that stay when a workergroup
// goes: deleting a group does not destroy them.
func describeWorkergroup(ctx context.Context, vast *gen.Vast, c *deleteWorkergroupCall) (string, error) {
	groups, err := readWorkergroups(ctx, vast)
	if err != nil {
		return "", err
	}
	group := byID(groups, c.WorkergroupID)
	if group == nil {
		return fmt.Sprintf("workergroup %d is not in the account's workergroup list", c.WorkergroupID), nil
	}
	endpoint := intOf(group["endpoint_id"])
	line := fmt.Sprintf("workergroup %d of endpoint %d", c.WorkergroupID, endpoint)
	if name := stringOf(group["endpoint_name"]); name != "" {
		line += fmt.Sprintf(" (%q)", cleanString(name))
	}
	answer, err := readObject(ctx, vast, "getEndpointWorkers", true, func(ctx context.Context, api *gen.Client) (*http.Response, error) {
		return api.GetEndpointWorkers(ctx, gen.GetEndpointWorkersJSONRequestBody{Id: endpoint})
	})
	if err != nil {
		return line + "; its instances are NOT destroyed, and the endpoint's workers could not be listed (" + readFailure(err) + ")", nil
	}
	var ids []string
	for _, w := range objects(answer["workers"]) {
		ids = append(ids, strconv.Itoa(intOf(w["id"])))
	}
	if len(ids) == 0 {
		return line + "; the endpoint lists no workers", nil
	}
	return line + "; its instances are NOT destroyed and go on billing: the endpoint's workers are instances " +
		strings.Join(ids, ", ") + " (destroy_instance each that should go)", nil
}
