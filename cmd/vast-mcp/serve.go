package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// newServer builds the MCP server for cfg.
func newServer(cfg *config, logger *slog.Logger) (*server.MCPServer, error) {
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
	s, err := newServer(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "error", err)
		return 2
	}
	logger.Info("vast-mcp serving", cfg.describe()...)
	if cfg.transport == "http" {
		return serveHTTP(ctx, cfg, s, logger)
	}
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(slog.NewLogLogger(logger.Handler(), slog.LevelError))
	if err := stdio.Listen(ctx, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("stdio server stopped", "error", err)
		return 1
	}
	logger.Info("vast-mcp stopped")
	return 0
}

func serveHTTP(ctx context.Context, cfg *config, s *server.MCPServer, logger *slog.Logger) int {
	httpServer := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	streamable := server.NewStreamableHTTPServer(s,
		server.WithEndpointPath("/mcp"),
		server.WithStreamableHTTPServer(httpServer),
		server.WithStreamableHTTPLogger(logger),
	)
	mux := http.NewServeMux()
	mux.Handle("/mcp", streamable)
	httpServer.Handler = mux

	listener, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("cannot listen", "addr", cfg.addr, "error", err)
		return 2
	}
	logger.Info("streamable HTTP listening", "url", "http://"+listener.Addr().String()+"/mcp")
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(listener) }()

	select {
	case err := <-served:
		logger.Error("http server stopped", "error", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := streamable.Shutdown(shutdownCtx); err != nil {
		logger.Warn("shutdown", "error", err)
	}
	logger.Info("vast-mcp stopped")
	return 0
}
