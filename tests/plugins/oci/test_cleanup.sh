#!/usr/bin/env bash
# test_cleanup.sh -- `xtstore cleanup` against the OCI test server: an
# upload no journal names (a pipe's, killed with kill -9) is listed by
# ListMultipartUploads as "foreign", kept while younger than --older-than,
# aborted with --yes once it counts as stale, and gone from the list.
. "$(dirname "$0")/ocilib.sh" "$@"

oci_config "  ocim: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", multipart: {threshold: 5M, part-size: 5M, concurrency: 1}}"
xt mb "oci:$OCI_C"
assert_rc 0

# listed KEY: the service lists an upload of KEY.
listed() {
  xt --json cleanup "oci:$OCI_C" --older-than 0
  case $OUT in *"\"$1\""*) return 0 ;; esac
  return 1
}
# killed_pipe KEY: `xtstore put - ocim:BUCKET/KEY` from a pipe, killed
# with kill -9 once the service lists an upload of KEY.
killed_pipe() {
  local key=$1
  kill_pipe_when 'listed "$key"' put - "ocim:$OCI_C/$key"
}
killed_pipe dir/pipe.bin

assert_foreign_kept "oci:$OCI_C" dir/pipe.bin
# Two uploads, on pages of one (the server's page_size hook): both listed,
# both aborted.
killed_pipe other.bin
oci_hook PUT "/_test/config?bucket=$OCI_C" '{"page_size": 1}'
xt --json cleanup "oci:$OCI_C" --older-than 0
assert_rc 0
assert_json_eq 'sorted(e["key"] for e in j)' '["dir/pipe.bin", "other.bin"]'
xt cleanup "oci:$OCI_C" --older-than 0 --yes
assert_rc 0
assert_out_has "aborted  oci:$OCI_C/dir/pipe.bin  upload $ID"
assert_out_has "aborted  oci:$OCI_C/other.bin  upload "
xt cleanup "oci:$OCI_C" --older-than 0
assert_rc 0
assert_err_has "no unfinished uploads of oci:$OCI_C"
# OCI refuses to delete a bucket that holds an upload: this one is gone.
xt rb "oci:$OCI_C"
assert_rc 0
xt cleanup "oci:$OCI_C-nosuch"
assert_rc 4
assert_error cleanup
finish
