// Command vast-mcp is an MCP server that lets AI agents create Vast.ai
// serverless endpoints, workergroups and GPU instances. Run it with --help.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/vast-mcp/vast-mcp/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A client gone is no reason to die at the next write: the calls it
	// left running still finish, and the log learns their outcome.
	signal.Ignore(syscall.SIGPIPE)
	stopProfile := startCPUProfile(os.Getenv("VAST_MCP_CPUPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, environ)
	stopProfile()
	stop()
	os.Exit(code)
}

// startCPUProfile writes a pprof CPU profile of the whole run to path, for
// the benchmarks (BENCHMARKS.md); an empty path profiles nothing.
func startCPUProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vast-mcp: VAST_MCP_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// run is main with its inputs and outputs passed in, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	cfg, positional, exit := parse(args, env, stdout, stderr)
	if exit >= 0 {
		return exit
	}
	var command string
	var rest []string
	if len(positional) > 0 {
		command, rest = positional[0], positional[1:]
	}
	logger := cfg.logger(stderr)

	switch command {
	case "":
		return serve(ctx, cfg, logger, stdin, stdout)
	case "demo":
		return demo(ctx, cfg, stdout, stderr)
	case "call":
		return callTool(ctx, cfg, logger, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "vast-mcp: unknown command %q; see vast-mcp --help\n", command)
		return 2
	}
}

// parse resolves every setting (flag, then environment, then --config
// file, then default) and validates them. exit is -1 when the command
// should run, else the code to exit with.
func parse(args []string, env func(string) string, stdout, stderr io.Writer) (cfg *config, positional []string, exit int) {
	cfg = &config{configFile: env("VAST_MCP_CONFIG"), env: env}
	if path := configFlag(args); path != "" {
		cfg.configFile = path
	}
	fromFile := map[string]string{}
	if cfg.configFile != "" {
		known := flagSet(&config{}, func(string, string) string { return "" }, io.Discard)
		var err error
		if fromFile, err = loadConfigFile(cfg.configFile, func(name string) bool { return known.Lookup(name) != nil }); err != nil {
			fmt.Fprintln(stderr, "vast-mcp:", err)
			return nil, nil, 2
		}
	}
	defaults := func(envName, flagName string) string { return cmp.Or(env(envName), fromFile[flagName]) }
	fs := flagSet(cfg, defaults, stderr)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, 0
		}
		return nil, nil, 2
	}
	if cfg.version {
		fmt.Fprintln(stdout, "vast-mcp", gen.Version)
		return nil, nil, 0
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "vast-mcp:", err)
		return nil, nil, 2
	}
	return cfg, positional, -1
}

// parseInterspersed lets flags come before or after the command and its
// arguments: vast-mcp call create_endpoint '{}' --sandbox.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// configFlag finds --config among the arguments before they are parsed,
// since the file supplies the other flags' defaults.
func configFlag(args []string) string {
	for i, arg := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if !strings.HasPrefix(arg, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}
