#!/usr/bin/env bash
# The project's one test command. It builds the MinIO server the tests run
# against into .cache/bin and installs Debian's chromium when it is missing,
# so a fresh clone on Debian needs nothing but Go.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
bin_dir=$root/.cache/bin

# The version file, not the binary alone, decides whether to rebuild, so
# bumping minio_version above takes effect on every machine.
if [[ ! -x $bin_dir/minio || "$(cat "$bin_dir/minio.version" 2>/dev/null)" != "$minio_version" ]]; then
	echo "scripts/test.sh: installing github.com/minio/minio@$minio_version into .cache/bin" >&2
	mkdir -p "$bin_dir"
	GOBIN=$bin_dir go install "github.com/minio/minio@$minio_version"
	echo "$minio_version" >"$bin_dir/minio.version"
fi

export FIELDSYNC_MINIO_BIN=$bin_dir/minio

# The reference tus client, driven from Go tests under Node.
tus_js_version=4.3.1
node_dir=$root/.cache/node
if [[ "$(cat "$node_dir/tus-js-client.version" 2>/dev/null)" != "$tus_js_version" ]]; then
	echo "scripts/test.sh: installing tus-js-client@$tus_js_version into .cache/node" >&2
	mkdir -p "$node_dir"
	npm install --silent --no-audit --no-fund --prefix "$node_dir" "tus-js-client@$tus_js_version" >&2
	echo "$tus_js_version" >"$node_dir/tus-js-client.version"
fi
export FIELDSYNC_NODE_MODULES=$node_dir/node_modules

# Debian's Chromium, which the page tests drive headless (internal/browsertest).
if [[ ! -x /usr/bin/chromium ]]; then
	echo "scripts/test.sh: installing Debian's chromium" >&2
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		sudo=sudo
	fi
	$sudo apt-get install -y chromium >&2 || $sudo sh -c 'apt-get update && apt-get install -y chromium' >&2 || true
fi
if [[ ! -x /usr/bin/chromium && "${CI:-}" == "true" ]]; then
	echo "scripts/test.sh: /usr/bin/chromium is missing and CI=true: the page tests need it" >&2
	exit 1
fi

if [[ $# -eq 0 ]]; then
	set -- ./...
fi
exec go test -race -count=1 -timeout 30m "$@"
