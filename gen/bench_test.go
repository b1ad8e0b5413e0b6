package gen_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vast-mcp/vast-mcp/gen"
)

// BenchmarkClientCall is each generated operation's call alone against a
// loopback httptest API: request building, auth, the doer, and decoding.
func BenchmarkClientCall(b *testing.B) {
	api := benchAPI(b)
	v, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.URL})
	if err != nil {
		b.Fatal(err)
	}
	name, image, disk, workers, template := "vllm-qwen3-8b", "vllm/vllm-openai:latest", 40.0, 2, "4e17788f74f075dd9aab7d0d4427968f"
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"createEndpoint", func() error {
			_, err := v.CreateEndpoint(ctx, gen.CreateEndpointRequest{EndpointName: &name, MaxWorkers: &workers})
			return err
		}},
		{"createWorkergroup", func() error {
			_, err := v.CreateWorkergroup(ctx, gen.CreateWorkergroupRequest{EndpointName: &name, TemplateHash: &template, MaxWorkers: &workers})
			return err
		}},
		{"createInstance", func() error {
			_, err := v.CreateInstance(ctx, 4242, gen.CreateInstanceRequest{Image: &image, Disk: &disk})
			return err
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDirectPost is the floor for BenchmarkClientCall: a bare
// net/http PUT of a ready body to the same kind of server.
func BenchmarkDirectPost(b *testing.B) {
	api := benchAPI(b)
	body := []byte(`{"image":"vllm/vllm-openai:latest","disk":40}`)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPut, api.URL+"/api/v0/asks/4242/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func benchAPI(b *testing.B) *httptest.Server {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		// Every operation's id field, so that each finds its own.
		_, _ = io.WriteString(w, `{"success": true, "result": 7, "id": 7, "new_contract": 12345678}`)
	}))
	b.Cleanup(api.Close)
	return api
}
