#!/usr/bin/env bash
# Builds the web front-end into web/dist, the folder `flaneur serve` serves by default: the
# npm packages of web/package-lock.json are installed when they changed (in web/node_modules),
# then web/build.mjs assembles the pages, the Panoramax viewer and the offline base map.
# Needs Node.js 18 or later and npm (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../web"

installed=node_modules/.package-lock.json
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ]; then
  echo "installing the front-end's npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
npm run --silent build >&2
