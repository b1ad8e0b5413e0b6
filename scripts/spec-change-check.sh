#!/usr/bin/env bash
# Proves the promise of the layout: when Vast publishes a document with a
# new field, `make vendor` takes it in and the field reaches the generated
# client, the MCP tool schema and the request the tool sends, with no hand
# edit anywhere. Works on a throwaway copy of the tree; the checkout is not
# touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 tar -cf -) | tar -C "$work" -xf -
cd "$work"

# The next published document: the create-endpoint body gains a property.
awk '
  /^  \/api\/v0\/endptjobs:$/ { in_path = 1 }
  { print }
  in_path && /^              properties:$/ {
    print "                probe_field:"
    print "                  type: string"
    print "                  description: Added by scripts/spec-change-check.sh."
    in_path = 0
  }
' openapi.yaml > next-openapi.yaml
grep -q 'probe_field:' next-openapi.yaml || { echo "could not add the probe field" >&2; exit 1; }

fail() { echo "spec-change-check: $*" >&2; exit 1; }
make --no-print-directory vendor SPEC=next-openapi.yaml >vendor-report.txt 2>&1 || { cat vendor-report.txt; fail "make vendor refused the new document"; }
grep -q 'probe_field' vendor-report.txt || { cat vendor-report.txt; fail "the vendoring report does not name the new field"; }
grep -q 'ProbeField \*string `json:"probe_field,omitempty"`' gen/client.gen.go || fail "gen/ did not gain ProbeField"
grep -q 'probe_field' mcp/tools.gen.go || fail "the tool schema did not gain probe_field"
go build ./... || fail "the tree does not build after regeneration"

body=$(go run ./cmd/vast-mcp --dry-run call create_endpoint '{"endpoint_name": "e", "probe_field": "x"}')
grep -q '"probe_field": "x"' <<<"$body" || fail "the tool did not send probe_field: $body"
echo "spec-change-check: a field in a newly published document reached gen/, the tool schema and the request, with make vendor alone"
