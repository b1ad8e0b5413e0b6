package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
)

// testKey is distinctive so a leak is easy to find in any output.
const testKey = "vk-TESTKEY-7f3a9c21d84e5b60-DO-NOT-LEAK"

func ptr[T any](v T) *T { return &v }

func newClient(t *testing.T, baseURL string, cfg gen.Config) *gen.Vast {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	cfg.BaseURL = baseURL
	v, err := gen.New(cfg)
	require.NoError(t, err)
	return v
}

// noSleep records requested delays instead of waiting them out.
func noSleep(delays *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		*delays = append(*delays, d)
		return nil
	}
}

func TestRequestsSendExactlyTheFieldsSet(t *testing.T) {
	tests := []struct {
		name     string
		fixture  string
		call     func(*gen.Vast) error
		wantVerb string
		wantPath string
		wantBody string
	}{
		{
			name:    "create endpoint",
			fixture: "endpoint/200",
			call: func(v *gen.Vast) error {
				_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{
					EndpointName: ptr("llm"), MaxWorkers: ptr(0), TargetUtil: ptr(0.9),
				})
				return err
			},
			wantVerb: http.MethodPost,
			wantPath: "/api/v0/endptjobs/",
			wantBody: `{"endpoint_name":"llm","max_workers":0,"target_util":0.9}`,
		},
		{
			name:    "create workergroup",
			fixture: "workergroup/200_id",
			call: func(v *gen.Vast) error {
				_, err := v.CreateWorkergroup(context.Background(), gen.CreateWorkergroupRequest{
					EndpointId: ptr(12), TemplateHash: ptr("abc123"), GpuRam: ptr(24),
				})
				return err
			},
			wantVerb: http.MethodPost,
			wantPath: "/api/v0/workergroups/",
			wantBody: `{"endpoint_id":12,"template_hash":"abc123","gpu_ram":24}`,
		},
		{
			name:    "create instance from a template sends no image",
			fixture: "instance/200",
			call: func(v *gen.Vast) error {
				_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{
					TemplateHashId: ptr("4e17788f"), Disk: ptr(32.0), Env: &map[string]string{"HF_TOKEN": "hf_x", "-p 8000:8000": "1"},
				})
				return err
			},
			wantVerb: http.MethodPut,
			wantPath: "/api/v0/asks/4242/",
			wantBody: `{"template_hash_id":"4e17788f","disk":32,"env":{"HF_TOKEN":"hf_x","-p 8000:8000":"1"}}`,
		},
		{
			name:    "create instance with false booleans keeps them",
			fixture: "instance/200",
			call: func(v *gen.Vast) error {
				_, err := v.CreateInstance(context.Background(), 7, gen.CreateInstanceRequest{Image: ptr("ubuntu:24.04"), Vm: ptr(false)})
				return err
			},
			wantVerb: http.MethodPut,
			wantPath: "/api/v0/asks/7/",
			wantBody: `{"image":"ubuntu:24.04","vm":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := fakeapi.New(t, fakeapi.Fixture(t, tt.fixture))
			require.NoError(t, tt.call(newClient(t, api.URL, gen.Config{})))

			reqs := api.Requests()
			require.Len(t, reqs, 1)
			got := reqs[0]
			assert.Equal(t, tt.wantVerb, got.Method)
			assert.Equal(t, tt.wantPath, got.Path)
			assert.Equal(t, "Bearer "+testKey, got.Header.Get("Authorization"))
			assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(got.Header.Get("User-Agent"), "vast-mcp/"), got.Header.Get("User-Agent"))
			assert.JSONEq(t, tt.wantBody, string(got.Body))
			assert.NotContains(t, string(got.Body), testKey, "the key goes in the header only")
		})
	}
}

func TestCreateInstancePutsOfferIDInThePathOnly(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	_, err := newClient(t, api.URL, gen.Config{}).CreateInstance(context.Background(), 987654321, gen.CreateInstanceRequest{Image: ptr("img")})
	require.NoError(t, err)

	got := api.Requests()[0]
	assert.Equal(t, "/api/v0/asks/987654321/", got.Path)
	assert.NotContains(t, string(got.Body), "987654321")
	var body map[string]any
	require.NoError(t, json.Unmarshal(got.Body, &body))
	assert.Equal(t, map[string]any{"image": "img"}, body)
}

// op runs one operation against a fake and returns the id it produced.
type op struct {
	name string
	call func(context.Context, *gen.Vast) (int, error)
}

var operations = map[string]op{
	"endpoint": {"createEndpoint", func(ctx context.Context, v *gen.Vast) (int, error) {
		r, err := v.CreateEndpoint(ctx, gen.CreateEndpointRequest{EndpointName: ptr("e")})
		if err != nil {
			return 0, err
		}
		return *r.Result, nil
	}},
	"workergroup": {"createWorkergroup", func(ctx context.Context, v *gen.Vast) (int, error) {
		r, err := v.CreateWorkergroup(ctx, gen.CreateWorkergroupRequest{EndpointName: ptr("e"), TemplateHash: ptr("h")})
		if err != nil {
			return 0, err
		}
		return r.ID(), nil
	}},
	"instance": {"createInstance", func(ctx context.Context, v *gen.Vast) (int, error) {
		r, err := v.CreateInstance(ctx, 4242, gen.CreateInstanceRequest{Image: ptr("img")})
		if err != nil {
			return 0, err
		}
		return *r.NewContract, nil
	}},
}

// outcome is what a canned response must turn into.
type outcome struct {
	id      int    // success: the new id
	status  int    // *APIError: HTTP status
	code    string // *APIError: API error code
	msg     string // *APIError: substring of the message
	unknown bool   // errors.Is(err, ErrOutcomeUnknown)
}

func TestEveryCannedResponseDecodes(t *testing.T) {
	common := map[string]outcome{
		"common/200_success_false": {status: 200, code: "auth_error", msg: "Invalid user key"},
		"common/401":               {status: 401, code: "auth_error", msg: "Invalid user key"},
		"common/429_detail":        {status: 429, msg: "threshold=4.0"},
		"common/429_text":          {status: 429, msg: "API requests too frequent"},
		"common/429_retry_after":   {status: 429, code: "HTTPTooManyRequests", msg: "too frequent"},
		"common/502_html":          {status: 502, msg: "HTML error page: 502 Bad Gateway", unknown: true},
	}
	specific := map[string]map[string]outcome{
		"endpoint": {
			"endpoint/200": {id: 1234},
			"endpoint/301": {status: 301},
			"endpoint/400": {status: 400, code: "invalid_args", msg: "max_workers"},
			"endpoint/403": {status: 403, code: "forbidden", msg: "permission"},
		},
		"workergroup": {
			"workergroup/200_id":     {id: 789},
			"workergroup/200_result": {id: 789},
			"workergroup/200_no_id":  {unknown: true},
			"workergroup/301":        {status: 301},
			"workergroup/400":        {status: 400, code: "invalid_args", msg: "valid endpoint identifier"},
		},
		"instance": {
			"instance/200":                     {id: 12345678},
			"instance/200_seed":                {id: 1234568},
			"instance/301":                     {status: 301},
			"instance/400_invalid_args":        {status: 400, code: "invalid_args", msg: "valid offer ID"},
			"instance/400_invalid_price":       {status: 400, code: "invalid_price", msg: "minimum bid"},
			"instance/400_no_ssh_key_for_vm":   {status: 400, code: "no_ssh_key_for_vm", msg: "SSH key"},
			"instance/400_insufficient_credit": {status: 400, code: "insufficient_credit", msg: "balance"},
			"instance/403":                     {status: 403, code: "invalid_args", msg: "not your own"},
			"instance/404":                     {status: 404, code: "invalid_args", msg: "no_such_ask"},
			"instance/410":                     {status: 410, code: "no_such_ask", msg: "no longer available"},
		},
	}
	for dir, op := range operations {
		// Every fixture on disk must have an expected outcome here.
		names := append(fakeapi.All(t, dir), fakeapi.All(t, "common")...)
		for _, name := range names {
			want, ok := specific[dir][name]
			if !ok {
				want, ok = common[name]
			}
			require.True(t, ok, "fixture %s has no expected outcome", name)
			t.Run(op.name+"/"+name, func(t *testing.T) {
				fixture := fakeapi.Fixture(t, name)
				api := fakeapi.New(t, fixture)
				v := newClient(t, api.URL, gen.Config{Retry: gen.RetryPolicy{MaxAttempts: 1}})
				id, err := op.call(context.Background(), v)

				reqs := api.Requests()
				require.Len(t, reqs, 1, "exactly one request, never a redirect follow-up")
				assert.NotEqual(t, http.MethodGet, reqs[0].Method)

				if want.id != 0 {
					require.NoError(t, err)
					assert.Equal(t, want.id, id)
					return
				}
				require.Error(t, err)
				assert.Equal(t, want.unknown, errors.Is(err, gen.ErrOutcomeUnknown), "ErrOutcomeUnknown for %v", err)
				assert.NotContains(t, err.Error(), testKey)
				if want.status == 0 {
					var reqErr *gen.RequestError
					require.ErrorAs(t, err, &reqErr)
					assert.Equal(t, op.name, reqErr.Operation)
					return
				}
				var apiErr *gen.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, op.name, apiErr.Operation)
				assert.Equal(t, want.status, apiErr.StatusCode)
				assert.Equal(t, want.code, apiErr.Code)
				assert.Contains(t, apiErr.Message, want.msg)
				if strings.Contains(string(fixture.Body), `"ask_id": 1234567`) {
					assert.Equal(t, 1234567, apiErr.AskID)
				}
				if want.status == 301 {
					assert.Equal(t, fixture.Header.Get("Location"), apiErr.Location)
					assert.Contains(t, err.Error(), "not followed")
				}
			})
		}
	}
}

func TestRateLimitRetries(t *testing.T) {
	tests := []struct {
		name       string
		responses  []string
		policy     gen.RetryPolicy
		wantCalls  int
		wantErr    bool
		wantDelays []time.Duration
	}{
		{
			name:       "429 then 200 succeeds, honouring Retry-After",
			responses:  []string{"common/429_retry_after", "instance/200"},
			wantCalls:  2,
			wantDelays: []time.Duration{10 * time.Second},
		},
		{
			name:       "429 forever stops at the attempt bound",
			responses:  []string{"common/429_retry_after"},
			policy:     gen.RetryPolicy{MaxAttempts: 3, MaxWait: time.Hour},
			wantCalls:  3,
			wantErr:    true,
			wantDelays: []time.Duration{10 * time.Second, 10 * time.Second},
		},
		{
			name:       "429 forever stops at the total wait bound",
			responses:  []string{"common/429_retry_after"},
			policy:     gen.RetryPolicy{MaxAttempts: 100, MaxWait: 25 * time.Second},
			wantCalls:  3,
			wantErr:    true,
			wantDelays: []time.Duration{10 * time.Second, 10 * time.Second},
		},
		{
			name:      "a Retry-After longer than the wait bound is not slept",
			responses: []string{"common/429_retry_after"},
			policy:    gen.RetryPolicy{MaxWait: 5 * time.Second},
			wantCalls: 1,
			wantErr:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var handlers []http.Handler
			for _, name := range tt.responses {
				handlers = append(handlers, fakeapi.Fixture(t, name))
			}
			api := fakeapi.New(t, handlers...)
			v := newClient(t, api.URL, gen.Config{Retry: tt.policy})
			var delays []time.Duration
			gen.SetSleep(v, noSleep(&delays))

			_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
			assert.Len(t, api.Requests(), tt.wantCalls)
			assert.Equal(t, tt.wantDelays, delays)
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			var apiErr *gen.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			assert.Equal(t, 10*time.Second, apiErr.RetryAfter)
			assert.False(t, errors.Is(err, gen.ErrOutcomeUnknown), "a 429 proves nothing was created")
			// Every retry re-sent the same body.
			for _, r := range api.Requests() {
				assert.JSONEq(t, `{"image":"img"}`, string(r.Body))
			}
		})
	}
}

func TestRateLimitBackoffWithoutAHint(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/429_text"), fakeapi.Fixture(t, "endpoint/200"))
	v := newClient(t, api.URL, gen.Config{Retry: gen.RetryPolicy{BaseDelay: time.Second}})
	var delays []time.Duration
	gen.SetSleep(v, noSleep(&delays))

	_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	require.NoError(t, err)
	require.Len(t, delays, 1)
	assert.GreaterOrEqual(t, delays[0], time.Second)
	assert.LessOrEqual(t, delays[0], 1200*time.Millisecond)
}

func TestTimeoutAfterSendIsNotRetried(t *testing.T) {
	tests := []struct {
		name         string
		startsAnswer bool // the API sends headers and part of the body, then hangs
		http2        bool // over TLS with HTTP/2, whose errors net/http reports differently
	}{
		{"no answer at all", false, false},
		{"an answer that stops halfway", true, false},
		{"no answer at all, HTTP/2", false, true},
		{"an answer that stops halfway, HTTP/2", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			var received atomic.Int32
			api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received.Add(1)
				if tt.startsAnswer {
					w.Header().Set("Content-Length", "100")
					_, _ = w.Write([]byte(`{"success": tr`))
					w.(http.Flusher).Flush()
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			cfg := gen.Config{Timeout: 100 * time.Millisecond}
			if tt.http2 {
				api.EnableHTTP2 = true
				api.StartTLS()
				cfg.HTTPClient = api.Client()
			} else {
				api.Start()
			}
			defer api.Close()
			defer close(release)
			v := newClient(t, api.URL, cfg)

			_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
			require.Error(t, err)
			assert.ErrorIs(t, err, gen.ErrOutcomeUnknown)
			var reqErr *gen.RequestError
			require.ErrorAs(t, err, &reqErr)
			assert.True(t, reqErr.Sent)
			assert.Contains(t, err.Error(), "check before retrying")
			assert.Contains(t, err.Error(), "no complete answer within 100ms", "the error names the attempt's deadline")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.EqualValues(t, 1, received.Load(), "an ambiguous create is never re-sent")
		})
	}
}

func TestServerErrorIsNotRetried(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "common/502_html"), fakeapi.Fixture(t, "instance/200"))
	v := newClient(t, api.URL, gen.Config{})
	_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
	assert.ErrorIs(t, err, gen.ErrOutcomeUnknown)
	assert.Len(t, api.Requests(), 1)
}

func TestConnectionNeverOpenedIsRetried(t *testing.T) {
	var dials atomic.Int32
	refusing := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		},
	}}
	v := newClient(t, "http://127.0.0.1:1", gen.Config{HTTPClient: refusing, Retry: gen.RetryPolicy{MaxAttempts: 3}})
	var delays []time.Duration
	gen.SetSleep(v, noSleep(&delays))

	_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	require.Error(t, err)
	assert.Equal(t, int32(3), dials.Load())
	assert.Len(t, delays, 2)
	assert.False(t, errors.Is(err, gen.ErrOutcomeUnknown), "nothing was sent: %v", err)
}

func TestResponseBodyIsCapped(t *testing.T) {
	big := strings.Repeat("x", 4096)
	api := fakeapi.New(t, fakeapi.Func(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success": true, "result": 1, "pad": "` + big + `"}`))
	}))
	v := newClient(t, api.URL, gen.Config{MaxResponseBytes: 1024})
	_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	assert.ErrorIs(t, err, gen.ErrResponseTooLarge)
	assert.ErrorIs(t, err, gen.ErrOutcomeUnknown)
}

