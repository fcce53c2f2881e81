#!/usr/bin/env bash
# bench/memory.sh -- peak RSS of xtstore for big uploads and downloads of
# several sizes against bench/s3discard.py (which discards uploads and
# generates downloads), so that the issue's "peak RSS for a 16 GiB upload or
# download stays within a few MiB of a 1 GiB one" can be seen in one run.
# A benchmark, not a test: nothing is asserted, CI runs none of it.
# See bench/README.md ("Peak RSS: 16 GiB against 1 GiB").
#
#   bench/memory.sh [OUT_DIR]      (default: a new /tmp/xtstore-memory.*)
#
# Workloads, each size in its own xtstore process, timed by GNU time
# (/usr/bin/time -f %M: the process's peak RSS):
#   put_pipe    head -c SIZE /dev/zero | xtstore put - (parts buffered)
#   put_sparse  xtstore put FILE, FILE a sparse file (truncate -s SIZE)
#   get_null    xtstore get KEY - >/dev/null
#   get_file    xtstore get KEY FILE (parallel ranges into DL_DIR; skipped,
#               with a note, when DL_DIR lacks SIZE + 1 GiB of free space)
#
# Environment:
#   BIN        the xtstore binary (default: build/bin/xtstore); its plugins
#              from XTSTORE_PLUGIN_PATH, else BIN's ../plugins
#   SIZES      sizes, K/M/G suffixes (default: "1G 16G"); the table's last
#              column is the last size's peak minus the first's
#   WORKLOADS  which to run (default: "put_pipe put_sparse get_null get_file")
#   MEMORY     passed as --memory (default: unset, xtstore's own 64 MiB)
#   DL_DIR     where get_file writes (default: OUT_DIR)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/build/bin/xtstore}
sizes=${SIZES:-1G 16G}
workloads=${WORKLOADS:-put_pipe put_sparse get_null get_file}
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/xtstore-memory.XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)
dl=$(mktemp -d "${DL_DIR:-$out}/dl.XXXXXX")

note() { echo "memory: $*" >&2; }

[ -x /usr/bin/time ] || { note "needs GNU time: apt-get install time"; exit 1; }
[ -x "$bin" ] || { note "BIN $bin: no such executable (build it, or set BIN)"; exit 1; }
export XTSTORE_PLUGIN_PATH=${XTSTORE_PLUGIN_PATH:-$(cd "$(dirname "$bin")/../plugins" && pwd)}

bytes_of() {
  case $1 in
    *[Kk]) echo $((${1%?} << 10)) ;;
    *[Mm]) echo $((${1%?} << 20)) ;;
    *[Gg]) echo $((${1%?} << 30)) ;;
    *[!0-9]* | '') note "SIZES: '$1' is not a size (e.g. 1G, 512M)"; exit 2 ;;
    *) echo "$1" ;;
  esac
}
warm=
for s in $sizes; do warm+=${warm:+,}$(bytes_of "$s"); done

# --- the server (as bench/clients.sh starts it) --------------------------------
# --warm: the generated objects' MD5 and CRC-32C before anything is timed.
python3 "$root/bench/s3discard.py" --port-file "$out/port" --warm "$warm" \
  >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true;
      rm -rf "$dl" "$out/sparse"' EXIT
for _ in $(seq 1200); do   # warming 16 GiB takes some 30 s
  [ -s "$out/port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$out/port" ] || { note "s3discard did not start"; exit 1; }
url=http://127.0.0.1:$(cat "$out/port")
run_id=$(date +%s)-$$

cfg=$out/xt.yaml
cat >"$cfg" <<EOF
providers: {storage: {s3: "store-s3"}}
external-services:
  d: {type: "storage", provider: "s3", endpoint: "$url", region: "us-east-1", access-key: "bench", secret-key: "bench", addressing: "path"}
EOF
xt=("$bin" --config "$cfg" ${MEMORY:+--memory "$MEMORY"})

{
  echo "date: $(date -u +%FT%TZ)"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "bin: $bin ($(git -C "$(dirname "$bin")" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "memory: ${MEMORY:-default}"
  echo "downloads into: $dl ($(df -T "$dl" | awk 'NR == 2 {print $2}'))"
} >"$out/meta.txt"
cat "$out/meta.txt" >&2

load() { cut -d' ' -f1 /proc/loadavg; }

