#!/usr/bin/env bash
# test_resume.sh -- resume across runs (issue 9): a multipart upload from a
# file killed with kill -9 is resumed by the same command, sending only the
# parts its journal lacks (and those whose range no longer has the CRC-32C
# recorded); a changed source starts over; `xtstore cleanup`
# lists, then with --yes aborts, what a killed run left. On the local
# provider always (the first upload, 300 MiB at the default multipart
# settings killed half-way, through the test shim wrapping it,
# tests/host/cli/shim_plugin.c, whose calls file counts the parts each run
# sent); on s3rver (through faultproxy.py, whose logs count the UploadPart
# requests and their body bytes) when ctest provides the fixture
# (XTSTORE_S3RVER_DIR, XTSTORE_FAULTPROXY_SH): there a 300 MiB upload at the
# default multipart settings, killed half-way, is resumed sending no more
# than the parts not on record, and no byte twice beyond the parts that
# were in flight at the kill (each run through a proxy of its own, so no
# late line of the killed run's counts as the re-run's).
. "$(dirname "$0")/lib.sh" "$@"

MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'
build_shim "$T/store-shim.so" -DSHIM_MULTIPART
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data", $MP}
  counted: {type: "storage", provider: "shim", inner: "$BIN_DIR/plugins/store-local.so",
            path: "$T/data", calls: "$T/calls"}
xt-services:
  storage: "scratch"
EOF

# --- the local provider --------------------------------------------------
xt mb scratch:c
assert_rc 0

# 300 MiB at the default multipart settings (8 MiB parts, 4 at a time),
# through the shim, whose calls file counts the parts each run sent;
# killed with kill -9 once half its parts are on record.
head -c $((300 << 20)) /dev/urandom > big.bin       # 38 parts
kill_when '[ "$(jparts)" -ge 19 ]' -v put big.bin counted:c/big.bin
K=$(jparts)
ID=$(jid)
R1=$(grep -c '^multipart_part c big.bin$' "$T/calls")
check
grep -q "multipart upload, 38 parts of $((8 << 20)) bytes, 4 at a time" "$T/.k.err" ||
  fail "not the default multipart settings: $(grep multipart "$T/.k.err")"
check
[ "$KILLED" -eq 1 ] && [ "$K" -ge 1 ] && [ "$K" -lt 38 ] ||
  fail "not killed half-way (killed: $KILLED; journal: $K parts)"
# Parts the killed run stored (its staging), against what the journal says:
# those resent are the parts in flight at the kill, at most 4.
S=$(ls "$T/data/c/.xtstore/uploads/$ID" 2> /dev/null | grep -c '^part-')
check
[ "$S" -ge "$K" ] && [ $((S - K)) -le 4 ] ||
  fail "staged $S parts, journaled $K: more than the 4 in flight are lost"

xt cleanup counted:c
assert_rc 0
assert_out_has "stale  counted:c/big.bin  upload $ID"
assert_err_has "dry run"
check
[ "$(jparts)" -eq "$K" ] || fail "a dry run changed the journal"

# Run 2 sends the parts the journal lacks -- those the killed run had in
# flight (staged or not) among them -- and none of those on record: no
# part is sent twice beyond the 4 in flight at the kill.
: > "$T/calls"
xt -v put big.bin counted:c/big.bin
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 38 parts on record"
R2=$(grep -c '^multipart_part c big.bin$' "$T/calls")
echo "local: killed after $R1 parts begun ($K on record); run 2 sent $R2 of 38"
check
[ "$R2" -eq $((38 - K)) ] || fail "run 2 sent $R2 of 38 parts; the journal lacked $((38 - K))"
check
[ $((R1 + R2 - 38)) -le 4 ] || fail "$((R1 + R2 - 38)) parts sent twice: more than the 4 in flight"
xt get scratch:c/big.bin got.bin
assert_rc 0
assert_same big.bin got.bin
rm -f got.bin
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
assert_file_absent "$T/data/c/.xtstore/uploads/$ID"
head -c $((150 << 20)) big.bin > big.tmp && mv big.tmp big.bin   # 30 parts of 5 MiB

# An upload the service no longer has (expired, aborted elsewhere) is
# started over.
kill_at_parts 3 -v put big.bin scratch:c/gone.bin
ID=$(jid)
rm -rf "$T/data/c/.xtstore/uploads/$ID"
xt -v put big.bin scratch:c/gone.bin
assert_rc 0
assert_err_has "resuming upload '$ID'"
assert_err_has "upload '$ID' is gone from the service: starting over"
xt get scratch:c/gone.bin got.bin
assert_same big.bin got.bin
rm -f got.bin
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"

# A changed source is not resumed: the old upload is aborted, the new one
# starts from part 1.
kill_at_parts 3 -v put big.bin scratch:c/big2.bin
ID=$(jid)
printf 'changed' | dd of=big.bin bs=1 seek=1000 conv=notrunc status=none
xt -v put big.bin scratch:c/big2.bin
assert_rc 0
assert_err_has "the source changed since upload '$ID' began: starting over"
assert_err_lacks "resuming"
assert_file_absent "$T/data/c/.xtstore/uploads/$ID"
xt get scratch:c/big2.bin got.bin
assert_same big.bin got.bin
rm -f got.bin