func TestMissingKeySendsNothing(t *testing.T) {
	t.Setenv("VAST_API_KEY", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
	v, err := gen.New(gen.Config{BaseURL: api.URL})
	require.NoError(t, err, "a missing key does not stop construction")

	_, err = v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	assert.ErrorIs(t, err, gen.ErrNoAPIKey)
	assert.Contains(t, err.Error(), "VAST_API_KEY")
	assert.Empty(t, api.Requests())
}

func TestKeyAndBaseURLSources(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		xdgFile string
		legacy  string
		option  string
		want    string
	}{
		{name: "option wins", option: "k-option", env: "k-env", xdgFile: "k-xdg", want: "k-option"},
		{name: "VAST_API_KEY", env: "k-env", xdgFile: "k-xdg", want: "k-env"},
		{name: "vastai CLI key file", xdgFile: "k-xdg\n", legacy: "k-legacy", want: "k-xdg"},
		{name: "legacy key file", legacy: " k-legacy\n", want: "k-legacy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, xdg := t.TempDir(), t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("XDG_CONFIG_HOME", xdg)
			t.Setenv("VAST_API_KEY", tt.env)
			if tt.xdgFile != "" {
				require.NoError(t, os.MkdirAll(filepath.Join(xdg, "vastai"), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(xdg, "vastai", "vast_api_key"), []byte(tt.xdgFile), 0o600))
			}
			if tt.legacy != "" {
				require.NoError(t, os.WriteFile(filepath.Join(home, ".vast_api_key"), []byte(tt.legacy), 0o600))
			}
			api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
			t.Setenv("VAST_URL", api.URL)
			v, err := gen.New(gen.Config{APIKey: tt.option})
			require.NoError(t, err)
			assert.Equal(t, api.URL, v.BaseURL(), "VAST_URL sets the base URL")

			_, err = v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
			require.NoError(t, err)
			assert.Equal(t, "Bearer "+tt.want, api.Requests()[0].Header.Get("Authorization"))
		})
	}
}

