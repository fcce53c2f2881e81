#!/usr/bin/env bash
# Interop with Oracle's own client: what npm oci-objectstorage writes (one
# PutObject, and its UploadManager's multipart upload) xtstore reads back,
# bytes, content type and metadata; and what xtstore writes (one put, and a
# put in parts) oci-objectstorage reads back the same (interop.js); the
# content headers it set (Content-Encoding (a token fetch() leaves
# alone: it would decode gzip), -Language, -Disposition,
# Cache-Control) kept by xt snapshot and xt meta --set.
. "$(dirname "$0")/ocilib.sh" "$@"

NM="$SRC_DIR/tests/servers/node/node_modules"
if ! command -v node >/dev/null || [ ! -d "$NM/oci-objectstorage" ]; then
  # Part of the issue's proof: missing tools fail the test, never skip it.
  echo "FAIL: node or npm oci-objectstorage is missing ($NM): run scripts/setup.sh --test"
  exit 1
fi
JS="$SRC_DIR/tests/plugins/oci/interop.js"
C=$OCI_C
oci_config "  ocimp: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", multipart: {threshold: 10M, part-size: 10M}}"
xt mb "oci:$C"
assert_rc 0
head -c 300001 /dev/urandom > "$T/small.bin"
head -c $((25 * 1048576 + 7)) /dev/urandom > "$T/big.bin"

# --- written by oci-objectstorage, read by xtstore -------------------------
run node "$JS" "$OCI_DIR" put "$C" "sdk/small.bin" "$T/small.bin" text/x-sdk team=xt stage=raw
assert_rc 0
run node "$JS" "$OCI_DIR" upload "$C" "sdk/dir/big.bin" "$T/big.bin" application/x-parquet kind=big
assert_rc 0
xt get "oci:$C/sdk/small.bin" "$T/small.back"
assert_rc 0
assert_same "$T/small.bin" "$T/small.back"
xt --json stat "oci:$C/sdk/small.bin"
assert_json_eq 'j["content_type"]' '"text/x-sdk"'
assert_json_eq 'j["metadata"]' '{"stage": "raw", "team": "xt"}'
xt get "oci:$C/sdk/dir/big.bin" "$T/big.back"
assert_rc 0
assert_same "$T/big.bin" "$T/big.back"
xt --json stat "oci:$C/sdk/dir/big.bin"
assert_json_eq 'j["content_type"]' '"application/x-parquet"'
assert_json_eq 'j["metadata"]' '{"kind": "big"}'
assert_json_eq 'j["size"]' "$((25 * 1048576 + 7))"

# --- written by xtstore, read by oci-objectstorage -------------------------
xt put --content-type text/x-xt --meta owner=ops "$T/small.bin" "oci:$C/xt/small.bin"
assert_rc 0
xt put --content-type application/x-parquet --meta kind=parts "$T/big.bin" "ocimp:$C/xt/big.bin"
assert_rc 0
run node "$JS" "$OCI_DIR" get "$C" "xt/small.bin" "$T/small.sdk"
assert_rc 0
assert_same "$T/small.bin" "$T/small.sdk"
assert_json_eq 'j' '{"contentType": "text/x-xt", "metadata": {"owner": "ops"}}'
run node "$JS" "$OCI_DIR" get "$C" "xt/big.bin" "$T/big.sdk"
assert_rc 0
assert_same "$T/big.bin" "$T/big.sdk"
assert_json_eq 'j' '{"contentType": "application/x-parquet", "metadata": {"kind": "parts"}}'
# The put in parts was one: the server saw a multipart upload of 3 parts.
check
grep -q "PUT /n/xtns/b/$C/u/xt%2Fbig.bin?uploadId=.*&uploadPartNum=3 " \
  "$OCI_DIR/log" ||
  fail "xtstore's 25 MiB put with 10 MiB parts was not a multipart upload"

# Content headers Oracle's client set survive what xtstore does by copying
# the object onto itself (snapshot, meta --set).
oci_config "  ver: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", bucket-versioning: \"true\"}"
xt mb "ver:$C-2"
assert_rc 0
H=(:contentEncoding=x-xt-test :contentLanguage=fr :contentDisposition=attachment
   :cacheControl=no-store)
WANT='{"cacheControl": "no-store", "contentDisposition": "attachment", "contentEncoding": "x-xt-test", "contentLanguage": "fr"}'
run node "$JS" "$OCI_DIR" put "$C-2" "hdr.bin" "$T/small.bin" text/x-sdk team=xt "${H[@]}"
assert_rc 0
xt snapshot "ver:$C-2/hdr.bin"
assert_rc 0
run node "$JS" "$OCI_DIR" get "$C-2" "hdr.bin" "$T/hdr.sdk"
assert_rc 0
assert_same "$T/small.bin" "$T/hdr.sdk"
assert_json_eq 'j["headers"]' "$WANT"
assert_json_eq 'j["contentType"]' '"text/x-sdk"'
assert_json_eq 'j["metadata"]["team"]' '"xt"'
xt meta --set team=ops "ver:$C-2/hdr.bin"
assert_rc 0
run node "$JS" "$OCI_DIR" get "$C-2" "hdr.bin" "$T/hdr.sdk"
assert_rc 0
assert_json_eq 'j["headers"]' "$WANT"
assert_json_eq 'j["contentType"]' '"text/x-sdk"'
assert_json_eq 'j["metadata"]' '{"team": "ops"}'

finish
