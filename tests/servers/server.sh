#!/usr/bin/env bash
# Start and stop the third-party test servers on 127.0.0.1, on a port the OS picks.
#
#   server.sh start NAME STATE_DIR     NAME: s3rver | azurite | moto | swift | gcs
#   server.sh stop  NAME STATE_DIR
#   server.sh moto-keys STATE_DIR      print "ACCESS SECRET" of moto's valid key pair
#
# start writes into STATE_DIR: port, pid, endpoint, log (the server's output), and for
# moto and swift keys ("ACCESS SECRET"), for gcs DIR/sa.json and DIR/user.json (credential files
# for the server's own service account and authorized user). If moto is not installed it writes
# STATE_DIR/unavailable (one line: the reason) and exits 0, so dependent tests can
# skip. See README.md here.
#
# A started server never outlives its owner: a watchdog kills it when the process that
# ran `start` (ctest, or your script; XTSTORE_SERVER_OWNER_PID overrides, 0 = none) is
# gone, or after XTSTORE_SERVER_MAX_S seconds (default 7200). stop kills it by pid
# (TERM, then KILL), checking first that the pid is still ours (not reused).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node_modules="$here/node/node_modules"
: "${XTSTORE_SERVER_MAX_S:=7200}"

die() { echo "server.sh: $*" >&2; exit 1; }
usage() { die "usage: server.sh start|stop NAME STATE_DIR | server.sh moto-keys STATE_DIR"; }

py() { python3 "$here/netutil.py" "$@"; }

