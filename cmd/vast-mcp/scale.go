package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/ratelimit"
	"github.com/vast-mcp/vast-mcp/internal/redisstore"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// Replicas behind a load balancer share what must be shared (README,
// "Running it for a team"): the state key seals confirmations so any
// replica redeems them; Redis spends each once and holds the API's rate
// budgets. Without Redis one process works as before.

// scaleSettings are the settings for running several replicas.
type scaleSettings struct {
	redisURL      string
	rate          string // N/duration
	operationRate list   // operationId=N/duration
	callerKeys    bool

	// Built by setupScale.
	rdb       *redis.Client
	limiter   gen.Limiter
	stateKeys [][]byte
	spent     mcp.SpentStates
	spendLock mcp.SpendLocks
	claims    mcp.SharedClaims
}

// defaultSharedRate is Vast.ai's documented budget, paced when replicas
// share Redis and the operator named no rate.
const defaultSharedRate = "5/10s"

// callerKeyHeader carries a caller's own Vast.ai key, with --caller-keys.
const callerKeyHeader = "X-Vast-Api-Key"

func scaleFlags(cfg *config, str func(p *string, name, envName, def, text string), boolean func(p *bool, name, envName, text string),
	listing func(p *list, name, envName, text string)) {
	s := &cfg.scale
	str(&s.redisURL, "redis", "VAST_MCP_REDIS_URL", "", "redis://host:port/db shared by replicas: single-use confirmations, one API rate budget per key, the spend lock per account and the record of creates (prefer the env var when the URL holds a password)")
	str(&s.rate, "rate", "VAST_MCP_RATE", "", "pace API calls to N per duration per key, e.g. 5/10s (default with --redis: "+defaultSharedRate+"; without: no pacing, 429s honoured)")
	listing(&s.operationRate, "operation-rate", "VAST_MCP_OPERATION_RATES", "comma-separated operationId=N/duration for operations whose limit differs, each paced on its own budget per key")
	boolean(&s.callerKeys, "caller-keys", "VAST_MCP_CALLER_KEYS", "with --transport http, let a caller send its own Vast.ai key in the "+callerKeyHeader+" header, used for that request only")
}

// rates checks and returns the configured budgets; zero Rate: no pacing.
func (s *scaleSettings) rates() (ratelimit.Config, error) {
	var rc ratelimit.Config
	var errs []error
	raw := s.rate
	if raw == "" && s.redisURL != "" {
		raw = defaultSharedRate
	}
	if raw != "" {
		r, err := ratelimit.ParseRate(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("--rate %w", err))
		}
		rc.Rate = r
	}
	for _, entry := range s.operationRate {
		op, value, ok := strings.Cut(entry, "=")
		r, err := ratelimit.ParseRate(value)
		switch {
		case !ok || op == "":
			errs = append(errs, fmt.Errorf("--operation-rate %q: want operationId=N/duration, e.g. createInstance=4/10s", entry))
		case err != nil:
			errs = append(errs, fmt.Errorf("--operation-rate %s: %w", op, err))
		default:
			if rc.Operations == nil {
				rc.Operations = map[string]ratelimit.Rate{}
			}
			rc.Operations[op] = r
		}
	}
	return rc, errors.Join(errs...)
}

// rateText is the pacing in force, for the start-up line.
func (s *scaleSettings) rateText() string {
	switch {
	case s.rate != "":
		return s.rate
	case s.redisURL != "":
		return defaultSharedRate
	}
	return "none"
}

