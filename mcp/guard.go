package mcp

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Guardrails are the operator's bounds on what an agent may do. They are
// set when the server starts; no tool argument can change them. A nil
// *Guardrails, or a zero field, bounds nothing.
type Guardrails struct {
	// Tools, when not empty, is the only tools listed and callable; it
	// narrows what Toolsets and ReadOnly leave.
	Tools []string
	// Toolsets, when not empty, is the only groups of tools listed and
	// callable (a declaration's toolset: instances, serverless, search,
	// account).
	Toolsets []string
	// ReadOnly lists and serves only the tools that change nothing.
	ReadOnly bool
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
	// names, or prefixes ending in "*" (compared as written: end a prefix
	// with "/", ":" or "@" before the "*", as the binary requires, or it
	// also matches names that merely start alike). image must then be given: a
	// template's image cannot be checked, and an explicit image overrides it.
	// Unless AllowCommands, the image's own entrypoint is then all that may
	// run: onstart, args, args_str and templates are refused.
	Images []string
	// AllowCommands lets instances run commands of the caller's choosing
	// under Images.
	AllowCommands bool
	// MaxWait bounds how long one wait_for_instance call waits; zero means
	// DefaultMaxWait.
	MaxWait time.Duration
	// Confirm is which calls a human approves, through MCP elicitation,
	// before they are sent; the zero value asks before removals.
	Confirm ConfirmPolicy
	// Manage is which resources stop, start, destroy and delete may act
	// on: all (the zero value), or only those this server created.
	Manage ManageScope
	// LabelPrefix, when set, starts the label of every instance and the
	// name of every endpoint this server creates: how ManageOwn recognises
	// them without local state.
	LabelPrefix string
	// MaxHourlySpend caps the account's running $/hour that a new instance
	// may bring it to; MaxInstances caps the account's instances. A create
	// is refused when the reads that check them fail.
	MaxHourlySpend float64
	MaxInstances   int
}

func (g *Guardrails) confirmPolicy() ConfirmPolicy {
	if g == nil {
		return ConfirmDestructive
	}
	return g.Confirm
}

// capError names the guardrail a call broke.
type capError struct {
	flag   string // the setting, as the operator wrote it
	reason string
}

func (e *capError) Error() string { return e.reason + " (operator setting " + e.flag + ")" }

func (g *Guardrails) allows(spec *toolSpec) bool {
	switch {
	case g == nil:
		return true
	case g.ReadOnly && spec.Kind != kindRead:
		return false
	case len(g.Toolsets) > 0 && !slices.Contains(g.Toolsets, spec.Toolset):
		return false
	}
	return len(g.Tools) == 0 || slices.Contains(g.Tools, spec.Name)
}

// Toolsets lists the groups the tools belong to, for --toolsets.
func Toolsets() []string {
	var sets []string
	for i := range toolSpecs {
		if !slices.Contains(sets, toolSpecs[i].Toolset) {
			sets = append(sets, toolSpecs[i].Toolset)
		}
	}
	slices.Sort(sets)
	return sets
}

// describe tells agents, in the tool description, the bounds that apply.
func (g *Guardrails) describe(spec *toolSpec) string {
	var limits []string
	if g != nil {
		limits = g.operationLimits(spec.OperationID)
		if g.MaxHourlySpend > 0 && startsInstance(spec) {
			limits = append(limits, fmt.Sprintf("refused when the account's running instances' $/hour plus this instance's would exceed $%s/hour", FormatNumber(g.MaxHourlySpend)))
		}
	}
	if g.confirmPolicy().asks(spec.Kind) {
		limits = append(limits, "a human confirms each call before it is sent")
	}
	if len(limits) == 0 {
		return ""
	}
	return " Operator limits: " + strings.Join(limits, "; ") + "."
}

