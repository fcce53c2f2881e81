#!/usr/bin/env bash
# The ADLS->OCI migrator's job end to end: a tree of parquet-sized files
# (a few MiB each, nested directories) in Azurite migrated to the OCI test
# server with a run log: every record `new`; a second run all `equal`
# (with --checksum too: the two listings' MD5s agree); one changed file an
# `update`; a run interrupted with ^C (the OCI side slowed
# by faultproxy.py so it is still running) and re-run copies only what the
# first did not, and the target tree is byte-identical to the source.
. "$(dirname "$0")/ocilib.sh" "$@"

AZ_DIR=${XTSTORE_AZURITE_DIR:?no Azurite fixture (XTSTORE_AZURITE_DIR)}
AZ_E=$(cat "$AZ_DIR/endpoint") || exit 1
export AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY AZURE_STORAGE_ACCOUNT
C=$OCI_C
AZC=$(printf '%s' "$C" | tr -c 'a-z0-9\n-' '-' | cut -c1-60)
oci_config "  adls: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\"}"
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "adls:$AZC" \
  >/dev/null 2>&1; "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" >/dev/null 2>&1;
  oci_cleanup' EXIT

# The source tree: 12 files of 1 to 4 MiB in nested directories.
NFILES=12
i=0
for d in year=2026/month=11 year=2026/month=12/day=01 year=2025 ""; do
  for n in 1 2 3; do
    i=$((i + 1))
    mkdir -p "tree/$d"
    head -c $(((i % 4 + 1) * 1048576 + i)) /dev/urandom > "tree/$d/part-$n.parquet"
  done
done
xt mb "adls:$AZC" "oci:$C"
assert_rc 0
xt cp -r tree "adls:$AZC/warehouse"
assert_rc 0

# check_log FILE RUN_INDEX STATUS...: run RUN_INDEX (0-based) of the log
# has one record per source object, with these statuses (as a multiset).
check_log() {
  check
  python3 - "$@" "adls:$AZC/warehouse/" "oci:$C/landing/" <<'PY' ||
import collections, json, sys
path, idx, *want, src, dst = sys.argv[1:]
recs = [json.loads(l) for l in open(path)]
runs = list(dict.fromkeys(r["run_id"] for r in recs))
run = [r for r in recs if r["run_id"] == runs[int(idx)]]
got = collections.Counter(r["status"] for r in run)
assert got == collections.Counter(want), (got, want)
for r in run:
    assert r["source_name"].startswith(src), r
    assert r["target_name"] == dst + r["source_name"][len(src):], r
    if r["status"] != "failed":
        assert r["target_size"] == r["source_size"] and r["error"] is None, r
PY
    fail "run $2 of the log: not the statuses $*"
}
rep() { local n=$1 s=$2 out=""; for ((k = 0; k < n; k++)); do out+="$s "; done; echo $out; }

xt migrate "adls:$AZC/warehouse" "oci:$C/landing" --log "oci:$C/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES new, 0 failed"
xt migrate "adls:$AZC/warehouse" "oci:$C/landing" --log "oci:$C/logs/run.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES equal, 0 failed"
# One file rewritten at the source (same size, other bytes, newer).
sleep 1
head -c $((2 * 1048576 + 1)) /dev/urandom > "tree/year=2025/part-1.parquet"
xt put "tree/year=2025/part-1.parquet" "adls:$AZC/warehouse/year=2025/part-1.parquet"
assert_rc 0
xt migrate "adls:$AZC/warehouse" "oci:$C/landing" --log "oci:$C/logs/run.jsonl"
assert_rc 0
assert_out_has "update: adls:$AZC/warehouse/year=2025/part-1.parquet -> oci:$C/landing/year=2025/part-1.parquet"
assert_out_has "migrate: $NFILES objects: 1 update, $((NFILES - 1)) equal, 0 failed"
# --checksum: both listings carry MD5s (Azure's Content-MD5, OCI's md5
# field), and they agree.
xt migrate --checksum "adls:$AZC/warehouse" "oci:$C/landing"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $NFILES equal, 0 failed"
xt get "oci:$C/logs/run.jsonl" "$T/run.jsonl"
assert_rc 0
check_log "$T/run.jsonl" 0 $(rep $NFILES new)
check_log "$T/run.jsonl" 1 $(rep $NFILES equal)
check_log "$T/run.jsonl" 2 update $(rep $((NFILES - 1)) equal)
xt cp -r "oci:$C/landing" "$T/down1"
assert_rc 0
run diff -r tree "$T/down1"
assert_rc 0

# --- an interrupted run, re-run ---------------------------------------------
cat > "$T/rules.json" <<JSON
[{"match": {"method": "PUT", "path": "^/n/xtns/b/$C/o/again"}, "stall_ms": 700}]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$OCI_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
oci_config "  adls: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\"}
  slow: {type: \"storage\", provider: \"oci\", endpoint: \"$PROXY\", config-file: \"$OCI_DIR/config\"}"
LAST_CMD="migrate --transfers 1 (interrupted)"
# (A background job of a script starts with SIGINT ignored: restore it.)
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' \
  "$XT_BIN" --config "$CONFIG" migrate --transfers 1 --no-progress \
  "adls:$AZC/warehouse" "slow:$C/again" --log "$T/int.jsonl" \
  > "$T/.out" 2> "$T/.err" &
pid=$!
# Interrupted once the server has stored three of them (its log is
# written as it answers).
for ((w = 0; w < 300; w++)); do
  [ "$(grep -c "PUT /n/xtns/b/$C/o/again%2F.* 200 " "$OCI_DIR/log")" -ge 3 ] &&
    break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
_collect $?
assert_rc 130
check
done1=$(python3 -c '
import json, sys
print(sum(json.loads(l)["status"] == "new" for l in open(sys.argv[1])))' "$T/int.jsonl")
[ "$done1" -ge 2 ] && [ "$done1" -lt "$NFILES" ] ||
  fail "the interrupted run recorded $done1 of $NFILES new: not a partial run"
# What the target holds now (an upload in flight at ^C may have landed).
xt ls -r "oci:$C/again"
assert_rc 0
have=$(printf '%s\n' "$OUT" | grep -c parquet)
check
[ "$have" -ge "$done1" ] && [ "$have" -lt "$NFILES" ] ||
  fail "the target holds $have objects after the interrupted run ($done1 recorded)"
xt migrate "adls:$AZC/warehouse" "oci:$C/again" --log "$T/int.jsonl"
assert_rc 0
assert_out_has "migrate: $NFILES objects: $((NFILES - have)) new, $have equal, 0 failed"
xt cp -r "oci:$C/again" "$T/down2"
assert_rc 0
run diff -r tree "$T/down2"
assert_rc 0

finish
