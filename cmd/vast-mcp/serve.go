package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// newServer builds the MCP server for cfg; tune adjusts its options.
func newServer(cfg *config, logger *slog.Logger, tune ...func(*mcp.Options)) (*server.MCPServer, error) {
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
	opts := cfg.serverOptions(logger)
	for _, f := range tune {
		f(&opts)
	}
	return mcp.NewServer(vast, opts), nil
}

// stdioWorkers is how many tool calls mcp-go's stdio transport runs at once.
// Past them its queue fills, and then it runs the next call inside its read
// loop, where a call that waits for an answer from the client (a
// confirmation) waits for ever: the loop that would read the answer is the
// one waiting. At most stdioCallSlots calls may wait, on the API or a human;
// the other workers refuse extra calls at once, and the queue is long enough
// that they drain it before it fills even when the machine is busy (a full
// queue of 100 was seen under load in CI-like runs). Each queued call holds
// one line of input, at most maxLine bytes. The workers take calls in turn,
// so each one more is one more stack to grow again after a garbage
// collection shrank it: sixteen calls waiting at once is already more than
// one agent makes (BENCHMARKS.md).
const (
	stdioWorkers   = 24
	stdioCallSlots = 16
	stdioQueue     = 1000
)

// shutdownMargin is added to the API timeout for the calls running at
// shutdown: a create sent just before has that long to be answered.
const shutdownMargin = 5 * time.Second

// beginShutdown stops taking calls and lets those running finish.
func beginShutdown(shutdown *mcp.Shutdown, cfg *config, logger *slog.Logger, reason string) time.Duration {
	limit := cfg.timeout + shutdownMargin
	if shutdown.Begin(limit) {
		logger.Info("stopping: calls in progress may finish", "reason", reason, "limit", limit)
	}
	return limit
}

func serve(ctx context.Context, cfg *config, logger *slog.Logger, stdin io.Reader, stdout io.Writer) int {
	if cfg.transport == "http" {
		logger = forHTTP(cfg, logger)
	}
	shutdown := mcp.NewShutdown()
	s, err := newServer(cfg, logger, func(o *mcp.Options) {
		o.Shutdown = shutdown
		if cfg.transport != "http" {
			o.MaxCallsInFlight = stdioCallSlots
		}
	})
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 2
	}
	logger.Info("vast-mcp serving", cfg.describe()...)
	if cfg.transport == "http" {
		return serveHTTP(ctx, cfg, s, shutdown, logger)
	}
	stdioServer := server.NewStdioServer(s)
	stdioServer.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	server.WithWorkerPoolSize(stdioWorkers)(stdioServer)
	server.WithQueueSize(stdioQueue)(stdioServer)
	// mcp-go cancels every running call when its context ends or input
	// does: the shutdown begins first, so that calls already sent outlive
	// both, and Listen returns once they are answered.
	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	defer context.AfterFunc(ctx, func() {
		beginShutdown(shutdown, cfg, logger, "signal")
		stopListening()
	})()
	input := atEnd(limitLines(stdin, maxLine), func() { beginShutdown(shutdown, cfg, logger, "end of input") })
	if err := stdioServer.Listen(listenCtx, input, stdout); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("stdio server stopped", "error", err)
		return 1
	}
	logger.Info("vast-mcp stopped")
	return 0
}

func serveHTTP(ctx context.Context, cfg *config, s *server.MCPServer, shutdown *mcp.Shutdown, logger *slog.Logger) int {
	if err := checkBind(cfg.addr, cfg.httpToken); err != nil {
		logger.Error("refusing to serve", "error", err)
		return 2
	}
	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("cannot listen", "addr", cfg.addr, "error", err)
		return 2
	}
	if err := serveHTTPOn(ctx, listener, cfg, s, shutdown, logger); err != nil {
		logger.Error("http server stopped", "error", err)
		return 1
	}
	logger.Info("vast-mcp stopped")
	return 0
}

// maxRequestBody bounds one HTTP request to /mcp.
const maxRequestBody = 1 << 20

// Streamable HTTP sessions live until idle for defaultSessionTTL, and at
// most defaultMaxSessions at once: about 12 MB of session state.
const (
	defaultSessionTTL  = 30 * time.Minute
	defaultMaxSessions = 1000
)

// httpTimeouts bound slow or idle clients. Calls can wait on the API
// (--timeout, retries) or on a human confirming, so writes get minutes.
var httpTimeouts = struct{ readHeader, read, write, idle time.Duration }{
	readHeader: 10 * time.Second,
	read:       time.Minute,
	write:      10 * time.Minute,
	idle:       2 * time.Minute,
}

// serveHTTPOn serves streamable HTTP at /mcp until ctx ends, then shuts
// down gracefully: it takes no more calls and waits for those running
// (shutdown may be nil: then they run bound to their requests).
func serveHTTPOn(ctx context.Context, listener net.Listener, cfg *config, s *server.MCPServer, shutdown *mcp.Shutdown, logger *slog.Logger) error {
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
	ttl := cmp.Or(cfg.httpSessionTTL, defaultSessionTTL)
	sessions := newSessionRegistry(cmp.Or(cfg.httpMaxSessions, defaultMaxSessions), ttl)
	streamable := server.NewStreamableHTTPServer(s,
		server.WithEndpointPath("/mcp"),
		server.WithStreamableHTTPServer(httpServer),
		server.WithStreamableHTTPLogger(slog.New(sessionsUnnamed{logger.Handler()})),
		server.WithSessionIdManager(sessions),
		server.WithSessionIdleTTL(ttl),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", httpGuard(cfg.httpToken, cfg.allowOrigins, withCallerKeys(cfg.scale.callerKeys, sessions.guard(streamable))))
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
	limit := cfg.timeout + shutdownMargin
	if shutdown != nil {
		limit = beginShutdown(shutdown, cfg, logger, "signal")
	}
	// The calls end by limit; their answers then need writing.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), limit+shutdownMargin)
	defer cancel()
	return streamable.Shutdown(shutdownCtx)
}

// checkBind refuses to expose the server beyond this machine without a token.
func checkBind(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if gen.IsLoopback(host) || token != "" {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address: anyone who can reach it could rent GPUs with your key. "+
		"Set VAST_MCP_HTTP_TOKEN (or --http-token) to require a bearer token, or bind 127.0.0.1", addr)
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
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && gen.IsLoopback(u.Hostname())
}
