package mcp

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
)

type failingSpent struct{}

func (failingSpent) Spend(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis: connection refused")
}

// sharedSpent stands for Redis: one store for every replica, on its own
// clock, keeping an id an hour past its state's expiry as redisstore does.
type sharedSpent struct{ *MemorySpentStates }

func (s sharedSpent) Spend(ctx context.Context, id string, expires time.Time) (bool, error) {
	return s.MemorySpentStates.Spend(ctx, id, expires.Add(time.Hour))
}

// replicas are confirmers as separate processes would have them: nothing
// shared but the keys given and the spent store.
func replica(t *testing.T, keys [][]byte, spent SpentStates, now *time.Time) *confirmer {
	t.Helper()
	cf, err := newConfirmer(keys, spent)
	require.NoError(t, err)
	cf.now = func() time.Time { return *now }
	return cf
}

// TestSealedConfirmations: a state is single-use, bound to the request shown
// and expiring, on one replica as across several.
func TestSealedConfirmations(t *testing.T) {
	vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	spec := specNamed("create_instance")
	image, other := "img", "other-img"
	shown := &createInstanceCall{OfferID: 1, CreateInstanceJSONRequestBody: gen.CreateInstanceRequest{Image: &image}}
	changed := &createInstanceCall{OfferID: 1, CreateInstanceJSONRequestBody: gen.CreateInstanceRequest{Image: &other}}
	ctx := context.Background()

	oldKey, err := ParseStateKeys("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	require.NoError(t, err)
	newKey, err := ParseStateKeys("ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")
	require.NoError(t, err)
	rotated := [][]byte{newKey[0], oldKey[0]}

	now := time.Unix(1_700_000_000, 0)
	store := NewMemorySpentStates()
	store.now = func() time.Time { return now }
	spent := sharedSpent{store}
	a, b, c := replica(t, oldKey, spent, &now), replica(t, oldKey, spent, &now), replica(t, rotated, spent, &now)
	stranger := replica(t, newKey, spent, &now)

	ask := func(cf *confirmer, op operation) string {
		_, digest, err := exactRequest(ctx, spec, vast, op)
		require.NoError(t, err)
		state, err := cf.ask(digest)
		require.NoError(t, err)
		return state
	}
	answer := func(cf *confirmer, state string, op operation) *mcpgo.CallToolResult {
		req := mcpgo.CallToolRequest{}
		req.Params.RequestState = state
		req.Params.InputResponses = mcpgo.InputResponses{confirmInputID: mcpgo.NewElicitationInputResponse(mcpgo.ElicitationResult{
			ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}},
		})}
		return cf.confirm(ctx, spec, req, vast, op, "")
	}
	refusal := func(r *mcpgo.CallToolResult) string {
		require.NotNil(t, r, "expected a refusal")
		require.True(t, r.IsError)
		return r.Content[0].(mcpgo.TextContent).Text
	}

	state := ask(a, shown)
	id, _, ok := a.sealed.open(state)
	require.True(t, ok)
	idBytes, err := base64.RawURLEncoding.DecodeString(id)
	require.NoError(t, err)
	assert.Len(t, idBytes, 16, "128 random bits")
	assert.Nil(t, answer(b, state, shown), "asked on one replica, redeemed on another")
	assert.Contains(t, refusal(answer(c, state, shown)), "already used", "its replay is refused on a third")
	assert.Contains(t, refusal(answer(a, state, shown)), "already used", "and on the replica that asked")
	assert.Contains(t, refusal(answer(a, state, shown)), "already used", "and on the first")

	state = ask(a, shown)
	assert.Nil(t, answer(c, state, shown), "a replica with the rotated keys still opens a state sealed by the previous key")
	assert.Contains(t, refusal(answer(stranger, ask(a, shown), shown)), "unknown", "a replica without the sealing key refuses")
	state = ask(c, shown)
	assert.Nil(t, answer(b, ask(a, shown), shown))
	assert.Contains(t, refusal(answer(b, state, shown)), "unknown", "a state sealed by a newer key is refused where that key is unknown")

	state = ask(a, shown)
	raw, err := base64.RawURLEncoding.DecodeString(state)
	require.NoError(t, err)
	for i := range raw {
		altered := append([]byte(nil), raw...)
		altered[i] ^= 0x01
		assert.Contains(t, refusal(answer(b, base64.RawURLEncoding.EncodeToString(altered), shown)), "unknown", "byte %d altered", i)
	}
	for _, forged := range []string{"x", strings.Repeat("A", len(state)), "00112233445566778899aabbccddeeff", state[:len(state)-4], state + "AA"} {
		assert.Contains(t, refusal(answer(b, forged, shown)), "unknown", "forged %q", forged)
	}
	assert.Nil(t, answer(b, state, shown), "the failed attempts did not spend the real state")

	state = ask(a, shown)
	assert.Contains(t, refusal(answer(b, state, changed)), "arguments changed")
	assert.Contains(t, refusal(answer(c, state, shown)), "already used", "a refused redemption still spends the state")

	state = ask(a, shown)
	now = now.Add(confirmTTL + time.Second)
	for _, cf := range []*confirmer{a, b, c} {
		assert.Contains(t, refusal(answer(cf, state, shown)), "expired", "expired on every replica")
	}

	state = ask(a, shown)
	now = now.Add(confirmTTL) // the very instant it expires
	assert.Contains(t, refusal(answer(a, state, shown)), "expired")
	assert.Contains(t, refusal(answer(b, state, shown)), "expired", "and stays so")

	behind := now.Add(-2 * time.Minute) // a replica whose clock is two minutes slow
	slow := replica(t, oldKey, spent, &behind)
	state = ask(a, shown)
	now, behind = now.Add(4*time.Minute), behind.Add(4*time.Minute)
	assert.Nil(t, answer(a, state, shown))
	now, behind = now.Add(2*time.Minute+2*time.Second), behind.Add(2*time.Minute+2*time.Second)
	assert.Contains(t, refusal(answer(slow, state, shown)), "already used", "expired on a's clock, not on the slow one's: still spent")

	// The wall clock steps back (an NTP correction) after an approval while
	// the store's own time, monotonic in memory or Redis's, runs on.
	wall, storeTime := now, now
	behindRedis := NewMemorySpentStates()
	behindRedis.now = func() time.Time { return storeTime }
	stepped := replica(t, oldKey, sharedSpent{behindRedis}, &wall)
	state = ask(stepped, shown)
	assert.Nil(t, answer(stepped, state, shown))
	storeTime, wall = storeTime.Add(52*time.Minute), wall.Add(52*time.Minute-50*time.Minute)
	assert.Contains(t, refusal(answer(stepped, state, shown)), "already used", "a clock stepped back 50 minutes does not make a state redeemable twice")

	full := NewMemorySpentStates()
	full.now = func() time.Time { return now }
	for i := range maxSpent {
		_, err := full.Spend(ctx, strconv.Itoa(i), now.Add(time.Hour))
		require.NoError(t, err)
	}
	crowded := replica(t, oldKey, full, &now)
	msg := refusal(answer(crowded, ask(crowded, shown), shown))
	assert.Contains(t, msg, "too many confirmations redeemed recently")
	assert.NotContains(t, msg, "shared state store", "this store is the process's own")

	broken := replica(t, oldKey, failingSpent{}, &now)
	msg = refusal(answer(broken, ask(broken, shown), shown))
	assert.Contains(t, msg, "cannot check", "without the shared store a confirmation is refused, not redeemed twice")
	assert.NotContains(t, msg, "connection refused")
}

