#!/usr/bin/env bash
# The OCI provider against faults: a server clock an hour ahead (the
# server's skew hook; OCI refuses requests dated 5 minutes off with 401
# NotAuthenticated): the provider takes the offset from the server's Date
# and succeeds, for a listing (sent again at once), for a streamed put
# (the host's retry, with the corrected clock), for a HEAD (a refusal
# without a body: its Date alone) and for eight puts refused at once
# (each sets the same correction). Through faultproxy.py in
# front of the server: 429 TooManyRequests with Retry-After is waited out;
# a connection reset inside one part of a multipart upload is retried and
# the object reads back byte-identical; a download cut short resumes; a
# body damaged on the way is refused by OCI for the CRC-32C sent with it
# and sent again; a download whose every answer has a byte flipped fails
# naming the object and the checksum mismatch, and leaves no file; a
# bucket purge whose deletes all answer 404 ends.
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
P=/n/xtns/b/$C
xt mb "oci:$C"
assert_rc 0

# --- clock skew (this bucket only: other tests share the server) ---------
oci_config "  skew: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", namespace: \"xtns\", retry: {attempts: 2, base-ms: 10, max-ms: 50}, }"
head -c 100000 /dev/urandom > "$T/skew.bin"
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 3600}'
xt put "$T/skew.bin" "skew:$C/skew.bin"
assert_rc 0
xt ls "skew:$C"
assert_rc 0
assert_out_has "skew.bin"
xt get "skew:$C/skew.bin" "$T/skew.back"
assert_rc 0
assert_same "$T/skew.bin" "$T/skew.back"
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 0}'
# The skew bit: the first put was refused (then sent again, corrected).
check
[ "$(grep -c "PUT $P/o/skew.bin.* 401 " "$OCI_DIR/log")" -ge 1 ] ||
  fail "the skewed put was never refused: the skew hook did not bite"
# A HEAD as the first request: its 401 has no body, only the Date.
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 3600}'
xt --json stat "skew:$C/skew.bin"
assert_rc 0
assert_json_eq 'j["size"]' 100000
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 0}'
check
[ "$(grep -c "HEAD $P/o/skew.bin.* 401 " "$OCI_DIR/log")" -ge 1 ] ||
  fail "the skewed HEAD was never refused: the skew hook did not bite"
# Eight puts refused at once, each with the skew it signed with: all end
# with the server's clock (a correction that added up would overshoot).
mkdir -p "$T/par"
for i in 1 2 3 4 5 6 7 8; do head -c 50000 /dev/urandom > "$T/par/f$i.bin"; done
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 3600}'
xt cp -r --transfers 8 "$T/par" "skew:$C/par"
assert_rc 0
oci_hook PUT "/_test/config?bucket=$C" '{"clock_skew": 0}'
for i in 1 2 3 4 5 6 7 8; do
  xt get "oci:$C/par/f$i.bin" "$T/par.back"
  assert_rc 0
  assert_same "$T/par/f$i.bin" "$T/par.back"
done
check
[ "$(grep -c "PUT $P/o/par%2Ff[1-8].bin.* 401 " "$OCI_DIR/log")" -ge 2 ] ||
  fail "fewer than two parallel puts were refused: the race was not run"

# --- through the fault proxy ----------------------------------------------
cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "PUT", "path": "^$P/o/busy\\\\.bin\$"}, "count": 2,
   "status": 429, "headers": {"Retry-After": "1", "Content-Type": "application/json"},
   "body": "{\"code\": \"TooManyRequests\", \"message\": \"slow down\"}"},
  {"match": {"method": "PUT", "path": "^$P/u/parts\\\\.bin\$"}, "skip": 1,
   "count": 1, "reset_request_body_after": 1048576},
  {"match": {"method": "GET", "path": "^$P/o/parts\\\\.bin\$"}, "count": 1,
   "reset_response_body_after": 65536},
  {"match": {"method": "PUT", "path": "^$P/o/flip\\\\.bin\$"}, "count": 1,
   "flip_request_body_byte": 1000},
  {"match": {"method": "PUT", "path": "^$P/u/flipparts\\\\.bin\$"}, "skip": 1,
   "count": 1, "flip_request_body_byte": 1000},
  {"match": {"method": "DELETE", "path": "^$P-2/o/"}, "status": 404,
   "headers": {"Content-Type": "application/json"},
   "body": "{\"code\": \"ObjectNotFound\", \"message\": \"gone\"}"},
  {"match": {"method": "GET", "path": "^$P/o/dlflip\\\\.bin\$"},
   "flip_response_body_byte": 1000}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$OCI_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap 'oci_cleanup_proxy' EXIT
oci_cleanup_proxy() {
  "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"
  oci_cleanup
}
oci_config "  ocip: {type: \"storage\", provider: \"oci\", endpoint: \"$PROXY\", config-file: \"$OCI_DIR/config\", multipart: {threshold: 10M, part-size: 10M}, retry: {attempts: 5, base-ms: 10, max-ms: 100}, }"

count() {
  grep -c -- "$1" "$T/proxy/log" || true
}

