#!/usr/bin/env bash
# Proves that adding a tool is an overlay entry plus `make generate`: in a
# throwaway copy of the tree it declares one new GET (listVolumes) and one
# new DELETE (deleteSshKey) of Vast's published document, edits no Go, and
# checks that each becomes a working tool: listed with the right
# annotations, validated, dry-run, answered in the sandbox, and sent
# correctly to a fake API.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "${fake_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "declare-check: $*" >&2; exit 1; }

git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 tar -cf -) | tar -C "$work" -xf -
cd "$work"
before=$(find . -name '*.go' ! -name '*.gen.go' -exec sha256sum {} + | sort)

# The declarations: two operation ids, two overlay actions.
sed -i 's/^    - createEndpoint$/    - createEndpoint\n    - deleteSshKey\n    - listVolumes/' oapi-codegen.yaml
cat >>overlay.yaml <<'YAML'
  - target: $.paths['/api/v0/volumes'].get
    description: Declared by scripts/declare-check.sh.
    update:
      x-mcp-tool:
        name: list_volumes
        title: List volumes
        kind: read
        toolset: instances
        result:
          line: The account's volumes
        description: List the account's storage volumes.
  - target: $.paths['/api/v0/ssh/{id}'].delete
    description: Declared by scripts/declare-check.sh.
    update:
      x-mcp-tool:
        name: delete_ssh_key
        title: Delete SSH key
        kind: destroy
        toolset: account
        arguments:
          id: ssh_key_id
        result:
          line: Deleted SSH key {ssh_key_id}
        description: Remove one of the account's SSH keys.
YAML
make --no-print-directory generate >/dev/null || fail "make generate failed"
[ "$before" = "$(find . -name '*.go' ! -name '*.gen.go' -exec sha256sum {} + | sort)" ] || fail "hand-written Go changed"
go build -o vast-mcp ./cmd/vast-mcp || fail "the tree does not build"

# Listed, with the kind's annotations.
listing=$(printf '%s\n' \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"declare-check","version":"0"}}}' \
	'{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	'{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | ./vast-mcp --sandbox 2>/dev/null | grep '"id":2')
python3 - "$listing" <<'PY' || fail "tools/list lacks the new tools or their annotations"
import json, sys
tools = {t["name"]: t for t in json.loads(sys.argv[1])["result"]["tools"]}
assert tools["list_volumes"]["annotations"]["readOnlyHint"] is True, tools["list_volumes"]
assert tools["list_volumes"]["annotations"]["idempotentHint"] is True
assert tools["delete_ssh_key"]["annotations"]["destructiveHint"] is True, tools["delete_ssh_key"]
assert tools["delete_ssh_key"]["annotations"]["readOnlyHint"] is False
assert "ssh_key_id" in tools["delete_ssh_key"]["inputSchema"]["required"]
PY

# Validated: nothing is sent for a bad argument.
if out=$(VAST_API_KEY=k ./vast-mcp --confirm=none call delete_ssh_key '{"ssh_key_id": "seven"}' 2>&1); then fail "a bad ssh_key_id was accepted: $out"; fi
grep -q 'ssh_key_id' <<<"$out" || fail "the refusal does not name ssh_key_id: $out"

# Dry run: the exact request.
out=$(./vast-mcp --dry-run --confirm=none call delete_ssh_key '{"ssh_key_id": 7}')
grep -q '"method": "DELETE"' <<<"$out" && grep -q '/api/v0/ssh/7"' <<<"$out" || fail "dry run: $out"

# Sandbox: answered from the spec's examples.
out=$(./vast-mcp --sandbox call list_volumes '{}')
grep -q "The account's volumes" <<<"$out" || fail "sandbox list_volumes: $out"
out=$(./vast-mcp --sandbox --confirm=none call delete_ssh_key '{"ssh_key_id": 7}')
grep -q 'Deleted SSH key 7' <<<"$out" || fail "sandbox delete_ssh_key: $out"

# Sent to the API as declared.
coproc fake { go run ./internal/fakeapi/serve -log "$work/requests.log" -body '{"success": true, "volumes": []}'; }
fake_pid=$fake_PID
read -r url <&"${fake[0]}"
VAST_URL=$url VAST_API_KEY=k ./vast-mcp call list_volumes '{}' >/dev/null || fail "list_volumes against the fake API"
VAST_URL=$url VAST_API_KEY=k ./vast-mcp --confirm=none call delete_ssh_key '{"ssh_key_id": 7}' >/dev/null || fail "delete_ssh_key against the fake API"
grep -qx 'GET /api/v0/volumes ' requests.log || fail "list_volumes sent: $(cat requests.log)"
grep -qx 'DELETE /api/v0/ssh/7 ' requests.log || fail "delete_ssh_key sent: $(cat requests.log)"
echo "declare-check: a new GET and a new DELETE became working tools with an overlay entry each and make generate, no Go edited"
