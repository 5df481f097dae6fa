#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 30s each):
#   scripts/fuzz.sh            # all targets, 30s each
#   FUZZTIME=5m scripts/fuzz.sh
# Crashers are saved under the package's testdata/fuzz/ and replay under go test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-30s}"
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
    echo "--- $pkg $target ($fuzztime)"
    if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"; then
      status=1
    fi
  done
done
exit $status
