#!/usr/bin/env bash
# bench, as a smoke test of the verb (never of performance): the table and
# CSV shapes and row counts, --json, --keep, that the scratch prefix is gone
# afterwards (also after a failure, through the library on memstore), and
# errors naming the operation and the key.
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:bench
assert_rc 0

# --- table and CSV ----------------------------------------------------------
xt bench scratch:bench --sizes 1K,4k --count 3 --csv "$T/b.csv"
assert_rc 0
assert_err_empty
# A header and one row per size and phase, phases in order.
check
# (The size column is two words: "1.0 KiB".)
got=$(printf '%s\n' "$OUT" |
  awk 'NR == 1 { $1 = $1; print; next }
       { print NF, $1, $2, $(NF - 7), $(NF - 6), $(NF - 5),
               $(NF - 3) == "-" ? "-" : "MB/s" }')
[ "$got" = "size op count bytes seconds MB/s ops/s cpu-s max-rss-MiB
10 1.0 KiB put 3 3072 MB/s
10 1.0 KiB get 3 3072 MB/s
10 1.0 KiB list 3 0 -
10 1.0 KiB delete 3 0 -
10 4.0 KiB put 3 12288 MB/s
10 4.0 KiB get 3 12288 MB/s
10 4.0 KiB list 3 0 -
10 4.0 KiB delete 3 0 -" ] || fail "table shape: $got"
run cat "$T/b.csv"
assert_rc 0
check
[ "$(head -1 "$T/b.csv")" = "service,object_size,op,count,bytes,seconds,mb_per_s,ops_per_s,cpu_seconds,max_rss_mib,transfers" ] ||
  fail "CSV header"
check
got=$(tail -n +2 "$T/b.csv" | awk -F, '{ print NF, $1, $2, $3, $4, $5, $11 }')
[ "$got" = "11 scratch 1024 put 3 3072 1
11 scratch 1024 get 3 3072 1
11 scratch 1024 list 3 0 1
11 scratch 1024 delete 3 0 1
11 scratch 4096 put 3 12288 1
11 scratch 4096 get 3 12288 1
11 scratch 4096 list 3 0 1
11 scratch 4096 delete 3 0 1" ] || fail "CSV rows: $got"
check
tail -n +2 "$T/b.csv" | awk -F, '$6 < 0 || $9 < 0 || $10 <= 0 { exit 1 }' ||
  fail "CSV: negative times or no RSS"
# Nothing left: no keys, and no directories on local either.
xt ls -r scratch:bench
assert_rc 0
assert_out ""
assert_file_absent "$T/data/bench/xtstore-bench"

# --- --json and --transfers -------------------------------------------------
xt --json bench scratch:bench --sizes 512 --count 4 --transfers 3
assert_rc 0
assert_json_eq '[(r["op"], r["object_size"], r["count"], r["bytes"], r["transfers"]) for r in j]' \
  '[["put", 512, 4, 2048, 3], ["get", 512, 4, 2048, 3], ["list", 512, 4, 0, 3], ["delete", 512, 4, 0, 3]]'
assert_json_eq 'sorted(j[0].keys())' \
  '["bytes", "count", "cpu_seconds", "max_rss_mib", "mb_per_s", "object_size", "op", "ops_per_s", "prefix", "seconds", "service", "transfers"]'

# --- --keep -----------------------------------------------------------------
xt bench scratch:bench --sizes 2K --count 2 --keep
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | awk 'NR > 1 && NF > 2 { print $3 }' | tr '\n' ' ')" = "put get list " ] ||
  fail "--keep: not put, get, list"
assert_out_has "kept: scratch:bench/xtstore-bench/"
prefix=${OUT##*kept: scratch:bench/}
xt ls -r scratch:bench
assert_rc 0
assert_out "${prefix}2048/000000
${prefix}2048/000001"
xt stat --json "scratch:bench/${prefix}2048/000001"
assert_rc 0
assert_json_eq 'j["size"]' '2048'
xt rm -r scratch:bench/xtstore-bench/
assert_rc 0

# --- errors -----------------------------------------------------------------
xt bench scratch:nosuch --sizes 1K --count 2
assert_rc 4
assert_error bench
assert_err_has "bench put of 'xtstore-bench/"
assert_err_has "/1024/000000': "
xt bench scratch:bench --sizes 1X
assert_usage bench
xt bench scratch:bench --count 0
assert_usage bench
xt bench scratch:bench/key
assert_usage bench
xt bench scratch:bench --csv "$T/no/such/dir/b.csv" --sizes 1K --count 1
assert_rc 4
assert_error bench

# --- a failure half-way still empties the prefix (library, memstore) --------
# bench SIZE COUNT [stop]: xtstore_bench on memstore's box (max-bytes 5000)
# in-process, then how many keys are left. "stop" ends it from the row
# callback after the first row.
cat > "$T/bench.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xtstore.h"

static int32_t stop_after_first(void *ud, const xtstore_bench_row *r)
{
  (void)r;
  return ud != NULL;
}
static int32_t count(void *ud, const store_entry *e)
{
  (void)e;
  ++*(int *)ud;
  return 0;
}
int main(int argc, char **argv)
{
  xtstore_ctx_opts co = { sizeof co, 7, argv[1], NULL, NULL, 0, 0 };
  uint64_t size = strtoull(argv[2], NULL, 10);
  xtstore_bench_opts bo = { sizeof bo, 0, &size, 1,
                            (uint32_t)strtoul(argv[3], NULL, 10), 2, NULL };
  xtstore_ctx *ctx;
  xtstore_svc *svc;
  store_error err = { sizeof err };
  int rc, left = 0;

  if (xtstore_ctx_open(&co, &ctx, &err) ||
      xtstore_service_open(ctx, "m", &svc, &err))
    return fprintf(stderr, "bench: %s\n", err.message), 1;
  rc = xtstore_bench(svc, "box", &bo, stop_after_first,
                     argc > 4 ? argv[4] : NULL, &err);
  printf("rc=%d %s\n", rc, rc ? err.message : "");
  if (xtstore_blob_list(svc, "box", NULL, count, &left, &err))
    return fprintf(stderr, "bench: %s\n", err.message), 1;
  printf("left=%d\n", left);
  xtstore_ctx_close(ctx);
  return 0;
}
EOF
build_client "$T/bench" "$T/bench.c"
build_memstore "$T/store-memstore.so"
cat > "$T/mem.yaml" <<EOF
providers:
  storage:
    mem: "$T/store-memstore.so"
external-services:
  m: {type: "storage", provider: "mem", containers: "box", max-bytes: "5000"}
EOF
# The fifth 1 KiB put overflows the store: some were put, all are gone.
run "$T/bench" "$T/mem.yaml" 1024 8
assert_rc 0
check
case $OUT in
  "rc=0 "*) fail "the bench did not fail on a full store" ;;
esac
assert_out_has "bench put of 'xtstore-bench/"
assert_out_has "store full"
assert_out_has "left=0"
run "$T/bench" "$T/mem.yaml" 100 3 stop
assert_rc 0
assert_out_has "rc=11 bench: stopped by the row callback"
assert_out_has "left=0"
run "$T/bench" "$T/mem.yaml" 100 3
assert_rc 0
assert_out "rc=0 
left=0"

finish
