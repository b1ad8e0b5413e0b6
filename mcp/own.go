package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vast-mcp/vast-mcp/gen"
)

// ManageScope is the operator's --manage: which resources stop, start,
// destroy and delete may act on.
type ManageScope int

const (
	// ManageAll acts on any resource of the account (the default).
	ManageAll ManageScope = iota
	// ManageOwn acts only on what this server created, recognised by the
	// operator's label prefix: instances by their label, endpoints by their
	// name, workergroups by their endpoint.
	ManageOwn
)

func (m ManageScope) String() string {
	if m == ManageOwn {
		return "own"
	}
	return "all"
}

func (g *Guardrails) manageOwn() bool { return g != nil && g.Manage == ManageOwn }

func (g *Guardrails) manageFlag() string {
	return fmt.Sprintf("--manage own with --label-prefix %q", g.LabelPrefix)
}

// prefixed puts the operator's label prefix at the start of a label or
// name this server sends at creation: opt-in, since it changes the request.
// The prefixed value still keeps to the tool's schema for what.
func (g *Guardrails) prefixed(tool, what string, value **string) error {
	if g == nil || g.LabelPrefix == "" {
		return nil
	}
	v := g.LabelPrefix
	if *value != nil && !strings.HasPrefix(**value, g.LabelPrefix) {
		v += **value
	} else if *value != nil {
		v = **value
	}
	if limit := maxLengthOf(tool, what); limit > 0 && utf8.RuneCountInString(v) > limit {
		return &capError{"--label-prefix " + g.LabelPrefix, fmt.Sprintf("%s with the operator's prefix is %d characters; at most %d", what, utf8.RuneCountInString(v), limit)}
	}
	*value = &v
	return nil
}

// owned refuses, under --manage own, a resource whose label or name does
// not carry the prefix. A read that fails refuses too: nothing is sent on a
// guess.
func (g *Guardrails) owned(what string, id int, name string, err error) error {
	var dry *gen.DryRunError
	switch {
	case errors.As(err, &dry):
		return nil // a dry run sends nothing, so there is nothing to guard
	case err != nil:
		return &capError{g.manageFlag(), fmt.Sprintf("%s %d could not be read to check that this server created it (%s)", what, id, readFailure(err))}
	case !strings.HasPrefix(name, g.LabelPrefix):
		return &capError{g.manageFlag(), fmt.Sprintf("%s %d was not created by this server (its label or name %q does not start with %q); it acts only on what it created", what, id, cleanString(name), g.LabelPrefix)}
	}
	return nil
}

// guardWorkergroupEndpoint keeps create_workergroup, under --manage own,
// to this server's endpoints: one named is prefixed by checkWorkergroup,
// one given by id is read. Else an agent could add billed workers to any
// endpoint of the account, and could not remove them again.
func guardWorkergroupEndpoint(ctx context.Context, vast *gen.Vast, g *Guardrails, c *createWorkergroupCall) error {
	if !g.manageOwn() || c.EndpointId == nil {
		return nil
	}
	return g.endpointOwned(ctx, vast, "endpoint", *c.EndpointId, *c.EndpointId)
}

// guardInstanceOwned keeps stop to this server's instances.
func guardInstanceOwned(ctx context.Context, vast *gen.Vast, g *Guardrails, c *manageInstanceCall) error {
	return g.instanceOwned(ctx, vast, c.InstanceID)
}

// guardDestroyOwned keeps destroy to this server's instances.
func guardDestroyOwned(ctx context.Context, vast *gen.Vast, g *Guardrails, c *destroyInstanceCall) error {
	return g.instanceOwned(ctx, vast, c.InstanceID)
}

func (g *Guardrails) instanceOwned(ctx context.Context, vast *gen.Vast, id int) error {
	if !g.manageOwn() {
		return nil
	}
	inst, err := readInstance(ctx, vast, id)
	return g.owned("instance", id, stringOf(inst["label"]), err)
}

// guardEndpointOwned keeps delete_endpoint to this server's endpoints.
func guardEndpointOwned(ctx context.Context, vast *gen.Vast, g *Guardrails, c *deleteEndpointCall) error {
	if !g.manageOwn() {
		return nil
	}
	return g.endpointOwned(ctx, vast, "endpoint", c.EndpointID, c.EndpointID)
}

func (g *Guardrails) endpointOwned(ctx context.Context, vast *gen.Vast, what string, id, endpointID int) error {
	endpoints, err := readEndpoints(ctx, vast)
	if err == nil && byID(endpoints, endpointID) == nil {
		err = fmt.Errorf("endpoint %d is not in the account's endpoint list", endpointID)
	}
	return g.owned(what, id, stringOf(byID(endpoints, endpointID)["endpoint_name"]), err)
}

// guardWorkergroupOwned: a workergroup is this server's when its endpoint
// is.
func guardWorkergroupOwned(ctx context.Context, vast *gen.Vast, g *Guardrails, c *deleteWorkergroupCall) error {
	if !g.manageOwn() {
		return nil
	}
	groups, err := readWorkergroups(ctx, vast)
	if err == nil && byID(groups, c.WorkergroupID) == nil {
		err = fmt.Errorf("workergroup %d is not in the account's workergroup list", c.WorkergroupID)
	}
	if err != nil {
		return g.owned("workergroup", c.WorkergroupID, "", err)
	}
	return g.endpointOwned(ctx, vast, "workergroup", c.WorkergroupID, intOf(byID(groups, c.WorkergroupID)["endpoint_id"]))
}

// maxLengthOf is the maxLength the tool's input schema gives arg; 0 for none.
func maxLengthOf(tool, arg string) int {
	var raw json.RawMessage
	if spec := specNamedOrNil(tool); spec != nil {
		raw = inputPropertiesOf(spec)[arg]
	}
	var property struct {
		MaxLength int `json:"maxLength"`
	}
	if json.Unmarshal(raw, &property) != nil {
		// A misspelt call site; TestLabelPrefixIsSetAtCreation reaches each.
		panic(fmt.Sprintf("maxLengthOf: %s takes no argument %s", tool, arg))
	}
	return property.MaxLength
}
