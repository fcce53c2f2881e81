#!/usr/bin/env bash
# Faults between the S3 provider and s3rver, injected by faultproxy.py:
#   test_faults.sh XTSTORE_BIN PLUGIN_DIR
#  1. 503 SlowDown with Retry-After: 1, then success: the put succeeds on
#     the host's retry, after the server's hint; the proxy saw 2 attempts.
#  2. a connection reset 1 MiB into a file upload: the host rewinds the file
#     and retries; the object read back is byte-identical.
#  3. a reset 1 MiB into a download: the host resumes with a Range request
#     (pinned to the ETag); the file is byte-identical.
#  4. RequestTimeTooSkewed with the server's Date 2 minutes ahead: the
#     plugin takes the clock from Date and retries once by itself (the
#     service allows the host no retry here); a streamed put whose body
#     was already sent is marked retryable and the host retries it.
#  5. a 301 with x-amz-bucket-region: the error names the right region.
#  6. an upload from stdin (unknown length: multipart) whose part 2 keeps
#     failing: the put fails and the plugin aborts the upload (s3rver
#     answers the abort with 405, but the proxy log shows it was sent).
. "$(dirname "$0")/s3lib.sh" "$@"

need_server s3rver
PROXY="$T/proxy"
RULES="$T/rules.json"
FAULTPROXY_SH=${XTSTORE_FAULTPROXY_SH:-$(dirname "$0")/../servers/faultproxy.sh}
cleanup_hook() { "$FAULTPROXY_SH" stop "$PROXY" > /dev/null 2>&1 || true; }
B=$(bucket faults)

# Everything below goes through the proxy; rules match by path, so one
# rules file holds every case.
cat > "$RULES.tmp" <<EOF
[
 {"match": {"method": "PUT", "path": "^/$B/slow\\\\.bin\$"}, "count": 1,
  "status": 503, "headers": {"Retry-After": "1"},
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FP1</RequestId></Error>"},
 {"match": {"method": "PUT", "path": "^/$B/reset-up\\\\.bin\$"}, "count": 1,
  "reset_request_body_after": 1048576},
 {"match": {"method": "GET", "path": "^/$B/reset-down\\\\.bin\$"}, "count": 1,
  "reset_response_body_after": 1048576},
 {"match": {"method": "GET", "path": "^/$B/skew\\\\.txt\$"}, "count": 1,
  "status": 403, "date_skew_s": 120,
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>"},
 {"match": {"method": "PUT", "path": "^/$B/skew-put\\\\.bin\$"}, "count": 1,
  "status": 403, "date_skew_s": 120,
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message></Error>"},
 {"match": {"method": "HEAD", "path": "^/$B/far\\\\.txt\$"}, "count": 1,
  "status": 301, "headers": {"x-amz-bucket-region": "eu-west-1"}},
 {"match": {"method": "PUT", "path": "^/$B/parts\\\\.bin\$", "query": "partNumber=2"},
  "status": 500,
  "body": "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>"}
]
EOF
mv "$RULES.tmp" "$RULES"
P=$("$FAULTPROXY_SH" start "$PROXY" "$SERVER_DIR" "$RULES") || {
  echo "FAIL: faultproxy did not start"
  exit 1
}
config_begin
write_service s3 "$P" S3RVER S3RVER ', payload-signing: "unsigned"'
write_service once "$P" S3RVER S3RVER ', payload-signing: "unsigned", retry: 1'
attempts() { grep -c "^$1 /$B/$2 " "$PROXY/log" || true; }

xt mb "s3:$B"
expect_rc 0 "mb through the proxy"
head -c 3000000 /dev/urandom > data.bin

# 1 ---------------------------------------------------------------------------
start=$(date +%s%N)
xt -v put data.bin "s3:$B/slow.bin"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_rc 0 "put after 503 SlowDown succeeds on the host's retry"
check "the proxy saw 2 attempts" test "$(attempts PUT slow.bin)" -eq 2
check "the first was the 503" grep -q "^PUT /$B/slow.bin rule=0 status 503" "$PROXY/log"
check "the retry waited for Retry-After (1 s; took $elapsed_ms ms)" \
  test "$elapsed_ms" -ge 1000
check "the retry was logged with S3's code" contains "$ERR" "SlowDown"

# 2 ---------------------------------------------------------------------------
xt put data.bin "s3:$B/reset-up.bin"
expect_rc 0 "put reset 1 MiB into the body succeeds on retry"
check "the proxy saw 2 attempts" test "$(attempts PUT reset-up.bin)" -eq 2
check "the first was reset" grep -q "^PUT /$B/reset-up.bin rule=1" "$PROXY/log"
xt get "s3:$B/reset-up.bin" back-up.bin
check "read back: byte-identical" cmp -s back-up.bin data.bin

# 3 ---------------------------------------------------------------------------
xt put data.bin "s3:$B/reset-down.bin"
expect_rc 0 "put of the download source"
xt get "s3:$B/reset-down.bin" back-down.bin
expect_rc 0 "get reset 1 MiB into the body resumes"
check "the proxy saw 2 GETs" test "$(attempts GET reset-down.bin)" -eq 2
check "the first was reset" grep -q "^GET /$B/reset-down.bin rule=2" "$PROXY/log"
check "the downloaded file is byte-identical" cmp -s back-down.bin data.bin

# 4 ---------------------------------------------------------------------------
printf 'on time' > skew.txt
xt put skew.txt "s3:$B/skew.txt"
xt -v cat "once:$B/skew.txt"
expect_rc 0 "RequestTimeTooSkewed: the plugin's own retry (host retries off)"
check "with the right body" test "$OUT" = "on time"
check "the proxy saw 2 GETs" test "$(attempts GET skew.txt)" -eq 2
check "the correction was logged" contains "$ERR" "differs from ours by 12"
xt put data.bin "s3:$B/skew-put.bin"
expect_rc 0 "a streamed put refused for skew is retried by the host"
check "the proxy saw 2 PUTs" test "$(attempts PUT skew-put.bin)" -eq 2
xt get "s3:$B/skew-put.bin" back-skew.bin
check "and stored byte-identical" cmp -s back-skew.bin data.bin

# 5 ---------------------------------------------------------------------------
xt stat "s3:$B/far.txt"
check "wrong region: not a success" test "$RC" -ne 0
check "the error names the bucket's region" contains "$ERR" "region 'eu-west-1'"

# 6 ---------------------------------------------------------------------------
head -c 10000000 /dev/urandom > parts.bin
cat parts.bin | "$XT_BIN" --config "$CONFIG" -v put - "s3:$B/parts.bin" \
  > "$T/.out" 2> "$T/.err"
RC=$?; OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err"); LAST="put - (stdin)"
check "a multipart put whose part 2 fails: not a success" test "$RC" -ne 0
check "the error names the part's operation" contains "$ERR" "UploadPart"
check "one POST: the upload began, and was never completed" \
  test "$(attempts POST parts.bin)" -eq 1
check "part 1 went up" grep -q "^PUT /$B/parts.bin pass 200" "$PROXY/log"
check "part 2 was refused" grep -q "^PUT /$B/parts.bin rule=6 status 500" \
  "$PROXY/log"
check "the upload was aborted" grep -q "^DELETE /$B/parts.bin " "$PROXY/log"
xt stat "s3:$B/parts.bin"
expect_rc 4 "no object under the key"

xt rb --force "s3:$B"
expect_rc 0 "rb --force"
finish
