#!/usr/bin/env bash
# bench/clients.sh -- the client's own cost: xtstore and the peer clients
# installed here (rclone, /usr/bin/aws v2, s3cmd, curl as the floor) on the
# same workloads against bench/s3discard.py, an S3 server that discards
# uploads and generates downloads; then a table of client CPU seconds per
# GiB / per object, MB/s, files/s and peak RSS, with the issue's targets as
# ratios. A benchmark, not a test: nothing is asserted, CI runs none of it.
# See bench/README.md.
#
#   bench/clients.sh [OUT_DIR]      (default: a new /tmp/xtstore-clients.*)
#
# Peers are optional: each one found is run, the others are skipped. To
# install them (Debian): apt-get install rclone s3cmd awscli curl time
# (awscli is the v2 CLI at /usr/bin/aws; an `aws` first on PATH is not used).
#
# Environment:
#   BUILD_DIR    build tree for xtstore-cli and store-s3 (default: build)
#   RUNS         runs of each workload but ls; the median is shown (default 3)
#   LS_RUNS      runs of the listing workload (default 1: aws and s3cmd take
#                about two minutes each for 1M keys)
#   BIG          size of the big object (default 1G)
#   SMALL_COUNT  number of 4 KiB objects (default 2000)
#   LS_KEYS      keys listed by `ls -r` (default 1000000)
#   CLIENTS      which to run (default: "xtstore rclone aws s3cmd curl")
#   WORKLOADS    which to run (default: "put get_null get_file put_small
#                get_small ls")
#   DL_DIR       where the downloads to files go (default: OUT_DIR); e.g.
#                /dev/shm to leave the disk's filesystem out (see README)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
runs=${RUNS:-3}
ls_runs=${LS_RUNS:-1}
big=${BIG:-1G}
small_count=${SMALL_COUNT:-2000}
ls_keys=${LS_KEYS:-1000000}
clients=${CLIENTS:-xtstore rclone aws s3cmd curl}
workloads=${WORKLOADS:-put get_null get_file put_small get_small ls}
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/xtstore-clients.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
dl_root=$(mktemp -d "${DL_DIR:-$out}/dl.XXXXXX")

note() { echo "clients: $*" >&2; }

case $big in
  *[Kk]) big_bytes=$((${big%?} << 10)) ;;
  *[Mm]) big_bytes=$((${big%?} << 20)) ;;
  *[Gg]) big_bytes=$((${big%?} << 30)) ;;
  *) big_bytes=$big ;;
esac
[ -x /usr/bin/time ] || { note "needs GNU time: apt-get install time"; exit 1; }

# --- build (optimised: numbers from a debug build mean little) -------------
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$out/configure.log" 2>&1 || { cat "$out/configure.log" >&2; exit 1; }
cmake --build "$build" -j "$(nproc)" --target xtstore-cli store-s3 \
  >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log" >&2; exit 1; }
export XTSTORE_PLUGIN_PATH=$build/plugins

# --- the server --------------------------------------------------------------
python3 "$root/bench/s3discard.py" --port-file "$out/port" \
  --warm "$big_bytes,4096,0" >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dl_root"' EXIT
for _ in $(seq 100); do
  [ -s "$out/port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$out/port" ] || { note "s3discard did not start"; exit 1; }
port=$(cat "$out/port")
url=http://127.0.0.1:$port
run_id=$(date +%s)-$$

# The objects read: generated, listable (see s3discard.py).
big_key=1-keys-of-$big_bytes/00000000
small_prefix=$small_count-keys-of-4096
ls_prefix=$ls_keys-keys

# --- inputs ------------------------------------------------------------------
files=$out/files
mkdir -p "$files/small"
head -c "$big_bytes" /dev/urandom >"$files/big"
python3 - "$files/small" "$small_count" <<'PY'
import os, sys
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"{i:06d}"), "wb") as f:
        f.write(os.urandom(4096))
PY

