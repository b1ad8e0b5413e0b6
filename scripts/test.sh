#!/usr/bin/env bash
# README's test command (`make test`): the whole suite once, verbose into a
# log, with the race detector when cgo can build it; then the same log is
# swept for the distinctive API keys the tests use (every one contains the
# marker below; it must never appear in anything a test printed: logs,
# subtest names, failure messages). The summary shows each package's line
# and, when a test fails, its whole output.
set -uo pipefail
cd "$(dirname "$0")/.."
marker="DO-NOT-LEAK"
mkdir -p .build
log=.build/test.log

race=()
if [ "$(go env CGO_ENABLED)" = 1 ] && command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
else
	echo "test: no C compiler for cgo, so no race detector this run (install gcc to get it)" >&2
fi

go test "${race[@]}" -count=1 -v ./... >"$log" 2>&1
status=$?
grep -E '^(ok|FAIL|---|panic:|\?)' "$log" | grep -v -- '^--- PASS\|^--- SKIP'
if [ "$status" -ne 0 ]; then
	echo "test: the suite failed; the failing tests' output:" >&2
	awk '/^=== RUN/ {buf=""} {buf=buf $0 "\n"} /^--- FAIL/ {printf "%s", buf}' "$log" >&2
fi
if grep -n -- "$marker" "$log"; then
	echo "test: a test key appeared in the test output (lines above, $log)" >&2
	exit 1
fi
passed=$(grep -c -- '^\s*--- PASS' "$log")
failed=$(grep -c -- '^\s*--- FAIL' "$log")
echo "test: no test key in $(wc -l <"$log") lines of verbose output"
echo "$passed passed, $failed failed"
exit "$status"
