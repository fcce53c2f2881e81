#!/usr/bin/env bash
# xtstore presign against s3rver, Swift's s3api and moto, each with its
# default configuration, through plain curl:
#  1. a GET URL returns the bytes put, and lacks the service's secret
#     (outside X-Amz-Credential, which names s3rver's access key, equal to
#     its secret); a PUT URL stores bytes that xtstore get reads back;
#     --json names the URL and the expiry;
#  2. a URL past its expiry is refused (--expires 1s, then 2 s later);
#  3. (Swift, which recomputes query signatures) a PUT URL cannot be used
#     for a GET, nor a GET URL for a PUT, and a URL with its signature
#     changed is refused, and a PUT URL bound to a Content-Type refuses
#     an upload of another type;
#  4. bad input: --expires 8d (over S3's 7 days), --method POST, an
#     anonymous service (exit 7): one line each, no secret printed.
# moto 5.2.1 with IAM on (the fixture) answers every presigned URL with a
# 500 (it looks for an Authorization header): its part is skipped, said
# so, while that is what it does.
#   test_presign.sh XTSTORE_BIN PLUGIN_DIR
. "$(dirname "$0")/s3lib.sh" "$@"

need_server s3rver
S3R=$ENDPOINT
need_server swift
read -r SWAK SWSK < "$SERVER_DIR/keys"
SWIFT=$ENDPOINT
need_server moto
MOTO=$ENDPOINT
MOTO_LOG=$SERVER_DIR/log
read -r AK SK < "$SERVER_DIR/keys"
config_begin
write_service s3r "$S3R" S3RVER S3RVER
write_service sw "$SWIFT" "$SWAK" "$SWSK"
write_service m "$MOTO" "$AK" "$SK"
echo "  anon: {type: \"storage\", provider: \"s3\", endpoint: \"$MOTO\", anonymous: \"true\", addressing: \"path\"}" >> "$CONFIG"
head -c 70000 /dev/urandom > body.bin
printf 'uploaded through a presigned URL\n' > up.txt

# code URL [curl args...]: the HTTP status of one curl request; the body
# goes to $T/.curl.
code() {
  local url=$1
  shift
  curl -s -o "$T/.curl" -w '%{http_code}' "$@" "$url"
}

# moto miscomputes signatures of keys with spaces or '+' (its bug): those
# go to s3rver only.
# moto's log shows why it answered 500 (written just after the answer).
moto_cannot() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    grep -q "KeyError: 'HTTP_AUTHORIZATION'" "$MOTO_LOG" && return 0
    sleep 0.2
  done
  return 1
}

for svc in s3r sw m; do
  B=$(bucket "ps$svc")
  K="dir/a b+c.bin"
  [ "$svc" = m ] && K="dir/a-b.bin"
  xt mb "$svc:$B"
  xt put body.bin "$svc:$B/$K"
  expect_rc 0 "$svc: object put"
  # 1 -------------------------------------------------------------------------
  xt presign "$svc:$B/$K"
  expect_rc 0 "$svc: GET URL made"
  GET_URL=$OUT
  if [ "$svc" = m ] && [ "$(code "$GET_URL")" = 500 ] && moto_cannot; then
    echo "skip: moto (IAM on) fails on presigned URLs: 500, KeyError" \
      "'HTTP_AUTHORIZATION' in its log"
    break
  fi
  check "$svc: the URL carries a SigV4 signature" \
    contains "$GET_URL" "X-Amz-Signature="
  # Each service's own secret; s3rver's equals its access key, which the
  # X-Amz-Credential parameter carries by design: looked for elsewhere.
  case $svc in s3r) SEC=S3RVER ;; sw) SEC=$SWSK ;; *) SEC=$SK ;; esac
  check "$svc: the secret is not in the URL" \
    lacks "$(printf '%s' "$GET_URL" | sed -E 's/X-Amz-Credential=[^&]*//')" \
    "$SEC"
  check "$svc: curl GET -> 200" test "$(code "$GET_URL")" = 200
  check "$svc: GET through the URL returns the bytes put" \
    cmp -s "$T/.curl" body.bin
  xt presign --method PUT --expires 10m "$svc:$B/new/up.txt" --json
  expect_rc 0 "$svc: PUT URL made (--json)"
  PUT_URL=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  check "$svc: --json has the method" contains "$OUT" '"method": "PUT"'
  check "$svc: --json has the expiry, 10 minutes on" python3 -c '
