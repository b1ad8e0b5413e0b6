package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/redistest"
)

func TestSpentOnceAcrossClients(t *testing.T) {
	srv := redistest.Start(t)
	replica1, replica2 := NewSpent(srv.Client(t)), NewSpent(srv.Client(t))
	ctx := context.Background()

	first, err := replica1.Spend(ctx, "id-1", time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	again, err := replica2.Spend(ctx, "id-1", time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, again, "spent by another replica")
	kept, err := srv.Client(t).PTTL(ctx, "vast-mcp:confirm:id-1").Result()
	require.NoError(t, err)
	assert.Greater(t, kept, time.Minute+clockMargin-5*time.Second, "kept past the state's expiry, for replicas whose clocks differ")

	srv.Stop()
	_, err = replica2.Spend(ctx, "id-2", time.Now().Add(time.Minute))
	assert.Error(t, err, "Redis gone: nobody can tell, so an error, never a yes")
}

func TestOpenKeepsThePasswordOutOfErrors(t *testing.T) {
	_, err := Open("redis://user:s3cretpass@host:notaport/x/y")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cretpass")
	rdb, err := Open("redis://:s3cretpass@127.0.0.1:6379/0")
	require.NoError(t, err)
	_ = rdb.Close()
}

// A password in the URL, as user info or as go-redis's ?password=, never
// reaches the error that refuses the URL (found in review).
func TestOpenNeverShowsAPassword(t *testing.T) {
	for _, raw := range []string{
		"redis://127.0.0.1:6399/0?password=s3kretpw",
		"redis://user:s3kretpw@127.0.0.1:6399/x",
		"redis://:s3kretpw@127.0.0.1:6399/0?protocol=9",
		// base64 passwords hold "/": the URL then parses wrong or not at all
		"redis://:Zm9v/s3kretpw+x=@redis:6379/0",
		"redis://:1234/s3kretpw@redis:6379/0",
	} {
		_, err := Open(raw)
		if err != nil {
			assert.NotContains(t, err.Error(), "s3kretpw", raw)
			assert.NotContains(t, err.Error(), "Zm9v", raw)
		}
	}
}