// startsInstance is manageInstance with its state fixed to running.
func startsInstance(spec *toolSpec) bool {
	return spec.OperationID == "manageInstance" && strings.Contains(spec.Fixed, `"state":"running"`)
}

func (g *Guardrails) operationLimits(operationID string) []string {
	var limits []string
	switch operationID {
	case "createEndpoint", "createWorkergroup":
		if g.MaxWorkers > 0 {
			limits = append(limits, fmt.Sprintf("max_workers is required and at most %d; cold_workers and test_workers at most %d", g.MaxWorkers, g.MaxWorkers))
		}
		if operationID == "createWorkergroup" && g.instanceCaps() {
			limits = append(limits, "launch_args is read as the vastai CLI reads it and held to the instance limits; options those limits cannot check are refused")
			if len(g.Images) > 0 {
				limits = append(limits, "launch_args --image is required and must be one of: "+strings.Join(g.Images, ", "))
			}
			if g.commandsBounded() {
				limits = append(limits, "templates and launch_args --onstart, --onstart-cmd, --entrypoint, --args and --template_hash are refused")
			}
		}
		if operationID == "createWorkergroup" && g.manageOwn() {
			limits = append(limits, fmt.Sprintf("endpoint_id must be an endpoint this server created (its name starts with %q)", g.LabelPrefix))
		}
	case "manageInstance", "destroyInstance", "deleteWorkergroup", "deleteEndpoint":
		if g.manageOwn() {
			limits = append(limits, fmt.Sprintf("acts only on what this server created: instances whose label, and endpoints whose name, starts with %q (a workergroup through its endpoint); others are refused", g.LabelPrefix))
		}
	}
	switch operationID {
	case "createEndpoint", "createWorkergroup":
		if g.LabelPrefix != "" {
			limits = append(limits, fmt.Sprintf("endpoint_name is sent starting with %q (added when missing), which marks the endpoints this server created", g.LabelPrefix))
		}
	case "createInstance":
		if g.LabelPrefix != "" {
			limits = append(limits, fmt.Sprintf("label is sent starting with %q (added when missing), which marks the instances this server created", g.LabelPrefix))
		}
		if g.MaxHourlySpend > 0 {
			limits = append(limits, fmt.Sprintf("refused when the account's running instances' $/hour plus this offer's would exceed $%s/hour", FormatNumber(g.MaxHourlySpend)))
		}
		if g.MaxInstances > 0 {
			limits = append(limits, fmt.Sprintf("refused when the account already has %d instances", g.MaxInstances))
		}
		if g.MaxPrice > 0 {
			limits = append(limits, "price at most "+FormatNumber(g.MaxPrice)+" $/hour")
		}
		if g.MaxDisk > 0 {
			limits = append(limits, "disk is required and at most "+FormatNumber(g.MaxDisk)+" GB; a new volume's volume_info.size likewise")
		}
		if len(g.Images) > 0 {
			limits = append(limits, "image is required and must be one of: "+strings.Join(g.Images, ", "))
		}
		if g.commandsBounded() {
			limits = append(limits, "onstart, args, args_str and template_hash_id are refused: only the image's own entrypoint runs")
		}
	}
	return limits
}

// checkEndpoint is create_endpoint's guardrail (overlay.yaml hooks.check).
func checkEndpoint(g *Guardrails, c *createEndpointCall) error {
	if g == nil {
		return nil
	}
	if err := g.prefixed("create_endpoint", "endpoint_name", &c.EndpointName); err != nil {
		return err
	}
	return g.checkWorkers(c.MaxWorkers, map[string]*int{"cold_workers": c.ColdWorkers})
}

