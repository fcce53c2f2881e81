#!/usr/bin/env bash
# test_checksums.sh -- the CRC-32C of ABI 1.1 (issue 9) through the CLI,
# with the flaky fixture (tests/host/core/flaky.c) reporting checksums:
# `stat` and `stat --json` show a blob's CRC-32C; a put the store reports
# a wrong CRC-32C for fails naming the object and both values, and the
# object is removed (a file's CRC read ahead, a pipe's asked as a
# trailer); a get whose bytes lack the blob's CRC-32C fails and leaves no
# file; a copy from such a source leaves nothing at the target; put
# --text, put --to and bench are checked alike; sync
# --checksum between a local tree and a service decides by CRC-32C.
#   test_checksums.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

FL="$BIN_DIR/tests/host/core/store-flaky.so"
[ -f "$FL" ] || { echo "FAIL: the flaky fixture is not built: $FL"; exit 1; }
# The fixture's get body; crc32c = b0e42986. crc32c("123456789") = e3069283.
BODY=0123456789abcdefghijklmnopqrstuvwxyz
BODY_MD5=$(printf '%s' "$BODY" | md5sum | cut -c1-32)
cat > "$CONFIG" <<EOF
providers:
  storage: {flaky: "$FL"}
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  good: {type: "storage", provider: "flaky", needed: "x",
         get-crc32c: "b0e42986", put-crc32c: "right"}
  bad: {type: "storage", provider: "flaky", needed: "x",
        get-crc32c: "b0e42987", put-crc32c: "wrong", events: "$T/events",
        retry: 1}
  none: {type: "storage", provider: "flaky", needed: "x"}
  md5: {type: "storage", provider: "flaky", needed: "x",
        get-md5: "$BODY_MD5", get-crc32c: "b0e42986"}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:box
assert_rc 0
# What the bad store reports for "123456789" (e3069283).
WRONG="the store reports CRC-32C e3069282 for the bytes stored, \
the bytes sent have e3069283"

# --- shown -------------------------------------------------------------------
xt stat good:c/k
assert_rc 0
assert_out_has "crc32c:       b0e42986"
xt --json stat good:c/k
assert_rc 0
assert_json_eq 'j["crc32c"]' '"b0e42986"'
xt stat none:c/k
assert_rc 0
assert_out_lacks "crc32c"
xt --json stat none:c/k
assert_rc 0
assert_json_eq 'j["crc32c"]' 'null'
printf '123456789' > one.txt
xt put one.txt scratch:box/one.txt
xt --json ls -l scratch:box
assert_rc 0
assert_json_eq '[e.get("crc32c") for e in j]' '["e3069283"]'
# ls -l --json shows both checksums an entry carries (the local provider
# keeps no MD5); without -l, the CRC-32C only.
assert_json_eq '[e["content_md5"] for e in j]' '[null]'
xt --json ls -l md5:c/k
assert_rc 0
assert_json_eq '[[e["name"], e["crc32c"], e["content_md5"]] for e in j]' \
  "[[\"k\", \"b0e42986\", \"$BODY_MD5\"]]"
xt --json ls md5:c/k
assert_rc 0
assert_json_eq '["content_md5" in e for e in j]' '[false]'

# --- uploads -----------------------------------------------------------------
printf '123456789' > nine.txt
xt put nine.txt good:c/k
assert_rc 0
xt put nine.txt bad:c/k
check
[ "$RC" -ne 0 ] || fail "a put the store reports a wrong CRC-32C for succeeded"
assert_err_has "blob 'c/k': $WRONG; the object was removed"
assert_out_lacks "bytes)"
check
grep -q '^put-ck 1 ck=1 crc=e3069283 tr=0$' "$T/events" ||
  fail "a file's CRC-32C was not passed down: $(cat "$T/events")"
grep -q '^delete k$' "$T/events" || fail "the wrong object was not removed"
rm -f "$T/events"
xt_pipe "printf 123456789" put - bad:c/p
check
[ "$RC" -ne 0 ] || fail "a piped put reported wrong succeeded"
assert_err_has "blob 'c/p': $WRONG"
check
grep -q ' ck=0 crc=00000000 tr=1$' "$T/events" ||
  fail "a pipe's CRC-32C was not asked for as a trailer: $(cat "$T/events")"

# The other upload paths: put --text, put --to (fan-out), bench.
xt put --text 123456789 bad:c/t
check
[ "$RC" -ne 0 ] || fail "put --text reported wrong succeeded"
assert_err_has "blob 'c/t': $WRONG; the object was removed"
xt put --text 123456789 good:c/t
assert_rc 0
xt put --to good,bad nine.txt c/f
check
[ "$RC" -ne 0 ] || fail "a fan-out with a wrong destination succeeded"
assert_out_has "upload: nine.txt -> good:c/f (9 bytes)"
assert_out_lacks "bad:c/f (9"
assert_err_has "blob 'c/f': $WRONG"
xt bench bad:c --sizes 9 --count 1
check
[ "$RC" -ne 0 ] || fail "bench against a store reporting wrong succeeded"
assert_err_has "the store reports CRC-32C"

# --- downloads ---------------------------------------------------------------
xt get good:c/k got.txt
assert_rc 0
check
[ "$(cat got.txt)" = "$BODY" ] || fail "got '$(cat got.txt)'"
xt get bad:c/k got2.txt
check
[ "$RC" -ne 0 ] || fail "a get whose bytes lack the blob's CRC-32C succeeded"
assert_err_has "blob 'c/k': the bytes received differ from the blob \
(CRC-32C b0e42986, the blob's b0e42987)"
assert_file_absent got2.txt
check
! ls -A | grep -q '^\.xtstore-get' || fail "a temp file was left: $(ls -A)"

# --- copies ------------------------------------------------------------------
xt cp good:c/k scratch:box/k
assert_rc 0
xt cat scratch:box/k
assert_out "$BODY"
xt cp bad:c/k scratch:box/k2
check
[ "$RC" -ne 0 ] || fail "a copy from a source with a wrong CRC-32C succeeded"
assert_err_has "CRC-32C"
xt stat scratch:box/k2
check
[ "$RC" -ne 0 ] || fail "the wrong copy stayed at the target"

# --- sync --checksum from and to a local tree --------------------------------
# Same sizes: the local file's CRC-32C is summed against the listed one,
# whatever the times say.
mkdir -p tree
printf 'AAAA' > tree/f
xt sync tree scratch:box/t
assert_rc 0
printf 'BBBB' > tree/f
touch -d '2001-01-01 00:00:00' tree/f
xt sync --dry-run tree scratch:box/t
assert_rc 0
assert_out_has "1 equal"
xt sync --checksum --dry-run tree scratch:box/t
assert_rc 0
assert_out_has "(dryrun) update: tree/f -> scratch:box/t/f (4 bytes)"
assert_err_lacks "modification times decide"
printf 'AAAA' > tree/f
touch -d '2099-01-01 00:00:00' tree/f
xt sync --checksum --dry-run tree scratch:box/t
assert_rc 0
assert_out_has "1 equal"
mkdir -p down
printf 'CCCC' > down/f
xt sync --checksum --dry-run scratch:box/t down
assert_rc 0
assert_out_has "(dryrun) update: scratch:box/t/f -> down/f (4 bytes)"
finish
