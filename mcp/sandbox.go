package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// SandboxTransport answers every operation with its documented success
// instead of reaching Vast.ai, so the whole server (validation, client,
// results) runs with no account. Requests go through the real client first:
// a sandbox call is checked and shaped exactly like a real one.
func SandboxTransport() http.RoundTripper {
	return &sandbox{}
}

type sandbox struct{ next atomic.Int64 }

// sandboxReply is an operation's documented success (tools.gen.go builds
// them from the spec's examples).
type sandboxReply struct {
	Method, Path string
	IDFields     []string // filled with a fresh id for each create
	Body         string
}

func (s *sandbox) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	for i := range sandboxReplies {
		r := &sandboxReplies[i]
		if !strings.EqualFold(req.Method, r.Method) || !pathMatches(r.Path, req.URL.Path) {
			continue
		}
		body := []byte(r.Body)
		switch id, ok := pathID(r.Path, req.URL.Path); {
		case len(r.IDFields) > 0 && req.Method != http.MethodGet:
			body = withID(body, r.IDFields, 9_000_001+int(s.next.Add(1)-1))
		case ok:
			body = withResourceID(body, id)
		}
		return reply(req, http.StatusOK, body), nil
	}
	body := fmt.Sprintf(`{"success": false, "error": "not_found", "msg": "the sandbox does not serve %s %s"}`, req.Method, req.URL.Path)
	return reply(req, http.StatusNotFound, []byte(body)), nil
}

// pathID is the id a request's path names where the pattern has one.
func pathID(pattern, path string) (int, bool) {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i := range want {
		if strings.HasPrefix(want[i], "{") && i < len(got) {
			id, err := strconv.Atoi(got[i])
			return id, err == nil
		}
	}
	return 0, false
}

// withResourceID answers about the resource the path names: the example's
// id, at the top or one object down ({"instances": {"id": ...}}), becomes
// the requested one, so a sandbox session reads consistently.
func withResourceID(body []byte, id int) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m["id"]; ok {
		m["id"] = id
	}
	for _, v := range m {
		if inner, ok := v.(map[string]any); ok {
			if _, ok := inner["id"]; ok {
				inner["id"] = id
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// withID gives each sandbox create an id of its own, so a session reads
// like a real one.
func withID(body []byte, fields []string, id int) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, field := range fields {
		if _, ok := m[field]; ok {
			m[field] = id
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
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
