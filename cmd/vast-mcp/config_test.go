package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/gen"
	"github.com/vast-mcp/vast-mcp/mcp"
)

// source is one way a setting reaches the server.
type source struct {
	name string
	// set returns the arguments and environment that give setting the
	// value; for the config file, json is the value as a JSON fragment.
	set func(t *testing.T, setting, envName, value, json string) ([]string, map[string]string)
}

var sources = []source{
	{"flag", func(_ *testing.T, setting, _, value, _ string) ([]string, map[string]string) {
		return []string{"--" + setting + "=" + value}, nil
	}},
	{"env", func(_ *testing.T, _, envName, value, _ string) ([]string, map[string]string) {
		return nil, map[string]string{envName: value}
	}},
	{"config", func(t *testing.T, setting, _, _, json string) ([]string, map[string]string) {
		path := filepath.Join(t.TempDir(), "config.json")
		require.NoError(t, os.WriteFile(path, []byte(`{"`+setting+`": `+json+`}`), 0o600))
		return []string{"--config", path}, nil
	}},
}

func parseWith(args []string, env map[string]string) (*config, int, string) {
	var stderr bytes.Buffer
	cfg, _, code := parse(args, func(k string) string { return env[k] }, io.Discard, &stderr)
	return cfg, code, stderr.String()
}

