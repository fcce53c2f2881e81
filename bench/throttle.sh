#!/usr/bin/env bash
# Wall time of a throttled `cp -r` against a clean one (a benchmark, not a
# test: nothing is asserted). Starts s3rver and tests/servers/faultproxy.py
# in front of it, makes COUNT small files, and copies them to the bucket
# RUNS times clean and RUNS times with a seeded random FRACTION of the
# requests answered 503 SlowDown with Retry-After: 1 (a new seed per run);
# prints each run and the ratio of the medians. Each throttled run also says
# the most 503s one request path got (the proxy log's path, query string
# included: one object, or one part of one): each sends that request again,
# so that object alone spends at least that many seconds waiting out
# Retry-After, a floor no client that honours the header goes under
# (bench/README.md, Throttling).
#
#   bench/throttle.sh [--xtstore BIN] [--count 200] [--size BYTES]
#                     [--fraction 0.2] [--runs 3] [--transfers N]
#
# --size: every file that many bytes (default about 1-8 KB, varied);
# a clean run long beside those waits (--size 4194304) shows the client's
# own cost of throttling.
# BIN defaults to build/bin/xtstore; give another build's to compare.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
xt=$root/build/bin/xtstore
count=200 size= fraction=0.2 runs=3 transfers=
while (($#)); do
  case $1 in
    --xtstore) xt=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --fraction) fraction=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --transfers) transfers=$2; shift 2 ;;
    *) echo "usage: bench/throttle.sh [--xtstore BIN] [--count N] [--size BYTES] [--fraction F] [--runs N] [--transfers N]" >&2
       exit 2 ;;
  esac
done
[[ -x $xt ]] || { echo "bench/throttle.sh: no xtstore at $xt (build first)" >&2; exit 1; }

t=$(mktemp -d "${TMPDIR:-/tmp}/xtstore-throttle.XXXXXX")
servers=$root/tests/servers
cleanup() {
  "$servers/faultproxy.sh" stop "$t/proxy" > /dev/null 2>&1 || true
  "$servers/server.sh" stop s3rver "$t/s3rver" > /dev/null 2>&1 || true
  rm -rf "$t"
}
trap cleanup EXIT
export XTSTORE_SERVER_OWNER_PID=$$

"$servers/server.sh" start s3rver "$t/s3rver" > /dev/null
echo '[]' > "$t/rules.json"
proxy=$("$servers/faultproxy.sh" start "$t/proxy" "$t/s3rver" "$t/rules.json")
s3='type: "storage", provider: "s3", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned"'
cat > "$t/xt.yaml" <<EOF
external-services:
  s3: {$s3, endpoint: "$proxy"}
EOF
mkdir -p "$t/src"
for ((i = 1; i <= count; i++)); do
  head -c "${size:-$((1000 + i * 37))}" /dev/urandom > "$t/src/f$i.bin"
done
"$xt" --config "$t/xt.yaml" -q mb s3:bench

rules() { # rules SEED: the throttling rules (SEED empty: none)
  if [[ -z $1 ]]; then
    echo '[]' > "$t/rules.json.tmp"
  else
    cat > "$t/rules.json.tmp" <<EOF
[{"fraction": $fraction, "seed": $1, "status": 503, "headers": {"Retry-After": "1"},
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"}]
EOF
  fi
  mv "$t/rules.json.tmp" "$t/rules.json"
  sleep 0.2
}

one() { # one LABEL SEED: a copy, its seconds on stdout
  local t0 t1 rc=0
  rules "$2"
  : > "$t/proxy/log"
  t0=$(date +%s.%N)
  "$xt" --config "$t/xt.yaml" -q cp -r ${transfers:+--transfers "$transfers"} \
    "$t/src/" "s3:bench/$1/" > /dev/null || rc=$?
  t1=$(date +%s.%N)
  # most: the most 503s one request path got (query string included).
  most=$(awk '/ status 503$/ {n[$2]++} END {m = 0; for (k in n) if (n[k] > m) m = n[k]; print m}' "$t/proxy/log")
  [[ -z $2 ]] || echo "$most" >> "$t/most"
  echo "$1: $(secs "$(echo "$t1 - $t0" | bc)") s, $(wc -l < "$t/proxy/log") requests, $(grep -c ' status 503$' "$t/proxy/log" || true) throttled, at most $most on one request path, exit $rc" >&2
  echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
secs() { awk -v a="$1" 'BEGIN {printf "%.2f", a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }

clean=$(for ((r = 1; r <= runs; r++)); do one "clean$r" ""; done | median)
slow=$(for ((r = 1; r <= runs; r++)); do one "throttled$r" "$r"; done | median)
most=$(median < "$t/most")
echo "$count objects, $fraction of requests 503 (Retry-After 1): median clean $(secs "$clean") s, throttled $(secs "$slow") s, ratio $(ratio "$slow" "$clean")"
echo "median of the most 503s on one request path: $most; that object waits at least $most s, $(ratio "$most" "$clean")x the clean run (the floor for a client that honours Retry-After)"
