#!/usr/bin/env bash
# Times picture ingestion: how many pictures per second the workers turn from "upload set
# completed" into "every picture ready", with 1, 2 and 4 `flaneur worker` processes on
# PostgreSQL + S3 (the servers of scripts/services.sh) and with the embedded default (SQLite and
# a folder, `flaneur serve` with 1, 2 and 4 workers of its own), on the same pictures, with the
# release build. Prints a table with the ratios and adds it to bench/results/ingest-DATE.md.
#
# Each run uploads the set to an API process running no worker (so that the upload time is the
# API's alone and every job is still queued when the set is completed), then starts the workers
# and polls the upload set until it says `ready`. On PostgreSQL the API process keeps running
# beside the worker processes; embedded, it is stopped and `flaneur serve --workers N` is
# started on the same data folder, so its start-up (a fraction of a second) is in the figure.
#
# The pictures: 100 flat ones (the 1920x1080, 4288x3216 and 4104x2736 test pictures in turn)
# and 10 360° ones (5760x2880), copied from the test pictures with exiftool giving each copy a
# position and capture time of its own (3 m and 2 s apart, in two sequences), so that no copy
# is a duplicate of another by bytes or by place. They are made once into the cache.
#
# Usage: scripts/bench-ingest.sh [RUNS]   (default 2: each configuration runs RUNS times)
# Needs exiftool, curl, python3 and the programs of scripts/install-deps.sh --test.
set -euo pipefail
shopt -s inherit_errexit

runs="${1:-2}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/flaneur"
testdata="${FLANEUR_TESTDATA:-$cache/testdata}/pictures"
worker_counts=(1 2 4)
parallel_uploads=4

if [ ! -f "$testdata/1.jpg" ]; then
  echo "test pictures missing in $testdata: run scripts/fetch-testdata.sh" >&2
  exit 2
fi
if ! command -v exiftool >/dev/null; then
  echo "exiftool missing: run scripts/install-deps.sh --test" >&2
  exit 2
fi

# 1. The picture set, made once: one exiftool process writes every copy.
pictures="$cache/bench-ingest-pictures-v1"
if [ ! -f "$pictures/.complete" ]; then
  echo "making the picture set in $pictures" >&2
  rm -rf "$pictures" && mkdir -p "$pictures"
  python3 - "$testdata" "$pictures" >"$pictures/.args" <<'PY'
import datetime, sys
src, dst = sys.argv[1], sys.argv[2]
flat = ["e1", "b1", "e2", "c1", "e3", "b2", "e4", "e5"]
sphere = ["1", "2", "3", "4", "5"]
def copy(name, source, lat, lon, when):
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    for arg in [f"-DateTimeOriginal={stamp}", "-OffsetTimeOriginal=+00:00",
                "-SubSecTimeOriginal=", f"-GPSDateStamp={when:%Y:%m:%d}",
                f"-GPSTimeStamp={when:%H:%M:%S}", f"-GPSLatitude={lat:.7f}",
                "-GPSLatitudeRef=N", f"-GPSLongitude={lon:.7f}", "-GPSLongitudeRef=E",
                "-o", f"{dst}/{name}.jpg", f"{src}/{source}.jpg", "-execute"]:
        print(arg)
start = datetime.datetime(2024, 5, 1, 9, 0, 0)
for i in range(100):
    copy(f"flat-{i:03}", flat[i % len(flat)], 48.85 + i * 0.000027, 2.35,
         start + datetime.timedelta(seconds=2 * i))
for i in range(10):
    copy(f"sphere-{i:03}", sphere[i % len(sphere)], 48.86 + i * 0.000027, 2.36,
         start + datetime.timedelta(hours=1, seconds=2 * i))
PY
  # -m: some sources carry maker notes exiftool cannot rewrite, which it takes as minor.
  exiftool -@ "$pictures/.args" -common_args -q -q -m
  rm "$pictures/.args"
  made=$(find "$pictures" -maxdepth 1 -name '*.jpg' | wc -l)
  [ "$made" -eq 110 ] || { echo "exiftool made $made pictures of 110" >&2; exit 1; }
  touch "$pictures/.complete"
