package gen

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultBaseURL is where the Vast.ai API lives; VAST_URL overrides it, as
// in the vastai CLI.
const DefaultBaseURL = "https://console.vast.ai"

// DefaultServerlessURL is where Vast.ai answers the serverless worker
// queries; oapi-codegen ignores an operation's own servers, so Vast sends
// those operations here itself.
const DefaultServerlessURL = "https://run.vast.ai"

// Config configures New. The zero value reads the key and base URL the way
// the vastai CLI does and applies safe defaults.
type Config struct {
	// APIKey, when empty, comes from VAST_API_KEY, then the vastai CLI's key
	// file ($XDG_CONFIG_HOME/vastai/vast_api_key, then ~/.vast_api_key).
	APIKey string
	// BaseURL, when empty, comes from VAST_URL, then DefaultBaseURL.
	BaseURL string
	// ServerlessURL is where the serverless worker queries go (operations
	// whose spec names their own server, such as getEndpointWorkers). When
	// empty it comes from VAST_SERVERLESS_URL, then DefaultServerlessURL.
	ServerlessURL string
	// HTTPClient is copied, never modified; its redirect policy is replaced
	// so that no redirect is ever followed. Nil means a new http.Client
	// whose transport keeps up to 32 idle connections to the API.
	HTTPClient *http.Client
	// Timeout bounds each attempt, from dial to the last byte of the
	// answer. Zero means 30s (or HTTPClient's own timeout, if it has one).
	Timeout time.Duration
	// UserAgent defaults to "vast-mcp/<Version>".
	UserAgent string
	// Retry bounds the retries after a 429 or a connection that never
	// opened, the only failures after which the API certainly did nothing.
	Retry RetryPolicy
	// MaxResponseBytes caps an answer's body; zero means 1 MiB.
	MaxResponseBytes int64
	// Logger receives one line per attempt (method, path, status, timing;
	// never headers or bodies). Nil means no logging.
	Logger *slog.Logger
	// DryRun builds every request but sends none: each call returns a
	// *DryRunError describing the request, with the key redacted.
	DryRun bool
	// Observe, when set, is called once per attempt (a retried call
	// makes several), for metrics. It must not block.
	Observe func(Attempt)
	// Limiter, when set, is waited on before each attempt and told of each
	// 429. Nil sends at once, as before; 429s are honoured either way.
	Limiter Limiter
}

// RetryPolicy bounds retries. Zero fields take the defaults in brackets.
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, the first included [4]; 1 disables retries
	MaxWait     time.Duration // total sleep across retries [30s]; a longer Retry-After ends the call
	BaseDelay   time.Duration // first back-off when the API names no delay, doubled each time [1s]
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	p.MaxAttempts = cmp.Or(p.MaxAttempts, 4)
	p.MaxWait = cmp.Or(p.MaxWait, 30*time.Second)
	p.BaseDelay = cmp.Or(p.BaseDelay, time.Second)
	return p
}

// Vast calls the Vast.ai API. It is safe for concurrent use.
type Vast struct {
	api        *Client
	serverless *Client // the same doer, for operations on the serverless host
	baseURL    string
	key        string
	clean      sanitizer // redacts key from everything that comes back
	dryRun     bool
}