import json, sys, datetime
e = json.loads(sys.argv[1])["expires"]
d = datetime.datetime.strptime(e, "%Y-%m-%dT%H:%M:%SZ")
s = (d - datetime.datetime.utcnow()).total_seconds()
assert 500 < s <= 601, s' "$OUT"
  check "$svc: curl PUT -> 200" test "$(code "$PUT_URL" -T up.txt)" = 200
  xt get "$svc:$B/new/up.txt" got.txt
  expect_rc 0 "$svc: xtstore get of the object put through the URL"
  check "$svc: it has the bytes curl sent" cmp -s got.txt up.txt
  # 2 -------------------------------------------------------------------------
  xt presign --expires 1s "$svc:$B/$K"
  expect_rc 0 "$svc: a 1-second URL"
  SHORT=$OUT
  sleep 2
  check "$svc: past its expiry it is refused (403)" \
    test "$(code "$SHORT")" = 403
  xt rm -r "$svc:$B"
  xt rb "$svc:$B"
done

# 3 ---------------------------------------------------------------------------
B=$(bucket psx)
xt mb "sw:$B"
xt put up.txt "sw:$B/k.txt"
xt presign -m PUT "sw:$B/k.txt"
check "swift: a PUT URL used for GET is refused (403)" \
  test "$(code "$OUT")" = 403
xt presign "sw:$B/k.txt"
GET_URL=$OUT
check "swift: a GET URL used for PUT is refused (403)" \
  test "$(code "$GET_URL" -T body.bin)" = 403
xt cat "sw:$B/k.txt"
check "swift: ... and the object is unchanged" test "$OUT" = "$(cat up.txt)"
# The signature's last hex digit changed.
BAD=$(printf '%s' "$GET_URL" | python3 -c '
import sys; u = sys.stdin.read(); print(u[:-1] + ("0" if u[-1] != "0" else "1"))')
check "swift: a changed signature is refused (403)" test "$(code "$BAD")" = 403
check "swift: the right one works (200)" test "$(code "$GET_URL")" = 200
# --content-type is signed into a PUT URL: another type is refused.
xt presign -m PUT --content-type text/plain "sw:$B/ct.txt"
expect_rc 0 "swift: a PUT URL bound to text/plain"
CT_URL=$OUT
check "swift: it says the header to send" contains "$ERR" \
  "Content-Type: text/plain"
C=$(code "$CT_URL" -T up.txt -H 'Content-Type: application/octet-stream')
check "swift: a PUT with another Content-Type is refused (403, got $C)" \
  test "$C" = 403
C=$(code "$CT_URL" -T up.txt -H 'Content-Type: text/plain')
check "swift: a PUT with the bound Content-Type -> 200 (got $C)" \
  test "$C" = 200
xt rm -r "sw:$B"
xt rb "sw:$B"

# 4 ---------------------------------------------------------------------------
xt presign --expires 8d "m:$B/k.txt"
expect_rc 2 "--expires 8d is refused"
check "it names the 7-day limit" contains "$ERR" "7 days"
check "no secret in it" lacks "$ERR" "$SK"
check "one line" test "$(printf '%s\n' "$ERR" | wc -l)" -eq 1
xt presign --method POST "m:$B/k.txt"
expect_rc 2 "--method POST is a usage error"
check "it names --method" contains "$ERR" "--method"
xt presign --expires soon "m:$B/k.txt"
expect_rc 2 "--expires soon is a usage error"
xt presign "anon:$B/k.txt"
expect_rc 7 "an anonymous service cannot presign"
check "it says why" contains "$ERR" "anonymous"
check "one line" test "$(printf '%s\n' "$ERR" | wc -l)" -eq 1
xt presign "m:$B"
expect_rc 2 "a container without a key is a usage error"
finish
