// Package fakeapi is a local stand-in for the Vast.ai API in tests: an
// httptest server that replays canned responses from testdata/api and
// records every request it receives. No test touches the network.
package fakeapi

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Request is what the fake saw.
type Request struct {
	Method string
	Path   string
	Query  string // the raw query string, as sent
	Header http.Header
	Body   []byte
}

// Server replays its handlers in order, one per request; the last one
// repeats.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	handlers []http.Handler
	requests []Request
}

// New starts a fake API that answers with handlers in turn and stops with
// the test.
func New(t testing.TB, handlers ...http.Handler) *Server {
	t.Helper()
	if len(handlers) == 0 {
		t.Fatal("fakeapi.New: no handlers")
	}
	s := &Server{handlers: handlers}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	h := s.handlers[min(n, len(s.handlers)-1)]
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.ServeHTTP(w, r)
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Canned is a recorded HTTP response.
type Canned struct {
	Name   string
	Source string // provenance, from the file's leading "# source:" comment
	Status int
	Header http.Header
	Body   []byte
}

func (c *Canned) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	for k, vs := range c.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(c.Status)
	_, _ = w.Write(c.Body)
}

// Fixture loads testdata/api/<name>.http: optional "#" comment lines, then a
// raw HTTP/1.1 response.
func Fixture(t testing.TB, name string) *Canned {
	t.Helper()
	c, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Load is Fixture without a test.
func Load(name string) (*Canned, error) {
	raw, err := os.ReadFile(filepath.Join(Dir(), filepath.FromSlash(name)+".http"))
	if err != nil {
		return nil, err
	}
	var source []string
	for bytes.HasPrefix(raw, []byte("#")) {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		source = append(source, strings.TrimSpace(strings.TrimPrefix(string(line), "#")))
		raw = rest
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Canned{
		Name:   name,
		Source: strings.TrimPrefix(strings.Join(source, " "), "source: "),
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   bytes.TrimRight(body, "\n"),
	}, nil
}

// All lists the fixture names under testdata/api/<dir>.
func All(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(), dir, "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = dir + "/" + strings.TrimSuffix(filepath.Base(f), ".http")
	}
	return names
}

// Dir is the absolute path of testdata/api.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "api")
}

// Func adapts a function to a handler, for faults the fixtures cannot hold.
type Func = http.HandlerFunc
