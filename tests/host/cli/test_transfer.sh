#!/usr/bin/env bash
# put, get, cat and cp: byte-identical round trips (binary, empty, stdin,
# stdout), content type and metadata, --no-clobber, ranges, copies between
# local files and services and between two services, and a failed get
# that leaves nothing behind.
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
xt mb other:box
assert_rc 0
assert_out "create: other:box"

# A binary file with every byte value, larger than one transfer chunk.
python3 -c '
import sys
sys.stdout.buffer.write(bytes(range(256)) * 8192 + b"\x00tail")' > bin.dat
BIN_SIZE=$(stat -c %s bin.dat)
: > empty

# put with the key taken from the file name; get back into another name.
xt put bin.dat scratch:box/
assert_rc 0
assert_out "upload: bin.dat -> scratch:box/bin.dat ($BIN_SIZE bytes)"
assert_err_empty
xt get scratch:box/bin.dat got.dat
assert_rc 0
assert_out "download: scratch:box/bin.dat -> got.dat ($BIN_SIZE bytes)"
assert_same bin.dat got.dat

# Without a destination: the key's basename in the cwd; a DIR: inside it.
mkdir -p sub/dir
xt_at sub get scratch:box/bin.dat
assert_rc 0
assert_same bin.dat sub/bin.dat
xt get scratch:box/bin.dat sub/dir
assert_rc 0
assert_out "download: scratch:box/bin.dat -> sub/dir/bin.dat ($BIN_SIZE bytes)"
assert_same bin.dat sub/dir/bin.dat

# An empty file round-trips to an empty file.
xt put empty scratch:box/e/empty
assert_rc 0
assert_out "upload: empty -> scratch:box/e/empty (0 bytes)"
xt get scratch:box/e/empty got-empty
assert_rc 0
check
[ -f got-empty ] && [ ! -s got-empty ] || fail "empty blob did not give an empty file"

# stdin: a redirected file, and a pipe (length unknown).
xt_in bin.dat put - scratch:box/stdin.bin
assert_rc 0
assert_out "upload: - -> scratch:box/stdin.bin ($BIN_SIZE bytes)"
xt_pipe "cat bin.dat" put - scratch:box/pipe.bin
assert_rc 0
assert_out "upload: - -> scratch:box/pipe.bin ($BIN_SIZE bytes)"
# stdout: cat and get -.
xt cat scratch:box/pipe.bin
assert_rc 0
assert_same bin.dat "$T/.out"
xt get scratch:box/stdin.bin -
assert_rc 0
assert_same bin.dat "$T/.out"
xt put - scratch:box/
assert_usage put
assert_err_has "a key is needed to upload standard input"

# --text, and cat of several blobs.
xt put --text "0123456789" scratch:box/digits.txt
assert_rc 0
assert_out "upload: (text) -> scratch:box/digits.txt (10 bytes)"
xt cat scratch:box/digits.txt
assert_rc 0
assert_out "0123456789"
xt cat scratch:box/digits.txt :box/digits.txt
assert_rc 0
assert_out "01234567890123456789"

# Ranges: inclusive FIRST-LAST and FIRST- to the end.
xt cat --range 2-4 scratch:box/digits.txt
assert_rc 0
assert_out "234"
xt cat --range 7- scratch:box/digits.txt
assert_rc 0
assert_out "789"
xt get --range 0-0 scratch:box/digits.txt first.txt
assert_rc 0
check
[ "$(cat first.txt)" = "0" ] || fail "get --range 0-0 wrote '$(cat first.txt)'"

# Content type and metadata round trip (explicit, guessed, default).
printf 'hello' > m.dat
xt put --content-type text/x-test --meta a=1 --meta b=two m.dat scratch:box/m.dat
assert_rc 0
xt --json stat scratch:box/m.dat
assert_rc 0
assert_json_eq 'j["content_type"]' '"text/x-test"'
assert_json_eq 'j["metadata"]' '{"a": "1", "b": "two"}'
assert_json_eq 'j["size"]' '5'
assert_json_eq 'j["address"]' '"scratch:box/m.dat"'
xt stat scratch:box/m.dat
assert_rc 0
assert_out_has "address:      scratch:box/m.dat"
assert_out_has "size:         5 (5 B)"
assert_out_has "content-type: text/x-test"
assert_out_has "  a=1"
assert_out_has "  b=two"
check
printf '%s\n' "$OUT" | grep -Eq '^mtime: +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' ||
  fail "stat: no ISO 8601 mtime line"
