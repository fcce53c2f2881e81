#!/usr/bin/env bash
# bench/run.sh -- `xtstore bench` on the peer baseline's workloads (one
# 256 MiB object; 2000 x 4 KiB objects) against the local provider, and
# against s3rver and Azurite when the S3 and Azure providers are built
# (build/plugins/store-s3.so, store-azure.so); then a table of wall MB/s,
# files/s, client CPU seconds and peak RSS next to the peers' numbers. A
# benchmark, not a test: nothing is asserted. See bench/README.md.
#
#   bench/run.sh [OUT_DIR]          (default: a new /tmp/xtstore-bench.*)
#
# Environment:
#   BUILD_DIR    build tree to build the CLI and plugins in (default: build)
#   RUNS         runs of each workload; the median is shown (default 3)
#   TRANSFERS    xtstore operations in flight (default 8)
#   BIG          size of the big object (default 256M)
#   SMALL_COUNT  number of 4 KiB objects (default 2000)
#   PEERS        1 (default): also time the peer clients found installed
#                (aws v2 and rclone on s3rver, az on Azurite, cp locally) on
#                the same servers; 0: only quote the baseline
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
runs=${RUNS:-3}
transfers=${TRANSFERS:-8}
big=${BIG:-256M}
small_count=${SMALL_COUNT:-2000}
peers=${PEERS:-1}
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/xtstore-bench.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
server_sh=$root/tests/servers/server.sh
azurite_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

note() { echo "bench: $*" >&2; }

# Bytes of a size with an optional binary suffix, as `xtstore bench` reads it.
bytes_of() {
  local n=${1%[KkMmGgTt]}
  case $1 in
    *[Kk]) echo $((n << 10)) ;;
    *[Mm]) echo $((n << 20)) ;;
    *[Gg]) echo $((n << 30)) ;;
    *[Tt]) echo $((n << 40)) ;;
    *) echo "$1" ;;
  esac
}
big_bytes=$(bytes_of "$big")

# --- build (optimised: numbers from a debug build mean little) -------------
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$out/configure.log" 2>&1 || { cat "$out/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target xtstore-cli store-local \
  >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
for p in s3 azure; do
  if [ -d "$root/plugins/$p" ] &&
     ! cmake --build "$build" -j "$(nproc)" --target "store-$p" \
         >>"$out/build.log" 2>&1; then
    note "store-$p does not build (see $out/build.log)"
  fi
done
export XTSTORE_PLUGIN_PATH=$build/plugins

# --- servers ---------------------------------------------------------------
started=()
stop_servers() {
  local s
  for s in "${started[@]}"; do
    "$server_sh" stop "$s" "$out/servers/$s" || true
  done
}
trap stop_servers EXIT

# start_server NAME: start it (stopped on exit); fails when it cannot.
start_server() {
  if [ ! -x "$server_sh" ]; then
    note "tests/servers/server.sh is not there yet: $1 skipped (local only)"
    return 1
  fi
  # The watchdog stops it when this script is gone, even without the trap.
  if ! XTSTORE_SERVER_OWNER_PID=$$ "$server_sh" start "$1" "$out/servers/$1" \
       >"$out/$1.start.log" 2>&1; then
    note "$1 did not start (see $out/$1.start.log): skipped"
    return 1
  fi
  started+=("$1")
}

cfg=$out/xt.yaml
services=(local)
{
  echo "providers:"
  echo "  storage:"
  echo "    local: \"store-local\""
  [ -f "$build/plugins/store-s3.so" ] && echo "    s3: \"store-s3\""
  [ -f "$build/plugins/store-azure.so" ] && echo "    azure: \"store-azure\""
  echo "external-services:"
  echo "  local: {type: \"storage\", provider: \"local\", path: \"$out/local\"}"
} >"$cfg"
if [ ! -f "$build/plugins/store-s3.so" ]; then
  note "no $build/plugins/store-s3.so: s3rver skipped"
elif start_server s3rver; then
  s3_endpoint=$(cat "$out/servers/s3rver/endpoint")
  # s3rver stores aws-chunked (streaming-signed) bodies undecoded.
  echo "  s3rver: {type: \"storage\", provider: \"s3\", endpoint: \"$s3_endpoint\", region: \"us-east-1\", access-key: \"S3RVER\", secret-key: \"S3RVER\", addressing: \"path\", payload-signing: \"unsigned\"}" >>"$cfg"
  services+=(s3rver)
fi
if [ ! -f "$build/plugins/store-azure.so" ]; then
  note "no $build/plugins/store-azure.so: Azurite skipped"
elif start_server azurite; then
  az_endpoint=$(cat "$out/servers/azurite/endpoint")
  echo "  azurite: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"$azurite_key\", endpoint: \"$az_endpoint\"}" >>"$cfg"
  services+=(azurite)
fi

# --- xtstore ---------------------------------------------------------------
xt() { "$build/bin/xtstore" --config "$cfg" "$@"; }
for svc in "${services[@]}"; do
  # (Bucket and container names need 3 characters or more.)
  xt -q mb "$svc:xtbench" 2>/dev/null || true
  for ((r = 1; r <= runs; r++)); do
    note "xtstore -> $svc, run $r of $runs"
    xt -q bench "$svc:xtbench" --sizes "$big" --count 1 \
      --csv "$out/xt-$svc-big-$r.csv" ||
      note "xtstore -> $svc: the big run failed"
    xt -q bench "$svc:xtbench" --sizes 4K --count "$small_count" \
      --transfers "$transfers" --csv "$out/xt-$svc-small-$r.csv" ||
      note "xtstore -> $svc: the small run failed"
  done