// New returns a client. A missing key is not an error here: calls then fail
// with ErrNoAPIKey before sending anything, so a server can start without
// one and say how to provide it.
func New(cfg Config) (*Vast, error) {
	key := cfg.APIKey
	if key == "" {
		key = apiKeyFromEnvironment()
	}
	u, err := apiURL("base URL", cmp.Or(cfg.BaseURL, os.Getenv("VAST_URL"), DefaultBaseURL), DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	serverlessURL, err := apiURL("serverless URL", cmp.Or(cfg.ServerlessURL, os.Getenv("VAST_SERVERLESS_URL"), DefaultServerlessURL), DefaultServerlessURL)
	if err != nil {
		return nil, err
	}

	httpClient := &http.Client{Transport: newTransport()}
	if cfg.HTTPClient != nil {
		httpClient = cfg.HTTPClient // copied by NoRedirects below
	}
	// net/http turns a 301/302 on POST, PUT or DELETE into a GET without a
	// body: a create would silently become a list, a destroy a read. No
	// redirect is followed; the 3xx comes back as an error.
	httpClient = NoRedirects(httpClient)
	// The doer bounds each attempt itself (from dial to the last byte read),
	// which http.Client.Timeout would also do, but for the whole retry loop.
	timeout := cmp.Or(cfg.Timeout, httpClient.Timeout, 30*time.Second)
	httpClient.Timeout = 0

	doer := &retryingDoer{
		client:  httpClient,
		timeout: timeout,
		policy:  cfg.Retry.withDefaults(),
		maxBody: cmp.Or(cfg.MaxResponseBytes, 1<<20),
		log:     cfg.Logger,
		sleep:   sleepContext,
	}
	userAgent := cmp.Or(cfg.UserAgent, "vast-mcp/"+Version)
	opts := []ClientOption{
		WithHTTPClient(doer),
		WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("User-Agent", userAgent)
			req.Header.Set("Accept", "application/json")
			return nil
		}),
	}
	// The caller's own key (WithAPIKey) replaces the configured one for
	// its request only.
	opts = append(opts, WithRequestEditorFn(authorize(key)))
	doer.dryRun, doer.hasKey = cfg.DryRun, key != ""
	doer.observer = cfg.Observe
	doer.clean = newSanitizer(key)
	doer.limiter, doer.keyDigest = cfg.Limiter, KeyDigest(key)
	api, err := NewClient(u.String(), opts...)
	if err != nil {
		return nil, err
	}
	serverless, err := NewClient(serverlessURL.String(), opts...)
	if err != nil {
		return nil, err
	}
	return &Vast{api: api, serverless: serverless, baseURL: u.String(), key: key, clean: doer.clean, dryRun: cfg.DryRun}, nil
}

// apiURL accepts an absolute http(s) URL, the key will be sent to, with
// nothing secret in it. Userinfo is refused rather than redacted: net/http
// would send it as Basic auth only when no key is set, and drop it silently
// otherwise, so it can only be a mistake, and every place a URL is shown
// would have to hide it. A query or fragment is refused too: the client
// resolves each path against the base URL, which drops them, and a query
// may hold a token.
func apiURL(what, raw, example string) (*url.URL, error) {
	shown := RedactURL(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%s %q: want an absolute http or https URL such as %s", what, shown, example)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(u.Path, "@") {
		return nil, fmt.Errorf("%s %q: give scheme, host and path only; a user name, password, query or fragment is refused "+
			"(the API key comes from VAST_API_KEY)", what, shown)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		// Plain HTTP would carry the key in clear across the network.
		return nil, fmt.Errorf("%s %q: http:// is allowed only for a loopback host; use https", what, shown)
	}
	return u, nil
}

// maxIdleConns bounds the connections kept open to the API between calls.
// net/http's default of 2 per host meant that, with more calls in flight
// than that (an HTTP-served vast-mcp with several agents), most calls
// dialled (and over TLS, handshook) a new connection and closed it after.
const maxIdleConns = 32

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleConns
	return t
}

// BaseURL is the API root calls go to.
func (v *Vast) BaseURL() string { return v.baseURL }

// DryRun returns a copy of v that builds every request but sends none,
// answering with a *DryRunError that shows it, key redacted.
func (v *Vast) DryRun() *Vast {
	doer := *v.api.Client.(*retryingDoer)
	doer.dryRun = true
	api, serverless := *v.api, *v.serverless
	api.Client, serverless.Client = &doer, &doer
	dry := *v
	dry.api, dry.serverless, dry.dryRun = &api, &serverless, true
	return &dry
}

// IsDryRun reports whether v sends nothing (DryRun, or Config.DryRun).
func (v *Vast) IsDryRun() bool { return v.dryRun }

// HasAPIKey reports whether a key was found; without one, calls fail with
// ErrNoAPIKey (except in dry-run mode).
func (v *Vast) HasAPIKey() bool { return v.key != "" }

// KeyDigest is KeyDigest of the key calls under ctx send: the caller's own
// (WithAPIKey) or the configured one.
func (v *Vast) KeyDigest(ctx context.Context) string {
	if own, ok := apiKeyFrom(ctx); ok {
		return KeyDigest(own)
	}
	return KeyDigest(v.key)
}

