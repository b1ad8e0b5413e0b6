package mcp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A claim holds for its own operation while a settlement could still
// mistake it, then is forgotten, so a long-running server keeps only the
// recent ones.
func TestClaimsAreKeptPerOperationThenForgotten(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newClaims()
	c.now = func() time.Time { return now }
	c.claim("createEndpoint", 7)
	assert.True(t, c.takenBy("createEndpoint")(7))
	assert.False(t, c.takenBy("createWorkergroup")(7), "ids of other resources are other ids")
	assert.False(t, c.takenBy("createEndpoint")(8))

	now = now.Add(claimsKept + 2*time.Minute)
	c.claim("createEndpoint", 9)
	assert.False(t, c.takenBy("createEndpoint")(7), "forgotten once no settlement can need it")
	assert.True(t, c.takenBy("createEndpoint")(9))

	var none *claims
	none.claim("createEndpoint", 1)
	assert.Nil(t, none.takenBy("createEndpoint"), "a server without claims skips nothing")
}
