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
J="$HOME/.local/state/xtstore/uploads"
oci_config "  ocim: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", multipart: {threshold: 10M, part-size: 10M, concurrency: 2}}"

jparts() {
  cat "$J"/*.journal 2> /dev/null | grep -c '^P ' || true
}
# The upload id the journal records (its first line's last field, which
# the journal keeps percent-encoded).
jid() {
  head -n 1 "$J"/*.journal 2> /dev/null | awk '{print $NF}' |
    python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read().strip()))'
}
# UploadParts of big.bin the server answered with 200.
parts() {
  grep -c "PUT /n/xtns/b/$C/u/big.bin?uploadId=[^ ]*&uploadPartNum=[0-9]* HTTP/1.1\" 200" \
    "$OCI_DIR/log" || true
}

xt mb "oci:$C"
assert_rc 0
head -c $((240 << 20)) /dev/urandom > big.bin        # 24 parts

"$XT_BIN" --config "$CONFIG" -v put big.bin "ocim:$C/big.bin" > "$T/.k.out" 2> "$T/.k.err" &
pid=$!
for i in $(seq 1 3000); do
  [ "$(jparts)" -ge 3 ] && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.01
done
kill -9 "$pid" 2> /dev/null && killed=1
wait "$pid" 2> /dev/null
check
[ "${killed:-0}" -eq 1 ] && [ "$(jparts)" -ge 3 ] ||
  fail "no journal of 3 parts while big.bin went up ($(cat "$T/.k.err"))"
K=$(jparts)
ID=$(jid)
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
