#!/usr/bin/env bash
# xtstore presign on OCI (a pre-authenticated request, created on the
# server) against the OCI test server (tests/servers/oci/oci_par.py), with
# plain curl: a GET URL returns the bytes; a PUT URL stores bytes xtstore
# get reads back; each refuses the other method; the PAR id is printed
# (stderr, --json) and deleting it (DELETE /n/NS/b/B/p/ID, signed by the
# SDK's signer through ocisign, $XTSTORE_OCISIGN) ends the URL; a URL past
# its expiry is refused.
. "$(dirname "$0")/ocilib.sh" "$@"
OCISIGN=${XTSTORE_OCISIGN:?no ocisign (XTSTORE_OCISIGN, set by ctest)}

C=$OCI_C
head -c 80000 /dev/urandom > "$T/body.bin"
printf 'put through a PAR\n' > "$T/up.txt"
# code URL [curl args...]: the HTTP status; the body in $T/.curl.
code() {
  local url=$1
  shift
  curl -s -o "$T/.curl" -w '%{http_code}' "$@" "$url"
}

xt mb "oci:$C"
assert_rc 0
xt put "$T/body.bin" "oci:$C/dir/a b.bin"
assert_rc 0

# GET
xt presign "oci:$C/dir/a b.bin"
assert_rc 0
GET_URL=$OUT
assert_out_has "$OCI_E/p/"
assert_err_has "pre-authenticated request id: par-"
check
[ "$(code "$GET_URL")" = 200 ] || fail "GET through the PAR"
check
cmp -s "$T/.curl" "$T/body.bin" || fail "GET through the PAR: other bytes"
check
[ "$(code "$GET_URL" -T "$T/up.txt")" = 404 ] || fail "an ObjectRead PAR took a PUT"

# PUT, with --json: the id to delete it by
xt presign --json --method PUT --expires 10m "oci:$C/new/up.txt"
assert_rc 0
PUT_URL=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
PAR_ID=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check
case $PAR_ID in par-*) ;; *) fail "--json has no PAR id" ;; esac
check
[ "$(code "$PUT_URL" -T "$T/up.txt")" = 200 ] || fail "PUT through the PAR"
xt get "oci:$C/new/up.txt" "$T/got.txt"
assert_rc 0
check
cmp -s "$T/got.txt" "$T/up.txt" || fail "xtstore get: not what curl put"
check
[ "$(code "$PUT_URL")" = 404 ] || fail "an ObjectWrite PAR took a GET"

# Deleting the PAR (a signed DELETE, as the oci CLI's preauth-request
# delete sends it) ends the URL.
KEYID=$(awk -F= '/^user=/{u=$2} /^fingerprint=/{f=$2} /^tenancy=/{t=$2} /^$/{exit} END{print t "/" u "/" f}' "$OCI_DIR/config")
DEL_URL="$OCI_E/n/xtns/b/$C/p/$PAR_ID"
XDATE=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
AUTH=$("$OCISIGN" "$OCI_DIR/key.pem" "$KEYID" DELETE "$DEL_URL" "$XDATE")
check
[ "$(code "$DEL_URL" -X DELETE -H "x-date: $XDATE" -H "Authorization: $AUTH")" = 204 ] ||
  fail "DeletePreauthenticatedRequest"
check
[ "$(code "$PUT_URL" -T "$T/up.txt")" = 404 ] || fail "a deleted PAR still works"

# expiry
xt presign --expires 1s "oci:$C/dir/a b.bin"
assert_rc 0
SHORT=$OUT
sleep 2
check
[ "$(code "$SHORT")" = 404 ] || fail "an expired PAR was accepted"
finish
