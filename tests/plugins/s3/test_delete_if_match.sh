#!/usr/bin/env bash
# The S3 provider's conditional delete (store_delete_opts.if_match, which the
# host sets when it removes a wrong put or copy) on the wire, through
# faultproxy.py in front of s3rver, which ignores If-Match on HEAD and DELETE
# (plugins/s3/README.md): the proxy is the only judge, so a provider that
# dropped the header from DeleteObject would delete and fail these checks.
#   test_delete_if_match.sh XTSTORE_BIN PLUGIN_DIR S3_API_PROBE
#  1. a DeleteObject carrying If-Match with the ETag given is refused 412 by
#     the proxy: the delete is PRECONDITION, the object stays, and no second
#     DeleteObject follows (the unconditional fallback is for a multipart
#     ETag only).
#  2. the same with no rule refusing it: deleted; the proxy saw If-Match
#     with the ETag on the DeleteObject.
#  3. a multipart ("-N") ETag refused 412 although a HEAD matches (as
#     Swift's s3api does): deleted by a second DeleteObject without If-Match.
#     s3rver's multipart ETags lack "-N" and its HEAD ignores If-Match, so
#     the ETag given is c.bin's MD5 with "-2" appended. The second
#     DeleteObject carries no If-Match (Swift would refuse it again).
#  4. the same, but the confirming HEAD with If-Match is refused 412 (the
#     object replaced meanwhile): PRECONDITION, one DeleteObject, the
#     object stays.
PROBE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/s3lib.sh" "$1" "$2"

need_server s3rver
PROXY="$T/proxy"
RULES="$T/rules.json"
FAULTPROXY_SH=${XTSTORE_FAULTPROXY_SH:-$(dirname "$0")/../../servers/faultproxy.sh}
cleanup_hook() { "$FAULTPROXY_SH" stop "$PROXY" > /dev/null 2>&1 || true; }
B=$(bucket delif)

printf 'kept by the precondition' > a.txt
printf 'deleted while it matches' > b.txt
printf 'deleted after a multipart 412' > c.bin
printf 'kept: replaced before the confirming HEAD' > d.bin
A=$(md5sum a.txt | cut -d' ' -f1)
Bm=$(md5sum b.txt | cut -d' ' -f1)
PF='<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>'
# Rule 0 refuses case 1's ETag; rule 1 only marks (stall_ms 1) a
# DeleteObject with case 2's; rule 2 refuses any multipart ETag once, rule
# 3 marks any later DeleteObject of c.bin with If-Match; rules 4 and 5
# refuse d.bin's DeleteObject with If-Match, and its HEAD with If-Match
# but the first.
cat > "$RULES" <<EOF
[
 {"match": {"method": "DELETE", "path": "^/$B/a\\\\.txt\$", "headers": {"If-Match": "^\"$A\"\$"}},
  "status": 412, "body": "$PF"},
 {"match": {"method": "DELETE", "path": "^/$B/b\\\\.txt\$", "headers": {"If-Match": "^\"$Bm\"\$"}},
  "stall_ms": 1},
 {"match": {"method": "DELETE", "path": "^/$B/c\\\\.bin\$", "headers": {"If-Match": "-[0-9]+\"\$"}},
  "count": 1, "status": 412, "body": "$PF"},
 {"match": {"method": "DELETE", "path": "^/$B/c\\\\.bin\$", "headers": {"If-Match": "."}},
  "stall_ms": 1},
 {"match": {"method": "DELETE", "path": "^/$B/d\\\\.bin\$", "headers": {"If-Match": "."}},
  "status": 412, "body": "$PF"},
 {"match": {"method": "HEAD", "path": "^/$B/d\\\\.bin\$", "headers": {"If-Match": "."}},
  "skip": 1, "status": 412}
]
EOF
P=$("$FAULTPROXY_SH" start "$PROXY" "$SERVER_DIR" "$RULES") || {
  echo "FAIL: faultproxy did not start"
  exit 1
}
config_begin
write_service s3 "$P" S3RVER S3RVER ', payload-signing: "unsigned"'
deletes() { grep -c "^DELETE /$B/$1 " "$PROXY/log" || true; }
probe() { # probe KEY ETAG: $RC, $OUT
  LAST="s3_api_probe delete-if-match s3 $B $1 $2"
  OUT=$("$PROBE" delete-if-match "$CONFIG" s3 "$B" "$1" "$2" 2>&1)
  RC=$?
  ERR=""
  # The proxy logs a request after its answer: wait until all are logged.
  for _ in $(seq 100); do
    [ "$(cat "$PROXY/active" 2> /dev/null)" = 0 ] && break
    sleep 0.1
  done
}

xt mb "s3:$B"
expect_rc 0 "mb through the proxy"
for f in a.txt b.txt c.bin d.bin; do
  xt put "$f" "s3:$B/$f"
  expect_rc 0 "put $f"
done

# 1 ---------------------------------------------------------------------------
probe a.txt "\"$A\""
expect_rc 1 "a DeleteObject with If-Match refused 412 fails"
check "as PRECONDITION" contains "$OUT" "rc=precondition failed"
check "the proxy refused the DeleteObject by its If-Match" \
  grep -q "^DELETE /$B/a.txt rule=0 status 412" "$PROXY/log"
check "no second DeleteObject followed (not a multipart ETag)" \
  test "$(deletes a.txt)" -eq 1
xt cat "s3:$B/a.txt"
check "the object stays, same bytes" test "$OUT" = "kept by the precondition"

# 2 ---------------------------------------------------------------------------
probe b.txt "\"$Bm\""
expect_rc 0 "a DeleteObject with the matching If-Match deletes"
check "it carried If-Match with the ETag" \
  grep -q "^DELETE /$B/b.txt rule=1 " "$PROXY/log"
xt stat "s3:$B/b.txt"
expect_rc 4 "the object is gone (NOT_FOUND)"

# 3 ---------------------------------------------------------------------------
C="\"$(md5sum c.bin | cut -d' ' -f1)-2\""
probe c.bin "$C"
expect_rc 0 "a multipart ETag ($C) refused 412 while a HEAD matches: deleted"
check "the first DeleteObject was refused by its If-Match" \
  grep -q "^DELETE /$B/c.bin rule=2 status 412" "$PROXY/log"
check "a second DeleteObject deleted it" test "$(deletes c.bin)" -eq 2
check "the second DeleteObject had no If-Match" \
  test -z "$(grep "^DELETE /$B/c.bin rule=3 " "$PROXY/log")"
xt stat "s3:$B/c.bin"
expect_rc 4 "the object is gone (NOT_FOUND)"

# 4 ---------------------------------------------------------------------------
D="\"$(md5sum d.bin | cut -d' ' -f1)-2\""
probe d.bin "$D"
expect_rc 1 "a multipart ETag refused 412, its confirming HEAD refused 412: fails"
check "as PRECONDITION" contains "$OUT" "rc=precondition failed"
check "the confirming HEAD was refused by its If-Match" \
  grep -q "^HEAD /$B/d.bin rule=5 status 412" "$PROXY/log"
check "no second DeleteObject followed" test "$(deletes d.bin)" -eq 1
xt cat "s3:$B/d.bin"
check "the object stays, same bytes" \
  test "$OUT" = "kept: replaced before the confirming HEAD"

xt rb --force "s3:$B"
finish
