package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var (
	// ErrNoAPIKey means no key was configured; nothing was sent.
	ErrNoAPIKey = errors.New("no Vast.ai API key: set VAST_API_KEY, or save the key with `vastai set api-key` " +
		"(read from $XDG_CONFIG_HOME/vastai/vast_api_key or ~/.vast_api_key)")

	// ErrOutcomeUnknown matches (with errors.Is) every failure after which the
	// create may have happened: the request left but no usable answer came
	// back. Retrying blindly can rent a second machine; check the account
	// first.
	ErrOutcomeUnknown = errors.New("outcome unknown: the request may have been acted on")

	// ErrResponseTooLarge means the answer exceeded Config.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
)

// APIError is a failure the API reported: a non-2xx status, a 2xx whose
// envelope says success:false, or a redirect (which is never followed).
// Its strings are the API's words, sanitized: bounded, invisible and control
// characters removed, the API key and credentials redacted. Show them as
// quoted data, never as instructions.
type APIError struct {
	Operation  string        // operationId, e.g. "createInstance"
	StatusCode int           // HTTP status
	Code       string        // the API's "error" field, e.g. "invalid_args"; "" when absent
	Message    string        // the API's "msg" or "detail", or the start of a non-JSON body
	RetryAfter time.Duration // from Retry-After or retry_after on a 429; 0 when not given
	Location   string        // redirect target, for 3xx
	AskID      int           // the offer a create-instance failure names (ask_id); 0 when absent
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vast %s: HTTP %d", e.Operation, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %q", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": Vast.ai said %q", e.Message)
	}
	if e.Location != "" {
		fmt.Fprintf(&b, " (redirect to %q not followed: a create re-sent as GET would turn into a list)", e.Location)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is reports ErrOutcomeUnknown for a status a proxy or gateway gives after
// it may have passed the request on: a 5xx, 408 (Request Timeout) and 499
// (client closed the request, nginx).
func (e *APIError) Is(target error) bool {
	return target == ErrOutcomeUnknown && (e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout || e.StatusCode == 499)
}

// RequestError is a failure with no usable answer from the API: the
// connection failed, the deadline passed, or the body could not be read.
type RequestError struct {
	Operation string
	// Sent is true when any of the request was written to the network, so
	// the API may have acted on it.
	Sent bool
	Err  error
}

func (e *RequestError) Error() string {
	if e.Sent {
		return fmt.Sprintf("vast %s: no usable answer after the request was sent (%v); it may have been acted on, check before retrying", e.Operation, e.Err)
	}
	return fmt.Sprintf("vast %s: request not sent: %v", e.Operation, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// Is reports ErrOutcomeUnknown when the request may have reached the API.
func (e *RequestError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Sent
}

// newAPIError reads whatever the API said about a failure. Bodies are JSON,
// plain text, or a proxy's HTML page. Every string taken from the answer
// goes through clean.
func newAPIError(op string, resp *http.Response, body []byte, clean sanitizer) *APIError {
	e := &APIError{Operation: op, StatusCode: resp.StatusCode}
	// The spec's failure shapes: AskError is the envelope (success, error,
	// msg, ask_id); RateLimitError adds detail and retry_after.
	var failure AskError
	var limited RateLimitError
	if json.Unmarshal(body, &failure) == nil && json.Unmarshal(body, &limited) == nil {
		e.Code = clean.text(deref(failure.Error), maxCode)
		e.Message = clean.text(firstNonEmpty(deref(failure.Msg), deref(limited.Detail)), maxMessage)
		e.AskID = deref(failure.AskId)
		if limited.RetryAfter != nil {
			e.RetryAfter = seconds(*limited.RetryAfter)
		}
	} else {
		e.Message = describeNonJSON(resp.Header.Get("Content-Type"), body, clean)
	}
	if d := retryAfterHeader(resp.Header); d > 0 {
		e.RetryAfter = d
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Location = clean.text(RedactURL(resp.Header.Get("Location")), maxMessage)
	}
	return e
}

func describeNonJSON(contentType string, body []byte, clean sanitizer) string {
	text := strings.TrimSpace(string(body))
	if strings.Contains(contentType, "html") || strings.HasPrefix(text, "<") {
		if title := clean.text(htmlTitle(text), maxMessage); title != "" {
			return "HTML error page: " + title
		}
		return "HTML error page"
	}
	return clean.text(text, maxMessage)
}

func htmlTitle(page string) string {
	// ASCII-only lowering keeps byte offsets valid for page; strings.ToLower
	// can change the length of invalid UTF-8 (found by FuzzDecodeResponse).
	b := []byte(page)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	lower := string(b)
	start := strings.Index(lower, "<title>")
	end := strings.Index(lower, "</title>")
	if start < 0 || end < start {
		return ""
	}
	return page[start+len("<title>") : end]
}

// retryAfterHeader reads Retry-After in either of its forms (seconds or an
// HTTP date).
func retryAfterHeader(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return seconds(secs)
	}
	if at, err := http.ParseTime(v); err == nil {
		return seconds(time.Until(at).Seconds())
	}
	return 0
}

// maxRetryAfter bounds a wait the API asks for; a longer one is reported as
// this.
const maxRetryAfter = time.Hour

// seconds turns a wait the API asked for into whole seconds, rounded up, so
// that "wait 0.001 s" never becomes "wait 0 s", and bounded. NaN and
// non-positive waits are no wait.
func seconds(s float64) time.Duration {
	if !(s > 0) {
		return 0
	}
	if s >= maxRetryAfter.Seconds() {
		return maxRetryAfter
	}
	return time.Duration(math.Ceil(s)) * time.Second
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
