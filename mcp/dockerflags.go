package mcp

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// portSpec is what Docker's -p takes here: [IP:]HOST:CONTAINER[/tcp|/udp],
// or a bare container port. Both patterns compile on first use: at package
// init they were most of this package's start-up allocations, for input few
// calls send.
var portSpec = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:\d{1,3}(?:\.\d{1,3}){3}:)?(?:\d{1,5}:)?\d{1,5}(?:/(?:tcp|udp))?$`)
})

// envName is what a variable name may be, as the shell accepts it.
var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

// ParseDockerFlags converts the vastai CLI's env string
// ("-e HF_TOKEN=hf_x -e 'MSG=a b' -p 8000:8000") into the object the API
// takes: variables as keys, and each port flag as a key with value "1".
// Unlike the CLI, which skips what it does not understand, it refuses any
// other token, so nothing the caller wrote is silently dropped.
func ParseDockerFlags(flags string) (map[string]string, error) {
	tokens, err := splitShellWords(flags)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for i := 0; i < len(tokens); i++ {
		flag := tokens[i]
		if flag != "-e" && flag != "--env" && flag != "-p" && flag != "--publish" {
			return nil, fmt.Errorf("unexpected %q: expected -e NAME=value or -p HOST:CONTAINER", nameOnly(flag))
		}
		if i+1 == len(tokens) {
			return nil, fmt.Errorf("%s needs a value", flag)
		}
		i++
		value := tokens[i]
		if flag == "-p" || flag == "--publish" {
			if !portSpec().MatchString(value) {
				return nil, fmt.Errorf("-p %q: expected HOST:CONTAINER ports such as 8000:8000", nameOnly(value))
			}
			env["-p "+value] = "1"
			continue
		}
		name, val, ok := strings.Cut(value, "=")
		if !ok || !envName().MatchString(name) {
			return nil, fmt.Errorf("-e %q: expected NAME=value", nameOnly(value))
		}
		env[name] = val
	}
	return env, nil
}

// CheckEnvObject holds the env object to the rule ParseDockerFlags applies
// to the flag string: each key is a variable name, or "-p " and a port
// mapping. Other keys (--privileged, -v /:/host) would reach the host's
// Docker as options.
func CheckEnvObject(env map[string]string) error {
	for key, value := range env {
		if port, ok := strings.CutPrefix(key, "-p "); ok && portSpec().MatchString(port) {
			if value != "1" {
				// The flag string can only say "1" here; a value is where
				// further flags could ride along.
				return fmt.Errorf("key %q: a port mapping's value must be \"1\"", key)
			}
			continue
		}
		if !envName().MatchString(key) {
			return fmt.Errorf("key %q: expected a variable name, or \"-p HOST:CONTAINER\" for a port mapping", nameOnly(key))
		}
	}
	return nil
}

// splitShellWords splits on blanks, honouring single and double quotes and
// backslash escapes the way a POSIX shell does for plain words.
func splitShellWords(s string) ([]string, error) {
	var (
		words   []string
		word    strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if escaped {
		return nil, fmt.Errorf("trailing backslash")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// nameOnly is what an error may repeat of a token: up to its first "=",
// since what follows may be a secret's value.
func nameOnly(token string) string {
	if name, _, ok := strings.Cut(token, "="); ok {
		return name + "=…"
	}
	return token
}
