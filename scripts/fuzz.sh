#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 30s),
# one at a time (go test fuzzes one target per run). New inputs that
# fail are written to the package's testdata/fuzz, as go test does.
# Usage: scripts/fuzz.sh [FUZZTIME]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-${FUZZTIME:-30s}}"
go="${GO:-go}"
n=0
while IFS=: read -r file _ line; do
	target="${line#func }"
	target="${target%%(*}"
	pkg="./$(dirname "$file")"
	echo "fuzz: $pkg $target for $fuzztime" >&2
	"$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	n=$((n + 1))
done < <(grep -rn --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' . | sed 's#^\./##' | sort)
if [ "$n" -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: $n targets fuzzed for $fuzztime each" >&2
