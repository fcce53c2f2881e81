#!/usr/bin/env bash
# Resume across runs on OCI (docs/engine.md, "Resume across runs"): a
# multipart upload killed with kill -9 is resumed by the same command in a
# new process, which sends only the parts its journal lacks (UploadParts
# counted in the server's log) and commits the upload the first run began:
# the provider keeps nothing of an upload but OCI's upload id, so any
# process takes its parts and commits it. The object reads back
# byte-identical and no upload is left.
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
oci_config "  ocim: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", multipart: {threshold: 10M, part-size: 10M, concurrency: 2}}"

# The upload id the journal records, which it keeps percent-encoded.
jid_decoded() {
  jid | python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read().strip()))'
}
# UploadParts of big.bin the server answered with 200.
parts() {
  grep -c "PUT /n/xtns/b/$C/u/big.bin?uploadId=[^ ]*&uploadPartNum=[0-9]* HTTP/1.1\" 200" \
    "$OCI_DIR/log" || true
}

xt mb "oci:$C"
assert_rc 0
head -c $((240 << 20)) /dev/urandom > big.bin        # 24 parts

kill_at_parts 3 -v put big.bin "ocim:$C/big.bin"
K=$(jparts)
ID=$(jid_decoded)
R1=$(parts)

xt -v put big.bin "ocim:$C/big.bin"
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 24 parts on record"
R2=$(($(parts) - R1))
check
[ "$R2" -ge $((24 - K - 2)) ] && [ "$R2" -le $((24 - K)) ] ||
  fail "run 2 sent $R2 parts, not the $((24 - K)) missing (less at most the 2 the killed run had in flight)"
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
xt get "oci:$C/big.bin" got.bin
assert_rc 0
assert_same big.bin got.bin
xt cleanup "ocim:$C"
assert_rc 0

finish