// checkWorkergroup is create_workergroup's guardrail.
func checkWorkergroup(g *Guardrails, c *createWorkergroupCall) error {
	if g == nil {
		return nil
	}
	// The endpoint a group attaches to by name is one this server created
	// (and prefixed), named as the agent knows it.
	if c.EndpointName != nil {
		if err := g.prefixed("create_workergroup", "endpoint_name", &c.EndpointName); err != nil {
			return err
		}
	}
	if err := g.checkWorkers(c.MaxWorkers, map[string]*int{"cold_workers": c.ColdWorkers, "test_workers": c.TestWorkers}); err != nil {
		return err
	}
	var launchArgs string
	if c.LaunchArgs != nil {
		launchArgs = *c.LaunchArgs
	}
	image, err := g.scanLaunchArgs(launchArgs)
	if err != nil {
		return err
	}
	if len(g.Images) > 0 {
		if g.commandsBounded() && (c.TemplateHash != nil || c.TemplateId != nil) {
			return &capError{g.commandsFlag(), "a template cannot be used: its onstart and args are commands this server cannot see; use search_params with launch_args --image"}
		}
		if !image {
			return &capError{g.imagesFlag(), "launch_args --image is required: only listed images may run, and a template's image cannot be checked"}
		}
	}
	return nil
}

// checkLaunchArgs applies the instance caps to launch_args.
func (g *Guardrails) checkLaunchArgs(launchArgs string) error {
	_, err := g.scanLaunchArgs(launchArgs)
	return err
}

// scanLaunchArgs applies the instance caps to launch_args: the vastai
// create-instance options every worker of the group is started with, read
// as the CLI reads them. Under any instance cap, an option the caps do not
// cover and that could change what runs or what it costs is refused.
// image reports whether launch_args names an image.
func (g *Guardrails) scanLaunchArgs(launchArgs string) (image bool, err error) {
	if !g.instanceCaps() {
		return false, nil
	}
	args, err := parseLaunchArgs(launchArgs)
	if err != nil {
		return false, &capError{g.instanceFlags(), "launch_args cannot be checked: " + err.Error()}
	}
	var newVolume, volumeSize bool
	for _, a := range args {
		name := a.option.name()
		// As written, without an inline value, which may hold a secret.
		written, _, _ := strings.Cut(a.written, "=")
		written = bound(written, maxShownValue)
		spelt := ""
		if written != name {
			spelt = fmt.Sprintf(" (%s reads as %s)", written, name)
		}
		var err error
		switch name {
		case "--image":
			image = true
			if len(g.Images) > 0 {
				err = g.checkImage("image", a.value)
			}
		case "--disk":
			if g.MaxDisk > 0 {
				err = g.checkCap("disk", a.value, g.MaxDisk, "GB", g.diskFlag(), false)
			}
		case "--bid_price":
			if g.MaxPrice > 0 {
				err = g.checkCap("price", a.value, g.MaxPrice, "$/hour", g.priceFlag(), false)
			}
		case "--volume-size":
			volumeSize = true
			if g.MaxDisk > 0 {
				err = g.checkCap("volume size", a.value, g.MaxDisk, "GB", g.diskFlag(), true)
			}
		case "--create-volume":
			newVolume = true
		case "--onstart", "--onstart-cmd", "--entrypoint", "--args", "--template_hash":
			if g.commandsBounded() {
				what := "runs commands of the caller's choosing"
				if name == "--template_hash" {
					what = "names a template, whose image, onstart and args cannot be checked"
				}
				err = &capError{g.commandsFlag(), fmt.Sprintf("launch_args %s%s %s; only the listed images' own entrypoints may run", written, spelt, what)}
			}
		case "--env":
			if _, perr := ParseDockerFlags(a.value); perr != nil {
				err = &capError{g.instanceFlags(), "launch_args " + written + spelt + ": " + bound(perr.Error(), maxProblemText)}
			}
		case "--user", "--login", "--label", "--ssh", "--jupyter", "--direct", "--jupyter-dir", "--jupyter-lab",
			"--lang-utf8", "--python-utf8", "--force", "--cancel-unavail", "--link-volume", "--mount-path", "--volume-label":
			// Bound by no cap, and changes neither the image, the commands nor the cost.
		default:
			err = &capError{g.instanceFlags(), fmt.Sprintf("launch_args %s%s cannot be checked against the operator's caps, so it is not accepted", written, spelt)}
		}
		if err != nil {
			var ce *capError
			if errors.As(err, &ce) && !strings.HasPrefix(ce.reason, "launch_args") {
				ce.reason = "launch_args: " + ce.reason + spelt
			}
			return image, err
		}
	}
	if g.MaxDisk > 0 && newVolume && !volumeSize {
		return image, &capError{g.diskFlag(), "launch_args --create-volume needs --volume-size: the CLI's default size is not checked"}
	}
	return image, nil
}

