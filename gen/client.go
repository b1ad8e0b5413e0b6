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

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/securityprovider"
)

// DefaultBaseURL is where the Vast.ai API lives; VAST_URL overrides it, as
// in the vastai CLI.
const DefaultBaseURL = "https://console.vast.ai"

// Version names this build in the User-Agent. Release builds set it with
// -ldflags "-X github.com/vast-mcp/vast-mcp/gen.Version=v1.2.3".
var Version = "dev"

// Config configures New. The zero value reads the key and base URL the way
// the vastai CLI does and applies safe defaults.
type Config struct {
	// APIKey, when empty, comes from VAST_API_KEY, then the vastai CLI's key
	// file ($XDG_CONFIG_HOME/vastai/vast_api_key, then ~/.vast_api_key).
	APIKey string
	// BaseURL, when empty, comes from VAST_URL, then DefaultBaseURL.
	BaseURL string
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

// Vast calls the Vast.ai create operations. It is safe for concurrent use.
type Vast struct {
	api     *Client
	baseURL string
	key     string
	clean   sanitizer // redacts key from everything that comes back
	dryRun  bool
}

// New returns a client. A missing key is not an error here: calls then fail
// with ErrNoAPIKey before sending anything, so a server can start without
// one and say how to provide it.
func New(cfg Config) (*Vast, error) {
	key := cfg.APIKey
	if key == "" {
		key = apiKeyFromEnvironment()
	}
	baseURL := cmp.Or(cfg.BaseURL, os.Getenv("VAST_URL"), DefaultBaseURL)
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}

	httpClient := &http.Client{Transport: newTransport()}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		httpClient = &copied
	}
	// net/http turns a 301/302 on POST or PUT into a GET without a body: a
	// create would silently become a list. Every operation here is a
	// create, so no redirect is followed; the 3xx comes back as an error.
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// The doer bounds each attempt itself, with one shared timer
	// (watchdog.go): http.Client.Timeout starts a goroutine and a timer for
	// every request.
	timeout := cmp.Or(cfg.Timeout, httpClient.Timeout, 30*time.Second)
	httpClient.Timeout = 0

	doer := &retryingDoer{
		client:  httpClient,
		timeout: timeout,
		clock:   newWatchdog(),
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
	if key != "" {
		bearer, err := securityprovider.NewSecurityProviderBearerToken(key)
		if err != nil {
			return nil, fmt.Errorf("bearer auth: %w", err)
		}
		opts = append(opts, WithRequestEditorFn(bearer.Intercept))
	}
	doer.dryRun, doer.hasKey = cfg.DryRun, key != ""
	doer.clean = newSanitizer(key)
	api, err := NewClient(u.String(), opts...)
	if err != nil {
		return nil, err
	}
	return &Vast{api: api, baseURL: u.String(), key: key, clean: doer.clean, dryRun: cfg.DryRun}, nil
}

// parseBaseURL accepts an absolute http(s) URL with nothing secret in it.
// Userinfo is refused rather than redacted: net/http would send it as Basic
// auth only when no key is set, and drop it silently otherwise, so it can
// only be a mistake, and every place a URL is shown would have to hide it.
// A query or fragment is refused too: the client resolves each path against
// the base URL, which drops them, and a query may hold a token.
func parseBaseURL(raw string) (*url.URL, error) {
	shown := RedactURL(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want an absolute http or https URL such as %s", shown, DefaultBaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: give scheme, host and path only; a user name, password, query or fragment is refused "+
			"(the API key comes from VAST_API_KEY)", shown)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		// Plain HTTP would carry the key in clear across the network.
		return nil, fmt.Errorf("base URL %q: http:// is allowed only for a loopback host; use https", shown)
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
	api := *v.api
	api.Client = &doer
	dry := *v
	dry.api, dry.dryRun = &api, true
	return &dry
}

