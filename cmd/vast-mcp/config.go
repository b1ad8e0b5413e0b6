package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// config is every setting, from flags and the environment. Flags win over
// the environment; each flag's environment variable is in --help.
type config struct {
	transport         string
	addr              string
	baseURL           string
	timeout           time.Duration
	dryRun            bool
	sandbox           bool
	exposeInstanceKey bool
	logLevel          string
	version           bool
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

Logs go to stderr; stdout carries only MCP.

Flags (environment variable in brackets):
`

// flagSet binds every flag to cfg, with defaults taken from the environment.
func flagSet(cfg *config, env func(string) string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vast-mcp", flag.ContinueOnError)
	fs.SetOutput(output)
	str := func(p *string, name, envName, def, usage string) {
		fs.StringVar(p, name, cmp.Or(env(envName), def), fmt.Sprintf("%s [%s]", usage, envName))
	}
	boolean := func(p *bool, name, envName, usage string) {
		v, _ := strconv.ParseBool(env(envName))
		fs.BoolVar(p, name, v, fmt.Sprintf("%s [%s]", usage, envName))
	}
	str(&cfg.transport, "transport", "VAST_MCP_TRANSPORT", "stdio", "stdio, or http for streamable HTTP at /mcp")
	str(&cfg.addr, "addr", "VAST_MCP_ADDR", "127.0.0.1:8080", "listen address for --transport http (loopback by default)")
	str(&cfg.baseURL, "base-url", "VAST_URL", gen.DefaultBaseURL, "Vast.ai API base URL")
	timeout, _ := time.ParseDuration(env("VAST_MCP_TIMEOUT"))
	fs.DurationVar(&cfg.timeout, "timeout", cmp.Or(timeout, 30*time.Second), "time limit for each API request [VAST_MCP_TIMEOUT]")
	boolean(&cfg.dryRun, "dry-run", "VAST_MCP_DRY_RUN", "send nothing: each tool returns the exact request it would send, key redacted")
	boolean(&cfg.sandbox, "sandbox", "VAST_MCP_SANDBOX", "answer every tool from built-in canned responses; no account needed")
	boolean(&cfg.exposeInstanceKey, "expose-instance-key", "VAST_MCP_EXPOSE_INSTANCE_KEY", "show the instance_api_key credential in create_instance results")
	str(&cfg.logLevel, "log-level", "VAST_MCP_LOG_LEVEL", "info", "debug, info, warn or error")
	fs.BoolVar(&cfg.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(output, usageHead)
		fs.PrintDefaults()
	}
	return fs
}

func (c *config) validate() error {
	switch c.transport {
	case "stdio", "http":
	default:
		return fmt.Errorf("--transport %q: want stdio or http", c.transport)
	}
	if c.timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration such as 30s", c.timeout)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.dryRun && c.sandbox {
		return fmt.Errorf("--dry-run and --sandbox: choose one")
	}
	return nil
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
		BaseURL: c.baseURL,
		Timeout: c.timeout,
		DryRun:  c.dryRun,
		Logger:  logger,
	}
	if c.sandbox {
		// The sandbox answers in process; no real key ever goes to it.
		cfg.APIKey = "sandbox"
		cfg.HTTPClient = &http.Client{Transport: mcp.SandboxTransport()}
	}
	return cfg
}

func (c *config) serverOptions(logger *slog.Logger) mcp.Options {
	return mcp.Options{ExposeInstanceKey: c.exposeInstanceKey, Sandbox: c.sandbox, Logger: logger}
}

// describe is the start-up log line: what is active, never the key.
func (c *config) describe() []any {
	mode := "live"
	switch {
	case c.sandbox:
		mode = "sandbox"
	case c.dryRun:
		mode = "dry-run"
	}
	return []any{"version", gen.Version, "transport", c.transport, "mode", mode,
		"base_url", c.baseURL, "timeout", c.timeout, "expose_instance_key", c.exposeInstanceKey}
}

func environ(name string) string { return strings.TrimSpace(os.Getenv(name)) }
