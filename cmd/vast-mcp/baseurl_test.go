package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Class: a credential in the base URL never shows, on any path that starts
// from it (serve over stdio or HTTP, call, dry run, sandbox): the URL is
// refused before anything is logged, and the refusal redacts it.
func TestBaseURLCredentialsAreRefusedAndNeverShown(t *testing.T) {
	const secret = "urlpw-DO-NOT-LEAK-31f0c9"
	urls := []string{
		"https://user:" + secret + "@console.vast.ai",
		"https://" + secret + "@console.vast.ai",
		"https://console.vast.ai/?api_key=" + secret,
		"https://console.vast.ai/?" + secret,
		"https://console.vast.ai/#" + secret,
		"http://user:" + secret + "@127.0.0.1:1",
		// A password with "/" (base64) parses as a path, or not at all.
		"https://user:pa55/" + secret + "@console.vast.ai",
		"https://:1234/" + secret + "@console.vast.ai",
		"https://user:" + secret[:9] + "/" + secret[9:] + "@console.vast.ai",
	}
	modes := [][]string{
		{},
		{"--transport", "http", "--addr", "127.0.0.1:0"},
		{"--dry-run", "call", "create_endpoint", "{}"},
		{"--confirm", "call", "create_endpoint", "{}"},
		{"--log-level", "debug", "call", "create_endpoint", "{}"},
	}
	for _, base := range urls {
		for _, mode := range modes {
			name := strings.ReplaceAll(base, secret, "SECRET") + " " + strings.Join(mode, " ")
			for _, via := range []string{"env", "flag"} {
				t.Run(via+" "+name, func(t *testing.T) {
					env := map[string]string{"VAST_API_KEY": "vk-TESTKEY-0b7e-DO-NOT-LEAK"}
					args := mode
					if via == "env" {
						env["VAST_URL"] = base
					} else {
						args = append([]string{"--base-url", base}, mode...)
					}
					var stdout, stderr bytes.Buffer
					code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
					out := stdout.String() + stderr.String()
					assert.Equal(t, 2, code, out)
					assert.Contains(t, out, "base URL")
					for i := 0; i+6 <= len(secret); i++ {
						assert.NotContains(t, out, secret[i:i+6])
					}
				})
			}
		}
	}
}
