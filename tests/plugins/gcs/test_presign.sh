#!/usr/bin/env bash
# xtstore presign on GCS (a V4 signed URL, signed with the service
# account's key) against the GCS test server, which checks
# GOOG4-RSA-SHA256 signatures with the account's public key and the
# expiry (tests/servers/gcs/gcs_signed.py), with plain curl: a GET URL
# returns the bytes; a PUT URL stores bytes xtstore get reads back; each
# URL is refused for the other method, with a changed signature, and
# after it expired; --content-type is bound into a PUT URL; user
# credentials or a static token cannot presign (exit 7); --expires 8d is
# over GCS's 7 days; failures name the HTTP status curl got.
. "$(dirname "$0")/gcslib.sh" "$@"
[ -n "${GCS_DIR:-}" ] || { echo "skip: no GCS fixture"; exit 77; }

gcs_config "  gtok: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         access-token: \"ya29.not-a-live-token\", retry: {attempts: 1}}"
B=$GCS_B
. "$(dirname "$0")/../presign_lib.sh"
presign_setup "gcs:$B" "dir/a b+c.bin" 90000

# GET
xt presign "gcs:$B/dir/a b+c.bin"
assert_rc 0
GET_URL=$OUT
assert_out_has "X-Goog-Algorithm=GOOG4-RSA-SHA256"
assert_out_has "X-Goog-Signature="
assert_err_empty
want_http 200 "GET through the signed URL" "$GET_URL"
check
cmp -s "$T/.curl" "$T/body.bin" || fail "GET through the URL: other bytes"
want_http 403 "a GET URL was taken for a PUT" "$GET_URL" -T "$T/up.txt"
check
BAD=$(printf '%s' "$GET_URL" | python3 -c '
import sys; u = sys.stdin.read(); print(u[:-1] + ("0" if u[-1] != "0" else "1"))')
want_http 403 "a changed signature was accepted" "$BAD"

# PUT
xt presign --method PUT --expires 10m "gcs:$B/new/up.txt"
assert_rc 0
PUT_URL=$OUT
want_http 200 "PUT through the URL" "$PUT_URL" -T "$T/up.txt"
xt get "gcs:$B/new/up.txt" "$T/got.txt"
assert_rc 0
check
cmp -s "$T/got.txt" "$T/up.txt" || fail "xtstore get: not what curl put"
want_http 403 "a PUT URL was taken for a GET" "$PUT_URL"

# --content-type is signed: the upload must send it
xt presign -m PUT --content-type text/x-signed --json "gcs:$B/new/typed.txt"
assert_rc 0
assert_out_has '"Content-Type": "text/x-signed"'
TYPED=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
want_http 403 "a PUT with another Content-Type was accepted" \
  "$TYPED" -T "$T/up.txt" -H 'Content-Type: text/plain'
want_http 200 "a PUT with the signed Content-Type was refused" \
  "$TYPED" -T "$T/up.txt" -H 'Content-Type: text/x-signed'
xt stat --json "gcs:$B/new/typed.txt"
assert_out_has '"content_type": "text/x-signed"'

# expiry
xt presign --expires 1s "gcs:$B/dir/a b+c.bin"
assert_rc 0
SHORT=$OUT
sleep 2
want_http 400 "an expired signed URL was accepted" "$SHORT"
check
grep -q ExpiredToken "$T/.curl" || fail "the refusal is not ExpiredToken"

# credentials without a key; lifetimes over 7 days
xt presign "gtok:$B/dir/a b+c.bin"
assert_rc 7
assert_err_has "service account"
assert_err_lacks "ya29.not-a-live-token"
xt presign --expires 8d "gcs:$B/dir/a b+c.bin"
assert_rc 2
assert_err_has "7 days"
finish
