#!/usr/bin/env bash
# Shards (docs/sharding.md): N = 1, 3 and 8 concurrent `migrate --shard`
# processes over a 5000-object tree (XTSTORE_TEST_SHARD_OBJECTS: fewer, in
# the sanitizer tree), local -> s3rver and Azurite -> local,
# store exactly the objects, and log exactly the records, of one unsharded
# run (each name once, none missing); `runlog summary` merges their logs; a
# shard that fails (its target refuses it) and is re-run alone completes
# the set; --shard auto from each scheduler's environment picks the same
# objects as --shard I/N, which are the documented hash's; sync --delete
# with shards deletes only its shard's objects, --max-delete per shard.
# runlog summary: a log not there is a shard that did not report (the rest
# summarised), an unsharded re-run supersedes like a shard's, a malformed
# shard is named; migrate --shard without a run id is refused.
#   test_shards.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

need_servers XTSTORE_S3RVER_DIR XTSTORE_AZURITE_DIR
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
  JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT \
  SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_STEP AWS_BATCH_JOB_ARRAY_INDEX \
  XTSTORE_SHARD_COUNT XTSTORE_RUN_ID
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZ_KEY
S3R_E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
AZ_E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
B="xtshard-$$"
NOBJ=${XTSTORE_TEST_SHARD_OBJECTS:-5000}
# The last name of d00 (i % 17 == 0), which flaky fails to put.
FAILNAME=$(printf 'f%05d' $(((NOBJ - 2) / 17 * 17)))
build_shim "$T/store-shim.so"
# s3bad: s3rver refuses its access key (403): a shard whose target fails.
# flaky: scratch's storage through a shim that fails puts of $FAILNAME.
cat > "$CONFIG" <<EOF
providers:
  storage:
    s3: "store-s3"
    azure: "store-azure"
    shim: "$T/store-shim.so"
external-services:
  flaky: {type: "storage", provider: "shim", inner: "$BIN_DIR/plugins/store-local.so", path: "$T/data", fail-put: "$FAILNAME"}
  s3r: {type: "storage", provider: "s3", endpoint: "$S3R_E", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path"}
  s3bad: {type: "storage", provider: "s3", endpoint: "$S3R_E", access-key: "NOTS3RVER", secret-key: "S3RVER", addressing: "path", retry: {attempts: 1}}
  az: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:AZ_KEY", endpoint: "$AZ_E"}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: "scratch"
EOF

# fnv1a NAME... : the documented shard hash, written again in Python.
FNV='
import sys
def fnv1a(s):
    h = 0x811c9dc5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h
'

# NOBJ objects of a few bytes in 17 directories, one of them a name with a
# byte outside ASCII.
python3 - "$T/tree" "$NOBJ" <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(int(sys.argv[2]) - 1):
    d = os.path.join(root, "d%02d" % (i % 17))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "w") as f:
        f.write("%d\n" % i)
with open(os.path.join(root, "caf\u00e9.txt"), "w") as f:
    f.write("caf\u00e9\n")
EOF

# records LOG... : "name status size" per object record of the logs (the
# name relative to the run's tree: after its /ref/, /nN/ or the local
# directory), sorted; and checks every sharded record has shard and
# attempt. Exit 1 on a malformed record.
records() {
  python3 - "$@" <<'EOF'
import json, re, sys
out = []
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        if r.get("record") == "shard_end":
            continue
        name = re.sub(r"^.*?/(ref|n\d+)/", "", r["source_name"] or "")
        tname = re.sub(r"^.*?/(ref|n\d+)/", "", r["target_name"] or "")
        name = name.split("/tree/", 1)[-1]
        tname = tname.split("/tree/", 1)[-1]
        assert name == tname, (name, tname)
        out.append("%s %s %s" % (name, r["status"], r["target_size"]))
print("\n".join(sorted(out)))
EOF
}

