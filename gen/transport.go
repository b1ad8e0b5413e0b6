package gen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// retryingDoer sends a request, reads the answer whole (within a cap) and
// retries only when the API certainly did not act: a 429, or a connection
// that never opened. Anything after a connection opened, a timeout, a
// reset or a 5xx, is returned as is, because retrying a create whose outcome
// is unknown can rent a second machine; only a call marked idempotent (a
// read) is retried after those too.
//
// go-retryablehttp was considered: its default policy retries 5xx and
// connection errors on POST, exactly what must not happen here, and it reads
// neither retry_after in the body nor a bound on total wait. Replacing both
// policy and back-off would leave nothing of it.
type retryingDoer struct {
	client  *http.Client
	timeout time.Duration // per attempt, from dial to the last byte of the answer
	policy  RetryPolicy
	maxBody int64
	log     *slog.Logger
	dryRun  bool
	hasKey  bool      // for the dry run's Authorization line
	clean   sanitizer // for what the log repeats of a failure
	sleep   func(context.Context, time.Duration) error

	observer  func(Attempt) // Config.Observe; nil observes nothing
	limiter   Limiter       // Config.Limiter; nil paces nothing
	keyDigest string        // KeyDigest of the configured key
}

func (d *retryingDoer) Do(req *http.Request) (*http.Response, error) {
	if d.dryRun {
		return nil, newDryRunError(req, d.hasKey)
	}
	ctx := req.Context()
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			next := req.Clone(ctx)
			if req.GetBody != nil { // a GET has no body to rewind
				body, err := req.GetBody()
				if err != nil {
					return nil, &RequestError{Err: fmt.Errorf("rewinding the body for a retry: %w", err)}
				}
				next.Body = body
			}
			req = next
		}

		if d.limiter != nil {
			if err := d.limiter.Wait(ctx, d.budget(ctx)); err != nil {
				// Paced out before sending: the API saw nothing.
				return nil, &RequestError{Err: err}
			}
		}
		if check, ok := ctx.Value(sendCheckKey{}).(func() error); ok {
			if err := check(); err != nil {
				return nil, &RequestError{Err: err}
			}
		}
		start := time.Now()
		resp, body, sent, err := d.attempt(ctx, req)
		d.logAttempt(ctx, req, attempt, statusOf(resp), err)
		d.observe(ctx, req.Method, req.URL.Path, statusOf(resp), time.Since(start))
		if err != nil {
			if (!sent || idempotent(ctx)) && ctx.Err() == nil {
				// The connection never opened: the API cannot have acted.
				if delay, ok := d.nextDelay(attempt, waited, d.backoff(attempt)); ok {
					if err := d.sleep(ctx, delay); err != nil {
						return nil, &RequestError{Err: err}
					}
					waited += delay
					continue
				}
			}
			return nil, &RequestError{Sent: sent, Err: err}
		}

		if resp.StatusCode >= 500 && idempotent(ctx) {
			if delay, ok := d.nextDelay(attempt, waited, d.backoff(attempt)); ok {
				if err := d.sleep(ctx, delay); err != nil {
					return nil, &RequestError{Sent: true, Err: err}
				}
				waited += delay
				continue
			}
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			hint := newAPIError("", resp, body, sanitizerFor(ctx, d.clean)).RetryAfter
			if d.limiter != nil {
				d.limiter.Throttled(ctx, d.budget(ctx), hint)
			}
			if delay, ok := d.nextDelay(attempt, waited, cmpDuration(hint, d.backoff(attempt))); ok {
				if err := d.sleep(ctx, delay); err != nil {
					// The 429 proves nothing was created; neither was anything since.
					return nil, &RequestError{Err: err}
				}
				waited += delay
				continue
			}
		}
		return resp, nil
	}
}

type sendCheckKey struct{}

// WithSendCheck makes every attempt of the calls made under ctx ask check
// first, after any wait for the rate budget or before a retry: an error
// ends the call unsent (a *RequestError, Sent false). A bound checked
// before the call may no longer hold by the time an attempt goes out.
func WithSendCheck(ctx context.Context, check func() error) context.Context {
	return context.WithValue(ctx, sendCheckKey{}, check)
}

