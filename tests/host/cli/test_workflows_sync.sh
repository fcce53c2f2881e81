#!/usr/bin/env bash
# migrate (a run interrupted by failing objects and re-run; one interrupted
# by SIGINT, whose log on a service keeps the records of what was done; the
# run log's records, names and statuses; --dry-run; logs on services) and
# sync (--delete under --dry-run, the --max-delete guard, deletions;
# comparing from listings alone, with no HEAD per object; local trees); an
# empty or wrong source refused by both.
. "$(dirname "$0")/lib.sh" "$@"

LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
build_shim "$T/store-serial.so" -DSHIM_SERIAL
# "flaky" is the storage of "other" seen through a shim that fails puts
# of keys containing "f7"; cscratch and cother count every op; "serial"
# is scratch's storage through a provider that is not thread-safe and
# lists 3 names per page; "slow" is other's storage through a shim whose
# puts take 300 ms each, so a run can be interrupted midway.
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
    serial: "$T/store-serial.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  other: {type: "storage", provider: "local", path: "$T/data2"}
  flaky: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data2", fail-put: "f7"}
  cscratch: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data", calls: "$T/calls-src"}
  cother: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data2", calls: "$T/calls-dst"}
  serial: {type: "storage", provider: "serial", inner: "$LOCAL_SO", path: "$T/data"}
  slow: {type: "storage", provider: "shim", inner: "$LOCAL_SO", path: "$T/data2", put-sleep-ms: "300", calls: "$T/calls-slow"}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:box
xt mb other:box
xt mb other:logs

# assert_out_untimed TEXT: stdout is TEXT once the summary's time is cut.
assert_out_untimed() {
  check
  local got
  got=$(printf '%s\n' "$OUT" | sed -E 's/ in [0-9]+\.[0-9] s$//')
  [ "$got" = "$1" ] || fail "stdout differs; expected:
$1"
}

# check_log FILE FIRST STATUSES: python3 checks the records from line
# FIRST on against the expected NAME=STATUS words of STATUSES.
check_log() {
  check
  python3 - "$1" "$2" "$T/data/box/src" "$3" <<'EOF' || fail "run log records are wrong"
import json, os, re, sys
path, first, srcdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
want = dict(w.split("=") for w in sys.argv[4].split())
recs = [json.loads(l) for l in open(path).read().splitlines()[first - 1:]]
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
assert len({r["run_id"] for r in recs}) == 1, "one run id per run"
assert re.match(r"^\d{20}$", recs[0]["run_id"]), recs[0]["run_id"]
got = {}
for r in recs:
    assert list(r) == ["run_id", "run_date", "attempt", "source_name",
                       "source_size",
                       "source_crc32c", "target_name", "target_size",
                       "target_crc32c", "target_md5",
                       "start_time", "end_time", "run_time", "status",
                       "error"], list(r)
    c = r["source_crc32c"]
    assert c is None or re.match(r"^[0-9a-f]{8}$", c), r
    # A copy is checked by the CRC-32C the target reports (the local
    # provider keeps one, and no MD5); nothing copied, nothing checked.
    if r["status"] in ("new", "update"):
        assert c and r["target_crc32c"] == c, r
    else:
        assert r["target_crc32c"] is None, r
    assert r["target_md5"] is None, r
    name = r["source_name"].split("scratch:box/src/", 1)[1]
    got[name] = r["status"]
    # The target's own name, not the last one compared.
    assert r["target_name"].endswith(":box/dst/" + name), r
    assert r["source_size"] == os.path.getsize(os.path.join(srcdir, name)), r
    for k in ("run_date", "start_time", "end_time"):
        assert iso.match(r[k]), r[k]
    assert r["run_time"] >= 0, r
    if r["status"] == "failed":
        assert r["error"] and "injected put failure" in r["error"], r
        assert r["target_size"] is None, r
    else:
        assert r["error"] is None, r
        assert r["target_size"] == r["source_size"], r
assert got == want, (got, want)
EOF
}

# --- migrate ----------------------------------------------------------------
mkdir -p src/sub
for i in 1 2 3 4 5 6 7 8 9; do printf 'object %s\n' $i > src/f$i; done
printf 'nested\n' > src/sub/f10
xt cp -r src scratch:box/src
assert_rc 0
# Half the target exists already, the same.
for i in 1 2 3 4; do
  xt cp scratch:box/src/f$i other:box/dst/f$i
