#!/usr/bin/env bash
# Large downloads in parallel ranged gets, and a streamed copy sent again
# (host/engine/transfer.c):
#   1. local, threshold 1M, 256K ranges, 3 at a time: a 3000001-byte get
#      goes in 12 ranges (said with -v) and is byte-identical.
#   2. s3rver through faultproxy.py, 512K ranges: the range from 1 MiB is
#      reset 100000 bytes into its body once; the file is byte-identical
#      and only that range was asked for again (the proxy saw one GET per
#      range, one for the first get, which stops at the headers, and one
#      more).
#   3. the same with a byte of that range flipped on every answer, of an
#      object whose ETag is its MD5: the get fails naming both MD5s, and
#      neither the file nor a temporary file is left.
#   4. a copy local -> s3rver (one put from a ring) whose upload is reset
#      once after the source was read: the copy is sent again and the
#      object read back is byte-identical (the proxy saw two PUTs).
#   5. an object replaced once the first get saw its ETag: the proxy
#      answers 412 PreconditionFailed to every GET carrying If-Match, as S3
#      does once the object has another ETag. The ranges carry the first
#      ETag (the proxy answered 1 to 7 of them 412: the others stop at the
#      first failure), the get fails naming the range and saying the
#      object was replaced, and neither the file nor a temporary file is
#      left. Ranges unpinned
#      would be served, and could mix two versions.
# The S3 services send unsigned bodies: s3rver stores aws-chunked framing,
# and the fallback's extra put would blur the request counts. The s3rver
# cases use the ctest fixture when it is there
# (XTSTORE_S3RVER_DIR), else start their own server.
#   test_ranged_get.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

B="xtrange-$$"
cleanup() {
  "$XT_BIN" --config "$CONFIG" -q rb -f "s3d:$B" > /dev/null 2>&1
  "$FAULTPROXY_SH" stop "$T/proxy" > /dev/null 2>&1
  stop_own_s3rver
  rm -rf "$T"
}
trap cleanup EXIT

# --- 1. local ---------------------------------------------------------------
cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data", multipart: {threshold: 1M, part-size: 256K, concurrency: 3}}
xt-services:
  storage: "scratch"
EOF
mkdir -p "$T/data/bkt"
head -c 3000001 /dev/urandom > "$T/data/bkt/big.bin"
xt -v get scratch:bkt/big.bin "$T/work/big.bin"
assert_rc 0
assert_err_has "blob 'bkt/big.bin': 3000001 bytes in 12 ranges of 262144, 3 at a time"
assert_same "$T/data/bkt/big.bin" "$T/work/big.bin"
# Below the threshold: one get, as before.
head -c 1000 /dev/urandom > "$T/data/bkt/small.bin"
xt -v get scratch:bkt/small.bin "$T/work/small.bin"
assert_rc 0
assert_err_lacks "ranges of"
assert_same "$T/data/bkt/small.bin" "$T/work/small.bin"

# --- s3rver -----------------------------------------------------------------
if ! s3rver_dir; then
  echo "note: s3rver could not be started: its cases are not run"
  finish