# --- the clients' commands -----------------------------------------------------
cfg=$out/xt.yaml
cat >"$cfg" <<EOF
providers: {storage: {s3: "store-s3"}}
external-services:
  d: {type: "storage", provider: "s3", endpoint: "$url", region: "us-east-1", access-key: "bench", secret-key: "bench", addressing: "path"}
EOF
s3cfg=$out/s3cfg
cat >"$s3cfg" <<EOF
[default]
access_key = bench
secret_key = bench
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
use_https = False
EOF
# This environment's AWS_CA_BUNDLE breaks rclone and aws (testbed notes).
aws=(env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
     AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
     /usr/bin/aws --endpoint-url "$url")
rclone=(env -u AWS_CA_BUNDLE RCLONE_CONFIG=/dev/null rclone)
remote=":s3,provider=Other,env_auth=false,access_key_id=bench,secret_access_key=bench,endpoint='$url':bench"

# cmd TOOL WORKLOAD RUN: sets `c` to the command (stdout goes to /dev/null,
# so a download to '-' is a download to /dev/null; to a file, into the
# directory $dl); returns 1 when the tool has no such workload. Every tool
# runs with its default concurrency.
cmd() {
  local up=up/$1/$run_id-$3
  c=()
  case $1.$2 in
    xtstore.*) c=("$build/bin/xtstore" --config "$cfg") ;;
  esac
  case $1.$2 in
    xtstore.put) c+=(put "$files/big" "d:bench/$up/big") ;;
    xtstore.get_null) c+=(get "d:bench/$big_key" -) ;;
    xtstore.get_file) c+=(get "d:bench/$big_key" "$dl/big") ;;
    xtstore.put_small) c+=(cp -r "$files/small" "d:bench/$up/small/") ;;
    xtstore.get_small) c+=(cp -r "d:bench/$small_prefix" "$dl/") ;;
    xtstore.ls) c+=(ls -r "d:bench/$ls_prefix") ;;
    rclone.put) c=("${rclone[@]}" copyto "$files/big" "$remote/$up/big") ;;
    rclone.get_null) c=("${rclone[@]}" cat "$remote/$big_key") ;;
    rclone.get_file) c=("${rclone[@]}" copyto "$remote/$big_key" "$dl/big") ;;
    rclone.put_small) c=("${rclone[@]}" copy "$files/small" "$remote/$up/small") ;;
    rclone.get_small) c=("${rclone[@]}" copy "$remote/$small_prefix" "$dl") ;;
    rclone.ls) c=("${rclone[@]}" ls "$remote/$ls_prefix") ;;
    aws.put) c=("${aws[@]}" s3 cp --quiet "$files/big" "s3://bench/$up/big") ;;
    aws.get_null) c=("${aws[@]}" s3 cp --quiet "s3://bench/$big_key" -) ;;
    aws.get_file) c=("${aws[@]}" s3 cp --quiet "s3://bench/$big_key" "$dl/big") ;;
    aws.put_small) c=("${aws[@]}" s3 cp --quiet --recursive "$files/small" "s3://bench/$up/small/") ;;
    aws.get_small) c=("${aws[@]}" s3 cp --quiet --recursive "s3://bench/$small_prefix/" "$dl/") ;;
    aws.ls) c=("${aws[@]}" s3 ls --recursive "s3://bench/$ls_prefix/") ;;
    s3cmd.put) c=(s3cmd -c "$s3cfg" -q put "$files/big" "s3://bench/$up/big") ;;
    s3cmd.get_null) c=(s3cmd -c "$s3cfg" -q get "s3://bench/$big_key" -) ;;
    s3cmd.get_file) c=(s3cmd -c "$s3cfg" -q get "s3://bench/$big_key" "$dl/big") ;;
    s3cmd.put_small) c=(s3cmd -c "$s3cfg" -q put --recursive "$files/small/" "s3://bench/$up/small/") ;;
    s3cmd.get_small) c=(s3cmd -c "$s3cfg" -q get --recursive "s3://bench/$small_prefix/" "$dl/") ;;
    s3cmd.ls) c=(s3cmd -c "$s3cfg" ls -r "s3://bench/$ls_prefix/") ;;
    # curl: no signing, no hashing, no listing; 4 small transfers at a time.
    curl.put) c=(curl -sSf -o /dev/null -T "$files/big" "$url/bench/$up/big") ;;
    curl.get_null) c=(curl -sSf "$url/bench/$big_key") ;;
    curl.get_file) c=(curl -sSf -o "$dl/big" "$url/bench/$big_key") ;;
    curl.put_small|curl.get_small)
      local i n k="$out/curl-$2.cfg"
      for ((i = 0; i < small_count; i++)); do
        printf -v n '%06d' "$i"
        if [ "$2" = put_small ]; then
          printf 'upload-file = "%s"\nurl = "%s"\noutput = "/dev/null"\n' \
            "$files/small/$n" "$url/bench/$up/small/$n"
        else
          printf 'url = "%s"\noutput = "%s"\n' \
            "$url/bench/$small_prefix/$(printf '%08d' "$i")" "$dl/$n"
        fi
      done >"$k"
      c=(curl -sSf --no-progress-meter --parallel --parallel-max 4 -K "$k") ;;
    *) return 1 ;;
  esac
}

