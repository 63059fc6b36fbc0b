#!/usr/bin/env bash
# Runs every fuzz target of the module, one after another, for FUZZTIME
# each (default 30s): FUZZTIME=10s scripts/fuzz.sh. Arguments replace the
# package list: scripts/fuzz.sh ./media/...
#
# A failing input is written by go test to the package's
# testdata/fuzz/<Target>/, where it stays as a seed that every plain
# `go test` replays. The script lists the inputs it added and exits 1
# when there are any, or when a target failed for another reason.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
if [[ $# -eq 0 ]]; then
	set -- ./...
fi

corpus() { find . -path '*/testdata/fuzz/*' -type f -print | sort; }

before=$(mktemp)
trap 'rm -f "$before"' EXIT
corpus >"$before"

# One listing builds the packages in parallel: each prints its targets,
# then "ok <package>"; the pairs come out as "<package> <target>".
pairs=$(go test -list '^Fuzz' "$@" | awk '
	/^Fuzz/ { names[n++] = $1; next }
	/^ok/ { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }
')

failed=()
targets=0
while read -r pkg target; do
	[[ -n $target ]] || continue
	targets=$((targets + 1))
	echo "== $pkg $target ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" </dev/null; then
		failed+=("$pkg $target")
	fi
done <<<"$pairs"

added=$(comm -13 "$before" <(corpus))
echo "scripts/fuzz.sh: $targets targets, $fuzztime each"
if [[ -n $added ]]; then
	echo "new failing inputs, kept as seeds (fix the code, then commit them):"
	echo "$added" | sed 's/^/  /'
fi
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "failed targets:"
	printf '  %s\n' "${failed[@]}"
fi
if [[ -n $added || ${#failed[@]} -gt 0 ]]; then
	exit 1
fi
