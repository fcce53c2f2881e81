#!/usr/bin/env bash
# cp -r (a local tree to a service, service to service streamed and
# server-side, back to a local tree; --transfers 1 and 8; --dry-run; a
# failing object; an empty source), put --to (fan-out where services fail
# at open and in mid-stream, a pipe read once), the progress display, and
# seen from the provider: --transfers N puts in flight at once, and copies
# within one service made by the provider's copy alone.
. "$(dirname "$0")/lib.sh" "$@"

LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
echo "a file, not a directory" > "$T/afile"
mkdir -p "$T/data3" "$T/data4"
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  other: {type: "storage", provider: "local", path: "$T/data2"}
  broken: {type: "storage", provider: "local", path: "$T/afile/sub"}
  flaky: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data3", fail-put: "bad"}
  midway: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data4", fail-put: "big", fail-after: "3000000"}
xt-services:
  storage: "scratch"
EOF

for s in scratch other flaky midway; do
  xt mb $s:box
  assert_rc 0
done

# count_lines TEXT: lines of TEXT that are not empty.
count_lines() {
  printf '%s\n' "$1" | grep -c .
}

# --- cp -r: a local tree up, across, and down again ---------------------
mkdir -p tree/a/b tree/c "tree/with space" tree/empty-dir
printf 'x' > tree/a/b/x.txt
printf '{"k": 1}\n' > tree/c/y.json
: > tree/c/empty
head -c $((3 << 20)) /dev/urandom > tree/blob.bin
printf 'spaced\n' > "tree/with space/s p.txt"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'file %s\n' $i > tree/c/f$i; done
NFILES=$(find tree -type f | wc -l)
# A symlink is skipped, not followed.
ln -s ../blob.bin tree/a/link

xt cp -r tree scratch:box/t
assert_rc 0
assert_err_empty
check
[ "$(printf '%s\n' "$OUT" | grep -c '^upload: tree/')" -eq "$NFILES" ] ||
  fail "expected $NFILES upload lines"
assert_out_has "upload: tree/with space/s p.txt -> scratch:box/t/with space/s p.txt (7 bytes)"
assert_out_has "cp: $NFILES objects: $NFILES copied, 0 failed"
xt ls -r scratch:box/t
assert_rc 0
check
[ "$(count_lines "$OUT")" -eq "$NFILES" ] || fail "expected $NFILES blobs"
assert_out_lacks "link"
# Content types come from the extension, as put gives them.
xt --json stat scratch:box/t/c/y.json
assert_json_eq 'j["content_type"]' '"application/json"'

# Metadata set on the service travels with service-to-service copies.
xt meta --set owner=me --set tier=gold scratch:box/t/c/y.json
assert_rc 0

# Two local services: streamed copies, one object at a time and eight.
xt cp -r --transfers 1 scratch:box/t other:box/one
assert_rc 0
assert_out_has "copy: scratch:box/t/blob.bin -> other:box/one/blob.bin ($((3 << 20)) bytes)"
xt cp -r --transfers 8 scratch:box/t/ other:box/eight/
assert_rc 0
xt --json stat other:box/eight/c/y.json
assert_json_eq '[j["content_type"], j["metadata"]]' \
  '["application/json", {"owner": "me", "tier": "gold"}]'
# Server-side within one service.
xt cp -r scratch:box/t scratch:box/same
assert_rc 0
xt --json stat scratch:box/same/c/y.json
assert_json_eq 'j["metadata"]' '{"owner": "me", "tier": "gold"}'

# Neither the symlink nor the empty directory became an object.
rm tree/a/link
rmdir tree/empty-dir
for d in one eight; do
  xt cp -r other:box/$d out-$d
  assert_rc 0
  run diff -r tree out-$d
  assert_rc 0
done
xt cp -r scratch:box/same out-same
assert_rc 0
run diff -r tree out-same
assert_rc 0
# An existing local tree is updated in place.
xt cp -r other:box/one out-one
assert_rc 0
run diff -r tree out-one
assert_rc 0

