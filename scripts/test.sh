#!/usr/bin/env bash
# Runs every test: unit tests, the storage tests (against PostgreSQL with PostGIS and a
# SeaweedFS S3 server too, started here on loopback and stopped at the end), integration tests that start the real server and drive it over HTTP with
# real pictures (run twice: on the embedded storage, then on PostgreSQL + S3), the real Panoramax command-line uploader, the STAC API validator and
# the OpenAPI document validator, then the browser tests of the web front-end (Chromium on the
# map, the viewer, the upload page, the logins and the account's pages) and of the API
# description page.
#
# It installs what it needs (build tools, the uploader, the validators and pystac-client in
# virtual environments), fetches the test pictures once into a cache, and keeps the build in a
# cache folder outside the clone.
# Extra arguments go to `cargo test`. The browser test keeps its screenshots in
# web/test-output/.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$(scripts/install-deps.sh --test)"
FLANEUR_PANORAMAX_CLI="$(sed -n 1p <<<"$tools")"
FLANEUR_STAC_API_VALIDATOR="$(sed -n 2p <<<"$tools")"
FLANEUR_PYSTAC_CLIENT_PYTHON="$(sed -n 3p <<<"$tools")"
FLANEUR_OPENAPI_SPEC_VALIDATOR="$(sed -n 4p <<<"$tools")"
FLANEUR_TESTDATA="$(scripts/fetch-testdata.sh)"
export FLANEUR_PANORAMAX_CLI FLANEUR_STAC_API_VALIDATOR FLANEUR_PYSTAC_CLIENT_PYTHON
export FLANEUR_OPENAPI_SPEC_VALIDATOR
export FLANEUR_TESTDATA
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/target}"

# The scale-out backends' servers, for this run only: the tests fail rather than skip when
# they are missing.
services_dir="$(mktemp -d "${TMPDIR:-/tmp}/flaneur-services.XXXXXX")"
trap 'scripts/services.sh stop "$services_dir"; rm -rf "$services_dir"' EXIT
set -a
# shellcheck disable=SC1091
source <(scripts/services.sh start "$services_dir")
set +a
export FLANEUR_REQUIRE_SERVICES=1

# The API tests run here on the embedded storage, the scale-out test (two API processes and
# two workers on PostgreSQL + S3, which picks its own storage) among them.
cargo test --workspace "$@"

# The API tests again, every server they start keeping its catalog in a fresh PostgreSQL
# database and its pictures under a fresh prefix of the S3 bucket. The scale-out test ran
# above on the same storage: it is skipped here. Arguments after `--` go to the test binary,
# so the skip joins them.
cargo_args=()
test_args=()
for arg in "$@"; do
  if [ "${#test_args[@]}" -gt 0 ] || [ "$arg" = -- ]; then
    test_args+=("$arg")
  else
    cargo_args+=("$arg")
  fi
done
[ "${#test_args[@]}" -gt 0 ] || test_args=(--)
FLANEUR_TEST_BACKEND=postgres-s3 cargo test -p flaneur --test api "${cargo_args[@]}" \
  "${test_args[@]}" --skip scale_out::

# The browser test runs the debug binary the integration tests just built.
scripts/build-web.sh
FLANEUR_BIN="$CARGO_TARGET_DIR/debug/flaneur" npm --prefix web test