done
# f5 is there but different.
xt put --text "old" other:box/dst/f5

# A dry run prints the plan and writes nothing, log included.
xt migrate --dry-run scratch:box/src other:box/dst --log run.jsonl
assert_rc 0
assert_out_untimed "(dryrun) update: scratch:box/src/f5 -> other:box/dst/f5 (9 bytes)
(dryrun) new: scratch:box/src/f6 -> other:box/dst/f6 (9 bytes)
(dryrun) new: scratch:box/src/f7 -> other:box/dst/f7 (9 bytes)
(dryrun) new: scratch:box/src/f8 -> other:box/dst/f8 (9 bytes)
(dryrun) new: scratch:box/src/f9 -> other:box/dst/f9 (9 bytes)
(dryrun) new: scratch:box/src/sub/f10 -> other:box/dst/sub/f10 (7 bytes)
(dryrun) migrate: 10 objects: 5 new, 1 update, 4 equal, 0 failed; 52 B to copy"
assert_file_absent run.jsonl
xt cat other:box/dst/f5
assert_out "old"

# The first run is "interrupted": the target refuses f7.
xt migrate scratch:box/src flaky:box/dst --log run.jsonl
assert_rc 8
assert_err "xtstore: migrate: scratch:box/src/f7 -> flaky:box/dst/f7: service 'flaky': shim: blob 'box/dst/f7': injected put failure"
assert_out_has "migrate: 10 objects: 4 new, 1 update, 4 equal, 1 failed"
check_log run.jsonl 1 "f1=equal f2=equal f3=equal f4=equal f5=update f6=new f7=failed f8=new f9=new sub/f10=new"
xt stat other:box/dst/f7
assert_rc 4

# The re-run copies only what is missing, and logs every object again.
xt migrate scratch:box/src other:box/dst --log run.jsonl
assert_rc 0
assert_out_untimed "new: scratch:box/src/f7 -> other:box/dst/f7 (9 bytes)
migrate: 10 objects: 1 new, 9 equal, 0 failed; 9 B copied"
check_log run.jsonl 11 "f1=equal f2=equal f3=equal f4=equal f5=equal f6=equal f7=new f8=equal f9=equal sub/f10=equal"
xt cp -r other:box/dst dst-tree
run diff -r src dst-tree
assert_rc 0
check
[ "$(sed -n 1p run.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')" != \
  "$(sed -n 11p run.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')" ] ||
  fail "two runs share a run id"

# -v lists the equal ones; --json gives elements and a summary.
xt -v migrate scratch:box/src other:box/dst
assert_rc 0
assert_out_has "equal: scratch:box/src/f1 -> other:box/dst/f1 (9 bytes)"
xt --json migrate scratch:box/src other:box/dst
assert_json_eq '[j[-1]["action"], j[-1]["equal"], len(j)]' '["summary", 10, 11]'

# Logs on a service: appended where it can (local), else rewritten.
xt migrate scratch:box/src other:box/dst --log other:logs/run.jsonl
assert_rc 0
xt migrate scratch:box/src other:box/dst --log other:logs/run.jsonl
assert_rc 0
xt get other:logs/run.jsonl svc-log.jsonl
check
[ "$(wc -l < svc-log.jsonl)" -eq 20 ] || fail "service log: expected 20 records"
xt migrate scratch:box/src other:box/dst --log flaky:logs/shim.jsonl
assert_rc 0
xt migrate scratch:box/src other:box/dst --log flaky:logs/shim.jsonl
assert_rc 0
xt get other:logs/shim.jsonl shim-log.jsonl
check
[ "$(wc -l < shim-log.jsonl)" -eq 20 ] || fail "rewritten log: expected 20 records"
check_log shim-log.jsonl 11 "f1=equal f2=equal f3=equal f4=equal f5=equal f6=equal f7=equal f8=equal f9=equal sub/f10=equal"

