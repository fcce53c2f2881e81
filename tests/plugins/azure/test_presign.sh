#!/usr/bin/env bash
# xtstore presign on Azure (a service SAS signed with the account key)
# against Azurite, which checks SAS signatures and permissions, with plain
# curl: a GET URL returns the bytes; a PUT URL (with the x-ms-blob-type
# header the verb names) stores bytes xtstore get reads back; each URL is
# refused for the other method, with a changed signature, and after it
# expired; --content-type, which a SAS cannot bind, and a service
# configured with a SAS token cannot presign (exit 7); failures name the
# HTTP status curl got.
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
. "$(dirname "$0")/../presign_lib.sh"
presign_setup "az:$C" "dir/a b.bin" 100000

# GET
xt presign "az:$C/dir/a b.bin"
assert_rc 0
GET_URL=$OUT
assert_out_has "sr=b"
assert_out_has "sp=r&"
assert_out_lacks "$AZ_KEY"
assert_err_empty
want_http 200 "GET through the SAS URL" "$GET_URL"
cmp -s "$T/.curl" "$T/body.bin" || fail "GET through the URL: other bytes"
want_http 403 "a read-only URL was taken for a PUT" \
  "$GET_URL" -T "$T/up.txt" -H 'x-ms-blob-type: BlockBlob'
check
BAD=$(printf '%s' "$GET_URL" | sed -E 's/(sig=)(.)/\1\2A/')
want_http 403 "a changed signature was accepted" "$BAD"

# PUT
xt presign --method PUT --expires 10m "az:$C/new/up.txt"
assert_rc 0
PUT_URL=$OUT
assert_err_has "x-ms-blob-type: BlockBlob"
want_http 201 "PUT through the SAS URL" \
  "$PUT_URL" -T "$T/up.txt" -H 'x-ms-blob-type: BlockBlob'
xt get "az:$C/new/up.txt" "$T/got.txt"
assert_rc 0
check
cmp -s "$T/got.txt" "$T/up.txt" || fail "xtstore get: not what curl put"
want_http 403 "a write-only URL was taken for a GET" "$PUT_URL"

# --json: the URL, the expiry and the header
xt presign --json -m put "az:$C/new/j.txt"
assert_rc 0
assert_out_has '"x-ms-blob-type": "BlockBlob"'
assert_out_has '"method": "PUT"'
assert_out_has '"expires": "20'

# expiry
xt presign --expires 1s "az:$C/dir/a b.bin"
assert_rc 0
SHORT=$OUT
sleep 2
want_http 403 "an expired SAS URL was accepted" "$SHORT"

# a SAS cannot bind a Content-Type: refused, not left unenforced
xt presign -m PUT --content-type text/plain "az:$C/new/t.txt"
assert_rc 7
assert_err_has "cannot bind a Content-Type"
assert_out ""
check
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "more than one line"

# a SAS-configured service has no key to sign with
xt presign "azsas:$C/dir/a b.bin"
assert_rc 7
assert_err_has "account key"
assert_err_lacks "$AZ_SAS"
check
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "more than one line"

xt rb -f "az:$C"
finish
