#!/usr/bin/env bash
# GCS uploads stay inside the memory budget: 8 files of 20 MiB (above the
# provider's 16 MiB single-request size, below the host's 64 MiB multipart
# threshold: one resumable session each, the body streamed in one PUT)
# copied with `--memory 16M cp -r --transfers 8` peak near what the same
# copy to the local provider does. The provider once buffered an 8 MiB
# chunk per put outside the budget (88.8 MiB against local's 18.9 MiB);
# the bound, 48 MiB, fails that. The bytes read back whole, and each put
# was one resumable session of one PUT. (Peak resident set from /proc, as
# lib.sh's peak_rss; not checked under ASan.)
. "$(dirname "$0")/gcslib.sh" "$@"

B=$GCS_B
MiB=1048576
LIMIT_KIB=$((48 * 1024))

xt mb "gcs:$B"
assert_rc 0
mkdir -p tree
for i in 1 2 3 4 5 6 7 8; do
  head -c $((20 * MiB + i)) /dev/urandom > "tree/f$i.bin"
done

xt mb scratch:box
assert_rc 0
peak_rss --memory 16M cp -r --transfers 8 tree scratch:box/tree
assert_rc 0
assert_bounded
local_peak=$PEAK

peak_rss --memory 16M cp -r --transfers 8 tree "gcs:$B/tree"
assert_rc 0
assert_bounded
echo "note: local ${local_peak} KiB, gcs ${PEAK} KiB"
check
if [ "$ASAN" -eq 0 ] && [ "$PEAK" -gt $((local_peak + 16 * 1024)) ]; then
  fail "GCS peaked at $PEAK KiB, more than 16 MiB above local's $local_peak KiB"
fi

xt cp -r "gcs:$B/tree" back
assert_rc 0
for i in 1 2 3 4 5 6 7 8; do
  assert_same "tree/f$i.bin" "back/f$i.bin"
done

# One session per object, each sent whole in one PUT (no chunks).
hook GET /_test/uploads
summary=$(python3 -c '
import json, sys
ups = [u for u in json.loads(sys.argv[1]).values() if u["bucket"] == sys.argv[2]]
print(len(ups), sorted(set(u["puts"] for u in ups)))' "$HOOK" "$B")
check
[ "$summary" = "8 [1]" ] ||
  fail "expected 8 resumable sessions of one PUT each, saw: $summary"

finish
