package mcp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A claim holds for its own operation while a settlement could still
// mistake it, then is forgotten, so a long-running server keeps only the
// recent ones.
func TestClaimsAreKeptPerOperationThenForgotten(t *testing.T) {
	now, ctx := time.Unix(1_800_000_000, 0), context.Background()
	c := newClaims(nil, nil)
	c.now = func() time.Time { return now }
	c.claim(ctx, "createEndpoint", 7)
	assert.True(t, c.takenBy("createEndpoint", nil)(7))
	assert.False(t, c.takenBy("createWorkergroup", nil)(7), "ids of other resources are other ids")
	assert.False(t, c.takenBy("createEndpoint", nil)(8))

	now = now.Add(KeptClaims + 2*time.Minute)
	c.claim(ctx, "createEndpoint", 9)
	assert.False(t, c.takenBy("createEndpoint", nil)(7), "forgotten once no settlement can need it")
	assert.True(t, c.takenBy("createEndpoint", nil)(9))

	var none *claims
	none.claim(ctx, "createEndpoint", 1)
	assert.Nil(t, none.takenBy("createEndpoint", nil), "a server without claims skips nothing")
}
