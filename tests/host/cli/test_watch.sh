#!/usr/bin/env bash
# sync --watch between two local services (docs/replication.md): objects
# written to the source while the watcher runs reach the target by the
# poll after the one under way, byte-identical; a restarted watcher continues the poll count
# from its state file and copies nothing it copied before; --delete with
# --max-delete per poll (too many: none deleted, said, retried); SIGTERM
# while a large object is in flight ends the watch after that object (exit
# 0, the object whole), a second signal abandons it (exit 130, nothing
# partial at the target); SIGTERM during a long first sync ends it after
# the objects in flight, not the whole poll (none partial, no deletion, the
# rest on restart); --json lines; failures and usage errors.
# test_watch.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
# "slow" is other's storage through a shim whose puts wait 1.5 s before
# they start, noting each op in calls-slow: an object stays in flight long
# enough to be signalled.
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  other: {type: "storage", provider: "local", path: "$T/data2"}
  slow: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data2", put-sleep-ms: "1500", calls: "$T/calls-slow"}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:box
xt mb other:box
SRC="$T/data/box/src"
DST="$T/data2/box/dst"

. "$(dirname "$0")/watchlib.sh"
# assert_out_untimed TEXT: stdout is TEXT once the polls' times are cut.
assert_out_untimed() {
  check
  local got
  got=$(printf '%s\n' "$OUT" | sed -E 's/ in [0-9]+\.[0-9] s$//')
  [ "$got" = "$1" ] || fail "stdout differs; expected:
$1"
}

# --- objects written while the watcher runs arrive by the next poll -------
for i in 1 2 3; do
  head -c $((i * 1000)) /dev/urandom > "$T/f$i"
  xt put "$T/f$i" "scratch:box/src/f$i"
done
watch_start w1 --interval 1s scratch:box/src/ other:box/dst/
check
wait_for "$T/w1.out" '^poll 1: ' 10 || fail "no first poll: $(cat "$T/w1.err")"
for i in 1 2 3; do
  assert_same "$T/f$i" "$DST/f$i"
done
head -c 5000 /dev/urandom > "$T/n1"
head -c 70000 /dev/urandom > "$T/n2"
# The poll under way may have listed before the puts: the next one copies.
K=$(($(polls_done "$T/w1.out") + 2))
xt put "$T/n1" scratch:box/src/n1
xt put "$T/n2" scratch:box/src/sub/n2
by_poll "$T/w1.out" "$K" "new: scratch:box/src/n1 -> other:box/dst/n1 (5000 bytes)"
by_poll "$T/w1.out" "$K" "new: scratch:box/src/sub/n2 -> other:box/dst/sub/n2 (70000 bytes)"
assert_same "$T/n1" "$DST/n1"
assert_same "$T/n2" "$DST/sub/n2"
# An object changed in place is copied again.
head -c 6000 /dev/urandom > "$T/n1b"
K=$(($(polls_done "$T/w1.out") + 2))
xt put "$T/n1b" scratch:box/src/n1
by_poll "$T/w1.out" "$K" "update: scratch:box/src/n1 -> other:box/dst/n1 (6000 bytes)"
assert_same "$T/n1b" "$DST/n1"
# And the poll after is quiet.
check
wait_for "$T/w1.out" "^poll $((K + 1)): " 30 &&
  grep -Eq "^poll $((K + 1)): 5 objects: 5 equal" "$T/w1.out" ||
  fail "no quiet poll once everything was copied: $(cat "$T/w1.out")"
watch_end w1 TERM
assert_rc 0
assert_err_empty
assert_out_has "new: scratch:box/src/f1 -> other:box/dst/f1 (1000 bytes)"
assert_out_has "new: scratch:box/src/n1 -> other:box/dst/n1 (5000 bytes)"
assert_out_has "new: scratch:box/src/sub/n2 -> other:box/dst/sub/n2 (70000 bytes)"
assert_out_has "update: scratch:box/src/n1 -> other:box/dst/n1 (6000 bytes)"
check
# Each object is copied once per change: 3 + 2 new, 1 update.
[ "$(grep -c '^new: ' <<< "$OUT")" -eq 5 ] &&
  [ "$(grep -c '^update: ' <<< "$OUT")" -eq 1 ] ||
  fail "objects copied more than once per change"
POLLS=$(grep -c '^poll ' <<< "$OUT")

