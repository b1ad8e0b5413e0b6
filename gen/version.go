package gen

import (
	_ "embed"
	"strings"
)

//go:embed VERSION
var versionFile string

// Version names this build in the User-Agent, in vast-mcp --version, in
// the MCP serverInfo and in server.json. Its one source is the file
// gen/VERSION, embedded so that go build, go install and make all agree;
// a test holds server.json to it.
var Version = strings.TrimSpace(versionFile)