# A provider that is not thread-safe is listed in pages (here of 3): both
# as the source and as the target, every name once, in order.
xt sync serial:box/src other:box/paged
assert_rc 0
assert_out_has "sync: 10 objects: 10 new, 0 failed"
xt sync serial:box/src other:box/paged
assert_rc 0
assert_out_untimed "sync: 10 objects: 10 equal, 0 failed; 0 B copied"
xt sync scratch:box/src serial:box/pdst
assert_rc 0
assert_out_has "sync: 10 objects: 10 new, 0 failed"
xt put --text e serial:box/pdst/0-extra
xt put --text e serial:box/pdst/sub/zz-extra
xt sync --delete scratch:box/src serial:box/pdst
assert_rc 0
assert_out_has "delete: serial:box/pdst/0-extra"
assert_out_has "delete: serial:box/pdst/sub/zz-extra"
assert_out_has "sync: 12 objects: 10 equal, 2 deleted, 0 failed"
xt cp -r --transfers 4 serial:box/src serial:box/self
assert_rc 7
assert_err_has "can neither copy server-side nor run a get and a put at once"

xt migrate --delete scratch:box/src other:box/dst
assert_usage migrate
xt sync --log x.jsonl scratch:box/src other:box/dst
assert_usage sync

# --- sync --------------------------------------------------------------------
mkdir -p s
printf 'a\n' > s/a
printf 'b\n' > s/b
printf 'c\n' > s/c
xt cp -r s scratch:box/s
xt cp -r s other:box/d
xt put --text x other:box/d/x
xt put --text y other:box/d/sub/y

xt sync --delete --dry-run scratch:box/s other:box/d
assert_rc 0
assert_out_untimed "(dryrun) delete: other:box/d/sub/y
(dryrun) delete: other:box/d/x
(dryrun) sync: 5 objects: 3 equal, 2 deleted, 0 failed, 2 only at the target; 0 B to copy"
xt ls -r other:box/d
assert_out "d/a
d/b
d/c
d/sub/y
d/x"

xt sync --delete --max-delete 1 scratch:box/s other:box/d
assert_rc 5
assert_error sync
assert_err_has "refusing to delete 2 objects"
assert_err_has "nothing deleted"
xt ls -r other:box/d
assert_out_has "d/x"
assert_out_has "d/sub/y"

# Without --delete extras stay.
xt sync scratch:box/s other:box/d
assert_rc 0
assert_out_untimed "sync: 3 objects: 3 equal, 0 failed, 2 only at the target; 0 B copied"

xt sync --delete scratch:box/s other:box/d
assert_rc 0
# Deletions run in parallel: in any order.
assert_out_has "delete: other:box/d/sub/y"
assert_out_has "delete: other:box/d/x"
assert_out_has "sync: 5 objects: 3 equal, 2 deleted, 0 failed, 2 only at the target; 0 B copied"
xt ls -r other:box/d
assert_out "d/a
d/b
d/c"

# Nothing is deleted when a copy failed.
xt put --text z other:box/d/z
xt put --text "changed f7" scratch:box/s/f7
xt sync --delete scratch:box/s flaky:box/d
assert_rc 8
assert_out_lacks "delete:"
xt stat other:box/d/z
assert_rc 0
xt rm scratch:box/s/f7 other:box/d/z
assert_rc 0

# Listings only: an unchanged tree costs no HEAD, and a changed object
# costs exactly the copy's (the source's properties for the streamed put).
rm -f "$T/calls-src" "$T/calls-dst"
xt sync --delete cscratch:box/s cother:box/d
assert_rc 0
check
[ "$(grep -c '^blob_head' "$T/calls-src" "$T/calls-dst" | awk -F: '{s += $2} END {print s}')" -eq 0 ] ||
  fail "sync of an unchanged tree made HEAD requests: $(cat "$T/calls-src" "$T/calls-dst")"
check
grep -q '^blob_list box s/' "$T/calls-src" && grep -q '^blob_list box d/' "$T/calls-dst" ||
  fail "sync did not list both ends"
xt put --text "longer b" scratch:box/s/b
rm -f "$T/calls-src" "$T/calls-dst"
xt sync cscratch:box/s cother:box/d
assert_rc 0
assert_out_has "update: cscratch:box/s/b -> cother:box/d/b (8 bytes)"
check
[ "$(cat "$T/calls-src" "$T/calls-dst" | grep -c '^blob_head')" -eq 1 ] &&
  grep -q '^blob_head box s/b$' "$T/calls-src" ||
  fail "expected one HEAD, of s/b: $(cat "$T/calls-src" "$T/calls-dst")"

