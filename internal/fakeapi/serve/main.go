// Command serve is the fake API for scripts: it answers every request with
// one canned response and appends each request it saw to a log, so a shell
// script can check what vast-mcp sent without reaching Vast.ai.
//
//	go run ./internal/fakeapi/serve -body '{"success": true}' -log requests.log
//
// It prints its base URL on the first line of stdout, listens on loopback
// only, and stops when stdin closes.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

func main() {
	status := flag.Int("status", http.StatusOK, "status of every answer")
	body := flag.String("body", `{"success": true}`, "body of every answer (JSON)")
	logPath := flag.String("log", "requests.log", "file each request is appended to: METHOD PATH?QUERY BODY")
	flag.Parse()

	log, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeapi:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeapi:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ := io.ReadAll(r.Body)
		mu.Lock()
		fmt.Fprintf(log, "%s %s %s\n", r.Method, r.URL.RequestURI(), sent)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(*status)
		fmt.Fprint(w, *body)
	})
	fmt.Printf("http://%s\n", ln.Addr())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	_ = http.Serve(ln, handler)
}