# 429 twice, Retry-After: 1 s each: the put succeeds on the third try, no
# sooner than the server asked (the policy's own backoff is at most 100 ms).
head -c 200000 /dev/urandom > "$T/busy.bin"
start=$(date +%s%N)
xt put "$T/busy.bin" "ocip:$C/busy.bin"
end=$(date +%s%N)
assert_rc 0
check
[ "$(count "^PUT $P/o/busy.bin rule=0 status 429")" = 2 ] ||
  fail "expected two 429 answers in the proxy log: $(cat "$T/proxy/log")"
check
[ $(((end - start) / 1000000)) -ge 1900 ] ||
  fail "two Retry-After: 1 answers took only $(((end - start) / 1000000)) ms"
xt get "oci:$C/busy.bin" "$T/busy.back"
assert_same "$T/busy.bin" "$T/busy.back"

# A reset after 1 MiB of the second part of a 24 MiB upload in 10 MiB parts:
# that part is sent again, the object is whole.
head -c $((24 * 1048576 + 3)) /dev/urandom > "$T/parts.bin"
xt put "$T/parts.bin" "ocip:$C/parts.bin"
assert_rc 0
check
[ "$(count "^PUT $P/u/parts.bin rule=1 reset_request_body_after")" = 1 ] ||
  fail "the part reset did not fire: $(cat "$T/proxy/log")"
# ... read back through the proxy, whose first GET is cut after 64 KiB.
xt get "ocip:$C/parts.bin" "$T/parts.back"
assert_rc 0
assert_same "$T/parts.bin" "$T/parts.back"
# (The proxy logs the cut request when its handler ends, which may be
# after the download's other ranges: wait for the line a little.)
for ((w = 0; w < 50; w++)); do
  [ "$(count "^GET $P/o/parts.bin rule=2 reset_response_body_after")" = 1 ] &&
    break
  sleep 0.1
done
check
[ "$(count "^GET $P/o/parts.bin rule=2 reset_response_body_after")" = 1 ] ||
  fail "the download reset did not fire: $(cat "$T/proxy/log")"
xt --json stat "oci:$C/parts.bin"
assert_json_eq 'j["size"]' "$((24 * 1048576 + 3))"
# A byte flipped on the way, in a put and in one part: OCI refuses the body
# for the CRC-32C sent with it (InvalidContentCrc32c), nothing is stored,
# the body is sent again and arrives whole.
head -c 300000 /dev/urandom > "$T/flip.bin"
xt put "$T/flip.bin" "ocip:$C/flip.bin"
assert_rc 0
head -c $((21 * 1048576)) /dev/urandom > "$T/flipparts.bin"
xt put "$T/flipparts.bin" "ocip:$C/flipparts.bin"
assert_rc 0
check
[ "$(count "^PUT $P/o/flip.bin rule=3 flip_request_body_byte .* pass 400")" = 1 ] &&
  [ "$(count "^PUT $P/u/flipparts.bin rule=4 flip_request_body_byte .* pass 400")" = 1 ] ||
  fail "the flipped bodies were not refused: $(cat "$T/proxy/log")"
for f in flip flipparts; do
  xt get "oci:$C/$f.bin" "$T/$f.back"
  assert_rc 0
  assert_same "$T/$f.bin" "$T/$f.back"
done

# A download whose every answer has byte 1000 flipped: each is refused for
# the object's checksum (its CRC-32C, else MD5), and after the retries
# the get fails naming the object; no file, no temporary file is left.
head -c 300000 /dev/urandom > "$T/dlflip.bin"
xt put "$T/dlflip.bin" "oci:$C/dlflip.bin"
assert_rc 0
mkdir -p "$T/dl"
xt get "ocip:$C/dlflip.bin" "$T/dl/dlflip.bin"
check
[ "$RC" -ne 0 ] || fail "a download whose every answer was flipped succeeded"
assert_err_has "blob '$C/dlflip.bin': the bytes received differ from the blob"
check
printf '%s\n' "$ERR" | grep -Eq 'CRC-32C [0-9a-f]{8}, the blob.s [0-9a-f]{8}|MD5 [0-9a-f]{32}, the blob.s [0-9a-f]{32}' ||
  fail "the error does not give both checksums: $ERR"
check
[ -z "$(ls -A "$T/dl")" ] || fail "the failed download left: $(ls -A "$T/dl")"
check
[ "$(count "^GET $P/o/dlflip.bin rule=6 flip_response_body_byte")" -ge 1 ] ||
  fail "the proxy flipped no download: $(cat "$T/proxy/log")"

# A recursive bucket delete whose object deletes all answer 404 (as if
# gone meanwhile): a 404 deletes nothing, so the pass that saw only those
# ends the purge, and the bucket's DELETE says it is not empty (it used to
# list and "delete" again forever).
xt mb "oci:$C-2"
xt put --text ghost "oci:$C-2/ghost.txt"
assert_rc 0
run timeout 60 "$XT_BIN" --config "$CONFIG" rb -f "ocip:$C-2"
assert_rc 5
assert_err_has "$C-2"

xt ls -r "oci:$C"
assert_rc 0
assert_out "busy.bin
dlflip.bin
flip.bin
flipparts.bin
par/f1.bin
par/f2.bin
par/f3.bin
par/f4.bin
par/f5.bin
par/f6.bin
par/f7.bin
par/f8.bin
parts.bin
skew.bin"

finish