// stateKeysFromEnvironment reads VAST_MCP_STATE_KEY (comma-separated, the
// first seals) and VAST_MCP_STATE_KEY_PREVIOUS (still opens). Environment
// only: a flag would show the key in ps.
func stateKeysFromEnvironment(env func(string) string) ([][]byte, error) {
	keys, err := mcp.ParseStateKeys(env("VAST_MCP_STATE_KEY"))
	if err != nil {
		return nil, fmt.Errorf("VAST_MCP_STATE_KEY: %w", err)
	}
	previous, err := mcp.ParseStateKeys(env("VAST_MCP_STATE_KEY_PREVIOUS"))
	if err != nil {
		return nil, fmt.Errorf("VAST_MCP_STATE_KEY_PREVIOUS: %w", err)
	}
	if len(keys) == 0 && len(previous) > 0 {
		return nil, errors.New("VAST_MCP_STATE_KEY_PREVIOUS is set without VAST_MCP_STATE_KEY: set the new key, keep the old one as previous")
	}
	return append(keys, previous...), nil
}

// setupScale builds the shared parts once, before the server.
func (c *config) setupScale(logger *slog.Logger) error {
	s := &c.scale
	if s.limiter != nil || s.spent != nil {
		return nil
	}
	rc, err := s.rates()
	if err != nil {
		return err
	}
	env := c.env
	if env == nil {
		env = environ
	}
	keys, err := stateKeysFromEnvironment(env)
	if err != nil {
		return err
	}
	s.stateKeys = keys
	if len(keys) == 0 && c.transport == "http" && mcp.ConfirmPolicy(c.confirm) != mcp.ConfirmNone {
		logger.Info("confirmations are sealed with a random key: only this process can redeem them; replicas need a shared VAST_MCP_STATE_KEY (openssl rand -base64 32)")
	}
	if s.redisURL != "" {
		if s.rdb, err = redisstore.Open(s.redisURL); err != nil {
			return err
		}
		redis.SetLogger(quietRedis{})
		s.spent = redisstore.NewSpent(s.rdb)
		s.spendLock = redisstore.NewSpendLocks(s.rdb, logger)
		s.claims = redisstore.NewClaims(s.rdb, logger)
		s.limiter = ratelimit.NewRedis(rc, s.rdb, logger)
		if len(keys) == 0 {
			logger.Warn("--redis without VAST_MCP_STATE_KEY: each replica seals confirmations with its own key, so a confirmation must come back to the replica that asked")
		}
		return nil
	}
	if len(keys) > 0 && c.transport == "http" {
		logger.Warn("VAST_MCP_STATE_KEY without --redis: a confirmation is redeemed only by the process that asked, not after a restart nor by another replica; give replicas --redis")
	}
	if rc.Rate.N > 0 || len(rc.Operations) > 0 {
		s.limiter = ratelimit.NewMemory(rc)
	}
	return nil
}

// redisReady is /readyz's check when Redis is configured.
func (s *scaleSettings) redisReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return errors.New("redis does not answer")
	}
	return nil
}

// readinessChecks are /readyz's checks for these settings.
func (c *config) readinessChecks() []readinessCheck {
	if c.scale.rdb == nil {
		return nil
	}
	return []readinessCheck{c.scale.redisReady}
}

// withCallerKeys moves a caller's own key from its header into the
// request's context (gen.WithAPIKey), where only that request's API calls
// find it. The header is removed, so nothing downstream can log it. A
// server that does not take callers' keys refuses a request carrying one
// rather than bill the caller's calls to its own key.
func withCallerKeys(enabled bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimSpace(r.Header.Get(callerKeyHeader))
		r.Header.Del(callerKeyHeader)
		switch {
		case key == "":
		case !enabled:
			http.Error(w, callerKeyHeader+" was sent, but this server does not take callers' keys (the operator's --caller-keys)", http.StatusBadRequest)
			return
		case strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r > '~' }):
			http.Error(w, callerKeyHeader+": a Vast.ai key has no blanks, control or non-ASCII characters", http.StatusBadRequest)
			return
		default:
			r = r.WithContext(gen.WithAPIKey(r.Context(), key))
		}
		next.ServeHTTP(w, r)
	})
}

// quietRedis drops go-redis's own log lines (dial failures while Redis is
// down, one per attempt); the limiter logs the fallback, rate-limited.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
