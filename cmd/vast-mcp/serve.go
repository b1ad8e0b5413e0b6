package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/stdio"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// newServer builds the MCP server for cfg.
func newServer(cfg *config, logger *slog.Logger) (*server.MCPServer, error) {
	if err := cfg.setupScale(logger); err != nil {
		return nil, err
	}
	vast, err := gen.New(cfg.clientConfig(logger))
	if err != nil {
		return nil, err
	}
	if !vast.HasAPIKey() && !cfg.dryRun {
		logger.Warn("no Vast.ai API key: tools are listed, and calls will say how to provide one (VAST_API_KEY)")
	}
	return mcp.NewServer(vast, cfg.serverOptions(logger)), nil
}

func serve(ctx context.Context, cfg *config, logger *slog.Logger, stdin io.Reader, stdout io.Writer) int {
	if cfg.transport == "http" {
		logger = forHTTP(cfg, logger)
	}
	s, err := newServer(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 2
	}
	logger.Info("vast-mcp serving", cfg.describe()...)
	if cfg.transport == "http" {
		return serveHTTP(ctx, cfg, s, logger)
	}
	stdinBlocks := false
	if f, ok := stdin.(*os.File); ok {
		// Wait for each message in the poller, not in a thread blocked in read(2).
		out, _ := stdout.(*os.File)
		polled, restore := stdio.PollStdin(f, out, os.Stderr)
		defer restore()
		stdin, stdinBlocks = polled, !stdio.Polled(polled)
	}
	// The runtime reads GOMAXPROCS from the real environment, so this does too.
	if oneProcessor(os.Getenv("GOMAXPROCS"), stdinBlocks) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	stdioServer := server.NewStdioServer(s)
	stdioServer.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	if err := stdioServer.Listen(ctx, limitLines(stdin, maxLine), stdout); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("stdio server stopped", "error", err)
		return 1
	}
	logger.Info("vast-mcp stopped")
	return 0
}

func serveHTTP(ctx context.Context, cfg *config, s *server.MCPServer, logger *slog.Logger) int {
	if err := checkBind(cfg.addr, cfg.httpToken); err != nil {
		logger.Error("refusing to serve", "error", err)
		return 2
	}
	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("cannot listen", "addr", cfg.addr, "error", err)
		return 2
	}
	if err := serveHTTPOn(ctx, listener, cfg, s, logger); err != nil {
		logger.Error("http server stopped", "error", err)
		return 1
	}
	logger.Info("vast-mcp stopped")
	return 0
}

// maxRequestBody bounds one HTTP request to /mcp.
const maxRequestBody = 1 << 20

// httpTimeouts bound slow or idle clients. Calls can wait on the API
// (--timeout, retries) or on a human confirming, so writes get minutes.
var httpTimeouts = struct{ readHeader, read, write, idle time.Duration }{
	readHeader: 10 * time.Second,
	read:       time.Minute,
	write:      10 * time.Minute,
	idle:       2 * time.Minute,
}

// serveHTTPOn serves streamable HTTP at /mcp until ctx ends, then shuts
// down gracefully.
func serveHTTPOn(ctx context.Context, listener net.Listener, cfg *config, s *server.MCPServer, logger *slog.Logger) error {
	httpServer := &http.Server{
		ReadHeaderTimeout: httpTimeouts.readHeader,
		ReadTimeout:       httpTimeouts.read,
		WriteTimeout:      httpTimeouts.write,
		IdleTimeout:       httpTimeouts.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// mcp-go also refuses a non-loopback Host on a loopback connection (DNS
	// rebinding); httpGuard adds the token, Origin and body-size checks.
	streamable := server.NewStreamableHTTPServer(s,
		server.WithEndpointPath("/mcp"),
		server.WithStreamableHTTPServer(httpServer),
		server.WithStreamableHTTPLogger(logger),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", httpGuard(cfg.httpToken, cfg.allowOrigins, withCallerKeys(cfg.scale.callerKeys, streamable)))
	m := cfg.metrics
	if m == nil {
		m = newMetrics()
	}
	opsRoutes(mux, cfg, m, cfg.readinessChecks()...)
	httpServer.Handler = withRequestID(logger, mux)

	logger.Info("streamable HTTP listening", "url", "http://"+listener.Addr().String()+"/mcp", "token_required", cfg.httpToken != "")
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return streamable.Shutdown(shutdownCtx)
}

// oneProcessor reports whether to serve stdio on one processor. One agent's
// calls spend their time waiting on the API; on one processor the runtime
// no longer wakes a second thread at every goroutine hand-off (read,
// dispatch, HTTP round trip, write), which cost a fifth to a quarter of each
// call's CPU (BENCHMARKS.md). Calls still run concurrently. Not when stdin
// blocks a thread in read(2) (a terminal, a file, a pipe on macOS, a stdin
// shared with stdout): the runtime must then take the only processor back
// from that thread for every message, 60 % slower. Not when the operator set
// GOMAXPROCS to a value the runtime takes.
func oneProcessor(operatorSetting string, stdinBlocks bool) bool {
	if n, err := strconv.Atoi(operatorSetting); err == nil && n > 0 {
		return false
	}
	return !stdinBlocks
}

// checkBind refuses to expose the server beyond this machine without a token.
func checkBind(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if isLoopback(host) || token != "" {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address: anyone who can reach it could rent GPUs with your key. "+
		"Set VAST_MCP_HTTP_TOKEN (or --http-token) to require a bearer token, or bind 127.0.0.1", addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// httpGuard checks what mcp-go leaves to the application: the bearer token,
// the browser Origin, and the request size.
func httpGuard(token string, allowedOrigins []string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vast-mcp"`)
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(origin, allowedOrigins) {
			// A web page the user visits must not drive a local server.
			http.Error(w, fmt.Sprintf("origin %q is not allowed", origin), http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		next.ServeHTTP(w, r)
	})
}

func originAllowed(origin string, allowed []string) bool {
	if len(allowed) > 0 {
		return slices.Contains(allowed, origin)
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && isLoopback(u.Hostname())
}