func TestBaseURLMustBeAbsolute(t *testing.T) {
	for _, bad := range []string{"console.vast.ai", "ftp://x", "http://", "::", "http://console.vast.ai", "http://10.0.0.5:8080"} {
		_, err := gen.New(gen.Config{APIKey: testKey, BaseURL: bad})
		assert.ErrorContains(t, err, "base URL", bad)
	}
	for _, good := range []string{"https://console.vast.ai", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"} {
		_, err := gen.New(gen.Config{APIKey: testKey, BaseURL: good})
		assert.NoError(t, err, good)
	}
}

func TestDryRunSendsNothingAndRedactsTheKey(t *testing.T) {
	api := fakeapi.New(t, fakeapi.Fixture(t, "instance/200"))
	v := newClient(t, api.URL, gen.Config{DryRun: true})
	_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img"), Price: ptr(0.5)})

	var dry *gen.DryRunError
	require.ErrorAs(t, err, &dry)
	assert.Empty(t, api.Requests())
	assert.Equal(t, "createInstance", dry.Operation)
	assert.Equal(t, http.MethodPut, dry.Method)
	assert.Equal(t, api.URL+"/api/v0/asks/4242/", dry.URL)
	assert.Equal(t, gen.Redacted, dry.Header.Get("Authorization"))
	assert.JSONEq(t, `{"image":"img","price":0.5}`, string(dry.Body))
	shown, _ := json.Marshal(dry)
	assert.NotContains(t, string(shown)+err.Error(), testKey)
}

func TestKeyNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, name := range append(fakeapi.All(t, "common"), "instance/200", "instance/404", "instance/301") {
		api := fakeapi.New(t, fakeapi.Fixture(t, name))
		v := newClient(t, api.URL, gen.Config{Logger: logger, Retry: gen.RetryPolicy{MaxAttempts: 1}})
		_, err := v.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: ptr("img")})
		if err != nil {
			assert.NotContains(t, err.Error(), testKey)
		}
	}
	require.NotEmpty(t, logs.String(), "the debug log saw the calls")
	assert.Contains(t, logs.String(), "/api/v0/asks/4242/")
	assert.NotContains(t, logs.String(), testKey)
}

func TestDryRunWithoutAKeySaysSo(t *testing.T) {
	t.Setenv("VAST_API_KEY", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	v, err := gen.New(gen.Config{BaseURL: "http://127.0.0.1:1", DryRun: true})
	require.NoError(t, err)
	_, err = v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
	var dry *gen.DryRunError
	require.ErrorAs(t, err, &dry)
	assert.Equal(t, gen.NoKey, dry.Header.Get("Authorization"))
}

func TestKeyEchoedByTheAPIIsScrubbed(t *testing.T) {
	echo := func(status int, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			if contentType == "application/json" {
				_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": "echo " + r.Header.Get("Authorization"), "msg": "you sent " + r.Header.Get("Authorization")})
				return
			}
			_, _ = w.Write([]byte("you sent " + r.Header.Get("Authorization")))
		}
	}
	for name, handler := range map[string]http.HandlerFunc{
		"JSON failure":        echo(http.StatusBadRequest, "application/json"),
		"plain-text failure":  echo(http.StatusTooManyRequests, "text/plain"),
		"2xx that is no JSON": echo(http.StatusOK, "text/plain"),
	} {
		t.Run(name, func(t *testing.T) {
			api := fakeapi.New(t, handler)
			v := newClient(t, api.URL, gen.Config{Retry: gen.RetryPolicy{MaxAttempts: 1}})
			_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testKey)
			assert.Contains(t, err.Error(), "[REDACTED]", "the echo is visible, the key is not")
		})
	}
}

func TestConcurrentCallsReuseConnections(t *testing.T) {
	const inFlight, rounds = 8, 5
	var (
		mu      sync.Mutex
		conns   = map[string]bool{}
		arrived sync.WaitGroup
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		// Answer only once the whole round is in flight, so that every call
		// holds a connection of its own at the same time.
		arrived.Done()
		arrived.Wait()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"success": true, "result": 1}`))
	}))
	defer api.Close()
	v := newClient(t, api.URL, gen.Config{})

	for range rounds {
		arrived.Add(inFlight)
		errs := make(chan error, inFlight)
		for range inFlight {
			go func() {
				_, err := v.CreateEndpoint(context.Background(), gen.CreateEndpointRequest{})
				errs <- err
			}()
		}
		for range inFlight {
			require.NoError(t, <-errs)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, len(conns), inFlight, "calls after the first round reuse the open connections instead of dialling")
}
