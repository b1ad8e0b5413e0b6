#!/usr/bin/env bash
# Runs the whole test suite verbosely and sweeps everything it prints (test
# logs, subtest names, failure messages) for the distinctive API keys the
# tests use. Every test key contains the marker below; it must never appear.
# Tests that run the binary or capture logs assert the same on their own
# captures (TestKeyNeverAppearsInAnyOutput, TestKeyNeverLogged).
set -euo pipefail
cd "$(dirname "$0")/.."
marker="DO-NOT-LEAK"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
go test -count=1 -v ./... >"$log" 2>&1 || status=$?
if grep -n -- "$marker" "$log"; then
	echo "secret-sweep: a test key appeared in the test output (lines above)" >&2
	exit 1
fi
if [ "$status" -ne 0 ]; then
	tail -50 "$log" >&2
	echo "secret-sweep: the test suite failed" >&2
	exit "$status"
fi
echo "secret-sweep: no test key in $(wc -l <"$log") lines of verbose test output"