xt meta scratch:box/m.dat
assert_rc 0
check
[ "$(printf '%s\n' "$OUT" | sort)" = "a=1
b=two" ] || fail "meta lists '$OUT'"
xt put --text '{}' scratch:box/x.json
xt --json stat scratch:box/x.json
assert_json_eq 'j["content_type"]' '"application/json"'
xt --json stat scratch:box/bin.dat
assert_json_eq 'j["content_type"]' '"application/octet-stream"'
assert_json_eq 'j["metadata"]' '{}'

# --no-clobber: put refuses (5) and keeps the blob; get keeps the file.
xt put --no-clobber --text "new" scratch:box/digits.txt
assert_rc 5
assert_error put
xt cat scratch:box/digits.txt
assert_out "0123456789"
printf 'mine' > keep.txt
xt get --no-clobber scratch:box/digits.txt keep.txt
assert_rc 5
assert_error get
assert_err_has "keep.txt"
check
[ "$(cat keep.txt)" = "mine" ] || fail "--no-clobber overwrote keep.txt"
# ... and without it a get overwrites.
xt get scratch:box/digits.txt keep.txt
assert_rc 0
check
[ "$(cat keep.txt)" = "0123456789" ] || fail "get did not overwrite keep.txt"

# A missing blob: exit 4, one line naming it, and no file (or temp file).
mkdir fresh
xt_at fresh get scratch:box/missing.txt
assert_rc 4
assert_error get
assert_err_has "missing.txt"
check
[ -z "$(ls -A fresh)" ] || fail "failed get left files: $(ls -A fresh)"
xt get scratch:box/missing.txt fresh/named.txt
assert_rc 4
assert_file_absent fresh/named.txt
xt cat scratch:box/missing.txt
assert_rc 4
assert_error cat
# cat goes on after a missing blob: partial failure (8).
xt cat scratch:box/digits.txt scratch:box/missing.txt
assert_rc 8
assert_out "0123456789"
assert_error cat

# Local errors name the file.
xt put no-such-file scratch:box/x
assert_rc 4
assert_error put
assert_err_has "no-such-file"
xt put sub scratch:box/x
assert_rc 2
assert_error put
assert_err_has "'sub' is a directory"

# cp: local -> service, service -> local, service -> service (same service,
# server-side; two local services with different roots, streamed).
xt cp bin.dat scratch:box/cp/
assert_rc 0
assert_out "upload: bin.dat -> scratch:box/cp/bin.dat ($BIN_SIZE bytes)"
xt cp scratch:box/cp/bin.dat back.dat
assert_rc 0
assert_same bin.dat back.dat
xt cp scratch:box/bin.dat scratch:box/copy.dat
assert_rc 0
assert_out "copy: scratch:box/bin.dat -> scratch:box/copy.dat ($BIN_SIZE bytes)"
xt cat scratch:box/copy.dat
assert_same bin.dat "$T/.out"
xt cp scratch:box/bin.dat other:box/
assert_rc 0
assert_out "copy: scratch:box/bin.dat -> other:box/bin.dat ($BIN_SIZE bytes)"
xt get other:box/bin.dat other.dat
assert_rc 0
assert_same bin.dat other.dat
check
cmp -s bin.dat "$T/data2/box/bin.dat" ||
  fail "the copy is not under the other service's root"
xt cp scratch:box/m.dat other:box/m.dat
assert_rc 0
xt --json stat other:box/m.dat
assert_json_eq 'j["content_type"]' '"text/x-test"'
assert_json_eq 'j["metadata"]' '{"a": "1", "b": "two"}'
xt cp --no-clobber scratch:box/m.dat other:box/m.dat
assert_rc 5
assert_error cp
# --dry-run copies nothing.
xt cp --dry-run scratch:box/m.dat other:box/dry.dat
assert_rc 0
assert_out "(dryrun) copy: scratch:box/m.dat -> other:box/dry.dat (5 bytes)"
xt stat other:box/dry.dat
assert_rc 4
xt cp --dry-run bin.dat scratch:box/dry.dat
assert_rc 0
assert_out "(dryrun) upload: bin.dat -> scratch:box/dry.dat ($BIN_SIZE bytes)"
xt stat scratch:box/dry.dat
assert_rc 4

# --json: the actions as one array.
xt --json put --text abc scratch:box/j.txt
assert_rc 0
assert_json_eq 'j' '[{"action": "upload", "dry_run": false, "size": 3, "source": "(text)", "target": "scratch:box/j.txt"}]'
xt --json get scratch:box/j.txt j.txt
assert_rc 0
assert_json_eq 'j' '[{"action": "download", "dry_run": false, "size": 3, "source": "scratch:box/j.txt", "target": "j.txt"}]'
# SIGINT while a put waits for more stdin: exit 130, one line, no blob.
# Python
# starts it with SIGINT at its default (a background job of this
# non-interactive shell would inherit SIG_IGN, which xtstore keeps).
LAST_CMD="put - scratch:box/slow.bin, then SIGINT"
python3 - "$XT_BIN" "$CONFIG" > "$T/.out" 2> "$T/.err" <<'PY'
import signal, subprocess, sys, time
p = subprocess.Popen(
    [sys.argv[1], "--config", sys.argv[2], "put", "-", "scratch:box/slow.bin"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
p.stdin.write(b"x" * 100000)
p.stdin.flush()
time.sleep(1)
p.send_signal(signal.SIGINT)
# stdin stays open: ^C alone must end the upload, not an EOF.
try:
    rc = p.wait(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "no exit 30 s after SIGINT"
p.stdin.close()
sys.stdout.write(p.stdout.read().decode())
sys.stderr.write(p.stderr.read().decode())
sys.exit(rc)
PY
_collect $?
assert_rc 130
assert_err "xtstore: put: interrupted"
assert_out ""
xt stat scratch:box/slow.bin
assert_rc 4

# -q: nothing on stdout.
xt -q put --text abc scratch:box/q.txt
assert_rc 0
assert_out ""

finish
