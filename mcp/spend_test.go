package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/internal/redisstore"
	"github.com/vast-mcp/vast-mcp/internal/redistest"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// liveAccount is a fake account whose instance list follows the creates,
// starts and stops it receives, answered after listDelay so that calls in
// flight together overlap. Every offer costs $1/hour.
type liveAccount struct {
	mu        sync.Mutex
	instances []map[string]any
	listDelay time.Duration
}

func (a *liveAccount) add(id int, state string, price any) {
	a.instances = append(a.instances, map[string]any{"id": id, "actual_status": state, "dph_total": price, "label": "vast-mcp-x"})
}

func (a *liveAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	var id int
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/instances/":
		time.Sleep(a.listDelay)
		a.mu.Lock()
		defer a.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"instances": append([]map[string]any{}, a.instances...)})
	case r.URL.Path == "/api/v0/users/current":
		_, _ = io.WriteString(w, `{"id": 7, "email": "team@example.com"}`) // every key here is of one account
	case r.URL.Path == "/api/v0/bundles/":
		_, _ = io.WriteString(w, `{"offers": [{"id": 42, "dph_total": 1.0, "machine_id": 7}]}`)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v0/asks/"):
		a.mu.Lock()
		defer a.mu.Unlock()
		id = 1000 + len(a.instances)
		a.add(id, "running", 1.0)
		_, _ = fmt.Fprintf(w, `{"success": true, "new_contract": %d}`, id)
	case r.Method == http.MethodPut:
		_, _ = fmt.Sscanf(r.URL.Path, "/api/v0/instances/%d/", &id)
		var req struct{ State string }
		_ = json.Unmarshal(body, &req)
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, inst := range a.instances {
			if inst["id"] == id {
				inst["actual_status"] = req.State
			}
		}
		_, _ = io.WriteString(w, `{"success": true}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (a *liveAccount) billed() (n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, inst := range a.instances {
		if inst["actual_status"] == "running" {
			n++
		}
	}
	return n
}

// Calls in flight together on one server take turns at the ceiling: each
// checks the account as the previous one left it, so no more pass than
// the bound allows.
func TestSpendBoundsHoldForCallsInFlightTogether(t *testing.T) {
	tests := []struct {
		name  string
		g     mcp.Guardrails
		tool  string
		args  func(i int) string
		setup func(a *liveAccount)
		want  int // instances billed at the end
	}{
		{"creates under --max-instances 1", mcp.Guardrails{MaxInstances: 1}, "create_instance",
			func(int) string { return `{"offer_id": 42, "image": "img"}` }, nil, 1},
		{"creates under --max-hourly-spend 2.5", mcp.Guardrails{MaxHourlySpend: 2.5}, "create_instance",
			func(int) string { return `{"offer_id": 42, "image": "img"}` }, nil, 2},
		{"starts under --max-hourly-spend 2.5", mcp.Guardrails{MaxHourlySpend: 2.5}, "start_instance",
			func(i int) string { return fmt.Sprintf(`{"instance_id": %d}`, 1000+i) },
			func(a *liveAccount) {
				for i := range 6 {
					a.add(1000+i, "stopped", 1.0)
				}
			}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &liveAccount{listDelay: 50 * time.Millisecond}
			if tt.setup != nil {
				tt.setup(a)
			}
			g := tt.g
			g.Confirm = mcp.ConfirmNone
			c, _ := connectFake(t, mcp.Options{Guardrails: &g}, a)
			results := make([]string, 6)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					res := call(t, c, tt.tool, tt.args(i))
					results[i] = outcomeOf(res)
				})
			}
			wg.Wait()
			assert.Equal(t, tt.want, a.billed(), "outcomes %v", results)
			assert.Equal(t, tt.want, strings.Count(strings.Join(results, " "), mcp.OutcomeDone), "outcomes %v", results)
			assert.Equal(t, len(results)-tt.want, strings.Count(strings.Join(results, " "), mcp.OutcomeRefused), "outcomes %v", results)
		})
	}
}

// Replicas sharing Redis take turns as one server's calls do: three calls
// on each of two servers, over one account, pass no more than the bound,
// also when the replicas hold two keys of that account (a rotation).
func TestSpendBoundsHoldAcrossReplicasSharingRedis(t *testing.T) {
	srv := redistest.Start(t)
	tests := []struct {
		name string
		g    mcp.Guardrails
		keys [2]string
		want int
	}{
		{"--max-instances 1", mcp.Guardrails{MaxInstances: 1}, [2]string{testKey, testKey}, 1},
		{"--max-hourly-spend 2.5", mcp.Guardrails{MaxHourlySpend: 2.5}, [2]string{testKey, testKey}, 2},
		{"--max-instances 1, two keys of one account", mcp.Guardrails{MaxInstances: 1}, [2]string{testKey, "vk-ROTATED-KEY-0123456789"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, srv.Client(t).FlushAll(context.Background()).Err())
			a := &liveAccount{listDelay: 50 * time.Millisecond}
			api := fakeapi.New(t, a)
			g := tt.g
			g.Confirm = mcp.ConfirmNone
			var replicas []*client.Client
			for _, key := range tt.keys {
				locks := redisstore.NewSpendLocks(srv.Client(t), slog.New(slog.DiscardHandler))
				cfg := gen.Config{APIKey: key, BaseURL: api.URL, ServerlessURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}}
				replicas = append(replicas, connect(t, cfg, mcp.Options{Guardrails: &g, SpendLocks: locks}))
			}
			results := make([]string, 6)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					results[i] = outcomeOf(call(t, replicas[i%2], "create_instance", `{"offer_id": 42, "image": "img"}`))
				})
			}
			wg.Wait()
			assert.Equal(t, tt.want, a.billed(), "outcomes %v", results)
			assert.Equal(t, tt.want, strings.Count(strings.Join(results, " "), mcp.OutcomeDone), "outcomes %v", results)
		})
	}
}

// A spend lock not taken refuses the call before anything that spends is
// sent, in words that name the setting.
func TestASpendLockNotTakenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		user    http.Handler // answers showUser, the first request
		locks   mcp.SpendLocks
		want    string
		reached int // requests: the account read only
	}{
		{"the lock", nil, failingLocks{}, "the spend lock the replicas share was not taken (no answer from Redis)", 1},
		{"the account unread", jsonAnswer(http.StatusUnauthorized, `{"error": "invalid_key"}`), heldLocks{},
			"the account could not be read to take the spend lock the replicas share", 1},
		{"an answer with no user id", jsonAnswer(http.StatusOK, `{"email": "x@example.com"}`), heldLocks{},
			"the account could not be read to take the spend lock the replicas share (showUser: the answer has no user id)", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &liveAccount{}
			g := mcp.Guardrails{MaxInstances: 3, Confirm: mcp.ConfirmNone}
			handlers := []http.Handler{a}
			if tt.user != nil {
				handlers = append([]http.Handler{tt.user}, handlers...)
			}
			c, api := connectFake(t, mcp.Options{Guardrails: &g, SpendLocks: tt.locks}, handlers...)
			res := call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`)
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Contains(t, text(t, res), tt.want)
			assert.Contains(t, text(t, res), "(operator setting --max-instances 3). Nothing was sent.")
			assert.Len(t, api.Requests(), tt.reached, "nothing but the account read reaches the API")
			assert.Zero(t, a.billed())
		})
	}
}