# A raw prefix ("f1*") keeps the names below its directory.
xt cp -r 'scratch:box/t/c/f1*' other:box/raw
assert_rc 0
xt ls -r other:box/raw
assert_out "raw/f1
raw/f10
raw/f11
raw/f12"

# --dry-run prints the plan and changes nothing.
xt cp -r --dry-run tree other:box/dry
assert_rc 0
assert_out_has "(dryrun) upload: tree/c/y.json -> other:box/dry/c/y.json (9 bytes)"
assert_out_has "(dryrun) cp: $NFILES objects"
xt ls -r other:box/dry
assert_out ""
xt cp -r --dry-run scratch:box/t dry-local
assert_rc 0
assert_file_absent dry-local

# Usage: two local trees; nothing under the source.
xt cp -r tree elsewhere
assert_usage cp
xt cp -r scratch:box/nothing-here out-x
assert_rc 4
assert_err "xtstore: cp: nothing under 'scratch:box/nothing-here/': no object would be copied (--allow-empty-source runs it anyway)"
assert_file_absent out-x
xt cp -r --allow-empty-source scratch:box/nothing-here out-x
assert_rc 0
assert_out ""
xt cp --allow-empty-source scratch:box/t/c/f1 out-x
assert_usage cp
xt cp -r --meta a=b tree scratch:box/x
assert_usage cp

# One object fails (the shim refuses keys with "bad"); the others are done.
mkdir -p tree2
printf 'one\n' > tree2/ok1
printf 'two\n' > tree2/ok2
printf 'bad\n' > tree2/bad.txt
xt cp -r tree2 flaky:box/f
assert_rc 8
assert_out_has "upload: tree2/ok1 -> flaky:box/f/ok1 (4 bytes)"
assert_out_has "upload: tree2/ok2 -> flaky:box/f/ok2 (4 bytes)"
assert_out_has "cp: 3 objects: 2 copied, 1 failed"
assert_err "xtstore: cp: tree2/bad.txt -> flaky:box/f/bad.txt: service 'flaky': shim: blob 'box/f/bad.txt': injected put failure"
xt cat flaky:box/f/ok2
assert_out "two"
xt --json cp -r tree2 flaky:box/j
assert_rc 8
assert_json_eq 'sorted([e["target"], e["status"], e["error"] is not None] for e in j[:-1])' \
  '[["flaky:box/j/bad.txt", "failed", true], ["flaky:box/j/ok1", "copied", false], ["flaky:box/j/ok2", "copied", false]]'
assert_json_eq '[j[-1]["action"], j[-1]["copied"], j[-1]["failed"]]' '["summary", 2, 1]'

# --- put --to: one body to several services ------------------------------
python3 -c '
import sys
sys.stdout.buffer.write(bytes(range(256)) * 40000)' > data.bin
DATA_SIZE=$(stat -c %s data.bin)

# Three services, one of which fails (its root is a file's subdirectory).
xt put --to scratch,other,broken data.bin box/fan/data.bin
assert_rc 8
assert_out "upload: data.bin -> scratch:box/fan/data.bin ($DATA_SIZE bytes)
upload: data.bin -> other:box/fan/data.bin ($DATA_SIZE bytes)"
assert_error put
assert_err_has "data.bin -> broken:box/fan/data.bin: service 'broken': "
assert_err_has "not found"
for s in scratch other; do
  xt get $s:box/fan/data.bin got-$s.bin
  assert_rc 0
  assert_same data.bin got-$s.bin
done

# One that fails in mid-stream (after 3 MB of 10) is dropped from the tee;
# the others get every byte. The key defaults to the file's name.
python3 -c '
import sys
sys.stdout.buffer.write(b"0123456789abcdef" * (10 << 16))' > big.bin
xt put --to scratch,midway,other big.bin box/fan/
assert_rc 8
assert_out_has "upload: big.bin -> scratch:box/fan/big.bin"
assert_out_has "upload: big.bin -> other:box/fan/big.bin"
assert_err_has "big.bin -> midway:box/fan/big.bin: service 'midway': shim: blob 'box/fan/big.bin': injected put failure"
for s in scratch other; do
  xt get $s:box/fan/big.bin got-big-$s.bin
  assert_same big.bin got-big-$s.bin
