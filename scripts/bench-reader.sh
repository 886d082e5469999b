#!/usr/bin/env bash
# Times the picture metadata reader against the Panoramax reference reader (geopic-tag-reader)
# on the same test pictures, both reading from memory, and prints a table of the median time
# per read of each picture with the ratio, then the median ratio over all pictures.
#
# Both sides use one method: one untimed read (lazy tables load once per process), a batch
# size doubled until a batch lasts 20 ms, then ROUNDS timed batches; the figure is the median
# of batch time / batch size. Python's side uses time.perf_counter, ours a release-mode
# example (crates/flaneur-metadata/examples/read_timing.rs).
#
# Usage: scripts/bench-reader.sh [ROUNDS]   (default 15)
# The raw results, with date, machine and commit, are kept in bench/results/reader-<date>.txt.
set -euo pipefail

rounds="${1:-15}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/flaneur"

# 1. The test pictures: every .jpg of pictures/ and pictures/cli-fixtures/, broken ones too,
# since failing fast is part of reading.
pictures="${FLANEUR_TESTDATA:-$cache/testdata}/pictures"
if [ ! -f "$pictures/1.jpg" ]; then
  echo "test pictures missing in $pictures: run scripts/fetch-testdata.sh" >&2
  exit 2
fi
mapfile -t names < <(cd "$pictures" && find . -maxdepth 2 -name '*.jpg' -type f \
  | sed 's|^\./||' | LC_ALL=C sort)

# 2. The reference reader in a cached virtual environment. 1.11.0 needs Python 3.12; on an
# older Python, 1.10.1 (the other release the reference server runs) is taken instead.
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
  ref_version="${GEOPIC_TAG_READER_VERSION:-1.11.0}"
else
  ref_version="${GEOPIC_TAG_READER_VERSION:-1.10.1}"
fi
venv="$cache/venv-geopic-tag-reader-$ref_version"
if ! "$venv/bin/python" -c 'import geopic_tag_reader' 2>/dev/null; then
  echo "installing geopic-tag-reader $ref_version in $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "geopic-tag-reader==$ref_version" >&2
fi

# 3. Our runner, built in release mode.
echo "building the release timing runner" >&2
(cd "$repo" && cargo build --quiet --release -p flaneur-metadata --example read_timing)
runner="${CARGO_TARGET_DIR:-$repo/target}/release/examples/read_timing"

# 4. Time both, the reference first.
echo "timing geopic-tag-reader $ref_version on ${#names[@]} files, $rounds rounds" >&2
ref_json=$("$venv/bin/python" - "$rounds" "$pictures" "${names[@]}" <<'PY'
import json, statistics, sys, time
from geopic_tag_reader import reader

rounds, folder, names = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

def batch_secs(data, batch):
    start = time.perf_counter()
    for _ in range(batch):
        try:
            reader.readPictureMetadata(data)
        except Exception:
            pass
    return time.perf_counter() - start

results = {}
for name in names:
    with open(f"{folder}/{name}", "rb") as f:
        data = f.read()
    try:
        reader.readPictureMetadata(data)
        outcome = "ok"
    except Exception as err:
        outcome = type(err).__name__
    batch = 1
    while batch_secs(data, batch) < 0.02:
        batch *= 2
    per_read = [batch_secs(data, batch) / batch for _ in range(rounds)]
    results[name] = {"median_us": statistics.median(per_read) * 1e6, "batch": batch,
                     "outcome": outcome}
print(json.dumps(results))
PY
)
echo "timing flaneur-metadata on the same files" >&2
our_json=$("$runner" "$rounds" "$pictures" "${names[@]}")

# 5. The table, printed and kept with what is needed to compare runs later.
mkdir -p "$repo/bench/results"
out="$repo/bench/results/reader-$(date -u +%Y-%m-%d).txt"
{
  echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine:  $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
  echo "commit:   $(git -C "$repo" describe --always --dirty)" \
    "($(git -C "$repo" status --porcelain | wc -l) changed or new files in the work tree)"
  echo "rustc:    $(rustc --version)"
  echo "python:   $("$venv/bin/python" --version), geopic-tag-reader $ref_version"
  echo "method:   median of $rounds batches of >= 20 ms each, per file, bytes in memory"
  echo
  python3 - "$ref_json" "$our_json" <<'PY'
import json, statistics, sys

ref, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'file':<32} {'reference µs':>13} {'Flâneur µs':>11} {'ratio':>8}  outcome (ref / ours)")
ratios, readable = [], []
for name in sorted(ref):
    r, o = ref[name], ours[name]
    ratio = r["median_us"] / o["median_us"]
    ratios.append(ratio)
    if r["outcome"] == "ok" and o["outcome"] == "ok":
        readable.append(ratio)
    print(f"{name:<32} {r['median_us']:>13.1f} {o['median_us']:>11.2f} {ratio:>7.0f}x"
          f"  {r['outcome']} / {o['outcome']}")
print()
print(f"median ratio, all {len(ratios)} files: {statistics.median(ratios):.0f}x")
if readable:
    print(f"median ratio, {len(readable)} files both read: {statistics.median(readable):.0f}x")
PY
  echo
  echo "raw reference: $ref_json"
  echo "raw flaneur:   $our_json"
} | tee "$out"
echo "kept in ${out#"$repo"/}" >&2
