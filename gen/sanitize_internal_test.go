package gen

import (
	"regexp"
	"testing"
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
