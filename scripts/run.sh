#!/usr/bin/env bash
# Builds Flâneur and its web front-end and runs it on the embedded default: SQLite catalog and
# picture folder in ./data, map and viewer on http://127.0.0.1:5000/, API on
# http://127.0.0.1:5000/api. Extra arguments go to `flaneur serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-web.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/target}"
exec cargo run --release --bin flaneur -- serve "$@"