done
xt stat midway:box/fan/big.bin
assert_rc 4

# A pipe can be read only once: every service gets all of it anyway.
xt_pipe "cat data.bin" put --to scratch,other - box/fan/pipe.bin
assert_rc 0
for s in scratch other; do
  xt get $s:box/fan/pipe.bin got-pipe-$s.bin
  assert_same data.bin got-pipe-$s.bin
done

# JSON: one element per service with its status and error.
xt --json put --to other,broken --meta k=v data.bin box/fan/j.bin
assert_rc 8
assert_json_eq '[[e["target"], e["status"], e["size"]] for e in j]' \
  "[[\"other:box/fan/j.bin\", \"copied\", $DATA_SIZE], [\"broken:box/fan/j.bin\", \"failed\", $DATA_SIZE]]"
assert_json_eq '"not found" in j[1]["error"]' 'true'
xt meta other:box/fan/j.bin
assert_out "k=v"

# all: every storage service (broken fails, the shims and locals store).
xt put --to all --text hello box/fan/all.txt
assert_rc 8
check
[ "$(count_lines "$OUT")" -eq 4 ] || fail "expected 4 uploads"
assert_err_has "broken:box/fan/all.txt"
xt cat midway:box/fan/all.txt
assert_out "hello"
# All fail: the failure's own exit code (not found).
xt put --to broken data.bin box/fan/x
assert_rc 4
xt put --to scratch,other --dry-run data.bin box/fan/dry.bin
assert_rc 0
assert_out_has "(dryrun) upload: data.bin -> other:box/fan/dry.bin"
xt stat other:box/fan/dry.bin
assert_rc 4
xt put --to scratch data.bin other:box/x
assert_usage put

# --- progress -------------------------------------------------------------
# On a pipe: nothing unless --progress.
xt put data.bin scratch:box/p.bin
assert_rc 0
assert_err_empty
xt put --progress data.bin scratch:box/p.bin
assert_rc 0
assert_err_has "put: 100% [####################]"
assert_err_has "1/1 objects"
xt get --progress scratch:box/p.bin got-p.bin
assert_rc 0
assert_err_has "get: 100%"
# A single cp knows the size: a total on the bar and in the result line,
# streamed or server-side.
xt cp --progress scratch:box/p.bin other:box/p.bin
assert_rc 0
assert_out "copy: scratch:box/p.bin -> other:box/p.bin ($DATA_SIZE bytes)"
assert_err_has "cp: 100% [####################]"
assert_err_has "1/1 objects"
xt cp --progress scratch:box/p.bin scratch:box/p2.bin
assert_rc 0
assert_out "copy: scratch:box/p.bin -> scratch:box/p2.bin ($DATA_SIZE bytes)"
assert_err_has "cp: 100% [####################]"
xt cp -r --progress --no-progress tree other:box/np
assert_rc 0
assert_err_empty
xt cp -r --progress scratch:box/t other:box/pb
assert_rc 0
assert_err_has "$NFILES/$NFILES objects"
xt sync scratch:box/t other:box/pb
assert_rc 0
assert_err_empty

# --json: one JSON event per line on stderr; stdout stays the array.
xt --json cp -r --progress tree other:box/pj
assert_rc 0
check
python3 - "$T/.err" "$NFILES" <<'EOF' || fail "progress events are not the expected JSON lines"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
kinds = [e["event"] for e in events]
assert kinds[0] == "start" and kinds[-1] == "done", kinds
assert kinds.count("object") == int(sys.argv[2]), kinds
assert set(kinds) <= {"start", "progress", "object", "done"}, kinds
done = events[-1]
assert done["ok"] is True and done["objects"] == int(sys.argv[2]), done
assert done["bytes"] == done["bytes_total"] > 3 << 20, done
for e in events:
    if e["event"] == "object":
        assert e["status"] == "copied" and e["error"] is None, e
        assert e["target"].startswith("other:box/pj/"), e
