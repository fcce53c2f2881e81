#!/usr/bin/env bash
# xtstore presign on OCI (a pre-authenticated request, created on the
# server) against the OCI test server (tests/servers/oci/oci_par.py), with
# plain curl: a GET URL returns the bytes; a PUT URL stores bytes xtstore
# get reads back; each refuses the other method; the PAR id is printed
# (stderr, --json) and deleting it (DELETE /n/NS/b/B/p/ID, signed by the
# SDK's signer through ocisign, $XTSTORE_OCISIGN) ends the URL; a URL past
# its expiry is refused; --content-type, which a PAR cannot bind, is
# refused (exit 7); failures name the HTTP status curl got.
. "$(dirname "$0")/ocilib.sh" "$@"
OCISIGN=${XTSTORE_OCISIGN:?no ocisign (XTSTORE_OCISIGN, set by ctest)}

C=$OCI_C
. "$(dirname "$0")/../presign_lib.sh"
presign_setup "oci:$C" "dir/a b.bin" 80000

# GET
xt presign "oci:$C/dir/a b.bin"
assert_rc 0
GET_URL=$OUT
assert_out_has "$OCI_E/p/"
assert_err_has "pre-authenticated request id: par-"
want_http 200 "GET through the PAR" "$GET_URL"
check
cmp -s "$T/.curl" "$T/body.bin" || fail "GET through the PAR: other bytes"
want_http 404 "an ObjectRead PAR took a PUT" "$GET_URL" -T "$T/up.txt"

# PUT, with --json: the id to delete it by
xt presign --json --method PUT --expires 10m "oci:$C/new/up.txt"
assert_rc 0
PUT_URL=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
PAR_ID=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check
case $PAR_ID in par-*) ;; *) fail "--json has no PAR id" ;; esac
want_http 200 "PUT through the PAR" "$PUT_URL" -T "$T/up.txt"
xt get "oci:$C/new/up.txt" "$T/got.txt"
assert_rc 0
check
cmp -s "$T/got.txt" "$T/up.txt" || fail "xtstore get: not what curl put"
want_http 404 "an ObjectWrite PAR took a GET" "$PUT_URL"

# Deleting the PAR (a signed DELETE, as the oci CLI's preauth-request
# delete sends it) ends the URL.
KEYID=$(awk -F= '/^user=/{u=$2} /^fingerprint=/{f=$2} /^tenancy=/{t=$2} /^$/{exit} END{print t "/" u "/" f}' "$OCI_DIR/config")
DEL_URL="$OCI_E/n/xtns/b/$C/p/$PAR_ID"
XDATE=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
AUTH=$("$OCISIGN" "$OCI_DIR/key.pem" "$KEYID" DELETE "$DEL_URL" "$XDATE")
want_http 204 "DeletePreauthenticatedRequest" \
  "$DEL_URL" -X DELETE -H "x-date: $XDATE" -H "Authorization: $AUTH"
want_http 404 "a deleted PAR still works" "$PUT_URL" -T "$T/up.txt"

# a PAR cannot bind a Content-Type: refused (before any PAR is made)
xt presign -m PUT --content-type text/plain "oci:$C/new/t.txt"
assert_rc 7
assert_err_has "cannot bind a Content-Type"
assert_out ""

# expiry
xt presign --expires 1s "oci:$C/dir/a b.bin"
assert_rc 0
SHORT=$OUT
sleep 2
want_http 404 "an expired PAR was accepted" "$SHORT"
finish
