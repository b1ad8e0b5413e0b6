#!/usr/bin/env bash
# Proves the promise of the layout: add a field to openapi.yaml, run
# `make generate`, and the field reaches the generated client, the MCP tool
# schema and the request the tool sends, with no hand edit anywhere.
# Works on a throwaway copy of the tree; the checkout is not touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tar -C "$root" --exclude=.git --exclude=bin --exclude=.build -cf - . | tar -C "$work" -xf -
cd "$work"

# Add a property to the create-endpoint request body.
awk '
  /^    CreateEndpointRequest:$/ { in_schema = 1 }
  { print }
  in_schema && /^      properties:$/ {
    print "        probe_field:"
    print "          type: string"
    print "          description: Added by scripts/spec-change-check.sh."
    in_schema = 0
  }
' openapi.yaml > openapi.yaml.new
mv openapi.yaml.new openapi.yaml
grep -q 'probe_field:' openapi.yaml || { echo "could not add the probe field" >&2; exit 1; }

make --no-print-directory generate >/dev/null

fail() { echo "spec-change-check: $*" >&2; exit 1; }
grep -q 'ProbeField \*string `json:"probe_field,omitempty"`' gen/client.gen.go || fail "gen/ did not gain ProbeField"
grep -q 'probe_field' mcp/tools.gen.go || fail "the tool schema did not gain probe_field"
go build ./... || fail "the tree does not build after regeneration"

body=$(go run ./cmd/vast-mcp --dry-run call create_endpoint '{"endpoint_name": "e", "probe_field": "x"}')
echo "$body" | grep -q '"probe_field": "x"' || fail "the tool did not send probe_field: $body"
echo "spec-change-check: a field added to openapi.yaml reached gen/, the tool schema and the request, with make generate alone"
