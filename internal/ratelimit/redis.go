package ratelimit

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Redis paces the calls of every replica sharing one Redis: each budget is
// a GCRA cell keyed by the key's digest (never the key), and a 429 sets a
// "blocked until" that every replica waits out. While Redis does not
// answer, each replica falls back to pacing on its own (Memory) and logs a
// warning: calls go on, and the API's 429s, should replicas then overshoot,
// are still honoured by the retries.
type Redis struct {
	cfg      Config
	rdb      redis.UniversalClient
	gcra     *redis_rate.Limiter
	fallback *Memory
	warn     logEvery
}

// keyPrefix namespaces what vast-mcp stores in a Redis it may share.
const keyPrefix = "vast-mcp:rate:"

// NewRedis returns a limiter sharing its budgets through rdb.
func NewRedis(cfg Config, rdb redis.UniversalClient, logger *slog.Logger) *Redis {
	return &Redis{cfg: cfg, rdb: rdb, gcra: redis_rate.NewLimiter(rdb), fallback: NewMemory(cfg), warn: logEvery{log: logger}}
}

// Wait implements gen.Limiter.
func (r *Redis) Wait(ctx context.Context, b gen.Budget) error {
	name, rt := r.cfg.budget(b)
	limit := redis_rate.Limit{Rate: 1, Burst: 1, Period: rt.interval()}
	deadline := time.Now().Add(r.cfg.maxWait())
	for {
		delay, err := r.blocked(ctx, name)
		if err == nil && delay == 0 && rt.N > 0 {
			var res *redis_rate.Result
			if res, err = r.gcra.Allow(ctx, keyPrefix+name, limit); err == nil && res.Allowed == 0 {
				delay = res.RetryAfter
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.warn.warn("redis does not answer: pacing API calls in this replica only", err)
			return r.fallback.Wait(ctx, b)
		}
		if delay <= 0 {
			return nil
		}
		if time.Now().Add(delay).After(deadline) {
			return ErrBudgetExhausted
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

func (r *Redis) blocked(ctx context.Context, name string) (time.Duration, error) {
	ttl, err := r.rdb.PTTL(ctx, keyPrefix+"blocked:"+name).Result()
	if err != nil || ttl < 0 { // -2: no key, -1: no expiry (not ours)
		return 0, err
	}
	return ttl, nil
}

// Throttled implements gen.Limiter: every replica holds back until the
// delay the API named has passed.
func (r *Redis) Throttled(ctx context.Context, b gen.Budget, retryAfter time.Duration) {
	name, rt := r.cfg.budget(b)
	d := blockFor(retryAfter, rt)
	key := keyPrefix + "blocked:" + name
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, key, 1, d)
		p.Do(ctx, "PEXPIRE", key, d.Milliseconds(), "GT") // extend, never shorten
		return nil
	})
	if err != nil {
		r.warn.warn("redis does not answer: a 429 is honoured in this replica only", err)
	}
	r.fallback.Throttled(ctx, b, retryAfter)
}
