// Package redisstore is what replicas share through Redis besides the rate
// budgets: the spent confirmation ids, the spend locks, the record of
// creates for settling lost ones, and the client itself.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// Open parses a redis:// or rediss:// URL and returns its client. Nothing
// is dialled yet; Ping checks it. The URL's password never appears in an
// error.
func Open(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--redis %s: want redis://[user:password@]host:port[/db] or rediss://…", redacted(rawURL))
	}
	// A replica whose Redis is gone must fall back quickly, not hang calls.
	opts.DialTimeout = time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	return redis.NewClient(opts), nil
}

// redacted shows a Redis URL without what may be a credential: gen's
// RedactURL hides the user info and the whole query (go-redis reads
// ?password= there too).
func redacted(raw string) string { return gen.RedactURL(raw) }

// Spent implements mcp.SpentStates with SET NX: the first replica to
// spend an id wins, on every replica.
type Spent struct{ rdb redis.UniversalClient }

// NewSpent returns the shared spent-confirmation store.
func NewSpent(rdb redis.UniversalClient) *Spent { return &Spent{rdb: rdb} }

// clockMargin keeps a spent id past its state's expiry. The expiry is read
// on a replica's wall clock, the id's lifetime on Redis's: replicas whose
// clocks differ, or one stepped back (an NTP correction), by less than this
// still find it spent.
const clockMargin = time.Hour

// Spend reports whether id was unspent, and spends it until expires and
// clockMargin more.
func (s *Spent) Spend(ctx context.Context, id string, expires time.Time) (bool, error) {
	return s.rdb.SetNX(ctx, "vast-mcp:confirm:"+id, 1, time.Until(expires)+clockMargin).Result()
}

// SpendLocks implements mcp.SpendLocks with a lease per account in Redis
// (bsm/redislock): replicas under one spend ceiling check and send one call
// at a time, as the calls of one process do.
type SpendLocks struct {
	locks *redislock.Client
	log   *slog.Logger
	// lease is how long a lock outlives a holder that stopped renewing it
	// (a replica that died); the holder renews it every lease/6.
	lease time.Duration
	// wait bounds how long a call waits for another replica's.
	wait time.Duration
}

// NewSpendLocks returns the replicas' shared spend locks.
func NewSpendLocks(rdb redis.UniversalClient, log *slog.Logger) *SpendLocks {
	return &SpendLocks{locks: redislock.New(rdb), log: orDiscard(log), lease: 30 * time.Second, wait: 2 * time.Minute}
}

// Lock takes account's lock, waiting for the replica that holds it.
func (s *SpendLocks) Lock(ctx context.Context, account string) (mcp.SpendLease, error) {
	wait, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	retry := &redislock.Options{RetryStrategy: redislock.ExponentialBackoff(10*time.Millisecond, 250*time.Millisecond)}
	lock, err := s.locks.Obtain(wait, "vast-mcp:spend:"+account, s.lease, retry)
	if err != nil {
		return nil, s.notTaken(ctx, wait, err)
	}
	l := &lease{SpendLocks: s, lock: lock, stop: make(chan struct{}), stopped: make(chan struct{})}
	l.renewed.Store(time.Now().UnixNano())
	go l.renew()
	l.release = sync.OnceFunc(func() {
		close(l.stop)
		<-l.stopped
		release, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if err := lock.Release(release); err != nil && !errors.Is(err, redislock.ErrLockNotHeld) {
			s.log.Warn("the spend lock was not released; it lapses by itself", "err", err, "within", s.lease)
		}
	})
	return l, nil
}

// notTaken words why Obtain failed. A timeout of Redis's own (a dial that
// never completes) also reads as context.DeadlineExceeded: only the wait's
// end means the lock was held all along.
func (s *SpendLocks) notTaken(ctx, wait context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return errors.New("the call ended while another replica's call that adds spend held the lock")
	case errors.Is(err, redislock.ErrNotObtained) || (errors.Is(err, context.DeadlineExceeded) && wait.Err() != nil):
		return fmt.Errorf("another replica's call that adds spend has held it for over %s", s.wait)
	default:
		s.log.Warn("the spend lock could not be taken: Redis failed", "err", err)
		return errNoRedis
	}
}

// lease is a taken spend lock, renewed every lease/6 until released.
type lease struct {
	*SpendLocks
	lock          *redislock.Lock
	stop, stopped chan struct{}
	release       func()
	renewed       atomic.Int64 // unix nanoseconds when the last renewal Redis confirmed was sent
	lost          atomic.Bool
}

func (l *lease) Release() { l.release() }

// Held reports whether the lock is still surely this call's: renewed
// within two thirds of the lease (a process stalled longer may have lost it
// without its renewer noticing yet) and never found taken over.
func (l *lease) Held() bool {
	return !l.lost.Load() && l.sinceRenewed() < l.SpendLocks.lease*2/3
}

func (l *lease) sinceRenewed() time.Duration { return time.Since(time.Unix(0, l.renewed.Load())) }

// renew keeps the lock while its call runs, however long the API takes.
// Renewals come often enough that one Redis does not answer leaves the
// lease held; it is lost only when taken over or truly lapsed.
func (l *lease) renew() {
	defer close(l.stopped)
	every := l.SpendLocks.lease / 6
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			sent := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), every)
			err := l.lock.Refresh(ctx, l.SpendLocks.lease, nil)
			cancel()
			switch {
			case err == nil:
				l.renewed.Store(sent.UnixNano())
			case errors.Is(err, redislock.ErrNotObtained) || l.sinceRenewed() >= l.SpendLocks.lease:
				// Another replica may now check a spend this call adds to;
				// the call sends nothing more once it sees this.
				l.lost.Store(true)
				l.log.Warn("the spend lock lapsed while its call ran", "err", err)
				return
			}
		}
	}
}

