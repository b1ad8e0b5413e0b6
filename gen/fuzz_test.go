package gen_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/vast-mcp/vast-mcp/gen"
)

type cannedTransport struct {
	status      int
	contentType string
	body        []byte
}

func (c cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {c.contentType}, "Location": {"/x/"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: req}, nil
}

// FuzzDecodeResponse feeds arbitrary answers to the client. Nothing may
// panic; a call succeeds only on a 2xx that names the new id; and every
// failure is one of the typed errors.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, "application/json", []byte(`{"success": true, "id": 789}`))
	f.Add(200, "application/json", []byte(`{"success": false, "error": "x", "msg": "y"}`))
	f.Add(429, "application/json", []byte(`{"retry_after": 1e308}`))
	f.Add(502, "text/html", []byte(`<html><title>502</title>`))
	f.Add(301, "text/html", []byte(``))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		status = 100 + (status%500+500)%500
		v, err := gen.New(gen.Config{APIKey: "k", BaseURL: "https://api.invalid",
			HTTPClient: &http.Client{Transport: cannedTransport{status, contentType, body}}, Retry: gen.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		endpoint := "e"
		created, err := v.CreateWorkergroup(context.Background(), gen.CreateWorkergroupRequest{EndpointName: &endpoint})
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("HTTP %d accepted as success", status)
			}
			if created.Id == nil && created.Result == nil {
				t.Fatalf("success without an id: %s", body)
			}
			return
		}
		var apiErr *gen.APIError
		var reqErr *gen.RequestError
		if !errors.As(err, &apiErr) && !errors.As(err, &reqErr) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
