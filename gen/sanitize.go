package gen

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Everything the API sends back is untrusted text that may reach an agent,
// a log or a person: it can echo the API key, carry a credential of its own
// (instance_api_key), hide text behind terminal escapes or bidi controls, or
// run to a megabyte. Every such string goes through one function, sanitize,
// which cleans, redacts, and only then cuts, so that no cut can split a
// secret into a fragment that escapes redaction.

// Bounds on how much of what the API said is repeated.
const (
	maxMessage   = 300 // the API's msg or detail, an HTML title, a non-JSON body
	maxCode      = 64  // the API's error code
	maxErrorText = 600 // a whole error that may quote API bytes
)

// minFragment is the shortest piece of a secret redacted wherever it occurs;
// at either end of a text, where a cut or a proxy may have split it, pieces
// down to minEdgeFragment are redacted too.
const (
	minFragment     = 8
	minEdgeFragment = 4
)

const redacted = "[REDACTED]"

// credentialName matches a field or parameter name that holds a credential,
// such as instance_api_key (x-vast-sensitive in overlay.yaml), api_key or
// session_id. TestSensitiveFieldsAreRedactedByName checks that every
// x-vast-sensitive field matches.
const credentialName = `(?:[A-Za-z0-9_.-]*(?i:key|token|secret|passw(?:or)?d|pwd|session|credential|signature)[A-Za-z0-9_.-]*|\b(?i:sid|auth))`

// The credential patterns, compiled on first use rather than at every start.
// Each runs only on text that has what a match needs (mayHold), since
// most of what the API says holds no credential at all.
var (
	// A credential's value after its name, in JSON (also escaped inside a
	// JSON string), Python repr, a query string or a header, even when the
	// text breaks off before the value ends.
	credentialValue = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`((?:\\*["'])?` + credentialName + `(?:\\*["'])?\s*[:=]\s*)` +
			`(\\*"(?:[^"\\]|\\[^"])*(?:\\*"|$)|'[^']*(?:'|$)|[^\s"',;&}\]<>)]+)`)
	})
	bearerToken = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}`)
	})
	urlUserinfo = sync.OnceValue(func() *regexp.Regexp {
		// A password may hold "/" (base64 does), so userinfo runs to the
		// last "@" before a blank or a quote: more may go, never less.
		return regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^\s@"'<>]*@`)
	})
)

// mayHold reports, for each pattern, whether text has what a match of it
// needs: a credential's ':' or '=', a scheme's 'b' and a blank, a URL's
// "://" and '@'. FuzzSanitizeSkipsOnlyWhatCannotMatch holds each to its
// pattern.
func mayHoldCredential(text string) bool { return strings.ContainsAny(text, ":=") }
func mayHoldBearer(text string) bool {
	return strings.ContainsAny(text, "bB") && strings.ContainsAny(text, " \t\n\f\r")
}
func mayHoldUserinfo(text string) bool {
	return strings.Contains(text, "://") && strings.Contains(text, "@")
}

// Sanitize makes text the API sent fit to show: control, format (bidi,
// zero-width) and other invisible characters removed, whitespace collapsed,
// credentials redacted by name and shape, and the result cut to at most
// limit characters. It knows no API key; a client redacts its own key too.
func Sanitize(text string, limit int) string { return sanitizer{}.text(text, limit) }

// sanitizer also redacts the API key, wherever it occurs and in pieces.
type sanitizer struct {
	key      string
	grams    map[string]struct{} // the key's substrings of minFragment bytes, in lower case
	alphabet *[256]bool          // the key's bytes, in either case
}

func newSanitizer(key string) sanitizer {
	s := sanitizer{}
	if len(key) >= minFragment { // a short test key would garble text; a real key is long
		s.key, s.grams = key, grams(key)
		s.alphabet = new([256]bool)
		for _, c := range []byte(strings.ToLower(key) + strings.ToUpper(key)) {
			s.alphabet[c] = true
		}
	}
	return s
}

// grams are a secret's pieces, matched without regard to ASCII case: an
// API that echoes a key in upper case still echoes the key.
func grams(secret string) map[string]struct{} {
	secret = strings.ToLower(secret)
	g := make(map[string]struct{}, len(secret))
	for i := 0; i+minFragment <= len(secret); i++ {
		g[secret[i:i+minFragment]] = struct{}{}
	}
	return g
}

