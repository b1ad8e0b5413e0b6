package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/redistest"
	"github.com/vast-mcp/vast-mcp/mcp"
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

func TestSpendLocks(t *testing.T) {
	srv := redistest.Start(t)
	quiet := slog.New(slog.DiscardHandler)
	short := func(l *SpendLocks) *SpendLocks { l.lease, l.wait = 300*time.Millisecond, 2*time.Second; return l }
	tests := []struct {
		name string
		run  func(t *testing.T, a, b *SpendLocks)
	}{
		{"one holder at a time; the next takes it once given back", func(t *testing.T, a, b *SpendLocks) {
			held, err := a.Lock(context.Background(), "acct")
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err = b.Lock(ctx, "acct")
			require.EqualError(t, err, "the call ended while another replica's call that adds spend held the lock")
			other, err := b.Lock(context.Background(), "another account")
			require.NoError(t, err, "accounts do not wait for each other")
			other.Release()
			held.Release()
			held.Release() // twice is once
			again, err := b.Lock(context.Background(), "acct")
			require.NoError(t, err)
			again.Release()
		}},
		{"a holder renews its lease while its call runs", func(t *testing.T, a, b *SpendLocks) {
			held, err := a.Lock(context.Background(), "acct")
			require.NoError(t, err)
			defer held.Release()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second) // three leases
			defer cancel()
			_, err = b.Lock(ctx, "acct")
			require.Error(t, err, "still held after its first lease")
		}},
		{"a replica that died holds it no longer than a lease", func(t *testing.T, a, b *SpendLocks) {
			_, err := redislock.Obtain(context.Background(), srv.Client(t), "vast-mcp:spend:acct", a.lease, nil)
			require.NoError(t, err) // never renewed, never released
			start := time.Now()
			held, err := b.Lock(context.Background(), "acct")
			require.NoError(t, err)
			held.Release()
			assert.Less(t, time.Since(start), a.wait)
		}},
		{"a lease taken over, or not renewed lately, is no longer held", func(t *testing.T, a, b *SpendLocks) {
			a.lease = 3 * time.Second // so that only the takeover, not time, can end it below
			held, err := a.Lock(context.Background(), "acct")
			require.NoError(t, err)
			defer held.Release()
			assert.True(t, held.Held())
			stalled := held.(*lease)
			stalled.renewed.Store(time.Now().Add(-a.lease * 2 / 3).UnixNano()) // as after a stall
			assert.False(t, held.Held(), "not renewed for two thirds of the lease")
			stalled.renewed.Store(time.Now().UnixNano())
			require.NoError(t, srv.Client(t).Del(context.Background(), "vast-mcp:spend:acct").Err()) // it lapsed
			other, err := b.Lock(context.Background(), "acct")
			require.NoError(t, err)
			defer other.Release()
			assert.Eventually(t, func() bool { return !held.Held() }, time.Second, 10*time.Millisecond, "its next renewal finds it taken over")
			assert.True(t, stalled.lost.Load())
			assert.True(t, other.Held())
		}},
		{"the wait is bounded", func(t *testing.T, a, b *SpendLocks) {
			b.wait = 200 * time.Millisecond
			held, err := a.Lock(context.Background(), "acct")
			require.NoError(t, err)
			defer held.Release()
			_, err = b.Lock(context.Background(), "acct")
			require.EqualError(t, err, "another replica's call that adds spend has held it for over 200ms")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, srv.Client(t).FlushAll(context.Background()).Err())
			tt.run(t, short(NewSpendLocks(srv.Client(t), quiet)), short(NewSpendLocks(srv.Client(t), quiet)))
		})
	}
}

// Without Redis the lock is not taken (the call is refused), and neither
// the answer nor the log shows the URL's password.
func TestSpendLocksFailClosedWithoutRedis(t *testing.T) {
	rdb, err := Open(fmt.Sprintf("redis://:s3kretpw@127.0.0.1:%d/0", redistest.FreePort(t)))
	require.NoError(t, err)
	defer rdb.Close()
	var log bytes.Buffer
	locks := NewSpendLocks(rdb, slog.New(slog.NewTextHandler(&log, nil)))
	_, err = locks.Lock(context.Background(), "acct")
	require.EqualError(t, err, "no answer from Redis")
	assert.Contains(t, log.String(), "the spend lock could not be taken")
	assert.NotContains(t, log.String(), "s3kretpw")
}

