#!/usr/bin/env bash
# Proves `make vendor` on both published documents kept in testdata/upstream,
# on a throwaway copy of the tree (the checkout is not touched):
# - the vendored document (2026-07-22) over itself changes nothing;
# - the older one (2026-05-26) is refused: its report names the path
#   changes and the missing operationIds, the overlay's slash actions are
#   listed as no longer applying, and openapi.yaml is left as it was.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
reports=$(mktemp -d)
trap 'rm -rf "$work" "$reports"' EXIT
fail() { echo "vendor-check: $*" >&2; exit 1; }

git -C "$root" ls-files -z --cached --others --exclude-standard | (cd "$root" && xargs -0 tar -cf -) | tar -C "$work" -xf -
cd "$work"
git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm snapshot

make --no-print-directory vendor SPEC=testdata/upstream/vast-openapi-2026-07-22.yaml >"$reports/same.txt" 2>&1 ||
	{ cat "$reports/same.txt"; fail "vendoring the vendored document failed"; }
grep -q '^no change$' "$reports/same.txt" || { cat "$reports/same.txt"; fail "the report should say no change"; }
[ -z "$(git status --porcelain)" ] || { git status --short; fail "vendoring the same bytes changed the tree"; }

if make --no-print-directory vendor SPEC=testdata/upstream/vast-openapi-2026-05-26.yaml >"$reports/old.txt" 2>&1; then
	cat "$reports/old.txt"; fail "vendoring 2026-05-26 should fail: the overlay's slash actions cannot apply to it"
fi
for want in \
	'createInstance       PUT /api/v0/asks/{id}  ->  PUT /api/v0/asks/{id}/' \
	'createInstance       PUT /api/v0/asks/{id}/ has no operationId' \
	'action(s) no longer apply' \
	"copy source selector \"\$.paths['/api/v0/asks/{id}']\" did not match" \
	'openapi.yaml was left as it was'; do
	grep -qF -- "$want" "$reports/old.txt" || { cat "$reports/old.txt"; fail "the 2026-05-26 report lacks: $want"; }
done
[ -z "$(git status --porcelain)" ] || { git status --short; fail "a refused vendoring changed the tree"; }
echo "vendor-check: 2026-07-22 over itself changes nothing; 2026-05-26 is refused with its path changes, missing operationIds and failing overlay actions named"
