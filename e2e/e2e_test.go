//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The API's limit, scaled from 5 per 10 s to 5 per second: the ratio is
// what counts.
const (
	apiLimit  = 5
	apiWindow = time.Second
)

func createArgs(label string) map[string]any {
	return map[string]any{"offer_id": 4242, "image": "vllm/vllm-openai:latest", "disk": 20, "label": label}
}

// outcome classifies a confirmed create.
type createResult struct{ done, clear bool }

// createsDuring has agents each make confirmed creates, labelled
// prefix-agent-i, through lb, disrupts the cluster after pause, and returns
// each label's outcome once all have finished.
func createsDuring(ctx context.Context, lb *client, agents, each int, prefix string, pause time.Duration, disrupt func()) map[string]createResult {
	var (
		mu      sync.Mutex
		results = map[string]createResult{}
		wg      sync.WaitGroup
	)
	for a := range agents {
		wg.Go(func() {
			for i := range each {
				label := fmt.Sprintf("%s-%d-%d", prefix, a, i)
				done, clear := outcome(lb.confirmed(ctx, "create_instance", createArgs(label)))
				mu.Lock()
				results[label] = createResult{done, clear}
				mu.Unlock()
			}
		})
	}
	time.Sleep(pause)
	disrupt()
	wg.Wait()
	return results
}

func outcome(asked, answered reply) (done bool, clear bool) {
	if answered.err == nil && answered.rpcError == "" && !answered.result.IsError && answered.result.RequestState == "" {
		return true, true
	}
	// Failed: a transport error, a balancer's 5xx, or a tool error that says why.
	switch {
	case answered.err != nil, answered.httpStatus >= 500, answered.rpcError != "":
		return false, true
	case answered.result.IsError:
		return false, answered.text() != ""
	}
	return false, false
}