// A renewal that fails, fast or by timing out, while the lease still
// holds is tried again at the next tick: the lease stays held throughout.
func TestSpendLockRidesOutAMissedRenewal(t *testing.T) {
	srv := redistest.Start(t)
	for _, hang := range []bool{false, true} {
		t.Run(fmt.Sprintf("hang %v", hang), func(t *testing.T) {
			require.NoError(t, srv.Client(t).FlushAll(context.Background()).Err())
			flaky := &failingOnce{Scripter: srv.Client(t), call: 2, hang: hang} // call 1 obtains, call 2 renews
			quiet := slog.New(slog.DiscardHandler)
			holder := &SpendLocks{locks: redislock.New(flaky), log: quiet, lease: 600 * time.Millisecond, wait: 2 * time.Second}
			held, err := holder.Lock(context.Background(), "acct")
			require.NoError(t, err)
			defer held.Release()
			for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
				require.True(t, held.Held(), "held throughout")
			}
			other := NewSpendLocks(srv.Client(t), quiet)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = other.Lock(ctx, "acct")
			require.Error(t, err, "still held")
			assert.GreaterOrEqual(t, flaky.calls.Load(), int32(4), "renewed after the failure")
		})
	}
}

// failingOnce fails its nth script call as a Redis that did not answer:
// at once, or, hanging, once the call's time is up.
type failingOnce struct {
	redis.Scripter
	call  int32
	hang  bool
	calls atomic.Int32
}

func (f *failingOnce) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	if f.calls.Add(1) == f.call {
		cmd := redis.NewCmd(ctx)
		if f.hang {
			<-ctx.Done()
		}
		cmd.SetErr(errors.New("i/o timeout"))
		return cmd
	}
	return f.Scripter.EvalSha(ctx, sha1, keys, args...)
}

// Only the wait's own end reads as a lock held by another replica; any
// other failure, a dial timeout included, is Redis's, and is logged.
func TestSpendLockFailuresAreToldApart(t *testing.T) {
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	waitedOut, cancelWait := context.WithTimeout(context.Background(), 0)
	defer cancelWait()
	live := context.Background()
	_, dialTimeout := (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", "127.0.0.1:9")
	require.ErrorIs(t, dialTimeout, context.DeadlineExceeded, "net's timeouts read as a deadline")
	tests := []struct {
		name      string
		ctx, wait context.Context
		err       error
		want      string
		logged    bool
	}{
		{"the call ended", ended, ended, context.Canceled, "the call ended while another replica's call that adds spend held the lock", false},
		{"the wait ran out", live, waitedOut, context.DeadlineExceeded, "another replica's call that adds spend has held it for over 2m0s", false},
		{"a dial that timed out", live, live, dialTimeout, "no answer from Redis", true},
		{"a refused connection", live, live, errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), "no answer from Redis", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			locks := NewSpendLocks(nil, slog.New(slog.NewTextHandler(&log, nil)))
			assert.EqualError(t, locks.notTaken(tt.ctx, tt.wait, tt.err), tt.want)
			assert.Equal(t, tt.logged, log.Len() > 0, log.String())
		})
	}
}

func TestClaimsAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	replica1, replica2 := NewClaims(srv.Client(t), quiet), NewClaims(srv.Client(t), quiet)

	token1, err := replica1.Begin(ctx, "createInstance")
	require.NoError(t, err)
	token2, err := replica2.Begin(ctx, "createInstance")
	require.NoError(t, err)
	_, underway, err := replica1.Others(ctx, "createInstance", token1)
	require.NoError(t, err)
	assert.Equal(t, 1, underway, "the other replica's, not its own")
	replica2.End(ctx, "createInstance", token2, false)
	_, underway, err = replica1.Others(ctx, "createInstance", token1)
	require.NoError(t, err)
	assert.Zero(t, underway)
	_, underway, err = replica2.Others(ctx, "createInstance", "")
	require.NoError(t, err)
	assert.Equal(t, 1, underway, "replica 1's")
	replica1.End(ctx, "createInstance", token1, false)

	require.NoError(t, replica2.Claim(ctx, "createInstance", 1000))
	require.NoError(t, replica2.Claim(ctx, "createEndpoint", 7))
	claimed, underway, err := replica1.Others(ctx, "createInstance", "")
	require.NoError(t, err)
	assert.Equal(t, map[int]bool{1000: true}, claimed, "per operation")
	assert.Zero(t, underway)

	now, err := srv.Client(t).Time(ctx).Result()
	require.NoError(t, err)
	old := now.Add(-mcp.KeptClaims - time.Minute).UnixMilli()
	require.NoError(t, srv.Client(t).ZAdd(ctx, claimedKey+"createInstance", redis.Z{Score: float64(old), Member: 999}).Err())
	claimed, _, err = replica1.Others(ctx, "createInstance", "")
	require.NoError(t, err)
	assert.False(t, claimed[999], "a claim older than any settlement window is left out")
	assert.True(t, claimed[1000])

	require.NoError(t, srv.Client(t).ZAdd(ctx, claimedKey+"createInstance", redis.Z{Score: float64(now.UnixMilli()), Member: "not an id"}).Err())
	_, _, err = replica1.Others(ctx, "createInstance", "")
	require.EqualError(t, err, "no answer from Redis", "a record it cannot read is no record")
}