// checkWorkers caps every count of workers a call can start: max_workers
// (required), and cold_workers and test_workers (vast-cli: "workers to
// create to get a performance estimate", billed like the rest) when given.
func (g *Guardrails) checkWorkers(maxWorkers *int, others map[string]*int) error {
	if g.MaxWorkers <= 0 {
		return nil
	}
	flag := "--max-workers " + strconv.Itoa(g.MaxWorkers)
	switch {
	case maxWorkers == nil:
		return &capError{flag, "max_workers is required: the service's default may exceed the operator's cap"}
	case *maxWorkers > g.MaxWorkers:
		return &capError{flag, fmt.Sprintf("max_workers %d is over the cap of %d", *maxWorkers, g.MaxWorkers)}
	}
	for _, name := range slices.Sorted(maps.Keys(others)) {
		if n := others[name]; n != nil && *n > g.MaxWorkers {
			return &capError{flag, fmt.Sprintf("%s %d is over the cap of %d", name, *n, g.MaxWorkers)}
		}
	}
	return nil
}

// checkInstance applies the instance caps (create_instance's guardrail). A
// capped field must be set: a template or the service's default could
// otherwise exceed the cap unseen.
func checkInstance(g *Guardrails, c *createInstanceCall) error {
	if g == nil {
		return nil
	}
	if err := g.prefixed("create_instance", "label", &c.Label); err != nil {
		return err
	}
	req := c.CreateInstanceJSONRequestBody
	if g.MaxPrice > 0 && req.Price != nil {
		if err := g.checkCapValue("price", *req.Price, g.MaxPrice, "$/hour", g.priceFlag()); err != nil {
			return err
		}
	}
	if g.MaxDisk > 0 {
		if req.Disk == nil {
			return &capError{g.diskFlag(), "disk is required: a template's disk may exceed the operator's cap"}
		}
		if err := g.checkCapValue("disk", *req.Disk, g.MaxDisk, "GB", g.diskFlag()); err != nil {
			return err
		}
		if v := req.VolumeInfo; v != nil {
			if v.CreateNew != nil && *v.CreateNew && v.Size == nil {
				return &capError{g.diskFlag(), "volume_info.size is required for a new volume: the service's default size is not checked"}
			}
			if v.Size != nil {
				if err := g.checkCapValue("volume_info.size", float64(*v.Size), g.MaxDisk, "GB", g.diskFlag()); err != nil {
					return err
				}
			}
		}
	}
	if len(g.Images) > 0 {
		if req.Image == nil {
			return &capError{g.imagesFlag(), "image is required: only listed images may run, and a template's image cannot be checked (an explicit image overrides it)"}
		}
		if err := g.checkImage("image", *req.Image); err != nil {
			return err
		}
		if g.commandsBounded() {
			for _, f := range []struct {
				name string
				set  bool
			}{{"onstart", req.Onstart != nil}, {"args", req.Args != nil}, {"args_str", req.ArgsStr != nil}, {"template_hash_id", req.TemplateHashId != nil}} {
				if f.set {
					return &capError{g.commandsFlag(), f.name + " is not accepted: only the listed images' own entrypoints may run, and it runs commands of its own (a template carries an onstart and args this server cannot see)"}
				}
			}
		}
	}
	return nil
}

