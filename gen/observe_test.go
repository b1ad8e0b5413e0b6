package gen_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
)

func TestObserveSeesEachAttemptWithoutIDs(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/429_retry_after"), fakeapi.Fixture(t, "instance/200"))
	var seen []gen.Attempt
	v := newClient(t, api.URL, gen.Config{Observe: func(a gen.Attempt) { seen = append(seen, a) }})
	var delays []time.Duration
	gen.SetSleep(v, noSleep(&delays))

	_, err := v.CreateInstance(context.Background(), 987654321, gen.CreateInstanceRequest{Image: ptr("img")})
	require.NoError(t, err)

	require.Len(t, seen, 2, "one observation per attempt, the retry included")
	for i, status := range []int{http.StatusTooManyRequests, http.StatusOK} {
		assert.Equal(t, "createInstance", seen[i].Operation)
		assert.Equal(t, http.MethodPut, seen[i].Method)
		assert.Equal(t, "/api/v0/asks/{id}/", seen[i].Path, "the offer id stays out of metric labels")
		assert.Equal(t, status, seen[i].Status)
		assert.Positive(t, seen[i].Duration)
	}
}

func TestObserveSeesAnAttemptThatGotNoAnswer(t *testing.T) {
	var seen []gen.Attempt
	v := newClient(t, "http://127.0.0.1:1", gen.Config{
		Observe: func(a gen.Attempt) { seen = append(seen, a) },
		Retry:   gen.RetryPolicy{MaxAttempts: 1},
	})
	_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	require.Error(t, err)
	require.Len(t, seen, 1)
	assert.Equal(t, "createEndpoint", seen[0].Operation)
	assert.Equal(t, "/api/v0/endptjobs/", seen[0].Path)
	assert.Zero(t, seen[0].Status)
}

func TestDryRunObservesNothing(t *testing.T) {
	var seen []gen.Attempt
	v := newClient(t, "http://127.0.0.1:1", gen.Config{DryRun: true, Observe: func(a gen.Attempt) { seen = append(seen, a) }})
	_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	require.Error(t, err)
	assert.Empty(t, seen)
}