# A journaled part whose range changed while the file kept its size and
# time (an in-place rewrite, mtime put back) is sent again: its CRC-32C
# no longer matches the one recorded; the other parts are re-used.
kill_at_parts 3 -v put big.bin scratch:c/big4.bin
K=$(jparts)
ID=$(jid)
NO=$(grep -h '^P ' "$J"/*.journal | head -n 1 | awk '{print $2}')
cp -p big.bin ref.stamp
printf 'flip' | dd of=big.bin bs=1 seek=$(((NO - 1) * (5 << 20) + 100)) \
  conv=notrunc status=none
touch -r ref.stamp big.bin
rm -f ref.stamp
xt -v put big.bin scratch:c/big4.bin
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 30 parts on record"
assert_err_has "part $NO on record: its range of the file is not what was \
stored: sending it again"
xt get scratch:c/big4.bin got.bin
assert_same big.bin got.bin
rm -f got.bin

# cleanup --yes aborts what a killed run left, and forgets it.
kill_at_parts 3 -v put big.bin scratch:c/big3.bin
ID=$(jid)
xt cleanup scratch:c --yes
assert_rc 0
assert_out_has "aborted  scratch:c/big3.bin  upload $ID"
assert_file_absent "$T/data/c/.xtstore/uploads/$ID"
check
[ -z "$(ls "$J")" ] || fail "cleanup --yes left a journal: $(ls "$J")"
xt cleanup scratch:c
assert_rc 0
assert_err_has "no unfinished uploads of scratch:c"
xt cleanup scratch:c --bogus
assert_rc 2

# An upload a running xtstore is doing is neither resumed nor cleaned up:
# the uploader is stopped (SIGSTOP) while cleanup --yes runs, then goes on.
bg_start put big.bin scratch:c/live.bin
bg_until '[ "$(jparts)" -ge 1 ]'
kill -STOP "$BG"
xt cleanup scratch:c --yes
assert_rc 0
assert_out_has "active  scratch:c/live.bin"
xt -v put big.bin scratch:c/live.bin
assert_rc 0
assert_err_has "another run is uploading it: this one is not journaled"
kill -CONT "$BG"
wait "$BG"
RC=$?
LAST_CMD="xtstore put big.bin scratch:c/live.bin (stopped, continued)"
assert_rc 0
xt get scratch:c/live.bin got.bin
assert_same big.bin got.bin
rm -f got.bin
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"

# --- s3rver, through the fault proxy (passing everything) ----------------
if ! have_s3rver_proxy; then
  echo "note: s3rver half skipped (run through ctest with the s3rver fixture)"
  finish
fi
echo '[]' > "$T/rules.json"
proxy_start "$T/proxy" "$XTSTORE_S3RVER_DIR"
B="xtresume$$"
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "s3:$B" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy2" > /dev/null 2>&1; rm -rf "$T"' EXIT
# s3_config PROXY_DIR: the services, through that proxy.
s3_config() {
  cat > "$CONFIG" <<EOF
external-services:
  s3: {type: "storage", provider: "s3", endpoint: "$(cat "$1/endpoint")",
       region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
       addressing: "path", payload-signing: "unsigned", $MP}
  s3d: {type: "storage", provider: "s3", endpoint: "$(cat "$1/endpoint")",
        region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
        addressing: "path"}
xt-services:
  storage: "s3"
EOF
}
s3_config "$T/proxy"
# part_bytes KEY PROXY_DIR: body bytes of the UploadParts of KEY there.
part_bytes() {
  proxy_put_bytes "$2" "/$B/$1" 'partNumber='
}
xt mb "s3:$B"
assert_rc 0

# 300 MiB at the default multipart settings (38 parts of 8 MiB, 4 in
# flight), killed with kill -9 once half its bytes went up; the re-run,
# through a proxy of its own, sends the parts not on record, nothing more;
# all that was sent twice is at most the parts in flight at the kill.
TOTAL=$((300 << 20))
PS=$((8 << 20))
head -c "$TOTAL" /dev/urandom > s3.bin
kill_halfway "$T/proxy" "part_bytes s3.bin" put s3.bin "s3d:$B/s3.bin"
proxy_start "$T/proxy2" "$XTSTORE_S3RVER_DIR"
s3_config "$T/proxy2"
xt cleanup "s3d:$B"
assert_out_has "stale  s3d:$B/s3.bin  upload $ID"
resumed_counted "$T/proxy2" "part_bytes s3.bin" put s3.bin "s3d:$B/s3.bin"
if [ -x /usr/bin/aws ]; then
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER /usr/bin/aws \
    --endpoint-url "$(cat "$XTSTORE_S3RVER_DIR/endpoint")" --region us-east-1 \
    s3api get-object --bucket "$B" --key s3.bin got.bin > "$T/.aws" 2>&1 ||
    fail "aws get-object s3.bin: $(cat "$T/.aws")"
else
  xt get "s3:$B/s3.bin" got.bin
  assert_rc 0
fi
assert_same s3.bin got.bin
rm -f got.bin s3.bin
head -c $((40 << 20)) /dev/urandom > s3.bin          # 8 parts

# s3rver answers AbortMultipartUpload with MethodNotAllowed: then cleanup
# says so and keeps the journal, to be tried again.
kill_at_parts 3 -v put s3.bin "s3:$B/s3b.bin"
ID=$(jid)
xt cleanup "s3:$B" --yes
if [ "$RC" -eq 0 ]; then
  assert_out_has "aborted  s3:$B/s3b.bin  upload $ID"
  check
  [ -z "$(ls "$J")" ] || fail "cleanup --yes left a journal: $(ls "$J")"
else
  assert_err_has "AbortMultipartUpload 'xtresume"
  check
  [ "$(jid)" = "$ID" ] || fail "a failed abort dropped the journal"
fi
finish
