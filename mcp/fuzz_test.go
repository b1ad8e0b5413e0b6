package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/internal/inprocess"
)

// recorder is an API that accepts every request and remembers the last
// one (a read's has no body).
type recorder struct {
	mu   sync.Mutex
	path string
	body []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body := []byte{}
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	r.mu.Lock()
	r.path, r.body = req.URL.Path, body
	r.mu.Unlock()
	reply := `{"success": true, "result": 1, "id": 2, "new_contract": 3}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(reply)), Request: req}, nil
}

func (r *recorder) take() (string, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	path, body := r.path, r.body
	r.path, r.body = "", nil
	return path, body
}

var fuzzServer struct {
	once   sync.Once
	client *client.Client
	api    *recorder
	panics *bytes.Buffer
}

func fuzzClient(t *testing.T) (*client.Client, *recorder) {
	fuzzServer.once.Do(func() {
		api := &recorder{}
		vast, err := gen.New(gen.Config{APIKey: "k", BaseURL: "https://api.invalid", HTTPClient: &http.Client{Transport: api}})
		if err != nil {
			panic(err)
		}
		c, err := inprocess.Connect(context.Background(), NewServer(vast, Options{}), inprocess.Options{})
		if err != nil {
			panic(err)
		}
		fuzzServer.client, fuzzServer.api = c, api
	})
	return fuzzServer.client, fuzzServer.api
}

// FuzzToolCall sends arbitrary arguments to every tool through the whole
// server. Nothing may panic, and whatever reaches the API must satisfy the
// tool's input schema: validation is the only gate between an agent and a
// paid create.
func FuzzToolCall(f *testing.F) {
	f.Add(0, []byte(`{"endpoint_name": "e", "max_workers": 2}`))
	f.Add(1, []byte(`{"offer_id": 4242, "image": "img", "env": "-e A=1 -p 80:80"}`))
	f.Add(2, []byte(`{"endpoint_id": 1, "template_hash": "h"}`))
	f.Fuzz(func(t *testing.T, tool int, args []byte) {
		if !json.Valid(args) {
			return // not a tools/call an MCP client can send
		}
		spec := &toolSpecs[((tool%len(toolSpecs))+len(toolSpecs))%len(toolSpecs)]
		c, api := fuzzClient(t)
		res, err := c.CallTool(context.Background(), mcpgo.CallToolRequest{Params: mcpgo.CallToolParams{Name: spec.Name, Arguments: json.RawMessage(args)}})
		if err != nil {
			return // malformed params rejected at the protocol level
		}
		if res.IsError {
			if text := res.Content[0].(mcpgo.TextContent).Text; strings.Contains(text, "failed inside vast-mcp") {
				t.Fatalf("handler panicked on %s", args)
			}
		}
		path, body := api.take()
		if body == nil {
			if !res.IsError {
				t.Fatalf("success without a request: %s", args)
			}
			return
		}
		if spec.Kind != kindCreate {
			return // a read, stop or removal sends what its hooks build, not its arguments
		}
		var sent map[string]any
		if err := json.Unmarshal(body, &sent); err != nil {
			t.Fatalf("sent a body that is not a JSON object: %s", body)
		}
		if spec.PathArgument != "" {
			segments := strings.Split(strings.Trim(path, "/"), "/")
			id, err := strconv.Atoi(segments[len(segments)-1])
			if err != nil {
				t.Fatalf("no offer id in the path %q", path)
			}
			sent[spec.PathArgument] = id
		}
		schema, err := compileInputSchema(spec)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(sent)
		value, _ := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err := schema.Validate(value); err != nil {
			t.Fatalf("%s sent a request that violates its schema: %s\n%v", spec.Name, data, err)
		}
	})
}

// FuzzParseDockerFlags: no input panics, and what it accepts survives a
// round trip through the flag syntax unchanged.
func FuzzParseDockerFlags(f *testing.F) {
	for _, seed := range []string{"-e A=1 -p 8000:8000", `-e 'MSG=a b' --env "Q=\"x\""`, "-p 127.0.0.1:22:22/udp", "-e", `'`, "\\"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, flags string) {
		env, err := ParseDockerFlags(flags)
		if err != nil {
			return
		}
		var rendered []string
		for k, v := range env {
			if port, ok := strings.CutPrefix(k, "-p "); ok {
				rendered = append(rendered, "-p", port)
				continue
			}
			rendered = append(rendered, "-e", "'"+strings.ReplaceAll(k+"="+v, "'", `'\''`)+"'")
		}
		again, err := ParseDockerFlags(strings.Join(rendered, " "))
		if err != nil {
			t.Fatalf("%q parsed to %v, whose rendering does not parse: %v", flags, env, err)
		}
		if len(again) != len(env) {
			t.Fatalf("round trip changed %v into %v", env, again)
		}
		for k, v := range env {
			if again[k] != v {
				t.Fatalf("round trip changed %q: %q -> %q", k, v, again[k])
			}
		}
	})
}
