package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/metrics"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// config is every setting. Each comes from, in order of precedence, its
// flag, its environment variable, the --config file, or its default.
type config struct {
	transport         string
	addr              string
	baseURL           string
	serverlessURL     string
	timeout           time.Duration
	dryRun            bool
	sandbox           bool
	exposeInstanceKey bool
	logLevel          string
	version           bool
	configFile        string

	// Guardrails.
	tools      list
	toolsets   list
	readOnly   bool
	maxWait    time.Duration
	maxWorkers int
	maxPrice   float64
	maxDisk    float64
	images     list
	commands   bool
	confirm    confirmValue
	manage     string
	prefix     string
	maxSpend   float64
	maxCount   int

	// Streamable HTTP.
	httpToken       string
	allowOrigins    list
	httpMaxSessions int
	httpSessionTTL  time.Duration

	// Replicas: Redis, rate budgets, callers' keys (scale.go).
	scale scaleSettings
	env   func(string) string // the environment, for the state keys; nil: os

	problems []error // settings that did not parse

	metrics *metrics.Metrics // served at /metrics with --transport http; nil: none collected
}

const usageHead = `vast-mcp: create Vast.ai serverless endpoints, workergroups and GPU instances from an AI agent, over MCP.

Usage:
  vast-mcp [flags]                  serve MCP (stdio unless --transport http)
  vast-mcp [flags] demo             run the server in sandbox mode and drive it with a real MCP client
  vast-mcp [flags] call TOOL JSON   call one tool, e.g. vast-mcp call create_instance '{"offer_id":4242,"image":"ubuntu:24.04"}'

The API key comes from VAST_API_KEY, else the vastai CLI's key file
($XDG_CONFIG_HOME/vastai/vast_api_key, then ~/.vast_api_key). There is
deliberately no flag for it: a command line is visible to every user in ps.
Without a key the server still starts and lists its tools; --dry-run and
--sandbox need none.

Every setting below may also come from its environment variable (in
brackets) or from a JSON --config file whose keys are the flag names, e.g.
{"max-price": 2, "allow-image": ["vllm/vllm-openai:*"], "confirm": true}.
A flag beats the environment, which beats the file.

Guardrails (--tools, --toolsets, --read-only, --max-*, --allow-image, --allow-commands, --confirm,
--manage, --label-prefix) are the operator's:
no tool argument can override them. Logs go to stderr; stdout carries only MCP.

Flags:
`

