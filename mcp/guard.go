package mcp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Guardrails are the operator's bounds on what an agent may do. They are
// set when the server starts; no tool argument can change them. A nil
// *Guardrails, or a zero field, bounds nothing.
type Guardrails struct {
	// Tools, when not empty, is the only tools listed and callable.
	Tools []string
	// MaxWorkers caps max_workers and cold_workers of endpoints and
	// workergroups; max_workers must then be given, since the service's own
	// default may be higher.
	MaxWorkers int
	// MaxPrice caps an interruptible instance's bid, in $/hour.
	MaxPrice float64
	// MaxDisk caps an instance's disk, in GB; disk must then be given, since
	// a template's may be larger.
	MaxDisk float64
	// Images, when not empty, lists the images an instance may run: exact
	// names, or prefixes ending in "*". image must then be given: a
	// template's image cannot be checked, and an explicit image overrides it.
	Images []string
	// Confirm asks the human, through MCP elicitation, before every create.
	Confirm bool
}

// capError names the guardrail a call broke.
type capError struct {
	flag   string // the setting, as the operator wrote it
	reason string
}

func (e *capError) Error() string { return e.reason + " (operator setting " + e.flag + ")" }

func (g *Guardrails) allows(tool string) bool {
	return g == nil || len(g.Tools) == 0 || slices.Contains(g.Tools, tool)
}

// describe tells agents, in the tool description, the bounds that apply.
func (g *Guardrails) describe(operationID string) string {
	if g == nil {
		return ""
	}
	var limits []string
	switch operationID {
	case "createEndpoint", "createWorkergroup":
		if g.MaxWorkers > 0 {
			limits = append(limits, fmt.Sprintf("max_workers is required and at most %d; cold_workers at most %d", g.MaxWorkers, g.MaxWorkers))
		}
		if operationID == "createWorkergroup" && (len(g.Images) > 0 || g.MaxDisk > 0 || g.MaxPrice > 0) {
			limits = append(limits, "an --image, --disk or bid in launch_args is held to the instance limits")
		}
	case "createInstance":
		if g.MaxPrice > 0 {
			limits = append(limits, "price at most "+number(g.MaxPrice)+" $/hour")
		}
		if g.MaxDisk > 0 {
			limits = append(limits, "disk is required and at most "+number(g.MaxDisk)+" GB")
		}
		if len(g.Images) > 0 {
			limits = append(limits, "image is required and must be one of: "+strings.Join(g.Images, ", "))
		}
	}
	if g.Confirm {
		limits = append(limits, "a human confirms each call before it is sent")
	}
	if len(limits) == 0 {
		return ""
	}
	return " Operator limits: " + strings.Join(limits, "; ") + "."
}

func (c *endpointCall) check(g *Guardrails) error {
	if g == nil {
		return nil
	}
	return g.checkWorkers(c.req.MaxWorkers, c.req.ColdWorkers)
}

func (c *workergroupCall) check(g *Guardrails) error {
	if g == nil {
		return nil
	}
	if err := g.checkWorkers(c.req.MaxWorkers, c.req.ColdWorkers); err != nil {
		return err
	}
	if c.req.LaunchArgs != nil {
		return g.checkLaunchArgs(*c.req.LaunchArgs)
	}
	return nil
}

// checkLaunchArgs applies the instance caps to launch_args: the vastai
// create-instance options every worker of the group is started with, where
// an image, a disk size or a bid can be given.
func (g *Guardrails) checkLaunchArgs(launchArgs string) error {
	if len(g.Images) == 0 && g.MaxDisk <= 0 && g.MaxPrice <= 0 {
		return nil
	}
	words, err := splitShellWords(launchArgs)
	if err != nil {
		return &capError{"--allow-image/--max-disk/--max-price", "launch_args cannot be checked: " + err.Error()}
	}
	for i := 0; i < len(words); i++ {
		name, value, inline := strings.Cut(words[i], "=")
		name = strings.ReplaceAll(name, "-", "_")
		if !inline && i+1 < len(words) {
			value = words[i+1]
		}
		var req gen.CreateInstanceRequest
		switch name {
		case "__image":
			req.Image = &value
		case "__disk", "__price", "__bid_price":
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return &capError{"--max-disk/--max-price", fmt.Sprintf("launch_args %s %q is not a number", words[i], value)}
			}
			if name == "__disk" {
				req.Disk = &n
			} else {
				req.Price = &n
			}
		case "__template_hash", "__template_id":
			if len(g.Images) > 0 {
				return &capError{"--allow-image " + strings.Join(g.Images, ","), "launch_args names a template, whose image cannot be checked; give --image instead"}
			}
			continue
		default:
			continue
		}
		if err := g.checkInstanceFields(req, false); err != nil {
			return fmt.Errorf("launch_args: %w", err)
		}
	}
	return nil
}

func (g *Guardrails) checkWorkers(maxWorkers, coldWorkers *int) error {
	if g.MaxWorkers <= 0 {
		return nil
	}
	flag := "--max-workers " + strconv.Itoa(g.MaxWorkers)
	switch {
	case maxWorkers == nil:
		return &capError{flag, "max_workers is required: the service's default may exceed the operator's cap"}
	case *maxWorkers > g.MaxWorkers:
		return &capError{flag, fmt.Sprintf("max_workers %d is over the cap of %d", *maxWorkers, g.MaxWorkers)}
	case coldWorkers != nil && *coldWorkers > g.MaxWorkers:
		return &capError{flag, fmt.Sprintf("cold_workers %d is over the cap of %d", *coldWorkers, g.MaxWorkers)}
	}
	return nil
}

func (c *instanceCall) check(g *Guardrails) error {
	if g == nil {
		return nil
	}
	return g.checkInstanceFields(c.req, true)
}

// checkInstanceFields applies the instance caps to the fields req sets.
// With required, a capped field must be set: a template or the service's
// default could otherwise exceed the cap unseen.
func (g *Guardrails) checkInstanceFields(req gen.CreateInstanceRequest, required bool) error {
	if g.MaxPrice > 0 && req.Price != nil && *req.Price > g.MaxPrice {
		return &capError{"--max-price " + number(g.MaxPrice), fmt.Sprintf("price %s $/hour is over the cap of %s", number(*req.Price), number(g.MaxPrice))}
	}
	if g.MaxDisk > 0 {
		flag := "--max-disk " + number(g.MaxDisk)
		if req.Disk == nil && required {
			return &capError{flag, "disk is required: a template's disk may exceed the operator's cap"}
		}
		if req.Disk != nil && *req.Disk > g.MaxDisk {
			return &capError{flag, fmt.Sprintf("disk %s GB is over the cap of %s GB", number(*req.Disk), number(g.MaxDisk))}
		}
	}
	if len(g.Images) > 0 {
		flag := "--allow-image " + strings.Join(g.Images, ",")
		if req.Image == nil && required {
			return &capError{flag, "image is required: only listed images may run, and a template's image cannot be checked (an explicit image overrides it)"}
		}
		if req.Image != nil && !imageAllowed(g.Images, *req.Image) {
			return &capError{flag, fmt.Sprintf("image %q is not on the operator's list", *req.Image)}
		}
	}
	return nil
}

func imageAllowed(allowed []string, image string) bool {
	for _, entry := range allowed {
		if prefix, ok := strings.CutSuffix(entry, "*"); ok {
			if strings.HasPrefix(image, prefix) {
				return true
			}
		} else if image == entry {
			return true
		}
	}
	return false
}

func number(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
