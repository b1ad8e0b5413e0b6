package deploy_test

import (
	"encoding/json"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parsedDockerfile is what the checks need from ../Dockerfile. No Docker
// engine runs in CI, so the image itself is not built here.
type parsedDockerfile struct {
	from       []string // each stage's base image
	run        []string
	user       string
	labels     map[string]string
	entrypoint []string
	cmd        []string
}

var labelPair = regexp.MustCompile(`([A-Za-z0-9._/-]+)="([^"]*)"`)

func dockerfile(t *testing.T) parsedDockerfile {
	t.Helper()
	raw, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	d := parsedDockerfile{labels: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instruction, args, _ := strings.Cut(line, " ")
		args = strings.TrimSpace(args)
		switch strings.ToUpper(instruction) {
		case "FROM":
			d.from = append(d.from, strings.Fields(args)[0])
		case "RUN":
			d.run = append(d.run, args)
		case "USER":
			d.user = args
		case "LABEL":
			for _, m := range labelPair.FindAllStringSubmatch(args, -1) {
				d.labels[m[1]] = m[2]
			}
		case "ENTRYPOINT":
			require.NoError(t, json.Unmarshal([]byte(args), &d.entrypoint), "ENTRYPOINT in exec form")
		case "CMD":
			require.NoError(t, json.Unmarshal([]byte(args), &d.cmd), "CMD in exec form")
		}
	}
	return d
}

func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	d := dockerfile(t)
	require.GreaterOrEqual(t, len(d.from), 2, "a builder stage and a final stage")
	assert.True(t, strings.HasPrefix(d.from[0], "golang:"), d.from[0])
	final := d.from[len(d.from)-1]
	assert.True(t, strings.HasPrefix(final, "gcr.io/distroless/static") || final == "scratch", "a minimal final image, not %s", final)

	build := slices.IndexFunc(d.run, func(r string) bool { return strings.Contains(r, "go build") })
	require.GreaterOrEqual(t, build, 0)
	assert.Contains(t, d.run[build], "CGO_ENABLED=0", "static: nothing to load from a C library the image lacks")
	assert.Contains(t, d.run[build], "-trimpath")

	uid, _, _ := strings.Cut(d.user, ":")
	require.NotEmpty(t, uid, "USER is set")
	assert.NotContains(t, []string{"0", "root"}, uid)

	require.Len(t, d.entrypoint, 1)
	assert.True(t, strings.HasSuffix(d.entrypoint[0], "/vast-mcp"))
	assert.Equal(t, "http", flagValue(t, d.cmd, "--transport"))
}

// servedPort is the port the image's default command listens on.
func servedPort(t *testing.T) int {
	t.Helper()
	_, port, err := net.SplitHostPort(flagValue(t, dockerfile(t).cmd, "--addr"))
	require.NoError(t, err)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}

func TestImageListensOnAllInterfaces(t *testing.T) {
	host, _, err := net.SplitHostPort(flagValue(t, dockerfile(t).cmd, "--addr"))
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0", host, "a container must listen beyond its loopback to be reached")
}

func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	t.Fatalf("%s is not among %q", name, args)
	return ""
}
