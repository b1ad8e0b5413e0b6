package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// sessionRegistry is the streamable HTTP transport's session id manager.
// mcp-go keeps each session's state (about 12 KB) until the session is
// deleted or, with an idle TTL, swept; the registry knows every live
// session, answers a request naming another with 404 (the client then
// initializes anew), and refuses an initialize past max live sessions, so
// that no flood of initializes grows the server without bound.
type sessionRegistry struct {
	max   int
	retry time.Duration // told to a client refused for lack of room

	admit sync.Mutex // one initialize at a time: the count, then mcp-go's Generate
	mu    sync.Mutex
	live  map[string]struct{}
}

func newSessionRegistry(limit int, ttl time.Duration) *sessionRegistry {
	// mcp-go sweeps idle sessions every half TTL, and at most once a second.
	return &sessionRegistry{max: limit, retry: max(ttl/2, time.Second), live: map[string]struct{}{}}
}

var errUnknownSession = errors.New("unknown or expired session")

func (r *sessionRegistry) Generate() string {
	id := rand.Text()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[id] = struct{}{}
	return id
}

func (r *sessionRegistry) Validate(id string) (isTerminated bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.live[id]; !ok {
		return false, errUnknownSession
	}
	return false, nil
}

func (r *sessionRegistry) Terminate(id string) (isNotAllowed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, id)
	return false, nil
}

func (r *sessionRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

// guard admits the requests that create a session: an initialize while
// there is room, and no GET but in a live session (mcp-go would mint one,
// or keep state for an id it never issued).
func (r *sessionRegistry) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.Method {
		case http.MethodGet:
			id := req.Header.Get(server.HeaderKeySessionID)
			if id == "" {
				http.Error(w, "GET /mcp needs the "+server.HeaderKeySessionID+" header that initialize returned", http.StatusBadRequest)
				return
			}
			if _, err := r.Validate(id); err != nil {
				http.Error(w, "Invalid session ID", http.StatusNotFound)
				return
			}
		case http.MethodPost:
			body, err := io.ReadAll(req.Body)
			// mcp-go reads the body again, and answers its error itself.
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errorReader{err}))
			var msg struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"` // as mcp-go reads it: any case, the last one
			}
			if err == nil && json.Unmarshal(body, &msg) == nil && msg.Method == string(mcpgo.MethodInitialize) {
				r.admit.Lock()
				defer r.admit.Unlock()
				if live := r.count(); live >= r.max {
					r.refuse(w, msg.ID, live)
					return
				}
			}
		}
		next.ServeHTTP(w, req)
	})
}

// refuse answers an initialize past the bound: 503 with Retry-After, and a
// JSON-RPC error a client can show.
func (r *sessionRegistry) refuse(w http.ResponseWriter, id json.RawMessage, live int) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      id,
		"error": map[string]any{
			"code": serverBusy,
			"message": fmt.Sprintf("vast-mcp already serves %d sessions, the most it keeps (--http-max-sessions); "+
				"idle ones expire (--http-session-ttl). Retry in %d s, or reuse an open session.", live, int(r.retry/time.Second)),
		},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", fmt.Sprint(int(r.retry/time.Second)))
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write(body)
}

// serverBusy is a JSON-RPC error code of the range left to servers.
const serverBusy = -32000

type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
