package gen

import (
	"context"
	"strings"
	"time"
)

// Attempt is one request to the API as Config.Observe sees it: what a
// metric may be labelled with, never a header, a body or an id.
type Attempt struct {
	Operation string // the spec's operationId, e.g. "createInstance"
	Method    string
	Path      string        // the path with each numeric segment as {id}: /api/v0/asks/{id}/
	Status    int           // 0 when no answer came (never connected, timed out, reset)
	Duration  time.Duration // from sending to the last byte of the answer
}

type operationKey struct{}

// withOperation names the operation for the attempts made under ctx.
func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

func (d *retryingDoer) observe(ctx context.Context, method, path string, status int, took time.Duration) {
	if d.observer == nil {
		return
	}
	op, _ := ctx.Value(operationKey{}).(string)
	d.observer(Attempt{Operation: op, Method: method, Path: pathTemplate(path), Status: status, Duration: took})
}

// pathTemplate hides ids in a path, so that a metric label keeps a bounded
// set of values.
func pathTemplate(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			segments[i] = "{id}"
		}
	}
	return strings.Join(segments, "/")
}
