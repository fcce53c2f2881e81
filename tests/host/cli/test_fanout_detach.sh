#!/usr/bin/env bash
# test_fanout_detach.sh -- a destination of `put --to` that fails is
# dropped from the tee as soon as its put stops reading, not once its
# cleanup is over: a 30 MiB file in 5 MiB parts to the local provider and
# to s3rver, through faultproxy.py, which refuses s3rver's part 3 (403:
# the upload is aborted) and holds that abort (the DELETE) 3 s. The local
# object must be whole while the abort is still held -- before the proxy's
# log has the DELETE, which it writes once it answered -- and the run fails
# for s3rver alone.
. "$(dirname "$0")/lib.sh" "$@"

if [ -z "${XTSTORE_S3RVER_DIR:-}" ] || [ -z "${XTSTORE_FAULTPROXY_SH:-}" ] ||
   [ ! -f "$XTSTORE_S3RVER_DIR/endpoint" ]; then
  echo "note: skipped (run through ctest with the s3rver fixture)"
  finish
fi

B="xtfandet$$"
TOTAL=$((30 << 20))
HOLD_MS=3000
P="$T/proxy"
cat > "$T/rules.json" <<EOF
[{"match": {"method": "PUT", "query": "(^|&)partNumber=3(&|$)"}, "status": 403,
  "body": "<Error><Code>AccessDenied</Code><Message>refused</Message></Error>"},
 {"match": {"method": "DELETE", "query": "uploadId="}, "stall_ms": $HOLD_MS}]
EOF
trap '"$XT_BIN" --config "$CONFIG" -q rb -f "s3d:$B" > /dev/null 2>&1;
      "$XTSTORE_FAULTPROXY_SH" stop "$P" > /dev/null 2>&1; rm -rf "$T"' EXIT
"$XTSTORE_FAULTPROXY_SH" start "$P" "$XTSTORE_S3RVER_DIR" "$T/rules.json" > /dev/null || {
  echo "FAIL: fault proxy did not start"
  exit 1
}
cat > "$CONFIG" <<EOF
external-services:
  loc: {type: "storage", provider: "local", path: "$T/data",
        multipart: {threshold: 5M, part-size: 5M}}
  s3d: {type: "storage", provider: "s3", endpoint: "$(cat "$P/endpoint")",
        region: "us-east-1", access-key: "S3RVER", secret-key: "S3RVER",
        addressing: "path", multipart: {threshold: 5M, part-size: 5M}}
xt-services:
  storage: "loc"
EOF
xt mb "loc:$B"
assert_rc 0
xt mb "s3d:$B"
assert_rc 0
head -c "$TOTAL" /dev/urandom > f.bin

LAST_CMD="xtstore put --to loc,s3d f.bin $B/o.bin"
"$XT_BIN" --config "$CONFIG" put --to loc,s3d f.bin "$B/o.bin" > "$T/.out" 2> "$T/.err" &
pid=$!
whole=""
while kill -0 "$pid" 2> /dev/null; do
  if [ -z "$whole" ] &&
     [ "$(stat -c %s "$T/data/$B/o.bin" 2> /dev/null)" = "$TOTAL" ]; then
    # Whole: was the refused upload's abort over already?
    whole=held
    awk '$1 == "DELETE" && $4 ~ /uploadId=/ {n++} END {exit !n}' \
      "$P/bytes" 2> /dev/null && whole=over
  fi
  sleep 0.05
done
wait "$pid"
rc=$?
_collect "$rc"
check
[ "$RC" -ne 0 ] || fail "the run succeeded though s3rver refused a part"
assert_err_has "s3d:$B/o.bin"
assert_err_has "part 3 of 6"
assert_err_lacks "loc:$B/o.bin"
check
[ -n "$whole" ] || fail "the local object was not whole before the run ended"
check
[ "$whole" != over ] ||
  fail "the local object became whole only after s3rver's abort: the tee waited for it"
xt get "loc:$B/o.bin" got.bin
assert_rc 0
assert_same f.bin got.bin
# What was held was the refused upload's abort (which s3rver, unable to
# abort, then refuses: the journal keeps it for `xtstore cleanup`).
proxy_settled "$P"
check
awk '$1 == "DELETE" && $4 ~ /uploadId=/ {n++} END {exit !n}' "$P/bytes" ||
  fail "no abort (DELETE ?uploadId=) reached the proxy: $(cat "$P/bytes")"
finish
