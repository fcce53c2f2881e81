#!/usr/bin/env bash
# Breaks in resumable uploads (plugins/gcs/README.md, "Puts"):
# - a known length above 16 MiB is one session whose body is streamed in
#   one PUT, nothing of it buffered: a connection reset 6 MiB into it is
#   followed by a status query; the source cannot be read again from the
#   offset the session reports, so the put fails retryable, the session is
#   cancelled, and the host's retry (attempts: 2) sends the put again in a
#   new session; with attempts: 1 the put fails, one line, no object;
# - the same PUT stored whole, its answer lost: the status query finds the
#   session complete, and the put succeeds without being sent again;
# - a body of unknown length (append from a pipe) goes in 8 MiB chunks, each
#   kept until the service has it: a reset 6 MiB into the second chunk is
#   resumed from the offset the session reports, within the one put. That
#   reset hits twice: libcurl sends a request from memory again by itself,
#   once, when a reused connection breaks under it, so the first reset
#   never reaches the provider.
#
# GCS answers a resumable session's URI on its canonical host (as the test
# server does: its own endpoint), so the uploads do not go to a configured
# endpoint: faultproxy.py is put in their way as libcurl's HTTP proxy
# (http_proxy), which sees every request of the process.
. "$(dirname "$0")/gcslib.sh" "$@"

B=$GCS_B
P="/upload/storage/v1/b/$B/o"
MiB=1048576
SIZE=$((24 * MiB + 12345))
gcs_config "  gcs2: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$GCS_DIR/sa.json\",
         retry: {attempts: 2, base-ms: 10, max-ms: 100}}"

# rules NAME SKIP COUNT ACTION: one rule on the upload PUTs of object NAME
# (the proxy reads the file again at its next request, counters reset);
# fired: how often it fired since.
MARK=0
fired() {
  tail -n "+$((MARK + 1))" "$T/proxy/log" | grep -c "^PUT $P rule=0"
}
rules() {
  [ ! -e "$T/proxy/log" ] || MARK=$(wc -l < "$T/proxy/log")
  cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "PUT", "path": "$P\$",
             "query": "name=$1\\\\.bin&upload_id="},
   "skip": $2, "count": $3, $4}
]
JSON
}

# sessions NAME: "COUNT DONE CANCELLED BYTES_RECEIVED..." of NAME.bin's sessions.
sessions() {
  hook GET /_test/uploads
  python3 -c '
import json, sys
ups = [u for u in json.loads(sys.argv[1]).values()
       if u["name"] == sys.argv[3] + ".bin" and u["bucket"] == sys.argv[2]]
print(len(ups), sum(u["done"] for u in ups), sum(u["cancelled"] for u in ups),
      *sorted(u["bytes_received"] for u in ups))' "$HOOK" "$B" "$1"
}

rules none 0 0 '"status": 500'
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$GCS_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT
viaproxy() { http_proxy=$PROXY no_proxy= NO_PROXY= xt "$@"; }

xt mb "gcs:$B"
assert_rc 0
head -c "$SIZE" /dev/urandom > big.bin

# --- a known length: reset mid-body, sent again by the host's retry -------
rules reset 0 1 "\"reset_request_body_after\": $((6 * MiB))"
viaproxy -v put big.bin "gcs2:$B/reset.bin"
assert_rc 0
assert_err_has "the upload broke after"
assert_err_has "retrying in"
xt get "gcs:$B/reset.bin" reset.back
assert_rc 0
assert_same big.bin reset.back
read -r n done cancelled rest <<< "$(sessions reset)"
check
[ "$n $done $cancelled" = "2 1 1" ] ||
  fail "expected 2 sessions for reset.bin (1 cancelled, 1 done): $n $done $cancelled"
check
[ "$(fired)" = 1 ] ||
  fail "the reset rule did not fire once: $(cat "$T/proxy/log")"

# --- the same without a retry: one line, no object, no session left -------
rules broken 0 1 "\"reset_request_body_after\": $((6 * MiB))"
viaproxy put big.bin "gcs:$B/broken.bin"
check
[ "$RC" -ne 0 ] || fail "a put broken mid-body without a retry succeeded"
check
[ "$(printf '%s\n' "$ERR" | grep -c .)" = 1 ] || fail "expected one line: $ERR"
assert_err_has "broken.bin"
assert_err_has "the upload broke after"
check
[ "$(fired)" = 1 ] || fail "the reset rule did not fire once: $(cat "$T/proxy/log")"
xt stat "gcs:$B/broken.bin"
check
[ "$RC" -ne 0 ] || fail "an object was left by the broken put"
read -r n done cancelled rest <<< "$(sessions broken)"
check
[ "$n $done $cancelled" = "1 0 1" ] ||
  fail "expected 1 cancelled session for broken.bin: $n $done $cancelled"

# --- stored whole, the answer lost: complete on the status query ----------
rules lost 0 1 '"lose_response": true'
viaproxy -v put big.bin "gcs:$B/lost.bin"
assert_rc 0
assert_err_has "turned out complete"
check
[ "$(fired)" = 1 ] || fail "the lose rule did not fire once: $(cat "$T/proxy/log")"
xt get "gcs:$B/lost.bin" lost.back
assert_rc 0
assert_same big.bin lost.back
read -r n done cancelled received <<< "$(sessions lost)"
check
[ "$n $done $cancelled $received" = "1 1 0 $SIZE" ] ||
  fail "expected one session that received the object once: $n $done $cancelled $received"

# --- unknown length: a chunk resumed from the session's offset ------------
rules pipe 1 2 "\"reset_request_body_after\": $((6 * MiB))"
LAST_CMD="cat big.bin | xtstore -v append - gcs:$B/pipe.bin"
cat big.bin | http_proxy=$PROXY no_proxy= NO_PROXY= \
  "$XT_BIN" --config "$CONFIG" -v append - "gcs:$B/pipe.bin" \
  > "$T/.out" 2> "$T/.err"
_collect "${PIPESTATUS[1]}"
assert_rc 0
check
[ "$(fired)" = 2 ] ||
  fail "the reset rule did not fire twice: $(cat "$T/proxy/log")"
# The provider says where it resumed: past the start of the broken chunk
# (the server kept part of it), before its end.
at=$(sed -n "s/.*'$B\/pipe.bin': resumable upload resumes at byte \([0-9]*\) (the chunk in hand is $((8 * MiB))\.\.$((16 * MiB))).*/\1/p" "$T/.err")
check
[ -n "$at" ] && [ "$at" -gt $((8 * MiB)) ] && [ "$at" -lt $((16 * MiB)) ] ||
  fail "no resumption inside the second chunk in the log: $ERR"
echo "note: resumed at byte $at, re-sending $((16 * MiB - at)) bytes of the chunk"
xt get "gcs:$B/pipe.bin" pipe.back
assert_rc 0
assert_same big.bin pipe.back
read -r n done cancelled received <<< "$(sessions pipe)"
check
[ "$n" = 1 ] || fail "expected one resumable session for pipe.bin, saw $n"
# What the server received beyond the object: the two cut attempts (6 MiB
# each at most), less what it kept of them. Restarting from zero would
# add 8 MiB or more, restarting the chunk 12 MiB.
extra=$((received - SIZE))
check
[ "$extra" -gt 0 ] && [ "$extra" -lt $((12 * MiB)) ] ||
  fail "the server received $extra bytes beyond the object: not a resumption from its offset"
echo "note: the server received $extra bytes beyond the object"

finish