// Call is one request the generated client builds: Do sends it with the
// key, the retry policy and the checks every answer needs.
type Call struct {
	// Operation is the operationId, for errors and logs.
	Operation string
	// Serverless sends the call to the serverless host (ServerlessURL).
	Serverless bool
	// Idempotent marks a call that changes nothing, or nothing more when
	// repeated: it may also be retried after a 5xx or a timeout. A create is
	// never Idempotent: retried after an unknown outcome, it can rent a
	// second machine.
	Idempotent bool
	// Send makes the request through api (one of the generated Client's
	// methods).
	Send func(ctx context.Context, api *Client) (*http.Response, error)
}

// Do sends call and returns the body of a successful answer: a 2xx whose
// envelope does not say success:false. Otherwise the error is an
// *APIError, a *RequestError (which says whether anything was sent) or,
// in dry-run mode, a *DryRunError.
func (v *Vast) Do(ctx context.Context, call Call) ([]byte, error) {
	if err := v.ready(ctx, call.Operation); err != nil {
		return nil, err
	}
	api := v.api
	if call.Serverless {
		api = v.serverless
	}
	if call.Idempotent {
		ctx = context.WithValue(ctx, idempotentKey{}, true)
	}
	resp, err := call.Send(withOperation(ctx, call.Operation), api)
	return answer(call.Operation, resp, err, sanitizerFor(ctx, v.clean))
}

// CreateEndpoint creates a serverless endpoint. Only the fields set in req
// are sent.
func (v *Vast) CreateEndpoint(ctx context.Context, req CreateEndpointRequest) (*EndpointCreated, error) {
	created, err := doInto[EndpointCreated](ctx, v, "createEndpoint", func(ctx context.Context, api *Client) (*http.Response, error) {
		return api.CreateEndpoint(ctx, req)
	})
	if err == nil && !positive(created.Result) {
		return nil, missingID("createEndpoint", "result")
	}
	return created, err
}

// CreateWorkergroup creates a workergroup under an endpoint. The new id is
// in WorkergroupCreated.ID() whichever field the API used.
func (v *Vast) CreateWorkergroup(ctx context.Context, req CreateWorkergroupRequest) (*WorkergroupCreated, error) {
	created, err := doInto[WorkergroupCreated](ctx, v, "createWorkergroup", func(ctx context.Context, api *Client) (*http.Response, error) {
		return api.CreateWorkergroup(ctx, req)
	})
	if err == nil && created.ID() <= 0 {
		return nil, missingID("createWorkergroup", "id or result")
	}
	return created, err
}

// ID is the new workergroup's id: `id` as the current API sends it, or
// `result` as older deployments did. Zero only for an answer Vast.CreateWorkergroup rejects.
func (w *WorkergroupCreated) ID() int {
	if w.Id != nil {
		return *w.Id
	}
	if w.Result != nil {
		return *w.Result
	}
	return 0
}

// CreateInstance rents the offer offerID. The offer id goes in the path
// only; the new instance id is InstanceCreated.NewContract.
func (v *Vast) CreateInstance(ctx context.Context, offerID int, req CreateInstanceRequest) (*InstanceCreated, error) {
	created, err := doInto[InstanceCreated](ctx, v, "createInstance", func(ctx context.Context, api *Client) (*http.Response, error) {
		return api.CreateInstance(ctx, offerID, req)
	})
	if err == nil && !positive(created.NewContract) {
		return nil, missingID("createInstance", "new_contract")
	}
	return created, err
}

// doInto sends a create and decodes its answer into T. An answer that is
// not T leaves the outcome unknown: the request was sent.
func doInto[T any](ctx context.Context, v *Vast, op string, send func(context.Context, *Client) (*http.Response, error)) (*T, error) {
	body, err := v.Do(ctx, Call{Operation: op, Send: send})
	if err != nil {
		return nil, err
	}
	var out T
	if err := json.Unmarshal(body, &out); err != nil {
		// The decoder's words about the body can quote it: sanitized.
		return nil, &RequestError{Operation: op, Sent: true, Err: fmt.Errorf("an answer of the wrong shape: %s", v.clean.text(err.Error(), maxMessage))}
	}
	return &out, nil
}

// positive reports an id the API may have given: a new resource's id is a
// positive integer, and anything else means the answer cannot be trusted.
func positive(id *int) bool { return id != nil && *id > 0 }