// A spend lock lost while the call ran (the server stalled past its
// lease, and another replica may have checked and spent since) sends
// nothing. (Found in review: a replica resumed after a stall sent its
// create over the ceiling.)
func TestALostSpendLockSendsNothing(t *testing.T) {
	a := &liveAccount{}
	g := mcp.Guardrails{MaxInstances: 3, Confirm: mcp.ConfirmNone}
	c, api := connectFake(t, mcp.Options{Guardrails: &g, SpendLocks: lostLocks{}}, a)
	res := call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`)
	assert.Equal(t, mcp.OutcomeNotSent, outcomeOf(res), text(t, res))
	assert.Contains(t, text(t, res), "the spend lock the replicas share lapsed before the request went out")
	assert.Zero(t, creates(api))
	assert.Zero(t, a.billed())
}

// A lock lost while the call waits to send again (a 429, then a stall)
// stops the retry: every attempt checks it, not only the first. (Found in
// review: the retry was sent.)
func TestALostSpendLockStopsARetry(t *testing.T) {
	a := &liveAccount{}
	var puts atomic.Int32
	api := fakeapi.New(t, fakeapi.Func(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && puts.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error": "HTTPTooManyRequests", "msg": "API requests too frequent"}`)
			return
		}
		a.ServeHTTP(w, r)
	}))
	held := &leaseLostAfter{checks: 1}
	cfg := gen.Config{APIKey: testKey, BaseURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxWait: time.Second}}
	g := mcp.Guardrails{MaxInstances: 3, Confirm: mcp.ConfirmNone}
	c := connect(t, cfg, mcp.Options{Guardrails: &g, SpendLocks: held})
	res := call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`)
	assert.Equal(t, mcp.OutcomeNotSent, outcomeOf(res), text(t, res))
	assert.Contains(t, text(t, res), "the spend lock the replicas share lapsed before the request went out")
	assert.Equal(t, int32(1), puts.Load(), "the 429'd attempt only")
	assert.Zero(t, a.billed())
}

// leaseLostAfter hands out a lock held for its first checks, lost after.
type leaseLostAfter struct {
	checks int32
	done   atomic.Int32
}

func (l *leaseLostAfter) Lock(context.Context, string) (mcp.SpendLease, error) { return l, nil }
func (l *leaseLostAfter) Held() bool                                           { return l.done.Add(1) <= l.checks }
func (l *leaseLostAfter) Release()                                             {}

// lostLocks hand out a lock that is lost by the time the call would send.
type lostLocks struct{}

func (lostLocks) Lock(context.Context, string) (mcp.SpendLease, error) {
	return lease{held: false}, nil
}

type failingLocks struct{}

func (failingLocks) Lock(context.Context, string) (mcp.SpendLease, error) {
	return nil, errors.New("no answer from Redis")
}

// heldLocks would hand every lock out; the tests using it must not get
// that far.
type heldLocks struct{}

func (heldLocks) Lock(context.Context, string) (mcp.SpendLease, error) { return lease{held: true}, nil }

// lease is a spend lock as its holder sees it.
type lease struct{ held bool }

func (l lease) Held() bool { return l.held }
func (lease) Release()     {}

// Starting a stopped instance bills its $/hour again, so the ceiling
// counts it as it counts a create's offer, and fails closed the same way.
func TestStartInstanceIsHeldToTheSpendCeiling(t *testing.T) {
	tests := []struct {
		name      string
		ceiling   float64
		target    any // the stopped instance's dph_total; nil leaves it out of the list
		state     string
		wantSent  bool
		wantTexts []string
	}{
		{"within the ceiling", 2.5, 1.0, "stopped", true, []string{"Asked instance 7 to start"}},
		{"over the ceiling", 1.5, 1.0, "stopped", false,
			[]string{"1 running instances cost $1.0000/hour", "instance 7 adds $1.0000/hour", "$2.0000/hour in all", "--max-hourly-spend 1.5"}},
		{"already running: counted already", 1.5, 1.0, "running", true, nil},
		{"not in the list", 5, nil, "", false, []string{"instance 7 is not in the account's instance list"}},
		{"price unreadable", 5, "1.0", "stopped", false, []string{"instance 7 has no readable $/hour"}},
		{"no ceiling: not read", 0, nil, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &liveAccount{}
			a.add(1, "running", 1.0)
			if tt.state != "" {
				a.add(7, tt.state, tt.target)
			}
			c, api := connectFake(t, mcp.Options{Guardrails: &mcp.Guardrails{MaxHourlySpend: tt.ceiling, Confirm: mcp.ConfirmNone}}, a)
			res := call(t, c, "start_instance", `{"instance_id": 7}`)
			got := text(t, res)
			for _, want := range tt.wantTexts {
				assert.Contains(t, got, want)
			}
			if !tt.wantSent {
				assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res), got)
				assert.Equal(t, 0, creates(api), "nothing is sent")
				return
			}
			assert.Equal(t, mcp.OutcomeDone, outcomeOf(res), got)
			assert.Equal(t, 1, creates(api))
			if tt.ceiling == 0 {
				assert.Len(t, api.Requests(), 1, "without a ceiling, only the start is sent")
			}
		})
	}
	t.Run("its refusal names the ceiling, not the instance cap that does not bound starts", func(t *testing.T) {
		a := &liveAccount{}
		a.add(1, "running", 1.0)
		a.add(7, "stopped", 1.0)
		c, _ := connectFake(t, mcp.Options{Guardrails: &mcp.Guardrails{MaxHourlySpend: 1.5, MaxInstances: 5, Confirm: mcp.ConfirmNone}}, a)
		res := call(t, c, "start_instance", `{"instance_id": 7}`)
		assert.Contains(t, text(t, res), "(operator setting --max-hourly-spend 1.5)")
	})
	t.Run("described to agents", func(t *testing.T) {
		for _, tool := range mcp.Tools(nil, mcp.Options{Guardrails: &mcp.Guardrails{MaxHourlySpend: 3}}) {
			says := strings.Contains(tool.Tool.Description, "plus this instance's would exceed $3/hour")
			assert.Equal(t, tool.Tool.Name == "start_instance", says, tool.Tool.Name)
		}
	})
}

// slowHuman holds the first question until released and approves every
// other at once.
type slowHuman struct {
	mu      sync.Mutex
	asked   int
	release chan struct{}
}

func (h *slowHuman) Elicit(ctx context.Context, _ mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	h.mu.Lock()
	h.asked++
	first := h.asked == 1
	h.mu.Unlock()
	if first {
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}}, nil
}

// A human deciding on one create does not hold the spend turn: another
// create goes ahead meanwhile, and the first is checked again once
// approved, against the account as it then is.
func TestAHumansWaitHoldsNoSpendTurn(t *testing.T) {
	a := &liveAccount{}
	api := fakeapi.New(t, a)
	vast, err := gen.New(gen.Config{APIKey: testKey, BaseURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	h := &slowHuman{release: make(chan struct{})}
	opts := mcp.Options{Guardrails: &mcp.Guardrails{MaxInstances: 1, Confirm: mcp.ConfirmAll}}
	c, err := inprocess.Connect(context.Background(), mcp.NewServer(vast, opts), inprocess.Options{Protocol: "2025-06-18", Elicitation: h})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	first := make(chan *mcpgo.CallToolResult, 1)
	go func() { first <- call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`) }()
	require.Eventually(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.asked == 1 }, 5*time.Second, time.Millisecond)

	second := call(t, c, "create_instance", `{"offer_id": 42, "image": "img"}`)
	assert.Equal(t, mcp.OutcomeDone, outcomeOf(second), text(t, second))

	close(h.release)
	res := <-first
	assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res), text(t, res))
	assert.Contains(t, text(t, res), "cap of 1", "checked again after the human's approval")
	assert.Equal(t, 1, a.billed())
}