EOF
assert_json_eq 'j[-1]["copied"]' "$NFILES"
xt --json put --progress --to scratch,broken data.bin box/fan/pj.bin
assert_rc 8
check
python3 - "$T/.err" <<'EOF' || fail "fan-out events are not JSON lines"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
events = [json.loads(l) for l in lines]
objs = [e for e in events if e["event"] == "object"]
assert [o["status"] for o in objs] == ["copied", "failed"], objs
assert events[-1]["event"] == "done" and events[-1]["ok"] is False
EOF

# On a terminal: a bar redrawn in place.
check
python3 - "$XT_BIN" "$CONFIG" <<'EOF' || fail "no bar on a terminal"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.run([sys.argv[1], "--config", sys.argv[2], "put", "--progress",
                    "data.bin", "scratch:box/tty.bin"],
                   stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out = b""
try:
    while True:
        chunk = os.read(master, 4096)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
assert p.returncode == 0
assert b"\r" in out and b"\x1b[K" in out and b"put: 100%" in out, out
EOF

# --- the worker pool and server-side copies, seen by the provider -----------
# A config of its own: `put --to all` above counts every storage service.
# "busy" takes 50 ms per put and records the most puts in flight at once;
# "sscopy" copies server-side and notes every op.
build_shim "$T/store-shimcopy.so" -DSHIM_COPY
mkdir -p "$T/data5" "$T/data6"
CONFIG="$T/xt-pool.yaml"
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
    shimcopy: "$T/store-shimcopy.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  busy: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data5", put-sleep-ms: "50", max-puts: "$T/max-puts"}
  sscopy: {type: "storage", provider: "shimcopy", inner: "$LOCAL_SO", path: "$T/data6", calls: "$T/calls-copy"}
xt-services:
  storage: "scratch"
EOF
xt mb busy:box
xt mb sscopy:box
mkdir -p wide
for i in $(seq -w 1 24); do printf 'wide %s\n' "$i" > "wide/w$i"; done

# assert_most LOW HIGH: the last run had LOW..HIGH puts in flight at once.
assert_most() {
  local most
  most=$(cat "$T/max-puts" 2>/dev/null)
  check
  [ -n "$most" ] && [ "$most" -ge "$1" ] && [ "$most" -le "$2" ] ||
    fail "expected $1 to $2 puts in flight at once, saw '${most}'"
}
# --transfers N objects really are in flight together (the puts overlap
# for certain), never more; 1 is one at a time.
xt cp -r --transfers 8 wide busy:box/w8
assert_rc 0
assert_most 2 8
xt cp -r --transfers 1 wide busy:box/w1
assert_rc 0
assert_most 1 1
xt migrate --transfers 8 wide busy:box/m8
assert_rc 0
assert_out_has "migrate: 24 objects: 24 new, 0 failed"
assert_most 2 8
xt sync --transfers 1 wide busy:box/s1
assert_rc 0
assert_most 1 1

# Within one service that copies, cp and cp -r are the provider's copy:
# no byte goes through a get and a put.
xt cp -r wide sscopy:box/src
assert_rc 0
rm -f "$T/calls-copy"
xt cp sscopy:box/src/w01 sscopy:box/one/w01
assert_rc 0
assert_out "copy: sscopy:box/src/w01 -> sscopy:box/one/w01 (8 bytes)"
xt cp -r --transfers 4 sscopy:box/src sscopy:box/tree
assert_rc 0
assert_out_has "cp: 24 objects: 24 copied, 0 failed"
check
[ "$(grep -c '^blob_copy ' "$T/calls-copy")" -eq 25 ] ||
  fail "expected 25 server-side copies: $(cat "$T/calls-copy")"
check
! grep -q '^blob_get \|^blob_put ' "$T/calls-copy" ||
  fail "a copy within one service went through a get or a put: $(grep '^blob_get \|^blob_put ' "$T/calls-copy")"
xt cp -r sscopy:box/tree out-sscopy
assert_rc 0
run diff -r wide out-sscopy
assert_rc 0

finish