# --- a restart: the poll count goes on, nothing copied again ---------------
STATE=$(ls "$HOME"/.local/state/xtstore/watch/*.state 2>/dev/null)
check
[ -n "$STATE" ] && grep -qx "polls $POLLS" "$STATE" &&
  grep -qx 'synced 1' "$STATE" && grep -qx 'copied 6' "$STATE" &&
  grep -qx 'source scratch:box/src/' "$STATE" ||
  fail "state file: $(cat "$STATE" 2>&1)"
head -c 300 /dev/urandom > "$T/n3"
xt put "$T/n3" scratch:box/src/n3
run "$XT_BIN" --config "$CONFIG" sync --watch --interval 1s --max-polls 2 \
  scratch:box/src/ other:box/dst/
assert_rc 0
assert_err_empty
assert_out_untimed "new: scratch:box/src/n3 -> other:box/dst/n3 (300 bytes)
poll $((POLLS + 1)): 6 objects: 1 new, 5 equal, 0 failed; 300 B copied
poll $((POLLS + 2)): 6 objects: 6 equal, 0 failed; 0 B copied"
# --state elsewhere starts afresh (poll 1) and still copies nothing.
run "$XT_BIN" --config "$CONFIG" sync --watch --state "$T/st" --max-polls 1 \
  scratch:box/src/ other:box/dst/
assert_out_untimed "poll 1: 6 objects: 6 equal, 0 failed; 0 B copied"
# A state file of another pair is not used (a warning; replaced).
cp "$STATE" "$T/st2"
run "$XT_BIN" --config "$CONFIG" sync --watch --state "$T/st2" --max-polls 1 \
  scratch:box/src/sub/ other:box/dst/sub/
assert_rc 0
assert_out_untimed "poll 1: 1 objects: 1 equal, 0 failed; 0 B copied"
assert_err_has "is for 'scratch:box/src/' -> 'other:box/dst/'; starting afresh"
check
grep -qx 'source scratch:box/src/sub/' "$T/st2" || fail "state not replaced"
# One --state given to two shards' watchers: each names its shard, so the
# other's is another pair's; and no temporary is left beside it.
run "$XT_BIN" --config "$CONFIG" sync --watch --state "$T/st4" --max-polls 1 \
  --shard 0/2 scratch:box/src/ other:box/dst/
assert_rc 0
assert_err_empty
check
grep -qx 'source scratch:box/src/ shard 0/2' "$T/st4" &&
  grep -qx 'target other:box/dst/ shard 0/2' "$T/st4" ||
  fail "the state does not name the shard: $(cat "$T/st4")"
run "$XT_BIN" --config "$CONFIG" sync --watch --state "$T/st4" --max-polls 1 \
  --shard 1/2 scratch:box/src/ other:box/dst/
assert_rc 0
assert_err_has "is for 'scratch:box/src/ shard 0/2' -> 'other:box/dst/ shard 0/2'; starting afresh"
check
[[ "$OUT" == "poll 1: "* ]] || fail "shard 1/2 went on from shard 0/2's state"
grep -qx 'source scratch:box/src/ shard 1/2' "$T/st4" || fail "state not replaced"
[ "$(ls "$T" | grep -c '^st4')" -eq 1 ] || fail "temporaries left: $(ls "$T")"

# --- --json: one object per line --------------------------------------------
head -c 10 /dev/urandom > "$T/n4"
xt put "$T/n4" scratch:box/src/n4
xt --json sync --watch --no-state --max-polls 1 scratch:box/src/ other:box/dst/
assert_rc 0
check
python3 - "$T/.out" <<'EOF' || fail "--json lines are wrong"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert len(lines) == 2, lines
o, p = lines
assert o == {"event": "object", "poll": 1, "status": "new",
             "source": "scratch:box/src/n4", "target": "other:box/dst/n4",
             "size": 10, "error": None}, o
assert p["event"] == "poll" and p["poll"] == 1 and p["ok"] is True, p
assert (p["objects"], p["new"], p["equal"], p["failed"], p["bytes"]) == \
    (7, 1, 6, 0, 10), p
assert p["next_in_ms"] is None and p["error"] is None, p
EOF

# --- --delete honours --max-delete in each poll -----------------------------
for i in 1 2 3; do
  xt put "$T/f$i" "other:box/dst/extra$i"
done
watch_start w2 --interval 1s --delete --max-delete 2 --no-state \
  scratch:box/src/ other:box/dst/
check
wait_for "$T/w2.err" 'poll 2 failed \(2 in a row\)' 10 ||
  fail "the guard was not retried: $(cat "$T/w2.err")"
for i in 1 2 3; do
  check
  [ -f "$DST/extra$i" ] || fail "extra$i was deleted past --max-delete"
done
# Down to two: the next poll deletes them.
K=$(($(polls_done "$T/w2.out" "$T/w2.err") + 2))
rm "$DST/extra3"
by_poll "$T/w2.out" "$K" "delete: other:box/dst/extra2"
watch_end w2 INT
assert_rc 0
assert_err_has "xtstore: sync: poll 1 failed (1 in a row), next in 1.0 s: refusing to delete 3 objects the source lacks: more than the limit of 2 (max-delete); nothing deleted"
assert_out_has "delete: other:box/dst/extra1"
assert_file_absent "$DST/extra1"
assert_file_absent "$DST/extra2"
check
[ -f "$DST/n1" ] || fail "a source object was deleted"
# The guard in the last poll is the exit status.
xt put "$T/f1" other:box/dst/extra1
xt sync --watch --no-state --max-polls 1 --delete --max-delete 0 \
  scratch:box/src/ other:box/dst/
assert_rc 5
assert_error sync
assert_err_has "refusing to delete 1 objects"

# --- SIGTERM with a large object in flight ----------------------------------
head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/big1"
xt put "$T/big1" scratch:box/big/big1.bin
: > "$T/calls-slow"
watch_start w3 --interval 1s --no-state scratch:box/big/ slow:box/big/
check
wait_for "$T/calls-slow" '^blob_put box big/big1.bin' 10 ||
  fail "the large object did not start"
watch_end w3 TERM
assert_rc 0
assert_out_has "new: scratch:box/big/big1.bin -> slow:box/big/big1.bin"
assert_same "$T/big1" "$T/data2/box/big/big1.bin"
# Twice: the object in flight is abandoned; nothing of it is left.
head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/big2"
xt put "$T/big2" scratch:box/big/big2.bin
: > "$T/calls-slow"
watch_start w4 --interval 1s --no-state scratch:box/big/ slow:box/big/
check
wait_for "$T/calls-slow" '^blob_put box big/big2.bin' 10 ||
  fail "the large object did not start"
watch_end w4 TERM TERM
assert_rc 130
assert_out_lacks "big2.bin"
assert_err_has "xtstore: sync: interrupted"
check
[ "$(ls -A "$T/data2/box/big")" = "big1.bin" ] ||
  fail "left at the target: $(ls -A "$T/data2/box/big")"
# A stop between polls: the wait ends at once.
watch_start w5 --interval 1h --no-state scratch:box/big/ other:box/big/
check
wait_for "$T/w5.out" '^poll 1: ' 10 || fail "no first poll"
# (Waiting out the hour would be killed by watch_end: exit 137.)
watch_end w5 TERM
assert_rc 0

# --- SIGTERM during a long first full sync: after the objects in flight -----
# 40 objects to "slow" (1.5 s per put), 2 in flight: the whole poll would
# take 30 s. The stop ends it after the puts under way: every put begun
# ends whole, the rest is not started, --delete deletes nothing; a restart
# copies the rest.
mkdir -p "$T/many"
for i in $(seq 10 49); do
  head -c $((100 + i)) /dev/urandom > "$T/many/m$i"
  xt put "$T/many/m$i" "scratch:box/many/m$i"
done
xt put "$T/f1" other:box/many/zz-extra
: > "$T/calls-slow"
watch_start w6 --interval 1s --no-state --transfers 2 --delete \
  --max-delete 5 scratch:box/many/ slow:box/many/
check
wait_for "$T/calls-slow" '^blob_put box many/m' 10 || fail "no copy started"
# Ended after the objects in flight, not the 40 (watch_end's hang guard
# kills a watch that goes on: not exit 0).
watch_end w6 TERM
assert_rc 0
COPIED=$(cd "$T/data2/box/many" && ls m* | wc -l)
STARTED=$(grep -c '^blob_put box many/m' "$T/calls-slow")
[ "$COPIED" -ge 1 ] && [ "$COPIED" -lt 40 ] &&
  [ "$COPIED" -eq "$STARTED" ] ||
  fail "$COPIED of 40 copied, $STARTED begun: $(cat "$T/calls-slow")"
for f in "$T/data2/box/many/"m*; do
  cmp -s "$f" "$T/many/${f##*/}" || fail "not whole at the target: $f"
