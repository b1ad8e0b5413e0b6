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

// BenchmarkCreateInstance is the generated client's call alone against a
// loopback httptest API: request building, auth, the doer, and decoding.
func BenchmarkCreateInstance(b *testing.B) {
	api := benchAPI(b)
	v, err := gen.New(gen.Config{APIKey: "k", BaseURL: api.URL})
	if err != nil {
		b.Fatal(err)
	}
	image, disk := "vllm/vllm-openai:latest", 40.0
	req := gen.CreateInstanceRequest{Image: &image, Disk: &disk}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.CreateInstance(ctx, 4242, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectPost is the floor for BenchmarkCreateInstance: a bare
// net/http POST to the same kind of server.
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
		_, _ = io.WriteString(w, `{"success": true, "new_contract": 12345678}`)
	}))
	b.Cleanup(api.Close)
	return api
}