func TestParseStateKeys(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcde")) // 31 bytes
	tests := []struct {
		in    string
		n     int
		wrong bool
	}{
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1, false},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8, ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=", 2, false},
		{"", 0, false},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1, false},
		{secret, 0, true},
		{"not base64!", 0, true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=," + secret, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			keys, err := ParseStateKeys(tt.in)
			if tt.wrong {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), secret)
				assert.Contains(t, err.Error(), "openssl rand -base64 32")
				return
			}
			require.NoError(t, err)
			assert.Len(t, keys, tt.n)
		})
	}
}

// In process, a redeemed confirmation's id lasts exactly as long as its
// state, on the clock that decides the state's expiry: a flood of redeemed
// states locks approvals out only until those states expire, and a wall
// clock stepped back keeps an id spent for as long as its state is valid.
func TestInProcessSpentIDsLastAsLongAsTheirStates(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	store := NewMemorySpentStates()
	store.now = func() time.Time { return now }
	expires := now.Add(confirmTTL)
	for i := range maxSpent {
		first, err := store.Spend(ctx, strconv.Itoa(i), expires)
		require.NoError(t, err)
		require.True(t, first)
	}
	_, err := store.Spend(ctx, "next", now.Add(confirmTTL))
	require.ErrorIs(t, err, errTooManySpent)

	now = expires
	first, err := store.Spend(ctx, "next", now.Add(confirmTTL))
	require.NoError(t, err)
	assert.True(t, first, "the flood's states have expired, and their ids with them")

	now = now.Add(-50 * time.Minute) // the wall clock steps back
	again, err := store.Spend(ctx, "next", now.Add(confirmTTL))
	require.NoError(t, err)
	assert.False(t, again, "spent while its state is still valid on the stepped-back clock")
}

// With spent ids kept in process, a state opens only in the process that
// sealed it, whatever the key: a restarted process (or another replica
// without a shared store) would not know it was spent. With a shared
// store, any replica holding the key opens it, once.
func TestStatesOpenOnlyWhereTheirSpentIDIsKept(t *testing.T) {
	keys := [][]byte{[]byte(strings.Repeat("k", StateKeySize))}
	now := time.Unix(1_800_000_000, 0)
	digest := [32]byte{1}
	tests := []struct {
		name       string
		spent      func(shared SpentStates) SpentStates // each process's store; nil: in process
		laterOpens bool
	}{
		{"in process: a restart refuses it", func(SpentStates) SpentStates { return nil }, false},
		{"shared store: another replica takes it once", func(shared SpentStates) SpentStates { return shared }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shared := sharedSpent{NewMemorySpentStates()}
			first := replica(t, keys, tt.spent(shared), &now)
			state, err := first.ask(digest)
			require.NoError(t, err)
			later := replica(t, keys, tt.spent(shared), &now)
			_, ok, err := later.take(context.Background(), state)
			require.NoError(t, err)
			assert.Equal(t, tt.laterOpens, ok)
			_, ok, err = first.take(context.Background(), state)
			require.NoError(t, err)
			assert.Equal(t, !tt.laterOpens, ok, "single use either way")
		})
	}
}
