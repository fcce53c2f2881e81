#!/usr/bin/env bash
# multipart_list's paging against uploads_server.py (pages of one, which
# moto never sends), through `xtstore cleanup`:
#  1. max-uploads is sent; every page followed; URL-encoded keys decoded
#     (a space, '+', '%', UTF-8);
#  2. each upload aged from its newest part (ListParts, every page): one
#     begun in 2010 whose part was written now is recent;
#  3. a truncated page whose next markers repeat, or a ListParts whose
#     NextPartNumberMarker does not move on: one error line, not a loop.
#   test_uploads.sh XTSTORE_BIN PLUGIN_DIR
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/s3lib.sh" "$1" "$2"

python3 "$HERE/uploads_server.py" "$T/port" "$T/requests.log" &
SRV=$!
cleanup_hook() { kill "$SRV" 2> /dev/null; wait "$SRV" 2> /dev/null; }
for i in $(seq 1 500); do [ -f "$T/port" ] && break; sleep 0.01; done
config_begin
write_service f "http://127.0.0.1:$(cat "$T/port")" AK SK ", region: \"us-east-1\""

xt --json cleanup f:pages --older-than 1d
expect_rc 0 "cleanup of three uploads on three pages"
KEYS=$(printf '%s' "$OUT" | python3 -c 'import json, sys
print(sorted((e["key"], e["upload_id"], e["action"]) for e in json.load(sys.stdin)))')
check "every page, keys decoded, aged from the newest part" \
  [ "$KEYS" = "[('a b+c.bin', 'id-1', 'stale'), ('dir/été.bin', 'id-2', 'recent'), ('z%z.bin', 'id-3', 'recent')]" ]
check "max-uploads sent" grep -q 'max-uploads=1000' "$T/requests.log"
check "three pages of uploads asked for" \
  [ "$(grep -c '?uploads' "$T/requests.log")" -eq 3 ]
check "ListParts followed to its second page" \
  grep -q 'part-number-marker=1' "$T/requests.log"

xt cleanup f:loop
check "repeated markers: an error" [ "$RC" -ne 0 ]
check "repeated markers: named" contains "$ERR" "repeat the last ones"
check "repeated markers: one line" [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ]

xt cleanup f:partloop
check "a ListParts marker that does not move on: an error" [ "$RC" -ne 0 ]
check "a ListParts marker that does not move on: named" \
  contains "$ERR" "NextPartNumberMarker does not move on"
finish
