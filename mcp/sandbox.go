package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/vast-mcp/vast-mcp/gen"
)

// SandboxTransport answers the create operations with canned successes
// instead of reaching Vast.ai, so the whole server (validation, client,
// results) runs with no account. Requests go through the real client first:
// a sandbox call is checked and shaped exactly like a real one.
func SandboxTransport() http.RoundTripper {
	return &sandbox{}
}

type sandbox struct{ next atomic.Int64 }

// sandboxReplies builds each operation's success body from the generated
// types, so it has the shape the spec documents.
var sandboxReplies = map[string]func(id int) any{
	"createEndpoint": func(id int) any { return gen.EndpointCreated{Success: ptr(true), Result: &id} },
	"createWorkergroup": func(id int) any {
		return gen.WorkergroupCreated{Success: ptr(true), Id: &id}
	},
	"createInstance": func(id int) any {
		return gen.InstanceCreated{Success: ptr(true), NewContract: &id, InstanceApiKey: ptr("sandbox-instance-key")}
	},
}

func (s *sandbox) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	for i := range toolSpecs {
		spec := &toolSpecs[i]
		if !strings.EqualFold(req.Method, spec.Method) || !pathMatches(spec.Path, req.URL.Path) {
			continue
		}
		id := 9_000_001 + int(s.next.Add(1)-1)
		body, _ := json.Marshal(sandboxReplies[spec.OperationID](id))
		return reply(req, http.StatusOK, body), nil
	}
	body := fmt.Sprintf(`{"success": false, "error": "not_found", "msg": "the sandbox does not serve %s %s"}`, req.Method, req.URL.Path)
	return reply(req, http.StatusNotFound, []byte(body)), nil
}

// pathMatches compares a spec path such as /api/v0/asks/{id}/ with a
// request path, a {parameter} matching any one segment.
func pathMatches(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] && !(strings.HasPrefix(want[i], "{") && got[i] != "") {
			return false
		}
	}
	return true
}

func reply(req *http.Request, status int, body []byte) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

func ptr[T any](v T) *T { return &v }