done
assert_out_has "poll 1: $COPIED objects: $COPIED new, 0 failed"
check
[ -f "$T/data2/box/many/zz-extra" ] || fail "deleted by a stopped poll"
# --json: the poll that stopped says so.
: > "$T/calls-slow"
watch_start w7 --json --interval 1s --no-state --transfers 2 \
  scratch:box/many/ slow:box/many/
check
wait_for "$T/calls-slow" '^blob_put box many/m' 10 || fail "no copy started"
watch_end w7 TERM
assert_rc 0
check
python3 - "$T/w7.out" <<'EOF' || fail "--json poll line of a stop: $OUT"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()][-1]
assert p["event"] == "poll" and p["ok"] is False, p
assert p["error"] == "stopped" and p["next_in_ms"] is None, p
assert p["failed"] == 0 and 1 <= p["new"] < 40, p
EOF
# The rest, and the deletion, on the next start.
xt sync --watch --no-state --max-polls 1 --delete --max-delete 5 \
  scratch:box/many/ other:box/many/
assert_rc 0
for i in $(seq 10 49); do
  assert_same "$T/many/m$i" "$T/data2/box/many/m$i"
done
assert_file_absent "$T/data2/box/many/zz-extra"

# --- the stop through the library: a sharded migrate ------------------------
# (test_watch_stop.c) Stopped once an object is reported: STORE_E_ABORTED
# "stopped", the run log has the objects that finished, and its shard_end
# says not ok, so runlog summary counts the shard as failed.
build_client "$T/watch-stop" "$SRC_DIR/tests/host/cli/test_watch_stop.c" \
  -Wall -Wextra -Werror