# run WORKLOAD SIZE: one xtstore process; appends a row to results.csv:
# workload,size,bytes,status,peak_rss_kib,wall_s,cpu_s,load
csv=$out/results.csv
echo "workload,size,bytes,status,peak_rss_kib,wall_s,cpu_s,load" >"$csv"
run() {
  local w=$1 size=$2 n t=$out/time.$1.$2 log=$out/log.$1.$2 st=0 l
  n=$(bytes_of "$size")
  local key=d:bench/1-keys-of-$n/00000000 up=d:bench/mem/$run_id/$w-$size
  local fmt='%M %e %U %S'
  l=$(load)
  rm -f "$t"
  case $w in
    put_pipe)
      head -c "$n" /dev/zero |
        /usr/bin/time -f "$fmt" -o "$t" "${xt[@]}" put - "$up" >"$log" 2>&1 ||
        st=$? ;;
    put_sparse)
      rm -f "$out/sparse"; truncate -s "$n" "$out/sparse"
      /usr/bin/time -f "$fmt" -o "$t" "${xt[@]}" put "$out/sparse" "$up" \
        >"$log" 2>&1 || st=$?
      rm -f "$out/sparse" ;;
    get_null)
      /usr/bin/time -f "$fmt" -o "$t" "${xt[@]}" get "$key" - \
        >/dev/null 2>"$log" || st=$? ;;
    get_file)
      local avail
      avail=$(df -B1 --output=avail "$dl" | tail -n 1)
      if [ "$avail" -lt $((n + (1 << 30))) ]; then
        note "get_file $size skipped: $dl has $((avail >> 20)) MiB free, needs $(((n >> 20) + 1024))"
        echo "$w,$size,$n,skipped,,,,$l" >>"$csv"
        return 0
      fi
      /usr/bin/time -f "$fmt" -o "$t" "${xt[@]}" get "$key" "$dl/big" \
        >"$log" 2>&1 || st=$?
      if [ "$st" = 0 ] && [ "$(stat -c %s "$dl/big")" != "$n" ]; then
        note "get_file $size: $dl/big is $(stat -c %s "$dl/big") bytes, not $n"
        st=size
      fi
      rm -f "$dl/big" ;;
    *) note "WORKLOADS: no workload '$w'"; exit 2 ;;
  esac
  if [ "$st" != 0 ]; then
    note "$w $size failed ($st):"; tail -n 5 "$log" >&2
    echo "$w,$size,$n,failed,,,,$l" >>"$csv"
    return 0
  fi
  read -r rss wall u s <"$t"
  echo "$w,$size,$n,ok,$rss,$wall,$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }'),$l" >>"$csv"
  note "$w $size: peak RSS $((rss >> 10)) MiB, ${wall} s (load $l)"
}

for w in $workloads; do
  for s in $sizes; do run "$w" "$s"; done
done

# --- the table ----------------------------------------------------------------
python3 - "$csv" "$sizes" <<'PY' | tee "$out/table.md"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sizes = sys.argv[2].split()
what = {"put_pipe": "`put -` from a pipe (head -c N /dev/zero)",
        "put_sparse": "`put FILE`, a sparse file",
        "get_null": "`get KEY -` > /dev/null",
        "get_file": "`get KEY FILE` (parallel ranges)"}
def mib(r):
    return int(r["peak_rss_kib"]) / 1024 if r and r["status"] == "ok" else None
print("| workload | " + " | ".join(sizes) + " | difference |")
print("|---" * (len(sizes) + 2) + "|")
for w in dict.fromkeys(r["workload"] for r in rows):
    by = {r["size"]: r for r in rows if r["workload"] == w}
    cells, vals = [], []
    for s in sizes:
        r = by.get(s)
        v = mib(r)
        vals.append(v)
        cells.append(f"{v:.1f} MiB ({float(r['wall_s']):.1f} s)" if v is not None
                     else (r["status"] if r else "–"))
    # + 0.0: no "-0.0" for a difference that rounds to nothing
    diff = (f"{round(vals[-1] - vals[0], 1) + 0.0:+.1f} MiB"
            if len(vals) > 1 and None not in (vals[0], vals[-1]) else "–")
    print(f"| {what.get(w, w)} | " + " | ".join(cells) + f" | {diff} |")
PY
note "results in $out (results.csv, table.md, logs)"
