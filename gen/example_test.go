package gen_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/vast-mcp/vast-mcp/gen"
)

// fakeVast stands in for https://console.vast.ai so the examples run offline.
func fakeVast(status int, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
}

func ExampleVast_CreateInstance() {
	api := fakeVast(http.StatusOK, `{"success": true, "new_contract": 12345678}`)
	defer api.Close()

	// gen.Config{} alone reads VAST_API_KEY (or the vastai CLI's key file)
	// and talks to https://console.vast.ai.
	vast, err := gen.New(gen.Config{APIKey: "your-key", BaseURL: api.URL})
	if err != nil {
		panic(err)
	}
	image, disk := "vllm/vllm-openai:latest", 40.0
	created, err := vast.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: &image, Disk: &disk})
	if err != nil {
		panic(err)
	}
	fmt.Println("instance", *created.NewContract)
	// Output: instance 12345678
}

func ExampleAPIError() {
	api := fakeVast(http.StatusGone, `{"success": false, "error": "no_such_ask", "msg": "Instance type 4242 is no longer available."}`)
	defer api.Close()

	vast, _ := gen.New(gen.Config{APIKey: "your-key", BaseURL: api.URL})
	image := "ubuntu:24.04"
	_, err := vast.CreateInstance(context.Background(), 4242, gen.CreateInstanceRequest{Image: &image})

	var apiErr *gen.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusGone {
		fmt.Println("offer gone:", apiErr.Code)
	}
	// A 410 proves nothing was created, so it is not ErrOutcomeUnknown.
	fmt.Println("outcome unknown:", errors.Is(err, gen.ErrOutcomeUnknown))
	// Output:
	// offer gone: no_such_ask
	// outcome unknown: false
}

func ExampleVast_CreateWorkergroup() {
	// Older deployments answer with "result" instead of "id"; ID() reads either.
	api := fakeVast(http.StatusOK, `{"success": true, "result": 789}`)
	defer api.Close()

	vast, _ := gen.New(gen.Config{APIKey: "your-key", BaseURL: api.URL})
	endpoint, template := "vllm-qwen3-8b", "4e17788f74f075dd9aab7d0d4427968f"
	created, err := vast.CreateWorkergroup(context.Background(), gen.CreateWorkergroupRequest{EndpointName: &endpoint, TemplateHash: &template})
	if err != nil {
		panic(err)
	}
	fmt.Println("workergroup", created.ID())
	// Output: workergroup 789
}
