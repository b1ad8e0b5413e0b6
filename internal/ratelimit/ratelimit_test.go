package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/redistest"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		ok   bool
	}{
		{"5/10s", Rate{5, 10 * time.Second}, true},
		{" 4/1m ", Rate{4, time.Minute}, true},
		{"0/10s", Rate{}, false},
		{"-1/10s", Rate{}, false},
		{"5", Rate{}, false},
		{"5/0s", Rate{}, false},
		{"5/ten", Rate{}, false},
		{"x/10s", Rate{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// fakeTime is a clock that only moves when slept on.
type fakeTime struct {
	now   time.Time
	slept []time.Duration
}

func (f *fakeTime) install(m *Memory) {
	m.now = func() time.Time { return f.now }
	m.sleep = func(_ context.Context, d time.Duration) error {
		f.slept = append(f.slept, d)
		f.now = f.now.Add(d)
		return nil
	}
}

func TestMemoryPacesEachKeysBudget(t *testing.T) {
	m := NewMemory(Config{Rate: Rate{5, 10 * time.Second}, Operations: map[string]Rate{"createInstance": {4, 10 * time.Second}}})
	clock := &fakeTime{now: time.Unix(1_700_000_000, 0)}
	clock.install(m)
	a, b := gen.Budget{Key: "a", Operation: "showInstance"}, gen.Budget{Key: "b", Operation: "showInstance"}
	ctx := context.Background()

	for range 3 {
		require.NoError(t, m.Wait(ctx, a))
	}
	interval := Rate{5, 10 * time.Second}.interval()
	assert.Equal(t, []time.Duration{0, interval, interval}, clock.slept, "one call per interval of the key's budget")

	clock.slept = nil
	require.NoError(t, m.Wait(ctx, b))
	assert.Equal(t, []time.Duration{0}, clock.slept, "another key has its own budget")

	clock.slept = nil
	own := gen.Budget{Key: "a", Operation: "createInstance"}
	require.NoError(t, m.Wait(ctx, own))
	require.NoError(t, m.Wait(ctx, own))
	assert.Equal(t, []time.Duration{0, Rate{4, 10 * time.Second}.interval()}, clock.slept, "an operation with its own limit has its own budget")
}

func TestMemoryHonoursA429ForEveryCaller(t *testing.T) {
	m := NewMemory(Config{}) // no rate: nothing paced, 429s still honoured
	clock := &fakeTime{now: time.Unix(1_700_000_000, 0)}
	clock.install(m)
	a := gen.Budget{Key: "a", Operation: "createInstance"}
	ctx := context.Background()

	require.NoError(t, m.Wait(ctx, a))
	assert.Empty(t, clock.slept, "without a rate nothing is paced")
	m.Throttled(ctx, a, 7*time.Second)
	clock.slept = nil
	require.NoError(t, m.Wait(ctx, gen.Budget{Key: "a", Operation: "showInstance"}))
	assert.Equal(t, []time.Duration{7 * time.Second}, clock.slept, "the key's other calls wait the 429 out too")
}

func TestMemoryRefusesAWaitLongerThanAllowed(t *testing.T) {
	m := NewMemory(Config{MaxWait: 5 * time.Second})
	clock := &fakeTime{now: time.Unix(1_700_000_000, 0)}
	clock.install(m)
	a := gen.Budget{Key: "a"}
	m.Throttled(context.Background(), a, time.Minute)
	assert.ErrorIs(t, m.Wait(context.Background(), a), ErrBudgetExhausted)
	assert.Empty(t, clock.slept)
}

func TestRedisSharesBudgetsAndBlocks(t *testing.T) {
	srv := redistest.Start(t)
	cfg := Config{Rate: Rate{1, time.Hour}, MaxWait: time.Second}
	replica1, replica2 := NewRedis(cfg, srv.Client(t), nil), NewRedis(cfg, srv.Client(t), nil)
	ctx := context.Background()
	key := gen.Budget{Key: gen.KeyDigest("vk-TESTKEY"), Operation: "createInstance"}

	require.NoError(t, replica1.Wait(ctx, key))
	assert.ErrorIs(t, replica2.Wait(ctx, key), ErrBudgetExhausted, "the other replica sees the budget spent")
	require.NoError(t, replica2.Wait(ctx, gen.Budget{Key: gen.KeyDigest("other"), Operation: "createInstance"}), "another key has its own")

	fresh := gen.Budget{Key: gen.KeyDigest("third")}
	replica1.Throttled(ctx, fresh, time.Hour)
	assert.ErrorIs(t, replica2.Wait(ctx, fresh), ErrBudgetExhausted, "a 429 seen by one replica holds back another")

	keys, err := srv.Client(t).Keys(ctx, "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		assert.NotContains(t, k, "vk-TESTKEY", "Redis holds digests, never keys")
	}
}

func TestRedisDownFallsBackToThisReplica(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	r := NewRedis(Config{Rate: Rate{1, time.Hour}, MaxWait: time.Second}, rdb, nil)
	srv.Stop()
	a := gen.Budget{Key: "a"}
	require.NoError(t, r.Wait(context.Background(), a), "no crash, no refusal: paced in this replica")
	assert.ErrorIs(t, r.Wait(context.Background(), a), ErrBudgetExhausted, "and still paced")
}
