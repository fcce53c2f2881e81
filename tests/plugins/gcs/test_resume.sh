#!/usr/bin/env bash
# A connection reset 6 MiB into the second 8 MiB chunk of a resumable
# upload: the provider asks the session where it stands and sends the rest
# from the offset it reports, within the one put (retry attempts: 1), so
# what it re-sends is less than one chunk; the object reads back whole.
# The reset hits twice: libcurl sends a request again by itself, once,
# when a reused connection breaks under it, so the first reset never
# reaches the provider.
#
# GCS answers a resumable session's URI on its canonical host (as the test
# server does: its own endpoint), so the chunks do not go to a configured
# endpoint: faultproxy.py is put in their way as libcurl's HTTP proxy
# (http_proxy), which sees every request of the process.
. "$(dirname "$0")/gcslib.sh" "$@"

B=$GCS_B
P="/upload/storage/v1/b/$B/o"
MiB=1048576
SIZE=$((24 * MiB + 12345))

cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "PUT", "path": "$P\$",
             "query": "name=reset\\\\.bin&upload_id="},
   "skip": 1, "count": 2, "reset_request_body_after": $((6 * MiB))}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$GCS_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT

xt mb "gcs:$B"
assert_rc 0
head -c "$SIZE" /dev/urandom > reset.bin
http_proxy=$PROXY no_proxy= NO_PROXY= xt -v put reset.bin "gcs:$B/reset.bin"
assert_rc 0
check
[ "$(grep -c "^PUT $P rule=0" "$T/proxy/log")" = 2 ] ||
  fail "the reset rule did not fire twice: $(cat "$T/proxy/log")"
# The provider says where it resumed: past the start of the broken chunk
# (the server kept part of it), before its end.
at=$(sed -n "s/.*'$B\/reset.bin': resumable upload resumes at byte \([0-9]*\) (the chunk in hand is $((8 * MiB))\.\.$((16 * MiB))).*/\1/p" "$T/.err")
check
[ -n "$at" ] && [ "$at" -gt $((8 * MiB)) ] && [ "$at" -lt $((16 * MiB)) ] ||
  fail "no resumption inside the second chunk in the log: $ERR"
echo "note: resumed at byte $at, re-sending $((16 * MiB - at)) bytes of the chunk"
xt get "gcs:$B/reset.bin" reset.back
assert_rc 0
assert_same reset.bin reset.back

hook GET /_test/uploads
read -r nsess received <<< "$(python3 -c '
import json, sys
ups = [u for u in json.loads(sys.argv[1]).values()
       if u["name"] == "reset.bin" and u["bucket"] == sys.argv[2]]
print(len(ups), ups[0]["bytes_received"] if ups else -1)' "$HOOK" "$B")"
check
[ "$nsess" = 1 ] || fail "expected one resumable session for reset.bin, saw $nsess"
# What the server received beyond the object: the two cut attempts (6 MiB
# each at most), less what it kept of them. Restarting from zero would
# add 8 MiB or more, restarting the chunk 12 MiB.
extra=$((received - SIZE))
check
[ "$extra" -gt 0 ] && [ "$extra" -lt $((12 * MiB)) ] ||
  fail "the server received $extra bytes beyond the object: not a resumption from its offset"
echo "note: the server received $extra bytes beyond the object"

finish
