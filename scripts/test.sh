#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests that start the real server and drive it
# over HTTP with real pictures and the real Panoramax command-line uploader.
#
# It installs what it needs (build tools, the uploader in a virtual environment), fetches the
# test pictures once into a cache, and keeps the build in a cache folder outside the clone.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

FLANEUR_PANORAMAX_CLI="$(scripts/install-deps.sh --test)"
FLANEUR_TESTDATA="$(scripts/fetch-testdata.sh)"
export FLANEUR_PANORAMAX_CLI FLANEUR_TESTDATA
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/target}"

cargo test --workspace "$@"