# Same size, newer at the source: an update; older: equal.
touch -d '2099-01-01 00:00:00' "$T/data/box/s/a"
xt sync scratch:box/s other:box/d
assert_rc 0
assert_out_has "update: scratch:box/s/a -> other:box/d/a (2 bytes)"
touch -d '2001-01-01 00:00:00' "$T/data/box/s/a"
xt sync --checksum scratch:box/s other:box/d
assert_rc 0
assert_out_untimed "sync: 3 objects: 3 equal, 0 failed; 0 B copied"

# Local trees at either end.
xt sync s scratch:box/fromlocal
assert_rc 0
assert_out_has "new: s/a -> scratch:box/fromlocal/a (2 bytes)"
xt sync s scratch:box/fromlocal
assert_rc 0
assert_out_untimed "sync: 3 objects: 3 equal, 0 failed; 0 B copied"
mkdir -p down
printf 'stale\n' > down/stale
xt sync --delete scratch:box/fromlocal down
assert_rc 0
assert_out_has "delete: down/stale"
run diff -r s down
assert_rc 0
xt sync s down
assert_usage sync

# --- migrate interrupted by SIGINT -------------------------------------------
# xt_interrupt N ARGS...: xtstore ARGS, sent one SIGINT once the "slow"
# shim has begun N puts (so at least N-2 were done with --transfers 2);
# $RC/$OUT/$ERR as with xt. Python starts it with SIGINT at its default (a
# background job of this non-interactive shell would inherit SIG_IGN,
# which xtstore keeps).
xt_interrupt() {
  local n=$1
  shift
  LAST_CMD="xtstore $*, SIGINT after $n puts began"
  rm -f "$T/calls-slow"
  python3 - "$n" "$T/calls-slow" "$XT_BIN" --config "$CONFIG" "$@" \
    > "$T/.out" 2> "$T/.err" <<'PY'
import signal, subprocess, sys, time
n, calls, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                      signal.SIG_DFL))
def puts():
    try:
        return sum(1 for l in open(calls) if l.startswith("blob_put "))
    except OSError:
        return 0
deadline = time.time() + 60
while puts() < n and p.poll() is None and time.time() < deadline:
    time.sleep(0.02)
p.send_signal(signal.SIGINT)
try:
    out, err = p.communicate(timeout=60)
    rc = p.returncode
except subprocess.TimeoutExpired:
    p.kill()
    out, err = p.communicate()
    rc = "no exit 60 s after SIGINT"
sys.stdout.write(out.decode())
sys.stderr.write(err.decode())
sys.exit(rc)
PY
  _collect $?
}

# check_interrupted LOG_FILE: the records of an interrupted run: some
# objects copied (each really at the target), the rest failed as
# interrupted -- never blamed on a callback or on memory.
check_interrupted() {
  python3 - "$1" "$T/data2/box/int" <<'PY'
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
new = [r for r in recs if r["status"] == "new"]
failed = [r for r in recs if r["status"] == "failed"]
assert new, "nothing was copied before the interrupt"
assert len(new) + len(failed) == len(recs), [r["status"] for r in recs]
for r in new:
    name = r["target_name"].split("slow:box/int/", 1)[1]
    size = os.path.getsize(os.path.join(sys.argv[2], name))
    assert size == r["source_size"], r
for r in failed:
    assert "cancelled (interrupted)" in r["error"], r
    assert "callback" not in r["error"], r
    assert "out of memory" not in r["error"], r
PY
}

mkdir -p many
for i in $(seq -w 1 24); do printf 'object number %s\n' "$i" > "many/f$i"; done
xt cp -r many scratch:box/many
assert_rc 0

# A log on a service that appends (local): stored after the ^C anyway.
xt_interrupt 5 migrate --transfers 2 scratch:box/many slow:box/int \
  --log other:logs/int.jsonl
