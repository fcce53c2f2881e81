#!/usr/bin/env bash
# xtstore presign on Azure (a service SAS signed with the account key)
# against Azurite, which checks SAS signatures and permissions, with plain
# curl: a GET URL returns the bytes; a PUT URL (with the x-ms-blob-type
# header the verb names) stores bytes xtstore get reads back; each URL is
# refused for the other method, with a changed signature, and after it
# expired; a service configured with a SAS token cannot presign (exit 7).
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
head -c 100000 /dev/urandom > "$T/body.bin"
printf 'put through a SAS\n' > "$T/up.txt"
# code URL [curl args...]: the HTTP status; the body in $T/.curl.
code() {
  local url=$1
  shift
  curl -s -o "$T/.curl" -w '%{http_code}' "$@" "$url"
}

xt mb "az:$C"
assert_rc 0
xt put "$T/body.bin" "az:$C/dir/a b.bin"
assert_rc 0

# GET
xt presign "az:$C/dir/a b.bin"
assert_rc 0
GET_URL=$OUT
assert_out_has "sr=b"
assert_out_has "sp=r&"
assert_out_lacks "$AZ_KEY"
assert_err_empty
[ "$(code "$GET_URL")" = 200 ] || { RC=1; fail "GET through the SAS URL"; }
cmp -s "$T/.curl" "$T/body.bin" || fail "GET through the URL: other bytes"
check
[ "$(code "$GET_URL" -T "$T/up.txt" -H 'x-ms-blob-type: BlockBlob')" = 403 ] ||
  fail "a read-only URL was taken for a PUT"
check
BAD=$(printf '%s' "$GET_URL" | sed -E 's/(sig=)(.)/\1\2A/')
[ "$(code "$BAD")" = 403 ] || fail "a changed signature was accepted"

# PUT
xt presign --method PUT --expires 10m "az:$C/new/up.txt"
assert_rc 0
PUT_URL=$OUT
assert_err_has "x-ms-blob-type: BlockBlob"
check
[ "$(code "$PUT_URL" -T "$T/up.txt" -H 'x-ms-blob-type: BlockBlob')" = 201 ] ||
  fail "PUT through the SAS URL"
xt get "az:$C/new/up.txt" "$T/got.txt"
assert_rc 0
check
cmp -s "$T/got.txt" "$T/up.txt" || fail "xtstore get: not what curl put"
check
[ "$(code "$PUT_URL")" = 403 ] || fail "a write-only URL was taken for a GET"

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
check
[ "$(code "$SHORT")" = 403 ] || fail "an expired SAS URL was accepted"

# a SAS-configured service has no key to sign with
xt presign "azsas:$C/dir/a b.bin"
assert_rc 7
assert_err_has "account key"
assert_err_lacks "$AZ_SAS"
check
[ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] || fail "more than one line"

xt rb -f "az:$C"
finish