fi
# Range 3 of 512K ranges starts at 1 MiB.
cat > "$T/rules.json" <<EOF
[
 {"match": {"method": "GET", "path": "^/$B/reset\\\\.bin\$", "headers": {"range": "^bytes=1048576-"}},
  "count": 1, "reset_response_body_after": 100000},
 {"match": {"method": "GET", "path": "^/$B/flip\\\\.bin\$", "headers": {"range": "^bytes=1048576-"}},
  "flip_response_body_byte": 1000},
 {"match": {"method": "PUT", "path": "^/$B/cp-retry\\\\.bin\$"}, "count": 1,
  "reset_request_body_after": 100000},
 {"match": {"method": "GET", "path": "^/$B/replaced\\\\.bin\$", "headers": {"if-match": "."}},
  "status": 412, "headers": {"Content-Type": "application/xml"},
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>"}
]
EOF
proxy_start "$T/proxy" "$S3_DIR"
P=$(cat "$T/proxy/endpoint")
E=$(cat "$S3_DIR/endpoint")
QUICK='retry: {attempts: 3, base-ms: 10, max-ms: 50}'
cat > "$CONFIG" <<EOF
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data"}
  s3: {type: "storage", provider: "s3", endpoint: "$P", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned", multipart: {threshold: 1M, part-size: 512K, concurrency: 3}, $QUICK}
  s3p: {type: "storage", provider: "s3", endpoint: "$P", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned", $QUICK}
  s3d: {type: "storage", provider: "s3", endpoint: "$E", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned"}
xt-services:
  storage: "scratch"
EOF
# gets KEY / puts KEY: requests of KEY the proxy saw.
gets() { grep -c "^GET /$B/$1 " "$T/proxy/log" || true; }
puts() { grep -c "^PUT /$B/$1 " "$T/proxy/log" || true; }

SIZE=3145733                      # 7 ranges of 512K, the last one 5 bytes
head -c $SIZE /dev/urandom > "$T/src.bin"
xt mb "s3d:$B"
assert_rc 0
for k in reset flip replaced; do
  xt put "$T/src.bin" "s3d:$B/$k.bin"
  assert_rc 0
done

# --- 2. a reset in one range ------------------------------------------------
xt -v get "s3:$B/reset.bin" "$T/work/reset.bin"
assert_rc 0
assert_err_has "$SIZE bytes in 7 ranges of 524288, 3 at a time"
assert_same "$T/src.bin" "$T/work/reset.bin"
check
n=$(grep -c "^GET /$B/reset\\.bin rule=" "$T/proxy/log" || true)
[ "$n" -eq 1 ] || fail "the proxy reset $n answers of reset.bin, not 1 (the case proves nothing)"
check
n=$(gets 'reset\.bin')
[ "$n" -eq 9 ] || fail "the proxy saw $n GETs of reset.bin, not 9 (the first get, 7 ranges, and the reset range again)"

# --- 3. a flipped byte in one range ------------------------------------------
xt get "s3:$B/flip.bin" "$T/work/flip.bin"
check
[ "$RC" -ne 0 ] || fail "a download with a flipped byte succeeded"
want=$(md5sum < "$T/src.bin" | cut -d' ' -f1)
assert_err_has "blob '$B/flip.bin': the bytes received differ from the blob"
assert_err_has "the blob's $want"
assert_file_absent "$T/work/flip.bin"
check
ls -a "$T/work" | grep -q '^\.xtstore-get-' && fail "a temporary file was left"
check
n=$(grep -c "^GET /$B/flip\\.bin rule=" "$T/proxy/log" || true)
[ "$n" -ge 1 ] || fail "the proxy flipped no byte of flip.bin (the case proves nothing)"

# --- 4. a copy sent again -----------------------------------------------------
cp "$T/src.bin" "$T/data/bkt/cp.bin"
xt cp scratch:bkt/cp.bin "s3p:$B/cp-retry.bin"
assert_rc 0
check
n=$(puts 'cp-retry\.bin')
[ "$n" -eq 2 ] || fail "the proxy saw $n PUTs of cp-retry.bin, not 2 (a reset one and the copy again)"
xt get "s3d:$B/cp-retry.bin" "$T/work/cp-retry.bin"
assert_rc 0
assert_same "$T/src.bin" "$T/work/cp-retry.bin"

# --- 5. the object replaced after the first get ------------------------------
xt get "s3:$B/replaced.bin" "$T/work/replaced.bin"
check
[ "$RC" -ne 0 ] || fail "a download of ranges not pinned to the first ETag succeeded"
assert_err_has "blob '$B/replaced.bin': range "
assert_err_has ": replaced while it was read (it no longer has ETag "
assert_file_absent "$T/work/replaced.bin"
check
ls -a "$T/work" | grep -q '^\.xtstore-get-' && fail "a temporary file was left"
check
n=$(grep -c "^GET /$B/replaced\\.bin rule=" "$T/proxy/log" || true)
[ "$n" -ge 1 ] && [ "$n" -le 7 ] ||
  fail "the proxy answered $n pinned GETs of replaced.bin 412, not 1 to 7 (one per range begun)"

finish