// The record lives as long as its longest-lived member, whatever a later
// Begin's bound (or a clock stepped back) would make of it.
func TestClaimsUnderwayLastAsLongAsTheirLatestMember(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	long, short := NewClaims(srv.Client(t), quiet), NewClaims(srv.Client(t), quiet)
	short.callBound = time.Second
	longToken, err := long.Begin(ctx, "createInstance")
	require.NoError(t, err)
	defer long.End(ctx, "createInstance", longToken, false)
	shortToken, err := short.Begin(ctx, "createInstance")
	require.NoError(t, err)
	defer short.End(ctx, "createInstance", shortToken, false)
	ttl, err := srv.Client(t).PTTL(ctx, underwayKey+"createInstance").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, long.callBound-time.Minute)
	require.NoError(t, long.Claim(ctx, "createInstance", 1))
	ttl, err = srv.Client(t).PTTL(ctx, claimedKey+"createInstance").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, mcp.KeptClaims-time.Minute)
}

// A record is renewed while its call runs, however long; left to lapse (a
// replica that died, or a create whose resource may still appear) it stops
// counting after its bound; ended, at once. A call whose own record lapsed
// still counts only the others.
func TestClaimsUnderwayLapse(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	slow := NewClaims(srv.Client(t), quiet)
	slow.callBound = 300 * time.Millisecond
	own, err := slow.Begin(ctx, "createInstance")
	require.NoError(t, err)
	live := NewClaims(srv.Client(t), quiet)
	time.Sleep(800 * time.Millisecond) // past two of its bounds
	_, underway, err := live.Others(ctx, "createInstance", "")
	require.NoError(t, err)
	assert.Equal(t, 1, underway, "renewed while its call runs")
	slow.End(ctx, "createInstance", own, true)
	time.Sleep(400 * time.Millisecond)
	_, underway, err = live.Others(ctx, "createInstance", "")
	require.NoError(t, err)
	assert.Zero(t, underway, "left to lapse, it lapsed")

	token, err := live.Begin(ctx, "createInstance")
	require.NoError(t, err)
	_, underway, err = slow.Others(ctx, "createInstance", own)
	require.NoError(t, err)
	assert.Equal(t, 1, underway, "another's create, though its own record lapsed")
	live.End(ctx, "createInstance", token, false)
	_, underway, err = slow.Others(ctx, "createInstance", own)
	require.NoError(t, err)
	assert.Zero(t, underway, "ended, at once")

	srv.Stop()
	_, _, err = live.Others(ctx, "createInstance", "")
	require.EqualError(t, err, "no answer from Redis", "Redis gone: an error, never an empty record")
	_, err = live.Begin(ctx, "createInstance")
	require.EqualError(t, err, "no answer from Redis")
	require.EqualError(t, live.Claim(ctx, "createInstance", 1), "no answer from Redis")
}

// A nil logger means no log, not a crash on the first Redis failure.
func TestNilLoggerDiscards(t *testing.T) {
	rdb, err := Open(fmt.Sprintf("redis://127.0.0.1:%d/0", redistest.FreePort(t)))
	require.NoError(t, err)
	defer rdb.Close()
	_, _, err = NewClaims(rdb, nil).Others(context.Background(), "createInstance", "")
	assert.EqualError(t, err, "no answer from Redis")
	_, err = NewSpendLocks(rdb, nil).Lock(context.Background(), "user:1")
	assert.EqualError(t, err, "no answer from Redis")
}