// idempotentKey marks a context whose call may be repeated after an
// unknown outcome (Call.Idempotent).
type idempotentKey struct{}

func idempotent(ctx context.Context) bool { return ctx.Value(idempotentKey{}) != nil }

// attempt sends req once and reads the whole answer within d.timeout.
// sent is false only when no connection opened, so the API cannot have
// received anything.
func (d *retryingDoer) attempt(ctx context.Context, req *http.Request) (resp *http.Response, body []byte, sent bool, err error) {
	attemptCtx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	resp, err = d.client.Do(req.WithContext(attemptCtx))
	if err != nil {
		return nil, nil, !neverConnected(err), d.explain(ctx, attemptCtx, err)
	}
	body, err = readCapped(resp.Body, d.maxBody)
	resp.Body.Close()
	if err != nil {
		return resp, nil, true, fmt.Errorf("HTTP %d, reading the answer: %w", resp.StatusCode, d.explain(ctx, attemptCtx, err))
	}
	resp.Body = newBufferedBody(body)
	return resp, body, true, nil
}

// neverConnected recognises a failure to open the connection (refused,
// unreachable, DNS), after which nothing was sent. Anything else counts as
// possibly sent. (net/http itself re-sends on a reused connection only when
// it wrote nothing.) An httptrace GotConn hook would say the same, but
// costs about 12 µs a request.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// explain names the attempt's own deadline, which the bare error does not.
func (d *retryingDoer) explain(ctx, attemptCtx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within %s: %w", d.timeout, err)
	}
	return err
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// nextDelay reports whether another attempt fits the policy.
func (d *retryingDoer) nextDelay(attempt int, waited, delay time.Duration) (time.Duration, bool) {
	if attempt >= d.policy.MaxAttempts || waited+delay > d.policy.MaxWait {
		return 0, false
	}
	return delay, true
}

// backoff doubles from BaseDelay, with up to 20% jitter so that parallel
// callers do not retry in step.
func (d *retryingDoer) backoff(attempt int) time.Duration {
	delay := d.policy.BaseDelay << (attempt - 1)
	return delay + time.Duration(rand.Int64N(int64(delay)/5+1))
}

func cmpDuration(preferred, fallback time.Duration) time.Duration {
	if preferred > 0 {
		return preferred
	}
	return fallback
}

func (d *retryingDoer) logAttempt(ctx context.Context, req *http.Request, attempt, status int, err error) {
	level := slog.LevelDebug
	if err != nil || status == http.StatusTooManyRequests || status >= 300 {
		level = slog.LevelWarn
	}
	if d.log == nil || !d.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("attempt", attempt),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", sanitizerFor(ctx, d.clean).text(err.Error(), maxErrorText)))
	}
	d.log.LogAttrs(ctx, level, "vast api call", attrs...)
}

func readCapped(body io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, limit)
	}
	return data, nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DryRunError is what every call returns when Config.DryRun is set: the
// exact request that would have been sent. Nothing was sent.
type DryRunError struct {
	Operation string          `json:"operation"`
	Method    string          `json:"method"`
	URL       string          `json:"url"`
	Header    http.Header     `json:"headers"`
	Body      json.RawMessage `json:"body"`
}

func (e *DryRunError) Error() string {
	return fmt.Sprintf("dry run: %s %s %s was not sent", e.Operation, e.Method, e.URL)
}

// Redacted stands in for the API key wherever a request is shown;
// NoKey where there is none to send.
const (
	Redacted = "Bearer [REDACTED]"
	NoKey    = "(none: no API key configured; set VAST_API_KEY)"
)

func newDryRunError(req *http.Request, hasKey bool) error {
	header := req.Header.Clone()
	header.Set("Authorization", NoKey)
	if hasKey {
		header.Set("Authorization", Redacted)
	}
	var body []byte
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	return &DryRunError{Method: req.Method, URL: RedactURL(req.URL.String()), Header: header, Body: body}
}