// Claims implements mcp.SharedClaims with two sorted sets per operation:
// the ids creates reported, scored by when, and the creates under way,
// scored by when their record lapses, should a replica die mid-call. Every
// time is Redis's own (TIME), so replicas' clocks need not agree.
type Claims struct {
	rdb redis.UniversalClient
	// callBound is how long a create's record outlives its replica: Begin
	// renews it every callBound/3 until End.
	callBound time.Duration
	log       *slog.Logger
	renewing  sync.Map // token -> func() that stops its renewal
}

// NewClaims returns the replicas' shared record of creates.
func NewClaims(rdb redis.UniversalClient, log *slog.Logger) *Claims {
	return &Claims{rdb: rdb, callBound: 10 * time.Minute, log: orDiscard(log)}
}

// orDiscard lets a nil logger mean no log.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

const (
	claimedKey  = "vast-mcp:claimed:"
	underwayKey = "vast-mcp:underway:"
)

// redisNow is Redis's clock in milliseconds, for the scripts below. Redis
// before 5 refuses writes after TIME unless the script replicates its
// effects; from 7 the call is a no-op.
const redisNow = `redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// keepToLast makes a sorted set expire with its latest score plus ARGV's
// margin: a fixed TTL from now could end it before a member Redis's clock,
// stepped back, still counts.
const keepToLast = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(last[2]) + %s)) end
return 1`

var (
	// KEYS: underway. ARGV: token, callBound (ms). It renews a record too.
	beginScript = redis.NewScript(redisNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])` + fmt.Sprintf(keepToLast, "0"))
	// KEYS: claimed. ARGV: id, kept (ms).
	claimScript = redis.NewScript(redisNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[1])` + fmt.Sprintf(keepToLast, "tonumber(ARGV[2])"))
	// KEYS: claimed, underway. ARGV: kept (ms), the caller's token.
	othersScript = redis.NewScript(redisNow + `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')
local n = redis.call('ZCOUNT', KEYS[2], now, '+inf')
local own = redis.call('ZSCORE', KEYS[2], ARGV[2])
if own and tonumber(own) >= now then n = n - 1 end
return {ids, n}`)
)

// errNoRedis is every Redis failure, in the agent's words; the log has
// the details.
var errNoRedis = errors.New("no answer from Redis")

func (c *Claims) failed(msg string, err error) error {
	c.log.Warn(msg, "err", err)
	return errNoRedis
}

// Begin records a create of operation under way. The token comes back
// even when the write failed: it may have landed.
func (c *Claims) Begin(ctx context.Context, operation string) (string, error) {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	token := hex.EncodeToString(raw)
	if err := beginScript.Run(ctx, c.rdb, []string{underwayKey + operation}, token, c.callBound.Milliseconds()).Err(); err != nil {
		return token, c.failed("the replicas' record of creates under way was not written", err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go c.renew(operation, token, stop, stopped)
	c.renewing.Store(token, sync.OnceFunc(func() { close(stop); <-stopped }))
	return token, nil
}

// renew keeps a create's record under way while its call runs, however
// long the API and the settlement take.
func (c *Claims) renew(operation, token string, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(c.callBound / 3)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), c.callBound/3)
			if err := beginScript.Run(ctx, c.rdb, []string{underwayKey + operation}, token, c.callBound.Milliseconds()).Err(); err != nil {
				c.log.Warn("a create's record under way was not renewed", "err", err)
			}
			cancel()
		}
	}
}

// End stops renewing what Begin recorded and, unless keep, removes it; a
// record kept, or not removed, lapses by itself after callBound.
func (c *Claims) End(ctx context.Context, operation, token string, keep bool) {
	if stopRenewing, ok := c.renewing.LoadAndDelete(token); ok {
		stopRenewing.(func())()
	}
	if keep {
		return
	}
	end, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := c.rdb.ZRem(end, underwayKey+operation, token).Err(); err != nil {
		c.log.Warn("a create's record stays under way until it lapses", "err", err, "within", c.callBound)
	}
}

// Claim records id as reported by a create of operation.
func (c *Claims) Claim(ctx context.Context, operation string, id int) error {
	if err := claimScript.Run(ctx, c.rdb, []string{claimedKey + operation}, id, mcp.KeptClaims.Milliseconds()).Err(); err != nil {
		return c.failed("the replicas' record of created resources was not written", err)
	}
	return nil
}

// Others reads what calls of operation claimed, and how many of its
// creates other than token's are under way.
func (c *Claims) Others(ctx context.Context, operation, token string) (map[int]bool, int, error) {
	answer, err := othersScript.Run(ctx, c.rdb, []string{claimedKey + operation, underwayKey + operation}, mcp.KeptClaims.Milliseconds(), token).Slice()
	if err != nil {
		return nil, 0, c.failed("the replicas' record of creates was not read", err)
	}
	if len(answer) != 2 {
		return nil, 0, c.failed("the replicas' record of creates was not read", fmt.Errorf("an answer of %d parts", len(answer)))
	}
	ids, listed := answer[0].([]any)
	underway, counted := answer[1].(int64)
	if !listed || !counted {
		return nil, 0, c.failed("the replicas' record of creates was not read", fmt.Errorf("an answer of %T and %T", answer[0], answer[1]))
	}
	claimed := make(map[int]bool, len(ids))
	for _, v := range ids {
		s, _ := v.(string)
		id, err := strconv.Atoi(s)
		if err != nil {
			return nil, 0, c.failed("the replicas' record of creates was not read", fmt.Errorf("a claimed id %q", s))
		}
		claimed[id] = true
	}
	return claimed, int(underway), nil
}
