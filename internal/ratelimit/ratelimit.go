// Package ratelimit paces calls to the Vast.ai API through one budget per
// key: in memory for one process (golang.org/x/time/rate), or in Redis for
// replicas that share keys (GCRA through go-redis/redis_rate, on Redis's
// clock). A 429 that still comes blocks the budget for every caller until
// the delay the API named has passed.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vast-mcp/vast-mcp/gen"
)

// Rate is N calls per Per.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// interval is the spacing between calls, with a margin so that calls sent
// on time still arrive within the API's window despite jitter on the way.
func (r Rate) interval() time.Duration {
	return time.Duration(float64(r.Per) / float64(r.N) * (1 + margin))
}

// margin widens each interval; Vast counts arrivals, which jitter.
const margin = 0.05

// ParseRate reads "N/duration", e.g. "5/10s".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count <= 0 {
		return Rate{}, fmt.Errorf("%q: want calls/duration with a positive whole number of calls, e.g. 5/10s", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q: want calls/duration with a positive duration, e.g. 5/10s", s)
	}
	return Rate{N: count, Per: d}, nil
}

// Config is the budgets' shape.
type Config struct {
	// Rate is each key's budget, all operations together.
	Rate Rate
	// Operations maps an operationId whose limit differs to its own budget
	// (per key); its calls spend that budget instead of the key's.
	Operations map[string]Rate
	// MaxWait bounds one wait; a call that would wait longer fails
	// without being sent. Zero means 30s.
	MaxWait time.Duration
}

// ErrBudgetExhausted ends a call that would wait longer than MaxWait.
var ErrBudgetExhausted = errors.New("the Vast.ai rate budget for this key is exhausted for longer than the server waits; nothing was sent, try again later")

func (c Config) budget(b gen.Budget) (name string, r Rate) {
	if r, ok := c.Operations[b.Operation]; ok {
		return b.Key + ":" + b.Operation, r
	}
	return b.Key, c.Rate
}

func (c Config) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return 30 * time.Second
}

// Memory paces the calls of one process.
type Memory struct {
	cfg   Config
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	limiter *rate.Limiter // nil when no rate is set: only 429s are honoured
	blocked time.Time
}

// NewMemory returns an in-process limiter. With no Rate it paces nothing
// and only holds callers back after a 429.
func NewMemory(cfg Config) *Memory {
	return &Memory{cfg: cfg, now: time.Now, sleep: sleep, buckets: map[string]*bucket{}}
}

// maxBuckets bounds the budgets kept (callers' own keys each have one).
const maxBuckets = 10000

func (m *Memory) bucket(b gen.Budget) *bucket {
	name, r := m.cfg.budget(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	bk, ok := m.buckets[name]
	if !ok {
		if len(m.buckets) >= maxBuckets {
			m.prune()
		}
		bk = &bucket{}
		if r.N > 0 {
			bk.limiter = rate.NewLimiter(rate.Every(r.interval()), 1)
		}
		m.buckets[name] = bk
	}
	return bk
}

// prune drops budgets that nobody is waiting on and that are full.
func (m *Memory) prune() {
	now := m.now()
	for name, bk := range m.buckets {
		if now.After(bk.blocked) && (bk.limiter == nil || bk.limiter.TokensAt(now) >= 1) {
			delete(m.buckets, name)
		}
	}
}

// Wait implements gen.Limiter.
func (m *Memory) Wait(ctx context.Context, b gen.Budget) error {
	bk := m.bucket(b)
	m.mu.Lock()
	blocked := bk.blocked.Sub(m.now())
	m.mu.Unlock()
	if blocked > m.cfg.maxWait() {
		return ErrBudgetExhausted
	}
	if blocked > 0 {
		if err := m.sleep(ctx, blocked); err != nil {
			return err
		}
	}
	if bk.limiter == nil {
		return nil
	}
	now := m.now()
	res := bk.limiter.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > m.cfg.maxWait() {
		res.CancelAt(now)
		return ErrBudgetExhausted
	}
	if err := m.sleep(ctx, delay); err != nil {
		res.CancelAt(now)
		return err
	}
	return nil
}

// Throttled implements gen.Limiter.
func (m *Memory) Throttled(_ context.Context, b gen.Budget, retryAfter time.Duration) {
	_, r := m.cfg.budget(b)
	until := m.now().Add(blockFor(retryAfter, r))
	bk := m.bucket(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	if until.After(bk.blocked) {
		bk.blocked = until
	}
}

// blockFor is how long a 429 holds a budget: what the API named, else one
// interval of the budget (or a second when none is set).
func blockFor(retryAfter time.Duration, r Rate) time.Duration {
	switch {
	case retryAfter > 0:
		return retryAfter
	case r.N > 0:
		return r.interval()
	}
	return time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logEvery rate-limits a warning repeated on every call while Redis is down.
type logEvery struct {
	mu   sync.Mutex
	last time.Time
	log  *slog.Logger
}

func (l *logEvery) warn(msg string, err error) {
	if l.log == nil {
		return
	}
	l.mu.Lock()
	now := time.Now()
	due := now.Sub(l.last) > 10*time.Second
	if due {
		l.last = now
	}
	l.mu.Unlock()
	if due {
		l.log.Warn(msg, "error", err)
	}
}