done

# --- peers (when installed), on the same servers and the same workloads -----
files=$out/files
measured=$out/peers-measured.csv
: >"$measured"

make_files() {
  mkdir -p "$files/small"
  head -c "$big_bytes" /dev/urandom >"$files/big"
  python3 - "$files/small" "$small_count" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"{i:06d}"), "wb") as f:
        f.write(os.urandom(4096))
PY
}

# peer TOOL SERVER WORKLOAD CMD...: RUNS timed runs, each appended to
# $measured as wall seconds, user+system CPU seconds and peak RSS (MiB) of
# the command. GNU time measures: a process spawned from a big one (a
# Python) would be charged its parent's RSS up to the exec. Downloads land
# in $out/dl, emptied before each run.
peer() {
  local tool=$1 server=$2 load=$3 r
  shift 3
  for ((r = 1; r <= runs; r++)); do
    rm -rf "$out/dl"
    mkdir -p "$out/dl"
    if ! /usr/bin/time -f '%e %U %S %M' -o "$out/time" "$@" \
         >>"$out/peers.log" 2>&1; then
      note "$tool -> $server $load failed (see $out/peers.log)"
      return 1
    fi
    awk -v p="$tool,$server,$load,$r" \
      '{ printf "%s,%s,%.3f,%.1f\n", p, $1, $2 + $3, $4 / 1024 }' \
      "$out/time" >>"$measured"
  done
}

if [ "$peers" = 1 ] && [ ! -x /usr/bin/time ]; then
  note "no /usr/bin/time (Debian package 'time'): peers not run"
elif [ "$peers" = 1 ]; then
  make_files
  mkdir -p "$out/cp"
  peer cp local big_up cp "$files/big" "$out/cp/big" || true
  peer cp local small_up cp -r "$files/small" "$out/cp/" || true
  if [ -n "${s3_endpoint:-}" ] && [ -x /usr/bin/aws ]; then
    # The Debian aws v2; AWS_CA_BUNDLE of this environment breaks clients.
    aws=(env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID=S3RVER
         AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
         /usr/bin/aws --endpoint-url "$s3_endpoint")
    "${aws[@]}" s3 mb s3://peerbench >>"$out/peers.log" 2>&1 || true
    peer "aws v2" s3rver big_up "${aws[@]}" s3 cp --quiet "$files/big" \
      s3://peerbench/big &&
    peer "aws v2" s3rver big_down "${aws[@]}" s3 cp --quiet \
      s3://peerbench/big "$out/dl/big" || true
    peer "aws v2" s3rver small_up "${aws[@]}" s3 cp --quiet --recursive \
      "$files/small" s3://peerbench/small/ &&
    peer "aws v2" s3rver small_down "${aws[@]}" s3 cp --quiet --recursive \
      s3://peerbench/small/ "$out/dl/" || true
  fi
  if [ -n "${s3_endpoint:-}" ] && command -v rclone >/dev/null; then
    rc=(env -u AWS_CA_BUNDLE rclone)
    remote=":s3,provider=Other,env_auth=false,access_key_id=S3RVER,secret_access_key=S3RVER,endpoint=$s3_endpoint:peerbench"
    peer rclone s3rver big_up "${rc[@]}" copyto "$files/big" "$remote/big" &&
    peer rclone s3rver big_down "${rc[@]}" copyto "$remote/big" \
      "$out/dl/big" || true
    peer rclone s3rver small_up "${rc[@]}" copy "$files/small" \
      "$remote/small" &&
    peer rclone s3rver small_down "${rc[@]}" copy "$remote/small" \
      "$out/dl/" || true
  fi
  if [ -n "${az_endpoint:-}" ] && command -v az >/dev/null; then
    cs="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$azurite_key;BlobEndpoint=$az_endpoint;"
    az=(env AZURE_CORE_COLLECT_TELEMETRY=false az storage)
    "${az[@]}" container create -n peerbench --connection-string "$cs" \
      >>"$out/peers.log" 2>&1 || true
    peer az Azurite big_up "${az[@]}" blob upload -c peerbench -n big \
      -f "$files/big" --overwrite --no-progress --connection-string "$cs" &&
    peer az Azurite big_down "${az[@]}" blob download -c peerbench -n big \
      -f "$out/dl/big" --no-progress --connection-string "$cs" || true
    peer az Azurite small_up "${az[@]}" blob upload-batch -d peerbench \
      --destination-path small -s "$files/small" --overwrite --no-progress \
      --connection-string "$cs" &&
    peer az Azurite small_down "${az[@]}" blob download-batch -s peerbench \
      --pattern 'small/*' -d "$out/dl" --no-progress \
      --connection-string "$cs" || true
  fi
  rm -rf "$files" "$out/cp" "$out/dl" "$out/time"
fi

# --- the table -------------------------------------------------------------
{
  echo "# xtstore bench: $(date -u +%FT%TZ), $(nproc) cores, median of $runs"
  echo "# big: one $big object; small: $small_count x 4 KiB, $transfers in flight"
  echo
  python3 "$root/bench/report.py" "$out" "$big_bytes" "$small_count"
} | tee "$out/report.md"
note "CSV files, logs and report.md are in $out"
