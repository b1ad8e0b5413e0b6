package mcp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// connectHuman is a client whose user answers elicitations as h does (no
// elicitation support when h is nil).
func connectHuman(t *testing.T, h *human, opts mcp.Options, handler http.Handler) (*client.Client, *fakeapi.Server) {
	t.Helper()
	api := fakeapi.New(t, handler)
	vast, err := gen.New(gen.Config{APIKey: testKey, BaseURL: api.URL, ServerlessURL: api.URL, Retry: gen.RetryPolicy{MaxAttempts: 1}})
	require.NoError(t, err)
	var o inprocess.Options
	if h != nil {
		o.Elicitation = h
	}
	c, err := inprocess.Connect(context.Background(), mcp.NewServer(vast, opts), o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, api
}

// By default a removal waits for a human, who sees what will go (read
// first: label, GPU, $/hour, age) with the exact request; declined or
// cancelled, nothing is sent.
func TestRemovalAsksTheHumanShowingWhatWillGo(t *testing.T) {
	tests := []struct {
		name     string
		answer   mcpgo.ElicitationResponse
		wantSent bool
	}{
		{"accepted", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionAccept, Content: map[string]any{"approve": true}}, true},
		{"declined", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}, false},
		{"cancelled", mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionCancel}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &human{answer: tt.answer}
			c, api := connectHuman(t, h, mcp.Options{}, readsAnd(t, fakeapi.Fixture(t, "destroy/200")))
			res := call(t, c, "destroy_instance", `{"instance_id": 4242}`)
			assert.Equal(t, !tt.wantSent, res.IsError, text(t, res))
			if tt.wantSent {
				require.Len(t, sent(api), 1)
				assert.Equal(t, http.MethodDelete, sent(api)[0].Method)
			} else {
				assert.Empty(t, sent(api), "nothing is sent")
				assert.Contains(t, text(t, res), "nothing was sent")
			}
			require.Len(t, h.shown, 1)
			for _, want := range []string{`label "vast-mcp-llm"`, `1x "RTX 4090"`, "$0.8021/hour", "age ", "cannot be undone", "DELETE " + api.URL + "/api/v0/instances/4242/"} {
				assert.Contains(t, h.shown[0], want)
			}
			assert.NotContains(t, h.shown[0], testKey)
		})
	}
}

