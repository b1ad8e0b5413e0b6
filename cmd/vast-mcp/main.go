// Command vast-mcp is an MCP server that lets AI agents create Vast.ai
// serverless endpoints, workergroups and GPU instances. Run it with --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vast-mcp/vast-mcp/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, environ)
	stop()
	os.Exit(code)
}

// run is main with its inputs and outputs passed in, for tests.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	var cfg config
	fs := flagSet(&cfg, env, stderr)
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var command string
	var rest []string
	if len(positional) > 0 {
		command, rest = positional[0], positional[1:]
	}
	if cfg.version {
		fmt.Fprintln(stdout, "vast-mcp", gen.Version)
		return 0
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, "vast-mcp:", err)
		return 2
	}
	logger := cfg.logger(stderr)

	switch command {
	case "":
		return serve(ctx, &cfg, logger, stdin, stdout)
	case "demo":
		return demo(ctx, &cfg, stdout, stderr)
	case "call":
		return callTool(ctx, &cfg, logger, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "vast-mcp: unknown command %q; see vast-mcp --help\n", command)
		return 2
	}
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
