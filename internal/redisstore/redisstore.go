// Package redisstore is what replicas share through Redis besides the rate
// budgets: the spent confirmation ids, and the client itself.
package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/vast-mcp/vast-mcp/gen"
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