// sanitizedError shows its error's text through sanitize: transport errors
// can quote what the server sent (a malformed status line, say). errors.Is
// and errors.As still see the error beneath.
type sanitizedError struct {
	err   error
	clean sanitizer
}

func (e *sanitizedError) Error() string { return e.clean.text(e.err.Error(), maxErrorText) }
func (e *sanitizedError) Unwrap() error { return e.err }

// sanitizerFor redacts the key a request is sent with: a caller's own key
// (--caller-keys) in place of the server's.
func sanitizerFor(ctx context.Context, server sanitizer) sanitizer {
	if own, ok := apiKeyFrom(ctx); ok {
		return newSanitizer(own)
	}
	return server
}

func (v *Vast) ready(ctx context.Context, op string) error {
	if _, own := apiKeyFrom(ctx); v.key == "" && !own && !v.dryRun {
		return &RequestError{Operation: op, Err: ErrNoAPIKey}
	}
	return nil
}

// answer turns a sent request's outcome into the success body or an error
// that says whether the API may have acted.
func answer(op string, resp *http.Response, err error, clean sanitizer) ([]byte, error) {
	if err != nil {
		var dry *DryRunError
		if errors.As(err, &dry) {
			dry.Operation = op
			return nil, dry
		}
		var reqErr *RequestError
		if !errors.As(err, &reqErr) {
			// Failures before the doer ran: building the request, editors.
			reqErr = &RequestError{Err: err}
		}
		reqErr.Operation = op
		if !errors.Is(reqErr.Err, ErrNoAPIKey) {
			reqErr.Err = &sanitizedError{err: reqErr.Err, clean: clean}
		}
		return nil, reqErr
	}
	defer resp.Body.Close()
	body := resp.Body.(bufferedBody).Bytes()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newAPIError(op, resp, body, clean)
	}
	// A 2xx can still be a failure: {"success": false, "error": ..., "msg": ...}.
	var envelope struct {
		Success *bool `json:"success"`
	}
	err = json.Unmarshal(body, &envelope)
	if syntax := (*json.SyntaxError)(nil); errors.As(err, &syntax) {
		return nil, &RequestError{Operation: op, Sent: true, Err: fmt.Errorf("HTTP %d with a body that is not JSON; Vast.ai said %q",
			resp.StatusCode, describeNonJSON(resp.Header.Get("Content-Type"), body, clean))}
	}
	if err == nil && envelope.Success != nil && !*envelope.Success {
		return nil, newAPIError(op, resp, body, clean)
	}
	return clean.scrubAnswer(body), nil
}

func missingID(op, field string) error {
	return &RequestError{Operation: op, Sent: true, Err: fmt.Errorf("the API answered success without a positive integer %s", field)}
}

// bufferedBody is the response body after retryingDoer has read it whole.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func newBufferedBody(data []byte) bufferedBody { return bufferedBody{bytes.NewReader(data), data} }

func (bufferedBody) Close() error { return nil }

// Bytes returns the whole body regardless of how much was read.
func (b bufferedBody) Bytes() []byte { return b.data }

// IsLoopback reports whether host names this machine: plain HTTP to it
// carries nothing across a network.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// apiKeyFromEnvironment follows the vastai CLI: VAST_API_KEY, then the key
// file it writes, then the legacy file.
func apiKeyFromEnvironment() string {
	if key := strings.TrimSpace(os.Getenv("VAST_API_KEY")); key != "" {
		return key
	}
	var files []string
	configDir := os.Getenv("XDG_CONFIG_HOME")
	home, _ := os.UserHomeDir()
	if configDir == "" && home != "" {
		configDir = filepath.Join(home, ".config")
	}
	if configDir != "" {
		files = append(files, filepath.Join(configDir, "vastai", "vast_api_key"))
	}
	if home != "" {
		files = append(files, filepath.Join(home, ".vast_api_key"))
	}
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			if key := strings.TrimSpace(string(data)); key != "" {
				return key
			}
		}
	}
	return ""
}

// NoRedirects returns a copy of c (http.DefaultClient's settings when c is
// nil) that never follows a redirect: the 3xx comes back as the answer.
// Give it to the raw generated clients with WithHTTPClient.
func NoRedirects(c *http.Client) *http.Client {
	copied := http.Client{}
	if c != nil {
		copied = *c
	}
	copied.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &copied
}
