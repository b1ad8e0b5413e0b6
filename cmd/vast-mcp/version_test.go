package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
)

// TestOneVersion holds every place a user reads the version to the one
// source, gen/VERSION: --version, the User-Agent the API sees, the MCP
// serverInfo, and server.json (its version and its image's tag).
func TestOneVersion(t *testing.T) {
	raw, err := os.ReadFile("../../gen/VERSION")
	require.NoError(t, err)
	want := strings.TrimSpace(string(raw))
	require.Regexp(t, `^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`, want, "gen/VERSION must hold a semantic version without a leading v")

	t.Run("--version", func(t *testing.T) {
		var stdout bytes.Buffer
		require.Equal(t, 0, run(context.Background(), []string{"--version"}, nil, &stdout, &bytes.Buffer{}, func(string) string { return "" }))
		assert.Equal(t, "vast-mcp "+want+"\n", stdout.String())
	})

	t.Run("User-Agent and serverInfo", func(t *testing.T) {
		api := fakeapi.New(t, fakeapi.Fixture(t, "endpoint/200"))
		var stdout, stderr bytes.Buffer
		t.Setenv("VAST_API_KEY", "k-version-test")
		env := map[string]string{"VAST_URL": api.URL}
		code := run(context.Background(), []string{"call", "create_endpoint", `{"endpoint_name":"v"}`}, nil, &stdout, &stderr, func(k string) string { return env[k] })
		require.Equal(t, 0, code, "stdout: %s\nstderr: %s", &stdout, &stderr)
		require.Len(t, api.Requests(), 1)
		assert.Equal(t, "vast-mcp/"+want, api.Requests()[0].Header.Get("User-Agent"))

		s, err := newServer(&config{transport: "stdio", timeout: 1}, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		init := s.HandleMessage(context.Background(), []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`))
		encoded, err := json.Marshal(init)
		require.NoError(t, err)
		assert.Contains(t, string(encoded), `"serverInfo":{"name":"vast-mcp",`)
		assert.Contains(t, string(encoded), `"version":"`+want+`"`)
	})

	t.Run("server.json", func(t *testing.T) {
		raw, err := os.ReadFile("../../server.json")
		require.NoError(t, err)
		var manifest struct {
			Version  string `json:"version"`
			Packages []struct {
				RegistryType string `json:"registryType"`
				Identifier   string `json:"identifier"`
				Version      string `json:"version"`
			} `json:"packages"`
		}
		require.NoError(t, json.Unmarshal(raw, &manifest))
		assert.Equal(t, want, manifest.Version)
		require.NotEmpty(t, manifest.Packages)
		for _, p := range manifest.Packages {
			if p.RegistryType == "oci" {
				// The registry reads an image's version from its tag.
				assert.True(t, strings.HasSuffix(p.Identifier, ":"+want), "%s should be tagged %s", p.Identifier, want)
			} else {
				assert.Equal(t, want, p.Version, p.Identifier)
			}
		}
	})
}