func TestTeamDeployment(t *testing.T) {
	api, apiURL := startFakeVast(t, apiLimit, apiWindow)
	c := startCluster(t, apiURL, clusterOptions{replicas: 3, redis: true, args: []string{"--rate", fmt.Sprintf("%d/%s", apiLimit, apiWindow), "--confirm=all"}})
	ctx := context.Background()

	t.Run("a confirmation asked on one replica is redeemed on another and its replay refused on a third", func(t *testing.T) {
		r1, r2, r3 := newClient("http://"+c.replicas[0].addr+"/mcp"), newClient("http://"+c.replicas[1].addr+"/mcp"), newClient("http://"+c.replicas[2].addr+"/mcp")
		args := createArgs("confirm-a")
		asked := r1.call(ctx, "create_instance", args, "", nil)
		require.NotEmpty(t, asked.result.RequestState, "%s", asked)
		yes := true
		redeemed := r2.call(ctx, "create_instance", args, asked.result.RequestState, &yes)
		require.False(t, redeemed.result.IsError, "%s", redeemed)
		require.Empty(t, redeemed.result.RequestState, "%s", redeemed)
		replay := r3.call(ctx, "create_instance", args, asked.result.RequestState, &yes)
		assert.True(t, replay.result.IsError, "%s", replay)
		assert.Contains(t, replay.text(), "already used")

		forged := r3.call(ctx, "create_instance", args, strings.ToUpper(r1.call(ctx, "create_instance", args, "", nil).result.RequestState), &yes)
		assert.Contains(t, forged.text(), "unknown", "an altered state is refused")
		created, _, _ := api.snapshot()
		assert.Equal(t, 1, created["confirm-a"], "one create, once")
	})

	t.Run("an older session-based client: the balancer keeps its session on one replica, and the others refuse it clearly", func(t *testing.T) {
		ask := func(addr, session, body string) (string, int) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			return send(t, conn, bufio.NewReader(conn), addr, session, body)
		}
		balancer := strings.TrimSuffix(strings.TrimPrefix(c.url, "http://"), "/mcp")
		session, status := ask(balancer, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"old","version":"0"}}}`)
		require.Less(t, status, 300)
		require.NotEmpty(t, session, "an older client gets a session")
		// Sessions are bounded and expire per replica (SECURITY.md), so the
		// balancer sticks them by Mcp-Session-Id (README).
		for range len(c.replicas) + 1 {
			_, status := ask(balancer, session, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
			assert.Less(t, status, 300, "the balancer keeps the session on the replica that made it")
		}
		known := 0
		for _, r := range c.replicas {
			_, status := ask(r.addr, session, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
			if status < 300 {
				known++
				continue
			}
			assert.Equal(t, http.StatusNotFound, status, "another replica says the session is unknown, so the client starts anew")
		}
		assert.Equal(t, 1, known)
	})

	t.Run("8 agents x 10 creates: all complete, no 429 surfaced, near the API's own floor, no duplicate", func(t *testing.T) {
		const agents, each = 8, 10
		lb := newClient(c.url)
		// The API admits apiLimit per window: n calls need (n - apiLimit) / apiLimit windows at least.
		floor := time.Duration(float64(agents*each-apiLimit) / apiLimit * float64(apiWindow))
		time.Sleep(apiWindow) // start with the budget whole
		_, throttledBefore, _ := api.snapshot()
		start := time.Now()
		var mu sync.Mutex
		var failures []string
		var wg sync.WaitGroup
		for a := range agents {
			wg.Go(func() {
				for i := range each {
					asked, answered := lb.confirmed(ctx, "create_instance", createArgs(fmt.Sprintf("b-%d-%d", a, i)))
					if done, _ := outcome(asked, answered); !done {
						mu.Lock()
						failures = append(failures, answered.String())
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		created, throttled, _ := api.snapshot()
		t.Logf("%d creates in %s; the API's floor is %s (%.2fx); 429s the API sent (all absorbed): %d", agents*each, elapsed.Round(time.Millisecond), floor, elapsed.Seconds()/floor.Seconds(), throttled-throttledBefore)
		require.Empty(t, failures, "every create completes, none surfaces a 429")
		for a := range agents {
			for i := range each {
				assert.Equal(t, 1, created[fmt.Sprintf("b-%d-%d", a, i)], "b-%d-%d created exactly once", a, i)
			}
		}
		assert.LessOrEqual(t, elapsed, floor*12/10, "within 1.2x of the floor the API's limit sets")
		// Retries absorb 429s, but a 429 spends the key's budget and invites
		// a ban: paced replicas leave the API nothing to refuse.
		assert.LessOrEqual(t, throttled-throttledBefore, 2, "paced: the API refused (almost) nothing")
	})

	t.Run("a replica killed mid-run: every call answered or failed clearly, nothing duplicated", func(t *testing.T) {
		results := createsDuring(ctx, newClient(c.url), 8, 5, "c", 1500*time.Millisecond, func() {
			require.NoError(t, c.replicas[1].cmd.Process.Kill())
		})
		require.Len(t, results, 8*5)
		created, _, _ := api.snapshot()
		var ok, failed int
		for label, r := range results {
			assert.True(t, r.clear, "%s: answered or failed clearly", label)
			assert.LessOrEqual(t, created[label], 1, "%s never duplicated", label)
			if r.done {
				ok++
				assert.Equal(t, 1, created[label], "%s: done means created", label)
			} else {
				failed++
			}
		}
		t.Logf("with r2 killed: %d done, %d failed clearly", ok, failed)
		assert.Positive(t, ok)
	})

	t.Run("Redis stopped mid-run: degraded, no crash", func(t *testing.T) {
		results := createsDuring(ctx, newClient(c.url), 4, 5, "d", 500*time.Millisecond, c.redis.Stop)
		require.Len(t, results, 4*5)
		created, _, _ := api.snapshot()
		var ok int
		for label, r := range results {
			if r.done {
				ok++
			}
			assert.True(t, r.clear, "%s: answered or failed clearly", label)
			assert.LessOrEqual(t, created[label], 1, "%s never duplicated", label)
		}
		t.Logf("with Redis stopped: %d done, %d refused or failed clearly", ok, len(results)-ok)
		for _, r := range []*replica{c.replicas[0], c.replicas[2]} {
			assert.True(t, r.alive(), "%s still running", r.name)
			resp, err := http.Get("http://" + r.addr + "/healthz")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s alive", r.name)
			resp, err = http.Get("http://" + r.addr + "/readyz")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s says it is not ready without Redis", r.name)
		}
		// Reached directly, a replica still refuses to redeem a confirmation it cannot check.
		direct := newClient("http://" + c.replicas[0].addr + "/mcp")
		asked, answered := direct.confirmed(ctx, "create_instance", createArgs("d-direct"))
		require.NotEmpty(t, asked.result.RequestState, "%s", asked)
		assert.Contains(t, answered.text(), "cannot check", "%s", answered)
		created, _, _ = api.snapshot()
		assert.Zero(t, created["d-direct"])
	})

	t.Run("an instance cap holds across replicas: creates on all three at once take turns in Redis", func(t *testing.T) {
		capAPI, capURL := startFakeVast(t, 0, 0)
		capAPI.listDelay = 50 * time.Millisecond // checks in flight together overlap
		capped := startCluster(t, capURL, clusterOptions{replicas: 3, redis: true, args: []string{"--rate", "1000/1s", "--max-instances", "2"}})
		answers := make([]reply, 9)
		var wg sync.WaitGroup
		for i := range answers {
			// Straight to each replica: the balancer may not have them all up yet.
			direct := newClient("http://" + capped.replicas[i%3].addr + "/mcp")
			wg.Go(func() {
				answers[i] = direct.call(ctx, "create_instance", createArgs(fmt.Sprintf("cap-%d", i)), "", nil)
			})
		}
		wg.Wait()
		created, _, _ := capAPI.snapshot()
		assert.Len(t, created, 2, "two instances, whichever replicas sent them")
		var refused int
		for _, a := range answers {
			if strings.Contains(a.text(), "operator setting --max-instances 2") {
				refused++
			}
		}
		assert.Equal(t, len(answers)-2, refused, "%v", answers)
	})
}