// checkImage refuses what is not an image reference before matching the
// list, so that no control character, blank or odd spelling rides on an
// allowed prefix.
func (g *Guardrails) checkImage(what, image string) error {
	if err := parseImageReference(image); err != nil {
		return &capError{g.imagesFlag(), fmt.Sprintf("%s %q is not an image reference (name[:tag][@digest])", what, bound(image, maxShownValue))}
	}
	if !imageAllowed(g.Images, image) {
		return &capError{g.imagesFlag(), fmt.Sprintf("%s %q is not on the operator's list", what, bound(image, maxShownValue))}
	}
	return nil
}

// checkCap reads a number from launch_args as the CLI would (a float, or
// with whole an int) and holds it to the cap.
func (g *Guardrails) checkCap(what, text string, limit float64, unit, flag string, whole bool) error {
	var v float64
	var err error
	if whole {
		var n int64
		n, err = strconv.ParseInt(text, 10, 64)
		v = float64(n)
	} else {
		v, err = strconv.ParseFloat(text, 64)
	}
	if err != nil || strings.ContainsAny(text, "xX_") {
		return &capError{flag, fmt.Sprintf("%s %q is not a number", what, bound(text, maxShownValue))}
	}
	return g.checkCapValue(what, v, limit, unit, flag)
}

// checkCapValue holds v to the cap; NaN, infinities, zero and negative
// values (including -0) are refused, since no comparison with them bounds
// anything.
func (g *Guardrails) checkCapValue(what string, v, limit float64, unit, flag string) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return &capError{flag, fmt.Sprintf("%s %s is not a positive number", what, FormatNumber(v))}
	}
	if v > limit {
		return &capError{flag, fmt.Sprintf("%s %s %s is over the cap of %s %s", what, FormatNumber(v), unit, FormatNumber(limit), unit)}
	}
	return nil
}

func (g *Guardrails) instanceCaps() bool {
	return len(g.Images) > 0 || g.MaxDisk > 0 || g.MaxPrice > 0
}

// commandsBounded is whether only the listed images' own entrypoints may run.
func (g *Guardrails) commandsBounded() bool { return len(g.Images) > 0 && !g.AllowCommands }

func (g *Guardrails) imagesFlag() string   { return "--allow-image " + strings.Join(g.Images, ",") }
func (g *Guardrails) commandsFlag() string { return g.imagesFlag() + " without --allow-commands" }
func (g *Guardrails) diskFlag() string     { return "--max-disk " + FormatNumber(g.MaxDisk) }
func (g *Guardrails) priceFlag() string    { return "--max-price " + FormatNumber(g.MaxPrice) }

// instanceFlags names the instance caps in force.
func (g *Guardrails) instanceFlags() string {
	var flags []string
	if len(g.Images) > 0 {
		flags = append(flags, g.imagesFlag())
	}
	if g.MaxDisk > 0 {
		flags = append(flags, g.diskFlag())
	}
	if g.MaxPrice > 0 {
		flags = append(flags, g.priceFlag())
	}
	return strings.Join(flags, ", ")
}

func imageAllowed(allowed []string, image string) bool {
	for _, entry := range allowed {
		if prefix, ok := strings.CutSuffix(entry, "*"); ok {
			rest, found := strings.CutPrefix(image, prefix)
			// After "name:" a tag, after "name@" a digest: neither holds "/",
			// which would make "name:5000/…" a registry of that name.
			ended := strings.HasSuffix(prefix, ":") || strings.HasSuffix(prefix, "@")
			if found && !(ended && strings.Contains(rest, "/")) {
				return true
			}
		} else if image == entry {
			return true
		}
	}
	return false
}

// FormatNumber writes a number the way people read one: 12345678, 0.35,
// never 1.2345678e+07. Every figure an agent or an operator reads goes
// through it.
func FormatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