func hasPiece(pieces map[string]struct{}, window string) bool {
	var lower [minFragment]byte
	for i := range lower {
		c := window[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	_, ok := pieces[string(lower[:])]
	return ok
}

// scrubAnswer removes the key from every string of a successful JSON
// answer, member names included, as each will be shown: cleaned of
// invisible characters and escapes, which could otherwise join a key's
// pieces after the check. An answer without a piece of the key is
// returned as it came; one of printable ASCII without escapes is checked
// by reading its bytes once, without decoding it.
func (s sanitizer) scrubAnswer(body []byte) []byte {
	if s.key == "" || !s.mayHoldKey(body) {
		return body
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body // not JSON: read as such, never shown
	}
	found := false
	v = s.scrubValue(v, &found)
	if !found {
		return body
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return body
	}
	return out.Bytes()
}

// mayHoldKey is false only for an answer of printable ASCII without
// escapes (what is shown of it is then its bytes) and no piece of the key.
func (s sanitizer) mayHoldKey(body []byte) bool {
	run := 0
	for i, c := range body {
		if c == '\\' || c < ' ' || c > '~' {
			return true
		}
		if !s.alphabet[c] {
			run = 0
			continue
		}
		if run++; run >= minFragment && hasPiece(s.grams, string(body[i+1-minFragment:i+1])) {
			return true
		}
	}
	return false
}

func (s sanitizer) scrubString(text string, found *bool) string {
	shown := cleanCharacters(unescapeASCII(text))
	if scrubbed := redactPieces(shown, s.grams); scrubbed != shown {
		*found = true
		return scrubbed
	}
	return text
}

func (s sanitizer) scrubValue(v any, found *bool) any {
	switch v := v.(type) {
	case string:
		return s.scrubString(v, found)
	case []any:
		for i := range v {
			v[i] = s.scrubValue(v[i], found)
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for name, value := range v {
			out[s.scrubString(name, found)] = s.scrubValue(value, found)
		}
		return out
	}
	return v
}

// text cleans, redacts and then cuts. Only a window of the input, well
// beyond limit, is read: what lies past it cannot reach the output.
func (s sanitizer) text(text string, limit int) string {
	window := 4*limit + 4*len(s.key) + 256
	if len(text) > window {
		text = text[:window]
	}
	text = cleanCharacters(unescapeASCII(text))

	// Values in credential fields are secrets too, wherever else they recur.
	secrets := []string{}
	if s.key != "" {
		secrets = append(secrets, s.key)
	}
	if mayHoldCredential(text) {
		credential := credentialValue()
		for _, m := range credential.FindAllStringSubmatch(text, -1) {
			if v := strings.Trim(m[2], `\"'`); len(v) >= minFragment && !strings.HasPrefix(v, redacted[:len(redacted)-1]) {
				secrets = append(secrets, v)
			}
		}
		// A value already redacted (text sanitized once before) stays as it is.
		text = credential.ReplaceAllStringFunc(text, func(m string) string {
			sub := credential.FindStringSubmatch(m)
			if strings.HasPrefix(strings.TrimLeft(sub[2], `\"'`), redacted[:len(redacted)-1]) {
				return m
			}
			return sub[1] + redacted
		})
	}
	if mayHoldBearer(text) {
		text = bearerToken().ReplaceAllString(text, "${1} "+redacted)
	}
	if mayHoldUserinfo(text) {
		text = urlUserinfo().ReplaceAllString(text, "${1}"+redacted+"@")
	}
	for _, secret := range secrets {
		g := s.grams
		if secret != s.key {
			g = grams(secret)
		}
		text = redactPieces(text, g)
	}

	text, cut := cutRunes(text, limit)
	for _, secret := range secrets {
		text = redactEdges(text, secret)
	}
	if cut {
		text += "…"
	}
	return text
}

// unescapeASCII writes out \u00XX escapes of printable ASCII, so that a
// secret spelt in escapes (a JSON body quoted as text) is recognised.
func unescapeASCII(text string) string {
	// Again until none is left: escapes may spell escapes.
	for strings.Contains(text, `\u00`) {
		once := unescapeASCIIOnce(text)
		if once == text {
			break
		}
		text = once
	}
	return text
}

func unescapeASCIIOnce(text string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, `\u00`)
		if i < 0 || i+6 > len(text) {
			b.WriteString(text)
			return b.String()
		}
		c, err := strconv.ParseUint(text[i+4:i+6], 16, 8)
		if err != nil || c < ' ' || c > '~' || c == '\\' {
			b.WriteString(text[:i+4])
			text = text[i+4:]
			continue
		}
		b.WriteString(text[:i])
		b.WriteByte(byte(c))
		text = text[i+6:]
	}
}

// cleanCharacters keeps printable characters and single spaces: controls
// (terminal escapes), format characters (bidi overrides, zero-width
// joiners, byte-order marks), default-ignorable and private-use code points
// are removed, and every run of whitespace becomes one space.
func cleanCharacters(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range strings.ToValidUTF8(text, "\uFFFD") {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Z, r):
			space = true
			continue
		case !unicode.IsPrint(r) || invisible(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// invisible reports printable-class characters that show as nothing.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
		r == '\u2800' // braille blank
}

// redactPieces replaces every run of text covered by a piece of the
// secret at least minFragment bytes long.
func redactPieces(text string, pieces map[string]struct{}) string {
	if len(pieces) == 0 || len(text) < minFragment {
		return text
	}
	covered := make([]bool, len(text))
	found := false
	for i := 0; i+minFragment <= len(text); i++ {
		if hasPiece(pieces, text[i:i+minFragment]) {
			for j := i; j < i+minFragment; j++ {
				covered[j] = true
			}
			found = true
		}
	}
	if !found {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if !covered[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(redacted)
		for i < len(text) && covered[i] {
			i++
		}
	}
	return b.String()
}

// redactEdges redacts a start of the secret that ends the text, and an end
// of it that starts the text: a secret split by a cut, here or upstream.
func redactEdges(text, secret string) string {
	for n := min(len(secret), len(text)); n >= minEdgeFragment; n-- {
		if strings.HasSuffix(text, secret[:n]) {
			text = text[:len(text)-n] + redacted
			break
		}
	}
	for n := min(len(secret), len(text)); n >= minEdgeFragment; n-- {
		if strings.HasPrefix(text, secret[len(secret)-n:]) {
			text = redacted + text[n:]
			break
		}
	}
	return text
}

func cutRunes(text string, limit int) (string, bool) {
	if utf8.RuneCountInString(text) <= limit {
		return text, false
	}
	i, n := 0, 0
	for n < limit {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
		n++
	}
	return strings.TrimRight(text[:i], " "), true
}

// RedactURL shows a URL without anything that may be a credential: its
// userinfo, its query and its fragment. Anything that
// does not parse is sanitized as text.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || strings.Contains(u.Path, "@") {
		// A password with "/" in it parses as a path, or not at all.
		return Sanitize(raw, maxMessage)
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" || u.ForceQuery {
		// A query may be all token (?k3y); its names are no safer.
		u.RawQuery, u.ForceQuery = redacted, false
	}
	return u.String()
}
