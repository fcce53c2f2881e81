#!/usr/bin/env bash
# Retry budget of a put and of a part (host/core/blob.c put_replay,
# host/engine/multipart.c part_replay): an attempt
# cut short further into the body than any before it moved the put on and
# does not use up an attempt; a cut at the same point again does. Through
# faultproxy.py in front of s3rver, on a service allowed 3 attempts:
#   1. a 40 MiB put whose request body is reset 5 times, each cut 7 MiB
#      later than the one before, succeeds (the bytes identical, read back
#      past the proxy) -- 5 cuts would use up 3 attempts if each were
#      counted;
#   2. a put reset again and again at the same point (40 times) fails, and
#      long before the 40: the cuts that count use up the attempts.
#   3. a 50 MiB upload in parts of 24 MiB whose part 2 is reset 4 times,
#      each cut 6 MiB later, succeeds (host/engine/multipart.c part_replay).
# "Further" is measured in bytes read from the source, which run ahead of
# the bytes the server got by what the buffers on the way hold (here up to
# some MiB, unevenly): the later cuts are spaced wider than that, and a
# cut at the same point may pass for progress now and then (each time the
# most yet: a few times at most).
# The service sends unsigned bodies (s3rver stores aws-chunked framing),
# in one request (multipart threshold above the file's size).
#   test_put_progress.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

S3_DIR=${XTSTORE_S3RVER_DIR:-}
if [ -z "$S3_DIR" ]; then
  echo "skip: XTSTORE_S3RVER_DIR is not set (run through ctest, which starts s3rver)"
  exit 77
fi
B="xtprogress-$$"
cleanup() {
  "$XT_BIN" --config "$CONFIG" -q rb -f "s3d:$B" > /dev/null 2>&1
  "$FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT

proxy_rules '[]'
proxy_start "$T/proxy" "$S3_DIR"
P=$(cat "$T/proxy/endpoint")
E=$(cat "$S3_DIR/endpoint")
S3='type: "storage", provider: "s3", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned"'
cat > "$CONFIG" <<EOF
external-services:
  s3: {$S3, endpoint: "$P", multipart: {threshold: 1G},
       retry: {attempts: 3, base-ms: 10, max-ms: 50}}
  s3d: {$S3, endpoint: "$E"}
  s3mp: {$S3, endpoint: "$P", multipart: {threshold: 1M, part-size: 24M},
         retry: {attempts: 3, base-ms: 10, max-ms: 50}}
EOF

xt mb "s3d:$B"
assert_rc 0
MIB=1048576
head -c $((40 * MIB)) /dev/urandom > "$T/big.bin"

# cuts: the PUT attempts of KEY the proxy reset mid-body.
cuts() { grep -c "^PUT /$B/$1 .*reset" "$T/proxy/log" || true; }

# --- 5 cuts, each later than the one before -----------------------------------
{
  echo '['
  sep=
  for at in 2 9 16 23 30; do
    printf '%s{"match": {"method": "PUT", "path": "^/%s/later.bin$"}, "count": 1, "reset_request_body_after": %d}\n' \
      "$sep" "$B" $((at * MIB))
    sep=,
  done
  echo ']'
} | proxy_rules
: > "$T/proxy/log"
xt -v put "$T/big.bin" "s3:$B/later.bin"
assert_rc 0
check
n=$(cuts later.bin)
[ "$n" -eq 5 ] || fail "the put was cut $n times, not 5: the case proves little ($(cat "$T/proxy/log"))"
check
n=$(grep -c "retrying in [0-9]* ms (after progress)" "$T/.err" || true)
echo "5 later cuts: $n taken as progress"
[ "$n" -ge 3 ] || fail "only $n of the 5 later cuts were taken as progress: $(head -c 2000 "$T/.err")"
check
"$XT_BIN" --config "$CONFIG" cat "s3d:$B/later.bin" > "$T/later.back" 2> /dev/null
cmp -s "$T/big.bin" "$T/later.back" || fail "the put cut 5 times stored other bytes"

# --- cut at the same point, again and again -------------------------------------
proxy_rules <<EOF
[{"match": {"method": "PUT", "path": "^/$B/same.bin\$"}, "count": 40,
  "reset_request_body_after": $((3 * MIB))}]
EOF
: > "$T/proxy/log"
xt put "$T/big.bin" "s3:$B/same.bin"
check
[ "$RC" -ne 0 ] || fail "a put cut at the same point 40 times reported success"
assert_err_has "same.bin"
n=$(cuts same.bin)
echo "cut at the same point: $n attempts, then failed"
check
# 3 attempts counted, and the few cuts that passed for progress.
[ "$n" -ge 3 ] && [ "$n" -le 20 ] ||
  fail "a put cut at the same point was sent $n times, not 3 to 20"

# --- a part cut 4 times, each later than the one before -------------------------
head -c $((50 * MIB)) /dev/urandom > "$T/mp.bin"
{
  echo '['
  sep=
  for at in 1 7 13 19; do
    printf '%s{"match": {"method": "PUT", "path": "^/%s/mp.bin$", "query": "partNumber=2"}, "count": 1, "reset_request_body_after": %d}\n' \
      "$sep" "$B" $((at * MIB))
    sep=,
  done
  echo ']'
} | proxy_rules
: > "$T/proxy/log"
xt -v put "$T/mp.bin" "s3mp:$B/mp.bin"
assert_rc 0
check
n=$(cuts mp.bin)
[ "$n" -eq 4 ] || fail "part 2 was cut $n times, not 4: the case proves little ($(cat "$T/proxy/log"))"
n=$(grep -c "retrying in [0-9]* ms (after progress)" "$T/.err" || true)
echo "4 later cuts of a part: $n taken as progress"
check
"$XT_BIN" --config "$CONFIG" cat "s3d:$B/mp.bin" > "$T/mp.back" 2> /dev/null
cmp -s "$T/mp.bin" "$T/mp.back" || fail "the upload whose part was cut 4 times stored other bytes"

finish
