#!/usr/bin/env bash
# An upload in more than 1024 parts: GCS no longer caps the components of
# a composite object (it once did, at 1024), and the provider declares
# max_parts 10000; 1 KiB parts keep it fast. The object is whole, its
# componentCount is the number of parts, and no temporary is left.
. "$(dirname "$0")/gcslib.sh" "$@"

B=$GCS_B
gcs_config "  gkib: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\",
         credentials-file: \"$GCS_DIR/sa.json\", retry: {attempts: 1},
         multipart: {threshold: 4K, part-size: 1K, concurrency: 4}}"

xt mb "gcs:$B"
assert_rc 0
head -c $((1030 * 1024 + 7)) /dev/urandom > many.bin    # 1031 parts
xt put many.bin "gkib:$B/many.bin"
assert_rc 0
xt get "gcs:$B/many.bin" many.back
assert_rc 0
assert_same many.bin many.back
res=$(curl -sS "$GCS_E/storage/v1/b/$B/o/many.bin" \
  -H "Authorization: Bearer $(gcs_user_token)")
check
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("componentCount"))' "$res")" = 1031 ] ||
  fail "the object is not composed of 1031 parts: $res"
left=$(curl -sS "$GCS_E/storage/v1/b/$B/o?prefix=.xtstore-parts%2F&versions=true" \
  -H "Authorization: Bearer $(gcs_user_token)" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("items", [])))')
check
[ "$left" = 0 ] || fail "$left temporary part objects are left after the upload"

finish
