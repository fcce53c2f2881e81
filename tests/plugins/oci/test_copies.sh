#!/usr/bin/env bash
# Copies of an object onto itself (xt meta --set, xt snapshot: OCI has no
# other way to change metadata or freeze a version) against a write that
# lands while the copy's work request is held back (the server's
# work_request_delay hook): the copy goes with the ETag the provider read
# (destinationObjectIfMatchETag), so the newer write is never undone.
# meta --set then fails with a precondition error naming the object; the
# snapshot returns the version it meant to freeze, which the write made
# old already. What OCI's CopyObject cannot do is refused in one line:
# another content type (the copy keeps the source's), no metadata at all
# (an empty destinationObjectMetadata keeps the source's).
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
oci_config "  ver: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", namespace: \"xtns\", bucket-versioning: \"true\", retry: {attempts: 1}, }"
xt mb "ver:$C"
assert_rc 0

# bg_xt NAME ARGS...: xtstore in the background, output into $T/NAME.*
bg_xt() {
  local name=$1
  shift
  "$XT_BIN" --config "$CONFIG" "$@" > "$T/$name.out" 2> "$T/$name.err" &
}

# Wait until the server holds a copy of key $1 (a CopyObject logged).
copy_sent() {
  for ((w = 0; w < 50; w++)); do
    grep -q "POST /n/xtns/b/$C/actions/copyObject" "$OCI_DIR/log" &&
      [ "$(grep -c "POST /n/xtns/b/$C/actions/copyObject" "$OCI_DIR/log")" -gt "$1" ] &&
      return 0
    sleep 0.1
  done
  return 1
}
copies() { grep -c "POST /n/xtns/b/$C/actions/copyObject" "$OCI_DIR/log" || true; }

# --- meta --set while a put lands: the put stays --------------------------
xt put --meta owner=ops --text old "ver:$C/m.txt"
assert_rc 0
oci_hook PUT "/_test/config?bucket=$C" '{"work_request_delay": 2}'
n=$(copies)
bg_xt meta meta --set owner=dev "ver:$C/m.txt"
pid=$!
copy_sent "$n" || fail "meta --set sent no CopyObject"
xt put --meta owner=late --text new "ver:$C/m.txt"
assert_rc 0
wait "$pid"
rc=$?
check
[ "$rc" = 5 ] || fail "meta --set during a put: exit $rc, want 5: $(cat "$T/meta.err")"
grep -q "object '$C/m.txt'" "$T/meta.err" && grep -q "written while" "$T/meta.err" ||
  fail "meta --set's error does not name the object and cause: $(cat "$T/meta.err")"
xt cat "ver:$C/m.txt"
assert_out "new"
xt --json stat "ver:$C/m.txt"
assert_json_eq 'j["metadata"]' '{"owner": "late"}'

# --- a snapshot while a put lands: the put stays, the snapshot is the old --
xt put --text v1 "ver:$C/s.txt"
assert_rc 0
n=$(copies)
bg_xt snap snapshot "ver:$C/s.txt"
pid=$!
copy_sent "$n" || fail "snapshot sent no CopyObject"
xt put --text v2 "ver:$C/s.txt"
assert_rc 0
wait "$pid"
rc=$?
check
[ "$rc" = 0 ] || fail "snapshot during a put: exit $rc: $(cat "$T/snap.err")"
S1=$(cat "$T/snap.out")
xt cat "ver:$C/s.txt"
assert_out "v2"
xt cat --snapshot "$S1" "ver:$C/s.txt"
assert_rc 0
assert_out "v1"
oci_hook PUT "/_test/config?bucket=$C" '{"work_request_delay": 0}'

# --- without a race: both do their job -----------------------------------
xt meta --set owner=dev "ver:$C/m.txt"
assert_rc 0
xt --json stat "ver:$C/m.txt"
assert_json_eq 'j["metadata"]' '{"owner": "dev"}'
xt snapshot "ver:$C/s.txt"
assert_rc 0
S2=$OUT
xt put --text v3 "ver:$C/s.txt"
xt cat --snapshot "$S2" "ver:$C/s.txt"
assert_out "v2"

# --- what CopyObject cannot do: one clear line ---------------------------
xt put --content-type text/x-a --text a "ver:$C/t.txt"
xt cp --content-type text/x-b "ver:$C/t.txt" "ver:$C/t2.txt"
assert_rc 7
assert_err_has "keeps the source's content type ('text/x-a')"
xt cp --content-type text/x-a --meta k=v "ver:$C/t.txt" "ver:$C/t3.txt"
assert_rc 0
xt --json stat "ver:$C/t3.txt"
assert_json_eq 'j["content_type"]' '"text/x-a"'
assert_json_eq 'j["metadata"]' '{"k": "v"}'
xt meta --set k=v "ver:$C/missing.txt"
assert_rc 4
assert_err_has "object '$C/missing.txt'"
xt meta --clear "ver:$C/t3.txt"
assert_rc 7
assert_err_has "cannot drop all metadata"

xt rb -f "ver:$C"
assert_rc 0
finish