// flagSet binds every flag to cfg. defaults(envName, flagName) supplies the
// value from the environment or the config file.
func flagSet(cfg *config, defaults func(envName, flagName string) string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vast-mcp", flag.ContinueOnError)
	fs.SetOutput(output)
	usage := func(text, envName string) string { return fmt.Sprintf("%s [%s]", text, envName) }
	str := func(p *string, name, envName, def, text string) {
		fs.StringVar(p, name, cmp.Or(defaults(envName, name), def), usage(text, envName))
	}
	boolean := func(p *bool, name, envName, text string) {
		*p = cfg.parseBool(name, defaults(envName, name))
		fs.BoolVar(p, name, *p, usage(text, envName))
	}
	listing := func(p *list, name, envName, text string) {
		if v := defaults(envName, name); v != "" {
			if err := p.Set(v); err != nil {
				cfg.problems = append(cfg.problems, fmt.Errorf("%s %q: %w", name, v, err))
			}
		}
		fs.Var(p, name, usage(text, envName))
	}
	capping := func(c capValue, name, envName, text string) {
		if v := defaults(envName, name); v != "" {
			if err := c.Set(v); err != nil {
				cfg.problems = append(cfg.problems, fmt.Errorf("%s %q: %w", name, v, err))
			}
		}
		fs.Var(c, name, usage(text, envName))
	}

	str(&cfg.transport, "transport", "VAST_MCP_TRANSPORT", "stdio", "stdio, or http for streamable HTTP at /mcp")
	str(&cfg.addr, "addr", "VAST_MCP_ADDR", "127.0.0.1:8080", "listen address for --transport http; a non-loopback address needs --http-token")
	str(&cfg.baseURL, "base-url", "VAST_URL", gen.DefaultBaseURL, "Vast.ai API base URL")
	str(&cfg.serverlessURL, "serverless-url", "VAST_SERVERLESS_URL", gen.DefaultServerlessURL, "Vast.ai serverless host (show_endpoint_workers)")
	cfg.timeout = cfg.parseDuration("timeout", cmp.Or(defaults("VAST_MCP_TIMEOUT", "timeout"), "30s"))
	fs.DurationVar(&cfg.timeout, "timeout", cfg.timeout, usage("time limit for each API request", "VAST_MCP_TIMEOUT"))
	boolean(&cfg.dryRun, "dry-run", "VAST_MCP_DRY_RUN", "send nothing: each tool returns the exact request it would send, key redacted")
	boolean(&cfg.sandbox, "sandbox", "VAST_MCP_SANDBOX", "answer every tool from built-in canned responses; no account needed")
	boolean(&cfg.exposeInstanceKey, "expose-instance-key", "VAST_MCP_EXPOSE_INSTANCE_KEY", "show the instance_api_key credential in create_instance results")
	str(&cfg.logLevel, "log-level", "VAST_MCP_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.StringVar(&cfg.configFile, "config", cfg.configFile, usage("JSON file of settings, keyed by flag name", "VAST_MCP_CONFIG"))
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")

	listing(&cfg.tools, "tools", "VAST_MCP_TOOLS", "comma-separated tools to offer (default all: "+strings.Join(mcp.ToolNames(), ", ")+"); narrows --toolsets and --read-only")
	listing(&cfg.toolsets, "toolsets", "VAST_MCP_TOOLSETS", "comma-separated groups of tools to offer (default all: "+strings.Join(mcp.Toolsets(), ", ")+")")
	boolean(&cfg.readOnly, "read-only", "VAST_MCP_READ_ONLY", "offer only the tools that change nothing (searches, lists, shows, waits)")
	cfg.maxWait = cfg.parseDuration("max-wait", cmp.Or(defaults("VAST_MCP_MAX_WAIT", "max-wait"), mcp.DefaultMaxWait.String()))
	fs.DurationVar(&cfg.maxWait, "max-wait", cfg.maxWait, usage("the most one wait_for_instance call waits; keep it under clients' tool time limits", "VAST_MCP_MAX_WAIT"))
	capping(capValue{i: &cfg.maxWorkers}, "max-workers", "VAST_MCP_MAX_WORKERS", "cap on max_workers, cold_workers and test_workers of endpoints and workergroups; max_workers then required (0: no cap)")
	capping(capValue{f: &cfg.maxPrice}, "max-price", "VAST_MCP_MAX_PRICE", "cap on an interruptible instance's bid (price, launch_args --bid_price), $/hour (0: no cap)")
	capping(capValue{f: &cfg.maxDisk}, "max-disk", "VAST_MCP_MAX_DISK", "cap on an instance's disk and a new volume's size, GB; disk then required (0: no cap)")
	listing(&cfg.images, "allow-image", "VAST_MCP_ALLOW_IMAGES", `comma-separated images an instance may run: exact names, or prefixes ending in /*, :* or @*; image then required, and only the image's own entrypoint runs unless --allow-commands`)
	boolean(&cfg.commands, "allow-commands", "VAST_MCP_ALLOW_COMMANDS", "with --allow-image, also accept what runs commands of the agent's choosing in an allowed image: onstart, args, args_str, templates and their launch_args options")
	if v := defaults("VAST_MCP_CONFIRM", "confirm"); v != "" {
		if err := cfg.confirm.Set(v); err != nil {
			cfg.problems = append(cfg.problems, fmt.Errorf("confirm %q: %w", v, err))
		}
	}
	fs.Var(&cfg.confirm, "confirm", usage("which calls a human approves (MCP elicitation) before they are sent: destructive (destroys and deletes; the default), all (also creates, stops and starts), or none; a bare --confirm or true means all", "VAST_MCP_CONFIRM"))

	str(&cfg.manage, "manage", "VAST_MCP_MANAGE", "all", "which resources stop, start, destroy and delete act on: all, or own (only those this server created, recognised by --label-prefix)")
	str(&cfg.prefix, "label-prefix", "VAST_MCP_LABEL_PREFIX", "", "start every instance label and endpoint name this server creates with this text (it changes what a create sends); --manage own needs it")
	capping(capValue{f: &cfg.maxSpend}, "max-hourly-spend", "VAST_MCP_MAX_HOURLY_SPEND", "refuse create_instance when the account's running instances' $/hour plus the new offer's would exceed this, $/hour (0: no ceiling)")
	capping(capValue{i: &cfg.maxCount}, "max-instances", "VAST_MCP_MAX_INSTANCES", "refuse create_instance when the account already has this many instances, running or stopped (0: no cap)")

	str(&cfg.httpToken, "http-token", "VAST_MCP_HTTP_TOKEN", "", "bearer token clients must send to /mcp and /metrics; required to bind a non-loopback address (prefer the env var: flags show in ps)")
	listing(&cfg.allowOrigins, "allow-origin", "VAST_MCP_ALLOW_ORIGINS", "comma-separated browser origins allowed to call /mcp (default: loopback origins only)")
	cfg.httpMaxSessions = cfg.parseInt("http-max-sessions", cmp.Or(defaults("VAST_MCP_HTTP_MAX_SESSIONS", "http-max-sessions"), strconv.Itoa(defaultMaxSessions)))
	fs.IntVar(&cfg.httpMaxSessions, "http-max-sessions", cfg.httpMaxSessions, usage("most streamable HTTP sessions kept at once; past it an initialize is refused (503)", "VAST_MCP_HTTP_MAX_SESSIONS"))
	cfg.httpSessionTTL = cfg.parseDuration("http-session-ttl", cmp.Or(defaults("VAST_MCP_HTTP_SESSION_TTL", "http-session-ttl"), defaultSessionTTL.String()))
	fs.DurationVar(&cfg.httpSessionTTL, "http-session-ttl", cfg.httpSessionTTL, usage("a streamable HTTP session idle this long expires", "VAST_MCP_HTTP_SESSION_TTL"))
	scaleFlags(cfg, str, boolean, listing)

	fs.Usage = func() {
		fmt.Fprint(output, usageHead)
		fs.PrintDefaults()
	}
	return fs
}

// list is a comma-separated flag value.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

// Set refuses an empty entry: an empty list would mean "any" or "all".
func (l *list) Set(v string) error {
	*l = nil
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			return errors.New("empty entry: list at least one, or leave the setting out for the default")
		}
		*l = append(*l, item)
	}
	return nil
}