have() {
  case $1 in
    xtstore) [ -x "$build/bin/xtstore" ] ;;
    aws) [ -x /usr/bin/aws ] ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

# Server CPU seconds so far (utime + stime of its process).
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
    "/proc/$server/stat"
}

# Versions and the machine, for the report.
{
  echo "date: $(date -u +%FT%TZ)"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo |
    cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "kernel: $(uname -r)"
  echo "downloads into: $dl_root ($(df -T "$dl_root" | awk 'NR == 2 {print $2}'))"
  have rclone && echo "rclone: $(rclone version 2>/dev/null | head -1)"
  have aws && echo "aws: $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1)"
  have s3cmd && echo "s3cmd: $(s3cmd --version 2>&1)"
  have curl && echo "curl: $(curl --version | head -1 | cut -d' ' -f1-2)"
  echo "xtstore: $(git -C "$root" log -1 --format='%h %s' 2>/dev/null |
    cut -c1-60)"
} >"$out/meta.txt"

results=$out/results.csv
echo "tool,workload,run,wall_s,cpu_s,max_rss_mib,server_cpu_s,load1" \
  >"$results"
for load in $workloads; do
  n=$runs
  [ "$load" = ls ] && n=$ls_runs
  for ((r = 1; r <= n; r++)); do
    for tool in $clients; do
      have "$tool" || continue
      # Every run downloads into a new directory, and the small files stay
      # until the end: on ext4 without a journal (this machine's root), a
      # new inode is not taken from those deleted in the last seconds to
      # minutes, and with thousands just deleted (the run before) every
      # file created would first scan past them (recently_deleted()).
      dl=$dl_root/$load-$tool-$r
      mkdir -p "$dl"
      cmd "$tool" "$load" "$r" || continue
      note "$load: $tool, run $r of $n"
      s0=$(server_cpu)
      if ! /usr/bin/time -f '%e %U %S %M' -o "$out/time" "${c[@]}" \
           >/dev/null 2>>"$out/clients.log"; then
        note "$tool $load failed (see $out/clients.log)"
        continue
      fi
      s1=$(server_cpu)
      [ "$load" = get_file ] && rm -rf "$dl"
      load1=$(cut -d' ' -f1 /proc/loadavg)
      awk -v p="$tool,$load,$r" -v s0="$s0" -v s1="$s1" -v l="$load1" \
        '{ printf "%s,%s,%.2f,%.1f,%.2f,%s\n", p, $1, $2 + $3, $4 / 1024,
                  s1 - s0, l }' \
        "$out/time" >>"$results"
    done
  done
done
rm -rf "$files" "$dl_root" "$out/time" "$out"/curl-*.cfg

python3 "$root/bench/clients.py" "$out" "$big_bytes" "$small_count" \
  "$ls_keys" | tee "$out/report.md"
note "results.csv, logs and report.md are in $out"