fi
mapfile -t files < <(find "$pictures" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort)
count=${#files[@]}
set_mb=$(du -cm "${files[@]}" | tail -1 | cut -f1)

# 2. The release binary.
echo "building the release binary" >&2
(cd "$repo" && cargo build --quiet --release -p flaneur)
bin="${CARGO_TARGET_DIR:-$repo/target}/release/flaneur"

# 3. A scratch folder, the PostgreSQL and S3 servers, and a way to stop all we started.
work=$(mktemp -d "${TMPDIR:-/tmp}/flaneur-bench-ingest.XXXXXX")
chmod 755 "$work" # PostgreSQL runs as its own account when we are root
pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  stop_all
  "$repo/scripts/services.sh" stop "$work/services" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "starting PostgreSQL and SeaweedFS" >&2
"$repo/scripts/services.sh" start "$work/services" >"$work/services.env"
# shellcheck disable=SC1091
set -a && . "$work/services.env" && set +a
export AWS_ACCESS_KEY_ID="$FLANEUR_TEST_S3_ACCESS_KEY"
export AWS_SECRET_ACCESS_KEY="$FLANEUR_TEST_S3_SECRET_KEY"
s3_endpoint=$(python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' \
  "$FLANEUR_TEST_S3_ENDPOINT")
s3_options="endpoint_url=$s3_endpoint&region=$FLANEUR_TEST_S3_REGION"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Starts a flaneur process in the background, its output in a log of the run.
spawn() {
  local log=$1
  shift
  "$bin" "$@" >>"$log" 2>&1 &
  pids+=($!)
}

wait_api() {
  local api=$1 tries=0
  until curl -sf -o /dev/null "$api/api"; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] || { echo "the API at $api did not start" >&2; exit 1; }
    sleep 0.1
  done
}

# Sends every picture to a new upload set, then completes it; prints the set's id.
upload() {
  local api=$1 id
  id=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"title": "bench"}' \
    "$api/api/upload_sets" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  printf '%s\0' "${files[@]}" | xargs -0 -P "$parallel_uploads" -I '{}' \
    curl -sf -o /dev/null -F 'file=@{};type=image/jpeg' "$api/api/upload_sets/$id/files"
  curl -sf -o /dev/null -X POST "$api/api/upload_sets/$id/complete"
  echo "$id"
}

# Polls the upload set until it is ready; fails when a picture was refused or broke.
wait_ready() {
  local api=$1 id=$2
  python3 - "$api/api/upload_sets/$id" "$count" <<'PY'
import json, sys, time, urllib.request
url, expected = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 3600
while time.monotonic() < deadline:
    with urllib.request.urlopen(url) as answer:
        state = json.load(answer)
    status = state["items_status"]
    if status["broken"] or status["rejected"]:
        sys.exit(f"pictures refused or broken: {status}")
    if state.get("ready") and status["prepared"] == expected:
        sys.exit(0)
    time.sleep(0.2)
sys.exit(f"not ready after an hour: {status}")
PY
}

