package mcp

import (
	"errors"
	"regexp"
	"strings"
	"sync"
)

// The image reference grammar of github.com/distribution/reference (what
// Docker and the registries accept: [domain[:port]/]path[:tag][@digest]),
// compiled on first use. That package compiles its expressions when the
// program starts, which every launch of this server paid before tools/list
// whether or not an operator listed images; TestImageReferencesAgreeWithDistribution
// and FuzzImageReference hold this copy of the grammar to it.
const (
	refAlphanumeric = `[a-z0-9]+`
	refSeparator    = `(?:[._]|__|[-]+)`
	refPathPart     = refAlphanumeric + `(?:` + refSeparator + refAlphanumeric + `)*`
	refPath         = refPathPart + `(?:/` + refPathPart + `)*`
	refDomainPart   = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refHost         = `(?:` + refDomainPart + `(?:\.` + refDomainPart + `)*|\[(?:[a-fA-F0-9:]+)\])`
	refDomain       = refHost + `(?::[0-9]+)?`
	refTag          = `[\w][\w.-]{0,127}`
	refDigest       = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`

	// maxImagePath is the longest path (the name after its domain).
	maxImagePath = 255
)

var (
	imageReference = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^((?:` + refDomain + `/)?` + refPath + `)(?::` + refTag + `)?(?:@(` + refDigest + `))?$`)
	})
	imageDomain = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^` + refDomain + `$`) })
)

// digestHexLength is the encoded length of each digest algorithm the
// registries accept, in lowercase hex.
var digestHexLength = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

var (
	errImageFormat = errors.New("not an image reference")
	errImagePath   = errors.New("image path longer than 255 characters")
	errImageDigest = errors.New("digest is not sha256, sha384 or sha512 in lowercase hex of its length")
)

// parseImageReference accepts exactly what reference.Parse accepts.
func parseImageReference(s string) error {
	m := imageReference().FindStringSubmatch(s)
	if m == nil {
		return errImageFormat
	}
	name, digest := m[1], m[2]
	path := name
	if domain, rest, ok := strings.Cut(name, "/"); ok && imageDomain().MatchString(domain) {
		path = rest
	}
	if len(path) > maxImagePath {
		return errImagePath
	}
	if digest != "" {
		algorithm, hex, _ := strings.Cut(digest, ":")
		if n, ok := digestHexLength[algorithm]; !ok || len(hex) != n || strings.ContainsFunc(hex, isUpperHex) {
			return errImageDigest
		}
	}
	return nil
}

func isUpperHex(r rune) bool { return 'A' <= r && r <= 'F' }
