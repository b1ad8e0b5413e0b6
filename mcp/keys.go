package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// refuseAmbiguousKeys refuses a request that names a member twice, or in two
// spellings mcp-go reads as one ("arguments" then "Arguments"). mcp-go
// matches keys case-insensitively and keeps the last; a policy proxy in
// front may read the first or only the exact spelling, and so approve other
// values than the server acts on. A tool's arguments are left to the tool
// (repeatedArgumentKeys), which refuses a repeat there as a result the agent
// can act on; no other method this server answers takes params.arguments.
//
// It runs on every request before mcp-go decodes it; a message that is
// not JSON is left to mcp-go, which answers it with a parse error.
func refuseAmbiguousKeys(_ context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	var path [4]string
	k := keyScanner{data: raw, path: path[:0]}
	k.value(keysFolded, 0)
	return k.err
}

// repeatedArgumentKeys refuses tool arguments that name a key twice, at any
// depth. Keys there are data (an environment may hold both PATH and Path),
// so only an exact repeat counts; the input schema refuses unknown
// spellings.
func repeatedArgumentKeys(args []byte) error {
	var path [4]string
	path[0] = "arguments"
	k := keyScanner{data: args, path: path[:1]}
	k.value(keysExact, 0)
	return k.err
}

// keyRule is how an object's keys are compared for repeats.
type keyRule int

const (
	keysFolded    keyRule = iota // as mcp-go reads them: case-insensitively
	keysExact                    // as data: only exact repeats
	keysUnchecked                // a tool's arguments, which the tool checks
)

// maxKeyDepth stops the walk where encoding/json stops decoding (mcp-go
// refuses deeper messages before this hook runs).
const maxKeyDepth = 10000

// keyScanner walks a JSON message's objects for repeated keys. It runs on
// every request, so it reads the bytes once and allocates only for keys
// that hold escapes; what is not valid JSON it leaves to mcp-go.
type keyScanner struct {
	data []byte
	pos  int
	path []string // the keys down to the current object, for the error
	err  error
	bad  bool
}

func (k *keyScanner) space() {
	for k.pos < len(k.data) {
		switch k.data[k.pos] {
		case ' ', '\t', '\n', '\r':
			k.pos++
		default:
			return
		}
	}
}

// value walks one value, comparing the keys of its objects by rule.
func (k *keyScanner) value(rule keyRule, depth int) {
	k.space()
	if k.pos >= len(k.data) || k.err != nil || k.bad || depth > maxKeyDepth {
		k.bad = true
		return
	}
	switch k.data[k.pos] {
	case '{':
		k.object(rule, depth)
	case '[':
		k.pos++
		k.space()
		if k.pos < len(k.data) && k.data[k.pos] == ']' {
			k.pos++
			return
		}
		k.path = append(k.path, "[]")
		for !k.bad && k.err == nil {
			k.value(rule, depth+1)
			k.space()
			if k.pos >= len(k.data) {
				k.bad = true
				break
			}
			c := k.data[k.pos]
			k.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				k.bad = true
			}
		}
		k.path = k.path[:len(k.path)-1]
	case '"':
		k.str()
	default:
		for k.pos < len(k.data) && !bytes.ContainsRune([]byte(",]} \t\n\r"), rune(k.data[k.pos])) {
			k.pos++
		}
	}
}

func (k *keyScanner) object(rule keyRule, depth int) {
	k.pos++ // {
	var keys objectKeys
	for !k.bad && k.err == nil {
		k.space()
		if k.pos < len(k.data) && k.data[k.pos] == '}' {
			k.pos++
			return
		}
		if k.pos >= len(k.data) || k.data[k.pos] != '"' {
			k.bad = true
			return
		}
		key := k.str()
		if rule != keysUnchecked {
			if first, dup := keys.remember(k, key, rule == keysFolded); dup {
				k.err = ambiguousKey(joinPath(k.path), first, key)
				return
			}
		}
		k.space()
		if k.pos >= len(k.data) || k.data[k.pos] != ':' {
			k.bad = true
			return
		}
		k.pos++
		k.path = append(k.path, key)
		inner := rule
		// In every spelling mcp-go reads as params.arguments.
		if rule == keysFolded && len(k.path) == 2 && strings.EqualFold(k.path[0], "params") && strings.EqualFold(key, "arguments") {
			inner = keysUnchecked
		}
		k.value(inner, depth+1)
		k.path = k.path[:len(k.path)-1]
		k.space()
		if k.pos >= len(k.data) {
			k.bad = true
			return
		}
		c := k.data[k.pos]
		k.pos++
		if c == '}' {
			return
		}
		if c != ',' {
			k.bad = true
		}
	}
}

// objectKeys are the keys an object has named so far. Objects here are
// small: keys are compared in place until there are more than len(few),
// then kept in a map under one spelling per class.
type objectKeys struct {
	few  [16]string
	n    int
	byID map[string]string
}

// remember records key, or reports the key it repeats.
func (o *objectKeys) remember(k *keyScanner, key string, foldCase bool) (first string, dup bool) {
	if o.byID != nil {
		id := k.id(key, foldCase)
		if first, dup = o.byID[id]; !dup {
			o.byID[id] = key
		}
		return first, dup
	}
	for _, s := range o.few[:o.n] {
		if s == key || foldCase && strings.EqualFold(s, key) {
			return s, true
		}
	}
	if o.n < len(o.few) {
		o.few[o.n] = key
		o.n++
		return "", false
	}
	o.byID = make(map[string]string, 2*len(o.few))
	for _, s := range append(o.few[:], key) {
		o.byID[k.id(s, foldCase)] = s
	}
	return "", false
}

// joinPath writes a key path as the message nests it: params.arguments.x[].
func joinPath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 && p != "[]" {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// str reads a string and returns it decoded.
func (k *keyScanner) str() string {
	start := k.pos
	k.pos++
	escaped := false
	for k.pos < len(k.data) {
		switch k.data[k.pos] {
		case '\\':
			escaped = true
			k.pos += 2
			continue
		case '"':
			k.pos++
			raw := k.data[start:k.pos]
			// Decoding replaces each invalid UTF-8 sequence with U+FFFD,
			// so such a key is compared as mcp-go will read it.
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1])
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				k.bad = true
			}
			return s
		}
		k.pos++
	}
	k.bad = true
	return ""
}

func ambiguousKey(path, first, second string) error {
	where := "the message"
	if path != "" {
		where = bound(path, maxShownValue)
	}
	if first == second {
		return fmt.Errorf("%s has the key %q twice; send each key once", where, bound(first, maxShownValue))
	}
	return fmt.Errorf("%s has the keys %q and %q, which vast-mcp's MCP library reads as one; send each key once, spelled exactly",
		where, bound(first, maxShownValue), bound(second, maxShownValue))
}

// id is the spelling a key is compared under.
func (k *keyScanner) id(key string, foldCase bool) string {
	if foldCase {
		return foldKey(key)
	}
	return key
}

// foldKey maps s to one spelling per case-insensitive class, as
// strings.EqualFold compares: each rune becomes the least of its fold orbit.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
