package gen_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
)

// recordingLimiter notes what the client asks of it.
type recordingLimiter struct {
	mu        sync.Mutex
	waits     []gen.Budget
	throttled []time.Duration
	refuse    error
}

func (l *recordingLimiter) Wait(_ context.Context, b gen.Budget) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, b)
	return l.refuse
}

func (l *recordingLimiter) Throttled(_ context.Context, _ gen.Budget, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttled = append(l.throttled, retryAfter)
}

func TestLimiterIsAskedBeforeEachAttemptAndToldOf429s(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/429_retry_after"), fakeapi.Fixture(t, "instance/200"))
	limiter := &recordingLimiter{}
	v := newClient(t, api.URL, gen.Config{Limiter: limiter})
	var delays []time.Duration
	gen.SetSleep(v, noSleep(&delays))

	_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
	require.NoError(t, err)
	budget := gen.Budget{Key: gen.KeyDigest(testKey), Operation: "createInstance"}
	assert.Equal(t, []gen.Budget{budget, budget}, limiter.waits, "one wait per attempt")
	assert.Equal(t, []time.Duration{10 * time.Second}, limiter.throttled, "the 429's Retry-After is shared")
	assert.NotContains(t, budget.Key, testKey)
}

func TestLimiterRefusalSendsNothing(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	limiter := &recordingLimiter{refuse: errors.New("rate budget exhausted")}
	v := newClient(t, api.URL, gen.Config{Limiter: limiter})

	_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
	var reqErr *gen.RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.False(t, reqErr.Sent, "paced out before sending")
	assert.Empty(t, api.Requests())
}

// A send check that fails ends the call before its attempt goes out, after
// the rate budget's wait: nothing reaches the API, and the error says so.
func TestSendCheckRefusalSendsNothing(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	limiter := &recordingLimiter{}
	v := newClient(t, api.URL, gen.Config{Limiter: limiter})
	ctx := gen.WithSendCheck(context.Background(), func() error { return errors.New("bound lost") })

	_, err := v.CreateInstance(ctx, 4242, gen.CreateInstanceRequest{Image: ptr("img")})
	var reqErr *gen.RequestError
	require.ErrorAs(t, err, &reqErr)
	assert.False(t, reqErr.Sent)
	assert.ErrorContains(t, err, "bound lost")
	assert.Empty(t, api.Requests())
	assert.NotEmpty(t, limiter.waits, "checked after the budget's wait")
}

func TestCallersKeyIsUsedForItsRequestOnly(t *testing.T) {
	const callersKey = "vk-CALLER-0a1b2c3d4e5f-DO-NOT-LEAK"
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	limiter := &recordingLimiter{}
	v := newClient(t, api.URL, gen.Config{Limiter: limiter})

	_, err := v.CreateInstance(gen.WithAPIKey(context.Background(), callersKey), 1, gen.CreateInstanceRequest{Image: ptr("img")})
	require.NoError(t, err)
	_, err = v.CreateInstance(context.Background(), 2, gen.CreateInstanceRequest{Image: ptr("img")})
	require.NoError(t, err)

	requests := api.Requests()
	require.Len(t, requests, 2)
	assert.Equal(t, "Bearer "+callersKey, requests[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer "+testKey, requests[1].Header.Get("Authorization"), "the next request goes back to the configured key")
	assert.Equal(t, gen.KeyDigest(callersKey), limiter.waits[0].Key, "the caller's key has its own budget")
	assert.Equal(t, gen.KeyDigest(testKey), limiter.waits[1].Key)
}

func TestCallersKeyWorksWithoutAConfiguredKeyAndIsScrubbed(t *testing.T) {
	t.Setenv("VAST_API_KEY", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	const callersKey = "vk-CALLER-0a1b2c3d4e5f-DO-NOT-LEAK"
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/429_text"))
	v, err := gen.New(gen.Config{BaseURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	require.False(t, v.HasAPIKey())

	_, err = v.CreateEndpoint(gen.WithAPIKey(context.Background(), callersKey), gen.CreateEndpointRequest{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, gen.ErrNoAPIKey, "the caller's key counts")
	require.Len(t, api.Requests(), 1)
	assert.NotContains(t, err.Error(), callersKey)
}
