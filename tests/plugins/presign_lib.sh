# Sourced by tests/plugins/{azure,gcs,oci}/test_presign.sh after
# tests/host/cli/lib.sh (fail, check): requests through a presigned URL
# with plain curl.

# code URL [curl args...]: the HTTP status of one request (000: no answer);
# the body in $T/.curl.
code() {
  local url=$1
  shift
  curl -s -o "$T/.curl" -w '%{http_code}' "$@" "$url"
}

# want_http STATUS WHAT URL [curl args...]: a check that the request gets
# STATUS; failing, WHAT and the status it got (000 is no answer at all: a
# server down is never taken for a refusal).
want_http() {
  local status=$1 what=$2 got
  shift 2
  check
  got=$(code "$@")
  [ "$got" = "$status" ] && return 0
  [ "$got" = 000 ] && got="000 (no answer: is the server up?)"
  fail "$what: HTTP $got, wanted $status"
}

# presign_setup SVC:CONTAINER KEY SIZE: a new container with SIZE random
# bytes at KEY (also in $T/body.bin), and $T/up.txt to upload.
presign_setup() {
  head -c "$3" /dev/urandom > "$T/body.bin"
  printf 'put through a presigned URL\n' > "$T/up.txt"
  xt mb "$1"
  assert_rc 0
  xt put "$T/body.bin" "$1/$2"
  assert_rc 0
}