results="$work/results.tsv"
# 4. One run: upload with no worker, then time the workers.
run_one() {
  local backend=$1 workers=$2 round=$3
  local name="$backend-$workers-$round"
  local dir="$work/$name" port api log id t0 t1 t2 t3 load
  mkdir -p "$dir"
  log="$dir/log"
  port=$(free_port)
  api="http://127.0.0.1:$port"
  local storage=()
  if [ "$backend" = postgres ]; then
    local db="bench_${workers}_$round"
    psql -q -X -v ON_ERROR_STOP=1 "$FLANEUR_TEST_DATABASE_URL" \
      -c "CREATE DATABASE $db TEMPLATE flaneur_template" >/dev/null
    storage=(--db-url "${FLANEUR_TEST_DATABASE_URL%/*}/$db"
      --fs-url "s3://$FLANEUR_TEST_S3_BUCKET/bench-$name?$s3_options")
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)

  spawn "$log" serve --no-workers --listen "127.0.0.1:$port" --data-dir "$dir/api" \
    --web-dir "$dir/no-web" "${storage[@]}"
  wait_api "$api"
  t0=$(now)
  id=$(upload "$api")
  t1=$(now)

  if [ "$backend" = postgres ]; then
    for k in $(seq "$workers"); do
      spawn "$log" worker --workers 1 --data-dir "$dir/worker-$k" "${storage[@]}"
    done
    t2=$t1
  else
    stop_all
    t2=$(now)
    spawn "$log" serve --workers "$workers" --listen "127.0.0.1:$port" --data-dir "$dir/api" \
      --web-dir "$dir/no-web"
    wait_api "$api"
  fi
  wait_ready "$api" "$id"
  t3=$(now)
  stop_all

  local upload_secs ready_secs
  upload_secs=$(elapsed "$t0" "$t1")
  ready_secs=$(elapsed "$t2" "$t3")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$workers" "$round" "$upload_secs" \
    "$ready_secs" "$load" >>"$results"
  echo "$backend, $workers worker(s), run $round: upload $upload_secs s," \
    "ready $ready_secs s later (load $load)" >&2
  rm -rf "$dir"
}

# Rounds outside, configurations inside, so that a change of the machine's load spreads over
# every configuration rather than falling on one.
echo "timing ingestion of $count pictures ($set_mb MB), $runs rounds" >&2
for round in $(seq "$runs"); do
  for workers in "${worker_counts[@]}"; do
    for backend in embedded postgres; do
      run_one "$backend" "$workers" "$round"
    done
  done
done

# 5. The table, printed and added to the day's results file with what is needed to compare
#    runs later.
mkdir -p "$repo/bench/results"
out="$repo/bench/results/ingest-$(date -u +%Y-%m-%d).md"
[ -f "$out" ] || printf '# Picture ingestion\n' >"$out"
{
  echo
  echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs))," \
    "$(free -g | awk '/^Mem:/ {print $2}') GB RAM; load average at the start of each run below"
  echo "- commit: $(git -C "$repo" describe --always --dirty), release build"
  echo "- pictures: $count ($((count - 10)) flat, 10 360°), $set_mb MB, sent" \
    "$parallel_uploads at a time with curl"
  echo "- command: \`scripts/bench-ingest.sh $runs\`"
  echo
  python3 - "$results" "$count" <<'PY'
import collections, statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
count = int(sys.argv[2])
by = collections.defaultdict(list)
for backend, workers, run, upload, ready, load in rows:
    by[(backend, int(workers))].append((int(run), float(upload), float(ready), float(load)))
def rate(key):
    return count / statistics.median(r[2] for r in by[key])
name = {"embedded": "embedded (SQLite, folder)", "postgres": "PostgreSQL + S3"}
unit = {"embedded": lambda n: f"{n} in `serve`",
        "postgres": lambda n: f"{n} `worker` process" + ("es" if n > 1 else "")}
print("| storage | workers | upload s | ready s | pictures/s | vs 1 worker | vs embedded "
      "| load at start |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for backend in ("embedded", "postgres"):
    for workers in sorted({w for b, w in by if b == backend}):
        runs = sorted(by[(backend, workers)])
        cell = lambda i: " / ".join(f"{r[i]:.1f}" for r in runs)
        vs_one = rate((backend, workers)) / rate((backend, 1))
        vs_embedded = rate((backend, workers)) / rate(("embedded", workers))
        print(f"| {name[backend]} | {unit[backend](workers)} | {cell(1)} | {cell(2)} "
              f"| {rate((backend, workers)):.2f} | {vs_one:.2f}x | {vs_embedded:.2f}x "
              f"| {cell(3)} |")
print()
print("Upload and ready times are given run by run; pictures/s is the pictures over the median")
print("ready time; the ratios compare those rates with one worker of the same storage, and with")
print("the embedded instance running as many workers.")
PY
} | tee -a "$out"
echo "added to ${out#"$repo"/}" >&2