// quoted is value as a JSON string.
func quoted(value string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\x00", `\u0000`, "\n", `\n`).Replace(value) + `"`
}

// A guardrail that cannot be enforced (a cap that is not a finite,
// non-negative number, or one that reads as "no cap" though something else
// was written) stops the server at start-up, naming the setting, whichever
// way it was given.
func TestNumericCapsThatCannotBeEnforcedStopTheServer(t *testing.T) {
	caps := []struct{ setting, env string }{
		{"max-price", "VAST_MCP_MAX_PRICE"},
		{"max-disk", "VAST_MCP_MAX_DISK"},
		{"max-workers", "VAST_MCP_MAX_WORKERS"},
		{"max-hourly-spend", "VAST_MCP_MAX_HOURLY_SPEND"},
		{"max-instances", "VAST_MCP_MAX_INSTANCES"},
	}
	values := []struct{ text, json string }{
		{"NaN", ""}, {"nan", ""}, {"Inf", ""}, {"+Inf", ""}, {"-Inf", ""}, {"infinity", ""},
		{"1e999", "1e999"}, {"1e-400", "1e-400"}, {"-1", "-1"}, {"-0", "-0"}, {"-0.0", "-0.0"},
		{"0x10", ""}, {"1_0", ""}, {"2 ", ""}, {"two", ""}, {"1e-400", ""},
	}
	for _, c := range caps {
		for _, v := range values {
			for _, s := range sources {
				jsons := []string{quoted(v.text)}
				if v.json != "" {
					jsons = append(jsons, v.json)
				}
				for _, j := range jsons {
					t.Run(c.setting+"/"+s.name+"/"+j, func(t *testing.T) {
						args, env := s.set(t, c.setting, c.env, v.text, j)
						_, code, stderr := parseWith(args, env)
						assert.Equal(t, 2, code, "stderr: %s", stderr)
						assert.Contains(t, stderr, c.setting)
					})
				}
			}
		}
	}
	// What can be enforced still is: a number, or 0 for no cap.
	for _, c := range caps {
		for _, s := range sources {
			for _, v := range []string{"0", "3"} {
				args, env := s.set(t, c.setting, c.env, v, v)
				cfg, code, stderr := parseWith(args, env)
				require.Equal(t, -1, code, "%s %s %s: %s", c.setting, s.name, v, stderr)
				got := map[string]float64{"max-price": cfg.maxPrice, "max-disk": cfg.maxDisk, "max-workers": float64(cfg.maxWorkers),
					"max-hourly-spend": cfg.maxSpend, "max-instances": float64(cfg.maxCount)}
				assert.Equal(t, map[string]float64{"0": 0, "3": 3}[v], got[c.setting])
			}
		}
	}
}

// A list setting with an empty entry, or an empty list where a list was
// written, would mean "any image" or "all tools": it stops the server.
func TestEmptyListsStopTheServer(t *testing.T) {
	lists := []struct{ setting, env, good string }{
		{"tools", "VAST_MCP_TOOLS", "create_endpoint"},
		{"allow-image", "VAST_MCP_ALLOW_IMAGES", "vllm/*"},
		{"allow-origin", "VAST_MCP_ALLOW_ORIGINS", "http://localhost:3000"},
	}
	values := []struct{ text, json string }{
		{",", `","`}, {" ", `" "`}, {" , ", `[" "]`}, {",", `[""]`}, {",", `[]`}, {",", `["", ""]`},
		{"GOOD,,GOOD", `["GOOD", ""]`}, {"GOOD,", `"GOOD,"`}, {"", `""`}, {"", `null`}, {"", `[null]`},
	}
	for _, l := range lists {
		for _, v := range values {
			for _, s := range sources {
				if v.text == "" && s.name == "env" {
					continue // an empty environment variable is unset
				}
				text := strings.ReplaceAll(v.text, "GOOD", l.good)
				j := strings.ReplaceAll(v.json, "GOOD", l.good)
				t.Run(l.setting+"/"+s.name+"/"+text+"/"+j, func(t *testing.T) {
					args, env := s.set(t, l.setting, l.env, text, j)
					_, code, stderr := parseWith(args, env)
					assert.Equal(t, 2, code, "stderr: %s", stderr)
					assert.Contains(t, stderr, l.setting)
				})
			}
		}
	}
	// Image entries that bound nothing, or are no image name.
	for _, entry := range []string{"*", "vllm/\x00*", "vllm /*", "vllm/\n*", "a*b"} {
		for _, s := range sources {
			t.Run("allow-image/"+s.name+"/"+entry, func(t *testing.T) {
				args, env := s.set(t, "allow-image", "VAST_MCP_ALLOW_IMAGES", entry, quoted(entry))
				_, code, stderr := parseWith(args, env)
				assert.Equal(t, 2, code, "stderr: %s", stderr)
				assert.Contains(t, stderr, "allow-image")
			})
		}
	}
	// An unknown tool still stops it.
	_, code, stderr := parseWith([]string{"--tools", "create_endpoint,frobnicate"}, nil)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "frobnicate")
	for _, l := range lists {
		for _, s := range sources {
			args, env := s.set(t, l.setting, l.env, l.good, quoted(l.good))
			_, code, stderr := parseWith(args, env)
			assert.Equal(t, -1, code, "%s %s: %s", l.setting, s.name, stderr)
		}
	}
}

// --allow-commands comes from each source, reaches the guardrails and is
// in the start-up summary.
func TestAllowCommandsFromEverySourceIsLogged(t *testing.T) {
	for _, s := range sources {
		args, env := s.set(t, "allow-commands", "VAST_MCP_ALLOW_COMMANDS", "true", "true")
		cfg, code, stderr := parseWith(append(args, "--allow-image", "vllm/*"), env)
		require.Equal(t, -1, code, stderr)
		assert.True(t, cfg.serverOptions(nil).Guardrails.AllowCommands, s.name)
		assert.Contains(t, fmt.Sprintln(cfg.describe()...), "allow_commands true", s.name)
	}
}

// --toolsets, --read-only, --max-wait and --serverless-url come from a
// flag, the environment or the config file alike, reach the server, and
// show in the start-up summary.
func TestToolsetsReadOnlyWaitAndServerlessSettings(t *testing.T) {
	settings := []struct {
		setting, env, value, json string
		check                     func(t *testing.T, cfg *config)
		summary                   []any
	}{
		{"toolsets", "VAST_MCP_TOOLSETS", "serverless,account", `["serverless", "account"]`, func(t *testing.T, cfg *config) {
			assert.Equal(t, []string{"serverless", "account"}, cfg.serverOptions(nil).Guardrails.Toolsets)
		}, []any{"toolsets", "serverless,account"}},
		{"read-only", "VAST_MCP_READ_ONLY", "true", `true`, func(t *testing.T, cfg *config) {
			assert.True(t, cfg.serverOptions(nil).Guardrails.ReadOnly)
		}, []any{"read_only", true}},
		{"max-wait", "VAST_MCP_MAX_WAIT", "20s", `"20s"`, func(t *testing.T, cfg *config) {
			assert.Equal(t, 20*time.Second, cfg.serverOptions(nil).Guardrails.MaxWait)
		}, []any{"max_wait", 20 * time.Second}},
		{"serverless-url", "VAST_SERVERLESS_URL", "http://127.0.0.1:9/", `"http://127.0.0.1:9/"`, func(t *testing.T, cfg *config) {
			assert.Equal(t, "http://127.0.0.1:9/", cfg.clientConfig(nil).ServerlessURL)
		}, []any{"serverless_url", "http://127.0.0.1:9/"}},
	}
	for _, st := range settings {
		for _, s := range sources {
			t.Run(st.setting+"/"+s.name, func(t *testing.T) {
				args, env := s.set(t, st.setting, st.env, st.value, st.json)
				cfg, code, stderr := parseWith(args, env)
				require.Equal(t, -1, code, stderr)
				st.check(t, cfg)
				summary := cfg.describe()
				i := slices.Index(summary, st.summary[0])
				require.GreaterOrEqual(t, i, 0, "start-up summary names %v", st.summary[0])
				assert.Equal(t, st.summary[1], summary[i+1])
			})
		}
	}
	cfg, code, _ := parseWith(nil, nil)
	require.Equal(t, -1, code)
	assert.Empty(t, cfg.serverOptions(nil).Guardrails.Toolsets, "default: every toolset")
	assert.False(t, cfg.serverOptions(nil).Guardrails.ReadOnly)
	assert.Equal(t, mcp.DefaultMaxWait, cfg.serverOptions(nil).Guardrails.MaxWait)
	assert.Equal(t, gen.DefaultServerlessURL, cfg.clientConfig(nil).ServerlessURL)
}

func TestBadToolsetOrWaitStopsTheServer(t *testing.T) {
	for _, tt := range []struct{ args []string }{
		{[]string{"--toolsets", "gpus"}},
		{[]string{"--max-wait", "0s"}},
		{[]string{"--max-wait", "soon"}},
		{[]string{"--read-only=maybe"}},
	} {
		_, code, stderr := parseWith(tt.args, nil)
		assert.Equal(t, 2, code, "%v: %s", tt.args, stderr)
		assert.Contains(t, stderr, strings.TrimPrefix(strings.SplitN(tt.args[0], "=", 2)[0], "--"))
	}
}
