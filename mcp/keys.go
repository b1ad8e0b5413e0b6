package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// refuseAmbiguousKeys refuses a request that names a member twice, or in two
// spellings mcp-go reads as one ("arguments" then "Arguments"). mcp-go
// matches keys case-insensitively and keeps the last; a policy proxy in
// front may read the first or only the exact spelling, and so approve other
// values than the server acts on. Inside a tool's arguments the keys are
// data (an environment may hold both PATH and Path), so only an exact
// repeat counts there; the input schema refuses unknown spellings.
//
// It runs on every request before mcp-go decodes it; a message that is
// not JSON is left to mcp-go, which answers it with a parse error.
func refuseAmbiguousKeys(_ context.Context, _ any, message any) error {
	raw, ok := message.(json.RawMessage)
	if !ok {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return walkKeys(dec, "", true, 0)
}

// maxKeyDepth stops the walk where encoding/json stops decoding (mcp-go
// refuses deeper messages before this hook runs).
const maxKeyDepth = 10000

func walkKeys(dec *json.Decoder, path string, foldCase bool, depth int) error {
	if depth > maxKeyDepth {
		return nil
	}
	tok, err := dec.Token()
	if err != nil {
		return nil
	}
	switch tok {
	case json.Delim('['):
		for dec.More() {
			if err := walkKeys(dec, path+"[]", foldCase, depth+1); err != nil {
				return err
			}
		}
	case json.Delim('{'):
		seen := map[string]string{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := tok.(string)
			id := key
			if foldCase {
				id = foldKey(key)
			}
			if first, dup := seen[id]; dup {
				return ambiguousKey(path, first, key)
			}
			seen[id] = key
			child := strings.TrimPrefix(path+"."+key, ".")
			if err := walkKeys(dec, child, foldCase && child != "params.arguments", depth+1); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, _ = dec.Token() // the closing delimiter
	return nil
}

func ambiguousKey(path, first, second string) error {
	where := "the message"
	if path != "" {
		where = bounded(path)
	}
	if first == second {
		return fmt.Errorf("%s has the key %q twice; send each key once", where, bounded(first))
	}
	return fmt.Errorf("%s has the keys %q and %q, which vast-mcp's MCP library reads as one; send each key once, spelled exactly",
		where, bounded(first), bounded(second))
}

func bounded(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
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
