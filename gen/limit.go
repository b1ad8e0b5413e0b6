package gen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Limiter paces the attempts sent to the API, so that callers sharing a key
// (in one process or across replicas) stay within the API's rate limit
// instead of meeting its 429s. Config.Limiter; nil paces nothing.
type Limiter interface {
	// Wait returns when an attempt may be sent, or the error that ends the
	// call (ctx ended, or the wait would exceed what the caller allows).
	// Nothing has been sent when it fails.
	Wait(ctx context.Context, b Budget) error
	// Throttled is told of each 429 and the delay the API named (zero when
	// it named none), so that no other caller of the budget tries before.
	Throttled(ctx context.Context, b Budget, retryAfter time.Duration)
}

// Budget names what an attempt spends: a key's calls to an operation. Key
// is a digest of the API key, never the key itself, so that a budget's name
// can be stored and shown.
type Budget struct {
	Key       string // KeyDigest of the key the attempt sends
	Operation string // the spec's operationId
}

// KeyDigest names a key without revealing it.
func KeyDigest(key string) string {
	sum := sha256.Sum256([]byte("vast-mcp budget\x00" + key))
	return hex.EncodeToString(sum[:16])
}

type callerKey struct{}

// WithAPIKey makes the calls made under ctx send key instead of the
// configured one: a caller's own key, for that request only.
func WithAPIKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, callerKey{}, strings.TrimSpace(key))
}

func apiKeyFrom(ctx context.Context) (string, bool) {
	key, ok := ctx.Value(callerKey{}).(string)
	return key, ok && key != ""
}

// authorize sets the Authorization header: the caller's key when the
// context carries one, else the configured key.
func authorize(configured string) func(context.Context, *http.Request) error {
	return func(ctx context.Context, req *http.Request) error {
		key := configured
		if own, ok := apiKeyFrom(ctx); ok {
			key = own
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return nil
	}
}

// budget is what an attempt under ctx spends.
func (d *retryingDoer) budget(ctx context.Context) Budget {
	op, _ := ctx.Value(operationKey{}).(string)
	b := Budget{Key: d.keyDigest, Operation: op}
	if own, ok := apiKeyFrom(ctx); ok {
		b.Key = KeyDigest(own)
	}
	return b
}