// capValue is a numeric guardrail, f or i: a plain decimal number, or 0
// for no cap. What no comparison could enforce (NaN, infinities, negative
// numbers, a value that rounds to 0) is an error, not "no cap".
type capValue struct {
	f *float64
	i *int
}

// Compiled on first use: most starts set no cap.
var (
	plainNumber = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)
	})
	wholeNumber = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+$`) })
)

func (c capValue) String() string {
	switch {
	case c.f != nil:
		return mcp.FormatNumber(*c.f)
	case c.i != nil:
		return strconv.Itoa(*c.i)
	}
	return "0"
}

func (c capValue) Set(v string) error {
	if c.i != nil {
		n, err := strconv.Atoi(v)
		if !wholeNumber().MatchString(v) || err != nil {
			return errors.New("want a whole number, or 0 for no cap")
		}
		*c.i = n
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	mantissa, _, _ := strings.Cut(strings.ToLower(v), "e")
	switch {
	case !plainNumber().MatchString(v) || err != nil || math.IsInf(f, 0):
		return errors.New("want a finite number written in decimal, or 0 for no cap")
	case f == 0 && strings.ContainsAny(mantissa, "123456789"):
		return errors.New("too small: it would round to 0, which means no cap")
	}
	*c.f = f
	return nil
}

// confirmValue is --confirm: none, destructive or all. A bare --confirm,
// and true in the environment or the config file, keep the meaning they
// had before there was a choice: ask before everything that is not a read.
type confirmValue mcp.ConfirmPolicy

func (c *confirmValue) String() string { return mcp.ConfirmPolicy(*c).String() }

func (c *confirmValue) IsBoolFlag() bool { return true }

func (c *confirmValue) Set(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "true", "1":
		*c = confirmValue(mcp.ConfirmAll)
	case "destructive", "false", "0":
		*c = confirmValue(mcp.ConfirmDestructive)
	case "none":
		*c = confirmValue(mcp.ConfirmNone)
	default:
		return errors.New("want none, destructive or all")
	}
	return nil
}

func (c *config) parseInt(name, v string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		c.problems = append(c.problems, fmt.Errorf("%s %q: want a whole number", name, v))
	}
	return n
}

func (c *config) parseBool(name, v string) bool {
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		c.problems = append(c.problems, fmt.Errorf("%s %q: want true or false", name, v))
	}
	return b
}

func (c *config) parseDuration(name, v string) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil {
		c.problems = append(c.problems, fmt.Errorf("%s %q: want a duration such as 30s", name, v))
	}
	return d
}

// loadConfigFile reads a JSON object of settings keyed by flag name. An
// unknown key is an error: a misspelt guardrail must not go unnoticed.
func loadConfigFile(path string, known func(string) bool) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // a number as written: 1e-400 must not read as 0, "no cap"
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("--config %s: not a JSON object: %w", path, err)
	}
	values := map[string]string{}
	for key, v := range raw {
		if !known(key) || key == "config" || key == "version" {
			return nil, fmt.Errorf("--config %s: unknown setting %q", path, key)
		}
		value, err := configValue(v)
		if err != nil {
			return nil, fmt.Errorf("--config %s: %s: %w", path, key, err)
		}
		values[key] = value
	}
	return values, nil
}

// configValue is a config file's value as the flag would take it. An empty
// value is an error: leaving a key out is how to get its default.
func configValue(v any) (string, error) {
	const useDefault = "leave the setting out for its default"
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return "", errors.New("empty list; " + useDefault)
		}
		parts := make([]string, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return "", fmt.Errorf("entry %d: want a string", i+1)
			}
			if strings.TrimSpace(s) == "" || strings.Contains(s, ",") {
				return "", fmt.Errorf("entry %d %q: want a non-empty entry without commas", i+1, s)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case string:
		if strings.TrimSpace(v) == "" {
			return "", errors.New("empty; " + useDefault)
		}
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", errors.New("null; " + useDefault)
	}
	return "", errors.New("want a string, number, true or false, or a list of strings")
}

func (c *config) validate() error {
	errs := slices.Clone(c.problems)
	switch c.transport {
	case "stdio", "http":
	default:
		errs = append(errs, fmt.Errorf("--transport %q: want stdio or http", c.transport))
	}
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s: want a positive duration such as 30s", c.timeout))
	}
	if c.httpMaxSessions <= 0 || c.httpSessionTTL <= 0 {
		errs = append(errs, errors.New("--http-max-sessions and --http-session-ttl take a positive value"))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.dryRun && c.sandbox {
		errs = append(errs, errors.New("--dry-run and --sandbox: choose one"))
	}
	for _, set := range c.toolsets {
		if !slices.Contains(mcp.Toolsets(), set) {
			errs = append(errs, fmt.Errorf("--toolsets %q: no such toolset; the toolsets are %s", set, strings.Join(mcp.Toolsets(), ", ")))
		}
	}
	if c.maxWait < time.Second {
		errs = append(errs, fmt.Errorf("--max-wait %s: want at least 1s", c.maxWait))
	}
	for _, tool := range c.tools {
		if !slices.Contains(mcp.ToolNames(), tool) {
			errs = append(errs, fmt.Errorf("--tools %q: no such tool; the tools are %s", tool, strings.Join(mcp.ToolNames(), ", ")))
		}
	}
	if c.maxWorkers < 0 || c.maxPrice < 0 || c.maxDisk < 0 {
		errs = append(errs, errors.New("--max-workers, --max-price and --max-disk take a positive value, or 0 for no cap"))
	}
	switch c.manage {
	case "all":
	case "own":
		if c.prefix == "" {
			errs = append(errs, errors.New("--manage own needs --label-prefix: the mark by which this server recognises what it created"))
		}
	default:
		errs = append(errs, fmt.Errorf("--manage %q: want all or own", c.manage))
	}
	if strings.ContainsFunc(c.prefix, func(r rune) bool { return r < ' ' || r == 0x7f }) || len(c.prefix) > 64 {
		errs = append(errs, errors.New("--label-prefix: at most 64 characters, no control characters"))
	}
	for _, image := range c.images {
		prefix := strings.TrimSuffix(image, "*")
		switch {
		case prefix == "":
			errs = append(errs, fmt.Errorf("--allow-image %q: matches every image; leave --allow-image out instead", image))
		case strings.Contains(prefix, "*"):
			errs = append(errs, fmt.Errorf("--allow-image %q: \"*\" may only end an entry", image))
		case strings.ContainsFunc(prefix, func(r rune) bool { return r <= ' ' || r > '~' }):
			errs = append(errs, fmt.Errorf("--allow-image %q: an image name has no blanks, control or non-ASCII characters", image))
		case prefix != image && !strings.ContainsAny(prefix[len(prefix)-1:], "/:@"):
			// Else "ghcr.io/myorg*" also allows "ghcr.io/myorg-evil/miner".
			errs = append(errs, fmt.Errorf(`--allow-image %q: a prefix ends its name part with "/", ":" or "@" before the "*" (%q, %q), so that it cannot also match other names that start alike`, image, prefix+"/*", prefix+":*"))
		}
	}
	if _, err := c.scale.rates(); err != nil {
		errs = append(errs, err)
	}
	if c.scale.callerKeys && c.transport != "http" {
		errs = append(errs, errors.New("--caller-keys: callers send their keys in an HTTP header; it needs --transport http"))
	}
	return errors.Join(errs...)
}

func (c *config) level() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	return level, nil
}

func (c *config) logger(stderr io.Writer) *slog.Logger {
	level, _ := c.level()
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// clientConfig is the generated client's configuration for these settings.
func (c *config) clientConfig(logger *slog.Logger) gen.Config {
	cfg := gen.Config{
		BaseURL:       c.baseURL,
		ServerlessURL: c.serverlessURL,
		Timeout:       c.timeout,
		DryRun:        c.dryRun,
		Logger:        logger,
	}
	if c.metrics != nil {
		cfg.Observe = c.metrics.APIAttempt
	}
	cfg.Limiter = c.scale.limiter
	if c.sandbox {
		// The sandbox answers in process; no real key ever goes to it.
		cfg.APIKey = "sandbox"
		cfg.HTTPClient = &http.Client{Transport: mcp.SandboxTransport()}
	}
	return cfg
}

func (c *config) serverOptions(logger *slog.Logger) mcp.Options {
	opts := mcp.Options{
		ExposeInstanceKey: c.exposeInstanceKey,
		Sandbox:           c.sandbox,
		Logger:            logger,
		Guardrails: &mcp.Guardrails{
			Tools:         c.tools,
			Toolsets:      c.toolsets,
			ReadOnly:      c.readOnly,
			MaxWait:       c.maxWait,
			MaxWorkers:    c.maxWorkers,
			MaxPrice:      c.maxPrice,
			MaxDisk:       c.maxDisk,
			Images:        c.images,
			AllowCommands: c.commands,
			Confirm:       mcp.ConfirmPolicy(c.confirm),
			Manage:        manageScope(c.manage),
			LabelPrefix:   c.prefix,

			MaxHourlySpend: c.maxSpend,
			MaxInstances:   c.maxCount,
		},
	}
	if c.metrics != nil {
		opts.OnToolCall, opts.OnConfirmation = c.metrics.ToolCall, c.metrics.Confirmation
	}
	opts.StateKeys, opts.SpentStates, opts.SpendLocks, opts.SharedClaims = c.scale.stateKeys, c.scale.spent, c.scale.spendLock, c.scale.claims
	return opts
}

// describe is the start-up log line: what is active, never a secret.
func (c *config) describe() []any {
	mode := "live"
	switch {
	case c.sandbox:
		mode = "sandbox"
	case c.dryRun:
		mode = "dry-run"
	}
	none := func(s string) string { return cmp.Or(s, "none") }
	return []any{"version", gen.Version, "transport", c.transport, "mode", mode, "base_url", gen.RedactURL(c.baseURL), "serverless_url", gen.RedactURL(c.serverlessURL), "timeout", c.timeout,
		"tools", cmp.Or(c.tools.String(), "all"), "toolsets", cmp.Or(c.toolsets.String(), "all"), "read_only", c.readOnly, "max_wait", c.maxWait,
		"max_workers", none(capText(float64(c.maxWorkers))), "max_price", none(capText(c.maxPrice)), "max_disk", none(capText(c.maxDisk)),
		"allowed_images", cmp.Or(c.images.String(), "any"), "allow_commands", c.commands, "confirm", mcp.ConfirmPolicy(c.confirm).String(), "expose_instance_key", c.exposeInstanceKey,
		"manage", c.manage, "label_prefix", none(c.prefix), "max_hourly_spend", none(capText(c.maxSpend)), "max_instances", none(capText(float64(c.maxCount))),
		"redis", c.scale.redisURL != "", "rate", c.scale.rateText(), "caller_keys", c.scale.callerKeys}
}

func capText(v float64) string {
	if v <= 0 {
		return ""
	}
	return mcp.FormatNumber(v)
}

func environ(name string) string { return strings.TrimSpace(os.Getenv(name)) }

func manageScope(v string) mcp.ManageScope {
	if v == "own" {
		return mcp.ManageOwn
	}
	return mcp.ManageAll
}
