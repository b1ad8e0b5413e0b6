package gen

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzSanitizeSkipsOnlyWhatCannotMatch: each credential pattern is skipped
// only on text it cannot match, so the quick checks never let a secret by.
func FuzzSanitizeSkipsOnlyWhatCannotMatch(f *testing.F) {
	for _, seed := range []string{
		`{"api_key": "abc123456789"}`, `token=abcdefgh`, `SESSION_ID:x`, `"PASSWORD"='x'`,
		"Authorization: Bearer abcd1234", "BEARER abcd1234", "Basic\tdXNlcjpwYXNz", "bearer\fabcd",
		"https://user:pass@example.com/", "HTTPS://u@h", "git+ssh://git@github.com/x", "plain words", "",
	} {
		f.Add(seed)
	}
	patterns := []struct {
		name    string
		pattern *regexp.Regexp
		mayHold func(string) bool
	}{
		{"credentialValue", credentialValue(), mayHoldCredential},
		{"bearerToken", bearerToken(), mayHoldBearer},
		{"urlUserinfo", urlUserinfo(), mayHoldUserinfo},
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, p := range patterns {
			if p.pattern.MatchString(text) && !p.mayHold(text) {
				t.Fatalf("%s matches %q, which its quick check skips", p.name, text)
			}
		}
	})
}

// A successful answer loses every piece of the key and stays JSON; one
// without the key is returned as it came, not decoded and written again.
func TestScrubAnswer(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef"
	s := newSanitizer(key)
	tests := []struct {
		name, body string
		unchanged  bool
	}{
		{"no key", `{"success": true, "hash": "fedcba9876543210", "n": 1.50}`, true},
		{"key's alphabet, not the key", `{"template_hash": "ffffffffeeeeeeee"}`, true},
		{"escapes of other characters", `{"name": "caf\u00e9 \u0022q\u0022"}`, true},
		{"not JSON", `x ` + key, true},
		{"whole", `{"msg": "key ` + key + `", "n": 1.50}`, false},
		{"upper case", `{"msg": "` + strings.ToUpper(key) + `"}`, false},
		{"escaped", `{"msg": "\u0030\u0031\u0032\u0033\u0034\u0035\u0036\u0037\u0038\u0039"}`, false},
		{"member name", `{"` + key[3:20] + `": 1}`, false},
		{"nested", `{"a": [{"b": ["` + key[10:] + `"]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.scrubAnswer([]byte(tt.body))
			if tt.unchanged {
				assert.Equal(t, tt.body, string(got))
				return
			}
			assert.True(t, json.Valid(got), string(got))
			assert.Contains(t, string(got), redacted)
			var v any
			require.NoError(t, json.Unmarshal(got, &v))
			decoded, _ := json.Marshal(v)
			lower := strings.ToLower(string(decoded))
			for i := 0; i+minFragment <= len(key); i++ {
				assert.NotContains(t, lower, key[i:i+minFragment])
			}
			if strings.Contains(tt.body, "1.50") {
				assert.Contains(t, string(got), "1.50", "numbers are kept as written")
			}
		})
	}
}
