package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/metrics"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// Operations endpoints, beside /mcp on the same listener.
//
// /healthz and /readyz answer without the bearer token: a kubelet or a
// load balancer probes them without a secret, and they reveal nothing but
// "up". /metrics goes through httpGuard like /mcp, so off loopback it
// takes the same token (Prometheus sends it with authorization
// credentials_file): tool and API counts tell an outsider how the server
// is used.
const (
	pathHealth  = "/healthz"
	pathReady   = "/readyz"
	pathMetrics = "/metrics"
)

// readinessCheck fails while the server should get no traffic.
type readinessCheck func(context.Context) error

func opsRoutes(mux *http.ServeMux, cfg *config, m *metrics.Metrics, checks ...readinessCheck) {
	mux.HandleFunc("GET "+pathHealth, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET "+pathReady, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, check := range checks {
			if err := check(r.Context()); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET "+pathMetrics, refuseRebinding(httpGuard(cfg.httpToken, cfg.allowOrigins, m.Handler())))
}

// refuseRebinding refuses a request that came in over loopback naming a
// host that is not loopback: a web page whose domain was rebound to
// 127.0.0.1 (DNS rebinding). mcp-go does the same for /mcp.
func refuseRebinding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if !gen.IsLoopback(host) {
				http.Error(w, fmt.Sprintf("host %q is not allowed on a loopback address", r.Host), http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// forHTTP collects metrics for cfg and returns logger with each HTTP
// request's id on the lines logged under it.
func forHTTP(cfg *config, logger *slog.Logger) *slog.Logger {
	cfg.metrics = newMetrics()
	return slog.New(requestIDHandler{logger.Handler()})
}

// newMetrics returns metrics with every tool's outcomes at zero.
func newMetrics() *metrics.Metrics {
	m := metrics.New()
	m.Start(mcp.ToolNames(),
		mcp.Outcomes,
		[]string{mcp.ConfirmationAsked, mcp.ConfirmationRedeemed})
	return m
}

// requestIDHeader carries a request's id in and out: a balancer's id is
// kept when it is safe to log, else one is made.
const requestIDHeader = "X-Request-Id"

var safeRequestID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`) })

type requestIDKey struct{}

// withRequestID gives each HTTP request an id, returned in X-Request-Id
// and attached (request_id) to every log line made under its context, and
// logs one line per request.
func withRequestID(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !safeRequestID().MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(requestIDHeader, id)
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))

		path := r.URL.Path
		level := slog.LevelInfo
		switch path {
		case "/mcp":
		case pathHealth, pathReady, pathMetrics:
			level = slog.LevelDebug // probes and scrapes every few seconds
		default:
			path = "(other)" // the caller's choice: kept out of the log
		}
		logger.LogAttrs(ctx, level, "http request", slog.String("method", r.Method), slog.String("path", path),
			slog.Int("status", rec.status()), slog.Duration("duration", time.Since(start)))
	})
}

// statusRecorder notes the status; Flush and Unwrap keep streaming (SSE)
// and http.ResponseController working through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// requestIDHandler adds request_id to each record logged under a request's
// context, wherever it is logged from (the API client included).
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
