package mcp

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/stretchr/testify/assert"
)

// imageReferenceCases are spellings at each edge of the grammar: domains,
// ports, IPv6, separators, tag and path lengths, digests of each
// algorithm and case.
var imageReferenceCases = []string{
	"", "ubuntu", "ubuntu:22.04", "library/ubuntu", "docker.io/library/ubuntu:latest",
	"vastai/pytorch:2.1-cuda12", "localhost:5000/app", "localhost/app", "Localhost/app",
	"[::1]:5000/app", "[::1]/app", "[fe80::1%eth0]/app", "127.0.0.1:5000/a/b/c",
	"registry.example.com:443/team/app:v1", "-bad/app", "bad-/app", "a.-b/app", "a-b.c/d",
	"UPPER", "Upper/app", "app/Upper", "a_b/c", "a__b", "a___b", "a--b", "a..b", "a._b", "a/", "/a", "a//b",
	"a:", "a:-tag", "a:.tag", "a:_tag", "a:" + strings.Repeat("t", 128), "a:" + strings.Repeat("t", 129),
	strings.Repeat("a", 255), strings.Repeat("a", 256), "d/" + strings.Repeat("a", 255), "d/" + strings.Repeat("a", 256),
	"d_/" + strings.Repeat("a", 253), "d_/" + strings.Repeat("a", 254),
	"a@sha256:" + strings.Repeat("a", 64), "a@sha256:" + strings.Repeat("A", 64), "a@sha256:" + strings.Repeat("a", 63),
	"a@sha384:" + strings.Repeat("0", 96), "a@sha512:" + strings.Repeat("f", 128), "a@md5:" + strings.Repeat("a", 32),
	"a:tag@sha256:" + strings.Repeat("b", 64), "a@sha256+b64:" + strings.Repeat("a", 64), "@sha256:" + strings.Repeat("a", 64),
	"a b", "a\tb", "a\x00", "a\n", "ubuntu:22.04\n", "a:tag:tag", "a@@sha256:" + strings.Repeat("a", 64), "é/app",
}

func TestImageReferencesAgreeWithDistribution(t *testing.T) {
	for _, image := range imageReferenceCases {
		_, want := reference.Parse(image)
		got := parseImageReference(image)
		assert.Equal(t, want == nil, got == nil, "%q: distribution/reference says %v, parseImageReference %v", image, want, got)
	}
}

// FuzzImageReference holds the grammar compiled on first use to
// distribution/reference, the one registries follow.
func FuzzImageReference(f *testing.F) {
	for _, image := range imageReferenceCases {
		f.Add(image)
	}
	f.Fuzz(func(t *testing.T, image string) {
		_, want := reference.Parse(image)
		if got := parseImageReference(image); (want == nil) != (got == nil) {
			t.Fatalf("%q: distribution/reference says %v, parseImageReference %v", image, want, got)
		}
	})
}