// HasAPIKey reports whether a key was found; without one, calls fail with
// ErrNoAPIKey (except in dry-run mode).
func (v *Vast) HasAPIKey() bool { return v.key != "" }

// CreateEndpoint creates a serverless endpoint. Only the fields set in req
// are sent.
func (v *Vast) CreateEndpoint(ctx context.Context, req CreateEndpointRequest) (*EndpointCreated, error) {
	const op = "createEndpoint"
	if err := v.ready(op); err != nil {
		return nil, err
	}
	resp, err := v.api.CreateEndpoint(ctx, req)
	created, err := decode[EndpointCreated](op, resp, err, v.clean)
	if err != nil {
		return nil, err
	}
	if !positive(created.Result) {
		return nil, missingID(op, "result")
	}
	return created, nil
}

// CreateWorkergroup creates a workergroup under an endpoint. The new id is
// in WorkergroupCreated.ID() whichever field the API used.
func (v *Vast) CreateWorkergroup(ctx context.Context, req CreateWorkergroupRequest) (*WorkergroupCreated, error) {
	const op = "createWorkergroup"
	if err := v.ready(op); err != nil {
		return nil, err
	}
	resp, err := v.api.CreateWorkergroup(ctx, req)
	created, err := decode[WorkergroupCreated](op, resp, err, v.clean)
	if err != nil {
		return nil, err
	}
	if created.ID() <= 0 {
		return nil, missingID(op, "id or result")
	}
	return created, nil
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
	const op = "createInstance"
	if err := v.ready(op); err != nil {
		return nil, err
	}
	resp, err := v.api.CreateInstance(ctx, offerID, req)
	created, err := decode[InstanceCreated](op, resp, err, v.clean)
	if err != nil {
		return nil, err
	}
	if !positive(created.NewContract) {
		return nil, missingID(op, "new_contract")
	}
	return created, nil
}

// sanitizedError shows its error's text through sanitize: transport errors
// can quote what the server sent (a malformed status line, say). errors.Is
// and errors.As still see the error beneath.
type sanitizedError struct {
	err   error
	clean sanitizer
}

func (e *sanitizedError) Error() string { return e.clean.text(e.err.Error(), maxErrorText) }
func (e *sanitizedError) Unwrap() error { return e.err }

func (v *Vast) ready(op string) error {
	if v.key == "" && !v.dryRun {
		return &RequestError{Operation: op, Err: ErrNoAPIKey}
	}
	return nil
}

// decode turns a sent request's outcome into the success body or an error
// that says whether the API may have acted.
func decode[T any, PT interface {
	*T
	enveloped
}](op string, resp *http.Response, err error, clean sanitizer) (*T, error) {
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
	var out T
	if err := json.Unmarshal(body, &out); err != nil {
		// Neither the body nor the decoder's words about it (which can
		// quote it) are shown unsanitized.
		what := clean.text(err.Error(), maxMessage)
		if !json.Valid(body) {
			what = fmt.Sprintf("a body that is not JSON; Vast.ai said %q", describeNonJSON(resp.Header.Get("Content-Type"), body, clean))
		}
		return nil, &RequestError{Operation: op, Sent: true, Err: fmt.Errorf("HTTP %d with %s", resp.StatusCode, what)}
	}
	if ok := PT(&out).succeeded(); ok != nil && !*ok {
		return nil, newAPIError(op, resp, body, clean)
	}
	return &out, nil
}

// enveloped is every success body: each carries the API's "success" flag.
type enveloped interface{ succeeded() *bool }

func (r *EndpointCreated) succeeded() *bool    { return r.Success }
func (r *WorkergroupCreated) succeeded() *bool { return r.Success }
func (r *InstanceCreated) succeeded() *bool    { return r.Success }

// positive reports an id the API may have given: a new resource's id is a
// positive integer, and anything else means the answer cannot be trusted.
func positive(id *int) bool { return id != nil && *id > 0 }

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

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
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
