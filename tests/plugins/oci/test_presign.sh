#!/usr/bin/env bash
# xtstore presign on OCI (a pre-authenticated request, created on the
# server) against the OCI test server (tests/servers/oci/oci_par.py), with
# plain curl: a GET URL returns the bytes; a PUT URL stores bytes xtstore
# get reads back; each refuses the other method; the PAR id is printed
# (stderr, --json) and deleting it (DELETE /n/NS/b/B/p/ID, signed by the
# SDK's signer: oci_sign) ends the URL; a URL past its expiry is refused;
# --content-type, which a PAR cannot bind, is refused (exit 7); failures
# name the HTTP status curl got; through the fault proxy, a create whose
# answer was lost is not sent again, a 429 is.
. "$(dirname "$0")/ocilib.sh" "$@"

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
DEL_URL="$OCI_E/n/xtns/b/$C/p/$PAR_ID"
oci_sign DELETE "$DEL_URL"
want_http 204 "DeletePreauthenticatedRequest" "$DEL_URL" -X DELETE "${SIGNED[@]}"
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

# Through the fault proxy: a create whose answer is lost may have made a
# PAR, so the host does not send it again (one POST, a failure); a 429
# made nothing, so that one is retried. The namespace is looked up first
# (GET /n/), so a connection is there to reuse: libcurl re-sends by itself
# a request whose REUSED connection died before any answer, so the create
# goes on a fresh connection (sdk_request_fresh_connection).
P=/n/xtns/b/$C/p/
cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "POST", "path": "^$P\$"}, "count": 1,
   "lose_response": true},
  {"match": {"method": "POST", "path": "^$P\$"}, "count": 1,
   "status": 429, "headers": {"Content-Type": "application/json"},
   "body": "{\"code\": \"TooManyRequests\", \"message\": \"slow down\"}"}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$OCI_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; oci_cleanup' EXIT
oci_config "  ocip: {type: \"storage\", provider: \"oci\", endpoint: \"$PROXY\",
         config-file: \"$OCI_DIR/config\",
         retry: {attempts: 5, base-ms: 10, max-ms: 100}, }"
posts() { grep -c "^POST $P " "$T/proxy/log" || true; }
xt presign "ocip:$C/dir/a b.bin"
check
[ "$RC" -ne 0 ] || fail "a presign whose answer was lost succeeded"
assert_out ""
check
[ "$(posts)" = 1 ] || fail "the create was sent again: $(cat "$T/proxy/log")"
check
grep -q '^GET /n/ ' "$T/proxy/log" ||
  fail "no namespace lookup before the create: $(cat "$T/proxy/log")"
xt presign "ocip:$C/dir/a b.bin"
assert_rc 0
check
[ "$(grep -c "^POST $P rule=1 status 429" "$T/proxy/log")" = 1 ] &&
  [ "$(posts)" = 3 ] || fail "a 429 was not retried: $(cat "$T/proxy/log")"
finish
