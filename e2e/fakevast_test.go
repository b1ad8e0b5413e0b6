//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVast answers creates, the instance list and the user, and enforces
// Vast.ai's limit, scaled: at most limit requests per key in any window (a
// sliding log of the requests it accepted); more get a 429 shaped like the
// live API's.
type fakeVast struct {
	limit  int // 0: unlimited
	window time.Duration

	// listDelay holds each instance list back, so that calls in flight
	// together overlap (set before the first request).
	listDelay time.Duration

	mu        sync.Mutex
	accepted  map[string][]time.Time
	created   map[string]int // label -> instances created with it
	instances []map[string]any
	next      int
	throttled int
	served    int
}

func startFakeVast(t *testing.T, limit int, window time.Duration) (*fakeVast, string) {
	f := &fakeVast{limit: limit, window: window, accepted: map[string][]time.Time{}, created: map[string]int{}, instances: []map[string]any{}, next: 1000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeVast) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Label string `json:"label"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/instances/" {
		time.Sleep(f.listDelay)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limit > 0 {
		key := r.Header.Get("Authorization")
		now := time.Now()
		recent := f.accepted[key][:0]
		for _, at := range f.accepted[key] {
			if now.Sub(at) < f.window {
				recent = append(recent, at)
			}
		}
		f.accepted[key] = recent
		if len(recent) >= f.limit {
			f.throttled++
			wait := int(math.Ceil(f.window.Seconds() - now.Sub(recent[0]).Seconds()))
			w.Header().Set("Retry-After", fmt.Sprint(max(wait, 1)))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = fmt.Fprintf(w, `{"error":"HTTPTooManyRequests","msg":"API requests too frequent","retry_after":%d,"limit":%d,"remaining":0}`, max(wait, 1), f.limit)
			return
		}
		f.accepted[key] = append(recent, now)
	}
	f.served++
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v0/asks/"):
		f.next++
		f.created[body.Label]++
		f.instances = append(f.instances, map[string]any{"id": f.next, "label": body.Label, "actual_status": "running", "dph_total": 0.5})
		_, _ = fmt.Fprintf(w, `{"success":true,"new_contract":%d}`, f.next)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/instances/":
		_ = json.NewEncoder(w).Encode(map[string]any{"instances": f.instances})
		return
	case r.Method == http.MethodGet && r.URL.Path == "/api/v0/users/current":
		_, _ = w.Write([]byte(`{"id":1}`))
		return
	}
	_, _ = w.Write([]byte(`{"success":true}`))
}

func (f *fakeVast) snapshot() (created map[string]int, throttled, served int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	created = make(map[string]int, len(f.created))
	for k, v := range f.created {
		created[k] = v
	}
	return created, f.throttled, f.served
}
