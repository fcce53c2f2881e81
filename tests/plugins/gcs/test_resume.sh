#!/usr/bin/env bash
# A connection reset 6 MiB into the second 8 MiB chunk of a resumable
# upload: the provider asks the session where it stands and sends the rest
# from the offset it reports, within the one put (retry attempts: 1), so
# what is re-sent is less than one chunk; the object reads back whole.
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
   "skip": 1, "count": 1, "reset_request_body_after": $((6 * MiB))}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$GCS_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap '"$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; gcs_cleanup' EXIT

xt mb "gcs:$B"
assert_rc 0
head -c "$SIZE" /dev/urandom > reset.bin
http_proxy=$PROXY no_proxy= NO_PROXY= xt put reset.bin "gcs:$B/reset.bin"
assert_rc 0
check
[ "$(grep -c "^PUT $P rule=0" "$T/proxy/log")" = 1 ] ||
  fail "the reset rule did not fire: $(cat "$T/proxy/log")"
check
[ "$(grep -c "^PUT $P pass 308" "$T/proxy/log")" -ge 2 ] ||
  fail "no status query and resumption through the proxy: $(cat "$T/proxy/log")"
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
resent=$((received - SIZE))
check
[ "$resent" -gt 0 ] && [ "$resent" -lt $((8 * MiB)) ] ||
  fail "re-sent $resent bytes after the reset: not between 1 byte and one 8 MiB chunk"
echo "note: resumed after the reset, re-sending $resent bytes"

finish