: > "$T/calls-slow"
run "$T/watch-stop" "$CONFIG" scratch slow box many/ mig/ "$T/mig.jsonl" \
  stopme
assert_rc 0
check
N=$(sed -nE 's/^stopped after ([0-9]+) objects$/\1/p' <<< "$OUT")
[ -n "$N" ] && [ "$N" -lt 40 ] &&
  [ "$(ls "$T/data2/box/mig" | wc -l)" -eq "$N" ] &&
  [ "$(grep -c '^blob_put box mig/' "$T/calls-slow")" -eq "$N" ] ||
  fail "stopped migrate: '$OUT', at the target: $(ls "$T/data2/box/mig")"
python3 - "$T/mig.jsonl" "$N" <<'EOF' || fail "run log of a stopped migrate"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
end = [r for r in recs if r.get("record") == "shard_end"]
objs = [r for r in recs if r.get("record") != "shard_end"]
assert len(end) == 1 and end[0]["ok"] is False, end
assert end[0]["error"] == "stopped", end
assert end[0]["objects"] == len(objs) == int(sys.argv[2]), (end, len(objs))
EOF
xt runlog summary "$T/mig.jsonl"
assert_rc 8
assert_out_has "run stopme: shard 0/1 failed: stopped"

# --- failures ---------------------------------------------------------------
# Listings that fail before any poll of the pair succeeded end it.
xt sync --watch --no-state scratch:nobox/ other:box/dst/
assert_rc 4
assert_error sync
assert_err_has "container 'nobox' not found"
# After a success (the state says so), a failing poll is retried;
# --max-failures ends it.
xt sync --watch --state "$T/st3" --max-polls 1 scratch:box/src/ other:box/tmp/
assert_rc 0
mv "$T/data/box" "$T/data/box-away"
xt sync --watch --state "$T/st3" --interval 200ms --max-failures 3 \
  scratch:box/src/ other:box/tmp/
assert_rc 4
assert_err_has "poll 2 failed (1 in a row), next in 0.2 s"
assert_err_has "poll 3 failed (2 in a row), next in 0.2 s"
assert_err_lacks "poll 4 failed"
mv "$T/data/box-away" "$T/data/box"

# --- usage -------------------------------------------------------------------
xt sync --interval 1s scratch:box/src/ other:box/dst/
assert_usage sync
assert_err_has "go with --watch"
xt sync --watch --interval 0s scratch:box/src/ other:box/dst/
assert_usage sync
assert_err_has "--interval wants a duration"
xt sync --watch --dry-run scratch:box/src/ other:box/dst/
assert_usage sync
xt migrate --watch scratch:box/src/ other:box/dst/
assert_usage migrate
xt sync --watch --state x --no-state scratch:box/src/ other:box/dst/
assert_usage sync
xt sync --help
assert_out_has "--watch"
assert_out_has "docs/replication.md"

finish