# The Python that has moto (and so boto3): PATH's python3 (pyenv here), then Debian's,
# or XTSTORE_MOTO_PYTHON.
moto_python() {
  local c
  for c in ${XTSTORE_MOTO_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import moto.server, boto3' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'   # past pyenv's shims
      return 0
    fi
  done
  return 1
}

# The Python that has Swift (Debian's python3-swift): /usr/bin/python3, then PATH's
# python3, or XTSTORE_SWIFT_PYTHON. swift_node.py runs the servers with it.
swift_python() {
  local c
  for c in ${XTSTORE_SWIFT_PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import swift.cli.ringbuilder, swift.common.wsgi' >/dev/null 2>&1 &&
       command -v swift-proxy-server >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

# The Python for the GCS test server (python3-cryptography, python3-crc32c): Debian's
# /usr/bin/python3, then PATH's python3, or XTSTORE_GCS_PYTHON.
gcs_python() {
  local c
  for c in ${XTSTORE_GCS_PYTHON:-} /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import cryptography, crc32c' >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

# Kill the server recorded in $dir/pid (and its watchdog) if it is still ours.
kill_recorded() {
  local dir=$1 f pid i
  for f in pid watchdog.pid; do
    [[ -f "$dir/$f" ]] || continue
    pid=$(cat "$dir/$f" 2>/dev/null || true)
    rm -f "$dir/$f"
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    py marker "$pid" "$dir" || continue   # gone, or the pid was reused
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      py marker "$pid" "$dir" || break
      sleep 0.1
    done
    if py marker "$pid" "$dir"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

clear_state() {
  local dir=$1
  rm -rf "$dir/data"
  rm -f "$dir/port" "$dir/endpoint" "$dir/keys" "$dir/keys.tmp" "$dir/unavailable"
  rm -f "$dir/sa.json" "$dir/user.json"
}

start() {
  local name=$1 dir=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  kill_recorded "$dir"          # a stale server from an interrupted run
  clear_state "$dir"
  : >"$dir/log"
  mkdir -p "$dir/data"
  command -v curl >/dev/null || die "curl is missing (scripts/setup.sh --test installs it)"
  command -v python3 >/dev/null || die "python3 is missing (scripts/setup.sh --test installs it)"

  local -a cmd moto_env=()
  local mpy="" spy="" gpy="" probe ready_s=20
  case "$name" in
    s3rver|azurite)
      command -v node >/dev/null || die "node is missing: run scripts/setup.sh --test"
      ;;
  esac
  case "$name" in
    s3rver)
      [[ -f "$node_modules/s3rver/bin/s3rver.js" ]] ||
        die "s3rver is not installed in tests/servers/node: run scripts/setup.sh --test"
      ;;
    azurite)
      [[ -f "$node_modules/azurite/dist/src/blob/main.js" ]] ||
        die "azurite is not installed in tests/servers/node: run scripts/setup.sh --test"
      ;;
    moto)
      if ! mpy=$(moto_python); then
        echo "moto is not installed (no python3 with 'import moto.server, boto3'; set XTSTORE_MOTO_PYTHON)" \
          >"$dir/unavailable"
        echo "server.sh: moto unavailable: $(cat "$dir/unavailable")" >&2
        return 0
      fi
      # moto sums a multipart object's CRC32C with the crc32c module and, without it,
      # reports zlib's CRC-32 under that name (a false mismatch for xtstore). Debian's
      # python3-crc32c serves a pyenv Python of the same version: only that module goes
      # on moto's path.
      if ! "$mpy" -c 'import crc32c' >/dev/null 2>&1; then
        local so
        so=$(ls /usr/lib/python3/dist-packages/crc32c.cpython-"$("$mpy" -c \
               'import sys; print("%d%d" % sys.version_info[:2])')"-*.so 2>/dev/null | head -n 1)
        [[ -n "$so" ]] ||
          die "moto ($mpy) has no crc32c module and Debian's python3-crc32c does not fit it: run scripts/setup.sh --test"
        mkdir -p "$dir/pylib"
        ln -sf "$so" "$dir/pylib/"
        moto_env=(env PYTHONPATH="$dir/pylib${PYTHONPATH:+:$PYTHONPATH}")
      fi
      ;;
    swift)
      spy=$(swift_python) ||
        die "swift is not installed (apt swift-proxy swift-object swift-container" \
            "swift-account): run scripts/setup.sh --test"
      ready_s=60   # four Python servers starting at once: ~3 s idle, ~8 s on a busy machine
      ;;
    gcs)
      gpy=$(gcs_python) ||
        die "no python3 with the cryptography and crc32c modules for the gcs server" \
            "(apt python3-cryptography python3-crc32c): run scripts/setup.sh --test"
      ;;
    *) die "unknown server '$name' (s3rver, azurite, moto, swift, gcs)" ;;
  esac

  local owner=${XTSTORE_SERVER_OWNER_PID:-$PPID}
  local attempt port pid endpoint i code ok logpos
  for attempt in 1 2 3 4 5; do
    port=$(py freeport)
    case "$name" in
      s3rver)
        # Without the legacy provider, paginated ListObjectsV2 answers 500 on Node >= 17.
        cmd=(node --openssl-legacy-provider "$node_modules/s3rver/bin/s3rver.js"
             --address 127.0.0.1 --port "$port" --directory "$dir/data"
             --no-vhost-buckets --silent)
        endpoint="http://127.0.0.1:$port"
        probe="$endpoint/"
        ;;
      azurite)
        cmd=(node "$node_modules/azurite/dist/src/blob/main.js"
             --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data"
             --disableTelemetry --skipApiVersionCheck --silent)
        endpoint="http://127.0.0.1:$port/devstoreaccount1"
        probe="$endpoint?comp=list"
        ;;
      moto)
        cmd=("${moto_env[@]}" "$mpy" -m moto.server -H 127.0.0.1 -p "$port")
        endpoint="http://127.0.0.1:$port"
        probe="$endpoint/moto-api/"
        ;;
      swift)
        # One process for the node (swift_node.py): the proxy on $port, the account,
        # container and object servers on ports of their own; it writes data/ready.
        cmd=("$spy" "$here/swift_node.py" "$dir/data" "$port")
        endpoint="http://127.0.0.1:$port"
        probe="$endpoint/healthcheck"
        ;;
      gcs)
        # tests/servers/gcs: writes DIR/sa.json and DIR/user.json before it answers the probe.
        cmd=("$gpy" "$here/gcs/gcs_server.py" "$dir" "$port")
        endpoint="http://127.0.0.1:$port"
        probe="$endpoint/_test/ping"
        ;;
    esac
    logpos=$(stat -c %s "$dir/log")
    echo "== $(date -u +%FT%TZ) attempt $attempt: ${cmd[*]}" >>"$dir/log"
    # stdio away from the caller (ctest waits for its pipes to close), a marker in the
    # environment so stop can tell our pid from a reused one.
    (cd "$dir" && exec env -u AZURITE_ACCOUNTS -u INITIAL_NO_AUTH_ACTION_COUNT \
       XTSTORE_TEST_SERVER="$dir" "${cmd[@]}") >>"$dir/log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/pid"
    XTSTORE_TEST_SERVER="$dir" python3 "$here/netutil.py" watchdog "$pid" "$owner" \
      "$XTSTORE_SERVER_MAX_S" >/dev/null 2>&1 </dev/null &
    echo "$!" >"$dir/watchdog.pid"

    ok=0
    for ((i = 0; i < ready_s * 10; i++)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        break
      fi
      code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$probe" 2>/dev/null || true)
      if [[ "$code" != "000" && -n "$code" ]] && py listens "$pid" "$port" &&
         [[ "$name" != swift || -f "$dir/data/ready" ]] &&
         [[ "$name" != gcs || "$code" == 200 ]]; then
        ok=1
        break
      fi
      sleep 0.1
    done
    if ((ok)); then
      break
    fi
    kill_recorded "$dir"
    if tail -c +$((logpos + 1)) "$dir/log" |
       grep -i 'EADDRINUSE\|address already in use\|Could not bind' >/dev/null; then
      continue   # lost a race for the port with another process: pick another one
    fi
    echo "server.sh: $name did not answer on 127.0.0.1:$port within $ready_s s; log tail ($dir/log):" >&2
    tail -n 30 "$dir/log" >&2
    exit 1
  done
  ((ok)) || die "$name: no free port after 5 attempts; see $dir/log"

  if [[ "$name" == moto ]]; then
    if ! (env -u AWS_CA_BUNDLE "$mpy" "$here/moto_keys.py" "$endpoint" "$dir/keys") >>"$dir/log" 2>&1; then
      echo "server.sh: moto IAM setup failed; log tail ($dir/log):" >&2
      tail -n 30 "$dir/log" >&2
      kill_recorded "$dir"
      exit 1
    fi
  fi
  if [[ "$name" == swift ]]; then
    echo "test:tester testing" >"$dir/keys"   # tempauth's user (swift_node.py)
  fi
  echo "$port" >"$dir/port"
  echo "$endpoint" >"$dir/endpoint"   # written last: its presence means ready
}

stop() {
  local dir=$2
  [[ -d "$dir" ]] || return 0
  dir=$(cd "$dir" && pwd)
  kill_recorded "$dir"
  clear_state "$dir"
}

case "${1:-}" in
  start) (($# == 3)) || usage; start "$2" "$3" ;;
  stop) (($# == 3)) || usage; stop "$2" "$3" ;;
  moto-keys)
    (($# == 2)) || usage
    if [[ -f "$2/unavailable" ]]; then die "moto unavailable: $(cat "$2/unavailable")"; fi
    [[ -f "$2/keys" ]] || die "no moto keys in $2 (is moto started?)"
    cat "$2/keys"
    ;;
  *) usage ;;
esac
