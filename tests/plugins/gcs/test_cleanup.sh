#!/usr/bin/env bash
# test_cleanup.sh -- `xtstore cleanup` against the GCS test server: an
# upload no journal names (a pipe's, killed with kill -9) is listed from
# its temporaries under .xtstore-parts/ (each part names its key) as
# "foreign", kept while younger than --older-than, aborted with --yes once
# it counts as stale (its temporaries deleted), and gone from the list.
. "$(dirname "$0")/gcslib.sh" "$@"

gcs_config "  gcsm: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\", credentials-file: \"$GCS_DIR/sa.json\", multipart: {threshold: 5M, part-size: 5M, concurrency: 1}}
  gcsk: {type: \"storage\", provider: \"gcs\", endpoint: \"$GCS_E\", credentials-file: \"$GCS_DIR/sa.json\", multipart: {threshold: 1K, part-size: 1K}}"
xt mb "gcs:$GCS_B"
assert_rc 0

# The upload is listed once its first part is stored (GCS keeps nothing
# of an upload before): wait for it, then kill the uploader.
listed() {
  xt --json cleanup "gcs:$GCS_B" --older-than 0
  case $OUT in *upload_id*) return 0 ;; esac
  return 1
}
kill_pipe_when listed put - "gcsm:$GCS_B/dir/pipe.bin"

assert_foreign_kept "gcs:$GCS_B" dir/pipe.bin
xt cleanup "gcs:$GCS_B" --older-than 0 --yes
assert_rc 0
assert_out_has "aborted  gcs:$GCS_B/dir/pipe.bin  upload $ID"
xt cleanup "gcs:$GCS_B" --older-than 0
assert_rc 0
assert_err_has "no unfinished uploads of gcs:$GCS_B"
# Nothing is left: the bucket is empty (the temporaries deleted).
xt rb "gcs:$GCS_B"
assert_rc 0
# An upload of more than 32 parts is composed through intermediates: the
# final object carries none of the upload key metadata the parts and
# intermediates do (which cleanup lists them by), only what was put.
head -c $((40 << 10)) /dev/urandom > many.bin
xt mb "gcs:$GCS_B"
assert_rc 0
xt put many.bin "gcsk:$GCS_B/many.bin"
assert_rc 0
xt --json stat "gcs:$GCS_B/many.bin"
assert_rc 0
assert_json_eq '(j["size"], sorted((j.get("metadata") or {}).keys()))' '[40960, []]'
xt get "gcs:$GCS_B/many.bin" back.bin
assert_rc 0
cmp -s many.bin back.bin || fail "the 40-part object reads back other bytes"
xt rb -f "gcs:$GCS_B"
assert_rc 0
xt cleanup "gcs:$GCS_B-nosuch"
assert_rc 4
assert_error cleanup
finish