assert_rc 130
assert_err_has "xtstore: migrate: interrupted"
assert_err_has "xtstore: warning: interrupted: the run log has this run's "
assert_err_has " records: other:logs/int.jsonl"
assert_err_lacks "callback"
assert_err_lacks "out of memory"
check
if [ -f "$T/data2/logs/int.jsonl" ]; then
  check_interrupted "$T/data2/logs/int.jsonl" ||
    fail "the interrupted run's log records are wrong"
else
  fail "the interrupted run left no log on the service"
fi
COPIED=$(cat "$T/data2/logs/int.jsonl" 2>/dev/null | grep -c '"status":"new"')
# The re-run copies only what the interrupted one did not.
xt migrate scratch:box/many slow:box/int --log other:logs/int.jsonl
assert_rc 0
assert_out_has "migrate: 24 objects: $((24 - COPIED)) new, $COPIED equal, 0 failed"
run diff -r many "$T/data2/box/int"
assert_rc 0

# A log on a service that cannot append: rewritten, after the ^C too.
rm -r "$T/data2/box/int"
xt_interrupt 5 migrate --transfers 2 scratch:box/many slow:box/int \
  --log slow:logs/int2.jsonl
assert_rc 130
assert_err_has " records: slow:logs/int2.jsonl"
assert_err_lacks "callback"
assert_err_lacks "out of memory"
check
if [ -f "$T/data2/logs/int2.jsonl" ]; then
  check_interrupted "$T/data2/logs/int2.jsonl" ||
    fail "the interrupted run's rewritten log records are wrong"
else
  fail "the interrupted run left no rewritten log on the service"
fi

# --- an empty or wrong source -----------------------------------------------
# Refused before anything is copied or deleted: a mistyped prefix must not
# empty the target.
mkdir -p keep empty-dir
printf 'k\n' > keep/k1
printf 'k\n' > keep/k2
xt cp -r keep other:box/keep
assert_rc 0
xt sync --delete scratch:box/no-such-prefix other:box/keep
assert_rc 4
assert_err "xtstore: sync: nothing under 'scratch:box/no-such-prefix/': no object would be copied, and all 2 objects at the target would be deleted (--allow-empty-source runs it anyway)"
assert_out ""
xt sync --delete --dry-run empty-dir other:box/keep
assert_rc 4
assert_err_has "nothing under 'empty-dir/'"
xt migrate scratch:box/no-such-prefix other:box/keep
assert_rc 4
assert_err "xtstore: migrate: nothing under 'scratch:box/no-such-prefix/': no object would be copied (--allow-empty-source runs it anyway)"
xt ls -r other:box/keep
assert_out "keep/k1
keep/k2"
# On purpose it runs.
xt migrate --allow-empty-source scratch:box/no-such-prefix other:box/keep
assert_rc 0
xt sync --delete --allow-empty-source --dry-run empty-dir other:box/keep
assert_rc 0
assert_out_has "(dryrun) delete: other:box/keep/k1"
xt sync --delete --allow-empty-source empty-dir other:box/keep
assert_rc 0
assert_out_has "sync: 2 objects: 2 deleted, 0 failed"
xt ls -r other:box/keep
assert_out ""


# The run log carries the source's CRC-32C where the source lists one: the
# local provider records it for what xtstore wrote ("123456789": e3069283).
printf '123456789' > "$T/nine"
xt put "$T/nine" scratch:box/crc/nine
assert_rc 0
xt migrate scratch:box/crc other:box/crcdst --log crc.jsonl
assert_rc 0
# And the CRC-32C each copy was checked with, whatever the source lists: a
# local tree lists none (an upload: the target's report), a download is
# checked against the source's, a copy within one service by the target's
# head after the server-side copy.
mkdir -p crctree
cp "$T/nine" crctree/nine
xt migrate crctree other:box/crcup --log crc.jsonl
assert_rc 0
xt migrate other:box/crcup crcdown --log crc.jsonl
assert_rc 0
xt migrate other:box/crcup other:box/crcsame --log crc.jsonl
assert_rc 0
check
python3 - crc.jsonl <<'EOF' || fail "the run log lacks the CRC-32Cs checked"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["source_crc32c"] for r in recs] == \
    ["e3069283", None, "e3069283", "e3069283"], recs
assert [r["target_crc32c"] for r in recs] == ["e3069283"] * 4, recs
assert [r["status"] for r in recs] == ["new"] * 4, recs
EOF
finish