# names DIR: the relative names of the files under DIR, sorted.
names() {
  (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

# shards N SRC DSTBASE LOGBASE: N migrate processes at once, shard i to
# DSTBASE, logging to LOGBASE-i.jsonl, run id run-N. Their exit codes are
# checked (all 0).
shards() {
  local n=$1 src=$2 dst=$3 logs=$4 i pids=() rc
  for ((i = 0; i < n; i++)); do
    "$XT_BIN" --config "$CONFIG" -q migrate --shard "$i/$n" --run-id "run-$n" \
      --transfers 4 "$src" "$dst" --log "$logs-$i.jsonl" \
      > "$T/shard-$n-$i.out" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    wait "${pids[$i]}"
    rc=$?
    check
    [ "$rc" -eq 0 ] || { LAST_CMD="migrate --shard $i/$n $src $dst"; RC=$rc
      OUT=$(cat "$T/shard-$n-$i.out"); ERR=""; fail "shard $i/$n exited $rc"; }
  done
}

# same_set WHAT EXPECTED_FILE GOT_FILE
same_set() {
  check
  cmp -s "$2" "$3" || { LAST_CMD="diff $2 $3"; OUT=$(diff "$2" "$3" | head -20)
    ERR=""; RC=1; fail "$1 differ from one unsharded run's"; }
}

names "$T/tree" > "$T/tree.names"
# A small tree (d00: 295 of 5000 objects) for the cases that need no more.
mkdir -p "$T/small"
cp -r "$T/tree/d00" "$T/small/"
[ "$(wc -l < "$T/tree.names")" -eq "$NOBJ" ] || fail "the tree has not $NOBJ files"

echo "[${SECONDS}s] --- local -> s3rver: one unsharded run, then N = 1, 3, 8 shards at once"
xt mb "s3r:$B"
assert_rc 0
xt -q migrate --transfers 8 "$T/tree" "s3r:$B/ref" --log "$T/ref.jsonl"
assert_rc 0
records "$T/ref.jsonl" > "$T/ref.rec"
[ "$(grep -c ' new ' "$T/ref.rec")" -eq "$NOBJ" ] || fail "the unsharded run: not $NOBJ new"
for n in 1 3 8; do
  shards "$n" "$T/tree" "s3r:$B/n$n" "$T/s3-$n"
  xt ls -r "s3r:$B/n$n"
  assert_rc 0
  printf '%s\n' "$OUT" | sed "s|^n$n/||" | LC_ALL=C sort > "$T/s3-$n.names"
  same_set "the objects of $n shards" "$T/tree.names" "$T/s3-$n.names"
  records "$T"/s3-"$n"-*.jsonl > "$T/s3-$n.rec"
  same_set "the records of $n shards" "$T/ref.rec" "$T/s3-$n.rec"
  # Each record's shard is its name's, by the documented hash.
  python3 -c "$FNV"'
import json, re
n = int(sys.argv[1])
for i in range(n):
    ends = 0
    for line in open("%s-%d.jsonl" % (sys.argv[2], i), encoding="utf-8"):
        r = json.loads(line)
        assert r["run_id"] == "run-%d" % n and r["shard"] == "%d/%d" % (i, n), r
        if r.get("record") == "shard_end":
            ends += 1
            assert r["ok"] is True and r["count"]["new"] == r["objects"], r
            continue
        name = r["source_name"].split("/tree/", 1)[1]
        assert fnv1a(name) % n == i, (name, i, n)
    assert ends == 1, ends
' "$n" "$T/s3-$n" || fail "shard records of $n shards"
  xt runlog summary "$T"/s3-"$n"-*.jsonl
  assert_rc 0
  assert_out_has "run run-$n: $n of $n shards reported: copied 0, new $NOBJ, update 0, equal 0, deleted 0, failed 0"
done

echo "[${SECONDS}s] --- a shard whose target fails, re-run alone"
xt -q migrate --shard 1/3 --run-id again "$T/small" "s3bad:$B/again" \
  --log "$T/again-1.jsonl"
assert_rc 6
check
[ -s "$T/again-1.jsonl" ] || fail "the failed shard wrote no log"
for i in 0 2; do
  xt -q migrate --shard "$i/3" --run-id again "$T/small" "s3r:$B/again" \
    --log "$T/again-$i.jsonl"
  assert_rc 0
done
xt runlog summary "$T"/again-*.jsonl
assert_rc 8
assert_out_has "run again: shard 1/3 failed: "
xt --json runlog summary "$T"/again-*.jsonl
assert_rc 8
python3 -c '
import json, sys
v = json.loads(sys.stdin.read())
run = [e for e in v if e["type"] == "run"][0]
assert run["shards"] == 3 and run["missing"] == [] and run["complete"] is False, run
assert [f["shard"] for f in run["failed_shards"]] == [1], run
assert v[-1]["type"] == "summary" and v[-1]["ok"] is False, v[-1]
' <<< "$OUT" || fail "runlog summary --json of a failed shard"
# Its log without its end, as if the process had been killed: missing.
grep -v '"record":"shard_end"' "$T/again-1.jsonl" > "$T/killed-1.jsonl"
xt runlog summary "$T/again-0.jsonl" "$T/killed-1.jsonl" "$T/again-2.jsonl"
assert_rc 4
assert_out_has "run again: shard 1/3 did not report"
xt runlog summary "$T/again-0.jsonl" "$T/again-2.jsonl"
assert_rc 4
# The logs on a service, shard 1's not there: that shard did not report,
# and the others are summarised all the same (exit 4, not a read error).
for i in 0 2; do
  xt cp "$T/again-$i.jsonl" "s3r:$B/logs/again-$i.jsonl"
  assert_rc 0
done
xt runlog summary "s3r:$B/logs/again-0.jsonl" "s3r:$B/logs/again-1.jsonl" \
  "s3r:$B/logs/again-2.jsonl"
assert_rc 4
assert_err_has "s3r:$B/logs/again-1.jsonl: no such run log (its shard did not report?)"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" -eq 1 ] || fail "more than one line for the missing log"
assert_out_has "run again: shard 1/3 did not report"
assert_out_has "run again: 2 of 3 shards reported: "
assert_out_has "total: "
assert_out_has "(1 of 3 logs not there: their shards did not report)"
# Other read errors stay fatal: s3rver refuses s3bad's key.
xt runlog summary "s3r:$B/logs/again-0.jsonl" "s3bad:$B/logs/again-2.jsonl"
assert_rc 6
assert_out_lacks "total: "
# The re-run, alone: its records supersede the failed attempt's.
xt -q migrate --shard 1/3 --run-id again "$T/small" "s3r:$B/again" \
  --log "$T/again-1.jsonl"
assert_rc 0
xt runlog summary "$T"/again-*.jsonl
assert_rc 0
assert_out_has "run again: 3 of 3 shards reported (latest attempts): "
assert_out_has ", failed 0;"
xt ls -r "s3r:$B/again"
printf '%s\n' "$OUT" | sed "s|^again/||" | LC_ALL=C sort > "$T/again.names"
names "$T/small" > "$T/small.names"
same_set "the objects after the re-run" "$T/small.names" "$T/again.names"

# s3rver keeps each object as a few files, which its fixture's stop
# removes: the bucket's 20000 objects go now, while Azurite works.
"$XT_BIN" --config "$CONFIG" -q rm -r "s3r:$B" > "$T/rm.out" 2>&1 &
RM_PID=$!

echo "[${SECONDS}s] --- Azurite -> local: N = 1, 3, 8 shards at once"
xt mb "az:$B"
assert_rc 0
xt -q cp -r --transfers 8 "$T/tree" "az:$B/tree"
assert_rc 0
# An unsharded download would log what the unsharded upload logged (the
# same names, sizes and statuses into an empty target): ref.rec, and the
# tree's files are what it would store.
for n in 1 3 8; do
  shards "$n" "az:$B/tree" "$T/dl/n$n" "$T/az-$n"
  names "$T/dl/n$n" > "$T/az-$n.names"
  same_set "the files of $n shards" "$T/tree.names" "$T/az-$n.names"
  records "$T"/az-"$n"-*.jsonl > "$T/az-$n.rec"
  same_set "the records of $n shards" "$T/ref.rec" "$T/az-$n.rec"
  check
  diff -r "$T/tree" "$T/dl/n$n" > /dev/null ||
    fail "the files of $n shards differ from the tree's"
  xt runlog summary "$T"/az-"$n"-*.jsonl
  assert_rc 0
done

echo "[${SECONDS}s] --- --shard auto: the scheduler's environment picks --shard I/N's objects"
# plan FILE SHARD [VAR=VALUE...]: the names a dry-run cp -r --shard SHARD
# would copy, with those variables in its environment.
plan() {
  local out=$1 shard=$2
  shift 2
  LAST_CMD="$* xtstore cp -r --dry-run --shard $shard"
  env "$@" "$XT_BIN" --config "$CONFIG" --json cp -r --dry-run \
    --shard "$shard" "$T/tree" scratch:box/plan > "$T/plan.json" \
    2> "$T/plan.err"
  RC=$?
  check
  [ "$RC" -eq 0 ] || { OUT=""; ERR=$(cat "$T/plan.err"); fail "plan $shard"; }
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
print("\n".join(sorted(e["source"].split("/tree/", 1)[1] for e in v
                       if e.get("source"))))
' "$T/plan.json" > "$out" 2>> "$T/plan.err"
}
xt mb scratch:box
for i in 0 1 2; do
  plan "$T/p-$i" "$i/3"
done
# The plans of the written form, by the documented hash.
cat "$T/p-0" "$T/p-1" "$T/p-2" | LC_ALL=C sort > "$T/p-all"
same_set "the union of the three shards' plans" "$T/tree.names" "$T/p-all"
python3 -c "$FNV"'
for i in range(3):
    for name in open(sys.argv[1] + "-%d" % i, encoding="utf-8").read().split("\n"):
        if name:
            assert fnv1a(name) % 3 == i, (name, i)
' "$T/p" || fail "the plans are not the documented hash's"
for i in 0 1 2; do
  plan "$T/k-$i" auto/3 JOB_COMPLETION_INDEX=$i
  same_set "Kubernetes shard $i's plan" "$T/p-$i" "$T/k-$i"
  plan "$T/k2-$i" auto JOB_COMPLETION_INDEX=$i XTSTORE_SHARD_COUNT=3
  same_set "Kubernetes (XTSTORE_SHARD_COUNT) shard $i's plan" "$T/p-$i" "$T/k2-$i"
  plan "$T/s-$i" auto SLURM_ARRAY_TASK_ID=$((i + 1)) SLURM_ARRAY_TASK_MIN=1 \
    SLURM_ARRAY_TASK_COUNT=3
  same_set "Slurm task $((i + 1)) (--array=1-3)'s plan" "$T/p-$i" "$T/s-$i"
  plan "$T/a-$i" auto/3 AWS_BATCH_JOB_ARRAY_INDEX=$i
  same_set "AWS Batch index $i's plan" "$T/p-$i" "$T/a-$i"
done
JOB_COMPLETION_INDEX=0 xt cp -r --shard auto "$T/tree" scratch:box/plan
assert_rc 2
assert_err_has "JOB_COMPLETION_INDEX gives the index but not the number of shards"
SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=3 xt migrate --shard auto \
  "$T/tree" scratch:box/plan
assert_rc 2
assert_err_has "SLURM_ARRAY_TASK_ID 3 is not one of the 3 tasks from 0"
xt sync --shard auto "$T/tree" scratch:box/plan
assert_rc 2
assert_err_has "none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX is set"
xt sync --shard 3/3 "$T/tree" scratch:box/plan
assert_rc 2
assert_err_has "--shard 3/3: the index must be below the number of shards"
xt cp --shard 0/3 "$T/tree/caf"*.txt scratch:box/one
assert_rc 2
xt sync --run-id x "$T/tree" scratch:box/plan
assert_rc 2

echo "[${SECONDS}s] --- sync --delete with shards: only its shard's objects, --max-delete per shard"
xt -q sync "$T/small" scratch:box/s
assert_rc 0
# 30 objects leave the source; per shard of 3, how many of them.
ls "$T/small/d00" | head -30 > "$T/gone"
(cd "$T/small/d00" && xargs rm -f < "$T/gone")
read -r C0 C1 C2 MAX <<< "$(python3 -c "$FNV"'
c = [0, 0, 0]
for name in open(sys.argv[1]).read().split():
    c[fnv1a("d00/" + name) % 3] += 1
print(c[0], c[1], c[2], max(c))
' "$T/gone")"
check
[ $((C0 + C1 + C2)) -eq 30 ] && [ "$MAX" -lt 30 ] || fail "shard counts $C0 $C1 $C2"
# Shard 0 with a limit below its own count: refused, nothing deleted.
if [ "$C0" -gt 0 ]; then
  xt sync --delete --max-delete $((C0 - 1)) --shard 0/3 "$T/small" scratch:box/s
  assert_rc 5
  assert_err_has "refusing to delete $C0 objects"
fi
for i in 0 1 2; do
  xt -q sync --delete --max-delete "$MAX" --shard "$i/3" "$T/small" scratch:box/s
  assert_rc 0
  # Exactly the gone names of shards 0..i are gone from the target.
  python3 -c "$FNV"'
import os
i, gone, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for name in open(gone).read().split():
    there = os.path.exists(os.path.join(root, "d00", name))
    assert there == (fnv1a("d00/" + name) % 3 > i), (name, i, there)
' "$i" "$T/gone" "$T/data/box/s" || fail "sync --delete --shard $i/3 deleted the wrong objects"
done
names "$T/small" > "$T/small.names"
names "$T/data/box/s" > "$T/s.names"
same_set "the target after the three shards' deletions" "$T/small.names" "$T/s.names"

echo "[${SECONDS}s] --- runlog summary: the failed objects of a shard, with their errors"
F=$(python3 -c "$FNV"'print(fnv1a("d00/" + sys.argv[1]) % 3)' "$FAILNAME")
# The run id from --run-id, or from XTSTORE_RUN_ID.
for i in 0 1 2; do
  XTSTORE_RUN_ID=fl xt -q migrate --shard "$i/3" "$T/small" flaky:box/fl \
    --log "$T/fl-$i.jsonl"
  if [ "$i" -eq "$F" ]; then assert_rc 8; else assert_rc 0; fi
done
XTSTORE_RUN_ID=fl xt migrate --run-id 'no spaces' "$T/small" scratch:box/fl \
  --log "$T/bad-id.jsonl"
assert_rc 2
assert_err_has "run id 'no spaces': 1 to 64 of"
assert_file_absent "$T/bad-id.jsonl"
xt runlog summary "$T"/fl-*.jsonl
assert_rc 8
assert_out_has "failed: [$F/3] $T/small/d00/$FAILNAME -> flaky:box/fl/d00/$FAILNAME: "
assert_out_has "run fl: shard $F/3 failed: "
assert_out_has ", failed 1;"
# That shard re-run where puts succeed (the same storage): complete, and
# the failed attempt's records are not counted.
xt -q migrate --shard "$F/3" --run-id fl "$T/small" scratch:box/fl \
  --log "$T/fl-$F.jsonl"
assert_rc 0
xt runlog summary "$T"/fl-*.jsonl
assert_rc 0
assert_out_has "run fl: 3 of 3 shards reported (latest attempts): "
assert_out_has ", failed 0;"
assert_out_has "total (latest attempts): "
assert_out_has "records of earlier attempts of re-run shards not counted; "
assert_out_has " copied over all attempts)"
xt --json runlog summary "$T"/fl-*.jsonl
assert_rc 0
python3 -c '
import json, sys
v = json.loads(sys.stdin.read())
s = v[-1]
assert s["type"] == "summary" and s["superseded"] > 0, s
assert s["bytes_all_attempts"] > s["bytes"] > 0, s
' <<< "$OUT" || fail "runlog summary --json: bytes over all attempts"

echo "[${SECONDS}s] --- runlog summary: unsharded re-runs, malformed shards; migrate --shard without a run id"
# An unsharded run re-run with the same run id is shard 0/1's new attempt:
# its records supersede the first's, counted once.
for k in 1 2; do
  xt -q migrate --run-id un "$T/small" scratch:box/un --log "$T/un-$k.jsonl"
  assert_rc 0
done
D00=$(ls "$T/small/d00" | wc -l)
xt runlog summary "$T/un-1.jsonl" "$T/un-2.jsonl"
assert_rc 0
assert_out_has "run un (unsharded, latest attempt): "
assert_out_has ", new 0, update 0, equal $D00, "
assert_out_has "($D00 records of earlier attempts of re-run shards not counted; "
python3 -c '
import json, sys
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        assert "shard" not in r and len(r["attempt"]) == 20, r
' "$T/un-1.jsonl" "$T/un-2.jsonl" || fail "unsharded records without their attempt"
# A shard that is not I/N is named (and read from its record while it is
# still there: the sanitizer tree catches the other order).
printf '%s\n' '{"run_id":"x","shard":"5/2","attempt":"1","status":"new"}' > "$T/bad-shard.jsonl"
xt runlog summary "$T/bad-shard.jsonl"
assert_rc 1
assert_err_has "bad-shard.jsonl:1: shard '5/2' is not I/N"
# Each shard alone would make up its own run id.
xt -q migrate --shard 1/3 "$T/small" scratch:box/noid --log "$T/noid.jsonl"
assert_rc 2
assert_err_has "--shard 1/3: the shards of one run must share a run id"
assert_file_absent "$T/noid.jsonl"
xt -q migrate --shard 0/1 "$T/small" scratch:box/noid
assert_rc 0

wait "$RM_PID"
RC=$?
LAST_CMD="xtstore rm -r s3r:$B"
OUT=$(cat "$T/rm.out")
assert_rc 0
echo "[${SECONDS}s] --- done"
finish