// A client that cannot ask its user: the operator's --confirm decides.
func TestConfirmPolicyForClientsWithoutElicitation(t *testing.T) {
	tests := []struct {
		name     string
		policy   mcp.ConfirmPolicy
		tool     string
		args     string
		wantSent bool
	}{
		{"destroy under the default is refused", mcp.ConfirmDestructive, "destroy_instance", `{"instance_id": 4242}`, false},
		{"delete under the default is refused", mcp.ConfirmDestructive, "delete_endpoint", `{"endpoint_id": 1234}`, false},
		{"destroy under none is sent", mcp.ConfirmNone, "destroy_instance", `{"instance_id": 4242}`, true},
		{"stop under the default is sent", mcp.ConfirmDestructive, "stop_instance", `{"instance_id": 4242}`, true},
		{"stop under all is refused", mcp.ConfirmAll, "stop_instance", `{"instance_id": 4242}`, false},
		{"start under all is refused", mcp.ConfirmAll, "start_instance", `{"instance_id": 4242}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := connectHuman(t, nil, mcp.Options{Guardrails: &mcp.Guardrails{Confirm: tt.policy}}, readsAnd(t, fakeapi.Fixture(t, "manage/200")))
			res := call(t, c, tt.tool, tt.args)
			if tt.wantSent {
				assert.False(t, res.IsError, text(t, res))
				assert.Len(t, sent(api), 1)
				return
			}
			assert.True(t, res.IsError)
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Contains(t, text(t, res), "cannot ask its user")
			assert.Contains(t, text(t, res), "--confirm=none")
			assert.Contains(t, text(t, res), "--confirm="+tt.policy.String())
			assert.Empty(t, sent(api), "nothing is sent")
		})
	}
}

// Under --confirm all, stop and start ask too, showing the instance.
func TestStopAndStartAreAskedUnderAll(t *testing.T) {
	for _, tool := range []string{"stop_instance", "start_instance"} {
		t.Run(tool, func(t *testing.T) {
			h := &human{answer: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}}
			c, api := connectHuman(t, h, mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmAll}}, readsAnd(t, fakeapi.Fixture(t, "manage/200")))
			res := call(t, c, tool, `{"instance_id": 4242}`)
			assert.True(t, res.IsError)
			assert.Empty(t, sent(api))
			require.Len(t, h.shown, 1)
			assert.Contains(t, h.shown[0], "changes what is billed")
			assert.Contains(t, h.shown[0], "$0.8021/hour")
		})
	}
}

func ownership(prefix string) mcp.Options {
	return mcp.Options{Guardrails: &mcp.Guardrails{Confirm: mcp.ConfirmNone, Manage: mcp.ManageOwn, LabelPrefix: prefix}}
}

// Under --manage own, stop, start, destroy and delete act only on what
// carries the operator's prefix (a workergroup through its endpoint); the
// rest, and anything that could not be read, is refused with nothing sent.
func TestManageOwnActsOnlyOnWhatThisServerCreated(t *testing.T) {
	for _, tc := range undoCases {
		t.Run(tc.tool+"/owned", func(t *testing.T) {
			c, api := connectUndo(t, ownership("vast-mcp-"), readsAnd(t, fakeapi.Fixture(t, tc.dir+"/200")))
			res := call(t, c, tc.tool, tc.args)
			assert.False(t, res.IsError, text(t, res))
			assert.Len(t, sent(api), 1)
		})
		t.Run(tc.tool+"/not owned", func(t *testing.T) {
			c, api := connectUndo(t, ownership("team-b-"), readsAnd(t, fakeapi.Fixture(t, tc.dir+"/200")))
			res := call(t, c, tc.tool, tc.args)
			assert.True(t, res.IsError)
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Contains(t, text(t, res), "was not created by this server")
			assert.Contains(t, text(t, res), "--manage own")
			assert.Empty(t, sent(api), "nothing is sent")
		})
		t.Run(tc.tool+"/unreadable", func(t *testing.T) {
			c, api := connectUndo(t, ownership("vast-mcp-"), fakeapi.Fixture(t, "common/502_html"))
			res := call(t, c, tc.tool, tc.args)
			assert.True(t, res.IsError)
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res))
			assert.Contains(t, text(t, res), "could not be read")
			assert.Empty(t, sent(api), "nothing is sent")
		})
	}
}

// --label-prefix marks what a create sends (opt-in) and says so in the
// descriptions.
func TestLabelPrefixIsSetAtCreation(t *testing.T) {
	tests := []struct{ tool, fixture, args, body string }{
		{"create_instance", "instance/200", `{"offer_id": 1, "image": "img", "label": "job"}`, `{"image": "img", "label": "vast-mcp-job"}`},
		{"create_instance", "instance/200", `{"offer_id": 1, "image": "img"}`, `{"image": "img", "label": "vast-mcp-"}`},
		{"create_instance", "instance/200", `{"offer_id": 1, "image": "img", "label": "vast-mcp-job"}`, `{"image": "img", "label": "vast-mcp-job"}`},
		{"create_endpoint", "endpoint/200", `{"endpoint_name": "llm"}`, `{"endpoint_name": "vast-mcp-llm"}`},
		{"create_workergroup", "workergroup/200_id", `{"endpoint_name": "llm", "template_hash": "h"}`, `{"endpoint_name": "vast-mcp-llm", "template_hash": "h"}`},
	}
	for _, tt := range tests {
		c, api := connectFake(t, ownership("vast-mcp-"), fakeapi.Fixture(t, tt.fixture))
		res := call(t, c, tt.tool, tt.args)
		require.False(t, res.IsError, text(t, res))
		assert.JSONEq(t, tt.body, string(api.Requests()[0].Body))
	}
	for _, tool := range mcp.Tools(nil, ownership("vast-mcp-")) {
		switch tool.Tool.Name {
		case "create_instance", "create_endpoint", "create_workergroup":
			assert.Contains(t, tool.Tool.Description, `starting with "vast-mcp-"`)
		case "stop_instance", "start_instance", "destroy_instance", "delete_workergroup", "delete_endpoint":
			assert.Contains(t, tool.Tool.Description, "acts only on what this server created")
		}
	}
	c, api := connectFake(t, ownership("vast-mcp-"), fakeapi.Fixture(t, "instance/200"))
	res := call(t, c, "create_instance", `{"offer_id": 1, "image": "img", "label": "`+strings.Repeat("x", 250)+`"}`)
	assert.True(t, res.IsError)
	assert.Contains(t, text(t, res), "at most 256")
	assert.Empty(t, api.Requests())

	// The schema counts characters, not bytes.
	c, api = connectFake(t, ownership("vast-mcp-"), fakeapi.Fixture(t, "instance/200"))
	res = call(t, c, "create_instance", `{"offer_id": 1, "image": "img", "label": "`+strings.Repeat("é", 240)+`"}`)
	require.False(t, res.IsError, text(t, res))
	assert.Len(t, api.Requests(), 1)
}

// Under --manage own, a workergroup attaches only to this server's
// endpoints: by name the prefix is added, by id the endpoint is read.
// Else an agent could add billed workers to any endpoint of the account.
func TestWorkergroupsAttachOnlyToThisServersEndpoints(t *testing.T) {
	endpoints := fakeapi.Func(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success": true, "results": [{"id": 7, "endpoint_name": "vast-mcp-llm"}, {"id": 8, "endpoint_name": "prod-llm"}]}`)
	})
	created := fakeapi.Fixture(t, "workergroup/200_id")
	tests := []struct {
		name      string
		opts      mcp.Options
		args      string
		handlers  []http.Handler
		wantBody  string // "" when nothing may be sent
		wantTexts []string
	}{
		{"own endpoint by id", ownership("vast-mcp-"), `{"endpoint_id": 7, "template_hash": "h"}`, []http.Handler{endpoints, created},
			`{"endpoint_id": 7, "template_hash": "h"}`, nil},
		{"another's endpoint by id", ownership("vast-mcp-"), `{"endpoint_id": 8, "template_hash": "h"}`, []http.Handler{endpoints, created},
			"", []string{"endpoint 8 was not created by this server", `"prod-llm"`}},
		{"endpoint not in the list", ownership("vast-mcp-"), `{"endpoint_id": 9, "template_hash": "h"}`, []http.Handler{endpoints, created},
			"", []string{"endpoint 9 could not be read", "not in the account's endpoint list"}},
		{"endpoints unreadable", ownership("vast-mcp-"), `{"endpoint_id": 7, "template_hash": "h"}`, []http.Handler{fakeapi.Fixture(t, "endpoints/400"), created},
			"", []string{"endpoint 7 could not be read"}},
		{"by name: prefixed, not read", ownership("vast-mcp-"), `{"endpoint_name": "llm", "template_hash": "h"}`, []http.Handler{created},
			`{"endpoint_name": "vast-mcp-llm", "template_hash": "h"}`, nil},
		{"--manage all: not read", mcp.Options{}, `{"endpoint_id": 8, "template_hash": "h"}`, []http.Handler{created},
			`{"endpoint_id": 8, "template_hash": "h"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := connectFake(t, tt.opts, tt.handlers...)
			res := call(t, c, "create_workergroup", tt.args)
			got := text(t, res)
			for _, want := range tt.wantTexts {
				assert.Contains(t, got, want)
			}
			posts := sent(api)
			if tt.wantBody == "" {
				assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res), got)
				assert.Empty(t, posts, "nothing is sent")
				return
			}
			require.False(t, res.IsError, got)
			require.Len(t, posts, 1)
			assert.JSONEq(t, tt.wantBody, string(posts[0].Body))
		})
	}
	for _, tool := range mcp.Tools(nil, ownership("vast-mcp-")) {
		if tool.Tool.Name == "create_workergroup" {
			assert.Contains(t, tool.Tool.Description, "endpoint_id must be an endpoint this server created")
		}
	}
}

// account is a fake API for the spend ceiling: pages of instances, an offer
// and the create.
func account(t *testing.T, pages []string, offers string, failInstances bool) http.Handler {
	return fakeapi.Func(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/instances/":
			if failInstances {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			page := 0
			if tok := r.URL.Query().Get("after_token"); tok != "" {
				_, _ = fmt.Sscanf(tok, "p%d", &page)
			}
			if page >= len(pages) {
				page = len(pages) - 1
			}
			_, _ = io.WriteString(w, pages[page])
		case r.URL.Path == "/api/v0/bundles/":
			_, _ = io.WriteString(w, offers)
		default:
			fakeapi.Fixture(t, "instance/200").ServeHTTP(w, r)
		}
	})
}

func creates(api *fakeapi.Server) int {
	n := 0
	for _, r := range api.Requests() {
		if r.Method == http.MethodPut {
			n++
		}
	}
	return n
}

// The spend ceiling: running $/hour (over every page) plus the offer's,
// refused with the figures; it fails closed; without it, one request.
func TestSpendCeiling(t *testing.T) {
	pages := []string{
		`{"instances": [{"id": 1, "dph_total": 0.5, "actual_status": "running"}, {"id": 2, "dph_total": 9, "actual_status": "exited"}], "next_token": "p1"}`,
		`{"instances": [{"id": 3, "dph_total": 0.25, "intended_status": "running"}]}`,
	}
	endless := []string{`{"instances": [{"id": 1, "dph_total": 0.1, "actual_status": "running"}], "next_token": "p0"}`}
	offer := `{"offers": [{"id": 4242, "dph_total": 0.3, "machine_id": 7}]}`
	const args = `{"offer_id": 4242, "image": "img"}`
	tests := []struct {
		name      string
		g         mcp.Guardrails
		pages     []string
		offers    string
		fail      bool
		wantSent  bool
		wantTexts []string
	}{
		{"under the ceiling", mcp.Guardrails{MaxHourlySpend: 2}, pages, offer, false, true, []string{"Billing has started: about $0.3000/hour"}},
		{"over the ceiling", mcp.Guardrails{MaxHourlySpend: 1}, pages, offer, false, false,
			[]string{"2 running instances cost $0.7500/hour", "adds $0.3000/hour", "$1.0500/hour in all", "ceiling of $1/hour", "--max-hourly-spend 1"}},
		{"instances unreadable", mcp.Guardrails{MaxHourlySpend: 5}, pages, offer, true, false, []string{"could not be read to check the ceiling"}},
		{"page bound reached", mcp.Guardrails{MaxHourlySpend: 5}, endless, offer, false, false, []string{"longer than 40 pages"}},
		{"offer not found", mcp.Guardrails{MaxHourlySpend: 5}, pages, `{"offers": []}`, false, false, []string{"offer 4242 could not be read", "gone or taken"}},
		{"offer unreadable", mcp.Guardrails{MaxHourlySpend: 5}, pages, `{"success": false, "error": "x", "msg": "down"}`, false, false, []string{"offer 4242 could not be read"}},
		{"instance cap reached", mcp.Guardrails{MaxInstances: 3}, pages, offer, false, false, []string{"has 3 instances", "cap of 3", "--max-instances 3"}},
		{"instance cap not reached", mcp.Guardrails{MaxInstances: 4}, pages, offer, false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.g
			g.Confirm = mcp.ConfirmNone
			c, api := connectFake(t, mcp.Options{Guardrails: &g}, account(t, tt.pages, tt.offers, tt.fail))
			res := call(t, c, "create_instance", args)
			got := text(t, res)
			for _, want := range tt.wantTexts {
				assert.Contains(t, got, want)
			}
			if tt.wantSent {
				assert.False(t, res.IsError, got)
				assert.Equal(t, 1, creates(api))
				return
			}
			assert.True(t, res.IsError)
			assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res), got)
			assert.Equal(t, 0, creates(api), "nothing is sent")
		})
	}
	t.Run("no ceiling: exactly one request", func(t *testing.T) {
		c, api := connectFake(t, mcp.Options{}, account(t, pages, offer, false))
		res := call(t, c, "create_instance", args)
		require.False(t, res.IsError, text(t, res))
		require.Len(t, api.Requests(), 1)
		assert.Equal(t, http.MethodPut, api.Requests()[0].Method)
	})
	t.Run("described to agents", func(t *testing.T) {
		for _, tool := range mcp.Tools(nil, mcp.Options{Guardrails: &mcp.Guardrails{MaxHourlySpend: 3, MaxInstances: 2}}) {
			if tool.Tool.Name == "create_instance" {
				assert.Contains(t, tool.Tool.Description, "exceed $3/hour")
				assert.Contains(t, tool.Tool.Description, "already has 2 instances")
			}
		}
	})
}

// A refused or declined removal leaves its audit line too: the log shows
// what an agent tried.
func TestRefusalsAreAudited(t *testing.T) {
	var logs lockedBuffer
	opts := ownership("team-b-")
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	c, api := connectUndo(t, opts, readsAnd(t, fakeapi.Fixture(t, "destroy/200")))
	call(t, c, "destroy_instance", `{"instance_id": 4242}`)
	assert.Empty(t, sent(api))
	assert.Equal(t, 1, strings.Count(logs.String(), "vast-mcp audit"), logs.String())
	assert.Contains(t, logs.String(), "tool=destroy_instance outcome=refused id=4242")

	var declined lockedBuffer
	h := &human{answer: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseActionDecline}}
	c, _ = connectHuman(t, h, mcp.Options{Logger: slog.New(slog.NewTextHandler(&declined, nil))}, readsAnd(t, fakeapi.Fixture(t, "destroy/200")))
	call(t, c, "destroy_instance", `{"instance_id": 4242}`)
	assert.Equal(t, 1, strings.Count(declined.String(), "vast-mcp audit"), declined.String())
	assert.Contains(t, declined.String(), "outcome=not_sent")
}

// Ownership is judged on the instance asked about: an answer about another
// instance, or naming none, refuses, even when that one is this server's.
func TestOwnershipReadMustBeAboutTheInstanceAsked(t *testing.T) {
	answers := map[string]string{
		"another instance": `{"instances": {"id": 1, "label": "vast-mcp-mine"}}`,
		"no id":            `{"instances": {"label": "vast-mcp-mine"}}`,
		"id as text":       `{"instances": [{"id": "555", "label": "vast-mcp-mine"}]}`,
	}
	for name, answer := range answers {
		for _, tool := range []string{"stop_instance", "start_instance", "destroy_instance"} {
			t.Run(name+"/"+tool, func(t *testing.T) {
				show := fakeapi.Func(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, answer)
				})
				c, api := connectFake(t, ownership("vast-mcp-"), show, fakeapi.Fixture(t, "destroy/200"))
				res := call(t, c, tool, `{"instance_id": 555}`)
				assert.Equal(t, mcp.OutcomeRefused, outcomeOf(res), text(t, res))
				assert.Contains(t, text(t, res), "asked for instance 555, the answer is about another or names none")
				assert.Empty(t, sent(api), "nothing is sent")
			})
		}
	}
}
