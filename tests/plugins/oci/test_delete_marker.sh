#!/usr/bin/env bash
# Deleting an object with its snapshots on a versioned bucket (rm
# --with-snapshots) when the version listing lacks the delete marker the
# DELETE left (oci_snapshot.c: oci_delete_versions). The listing, answered
# by faultproxy.py with the key's real versions but no marker, is all that
# tells the versions it may purge (the marker and older) from those
# another writer put since: without the marker it deletes none, fails in
# one line naming the object and the marker, and every version stays on
# the server behind the marker. The same command without the rule deletes
# them all, on another key (the first one's DELETE would find only its
# marker now: 404), so the assertions can fail. Versions are listed
# with signed requests straight to the server (oci_sign), never through
# the proxy.
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
K=m.txt
VER="  ver: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", namespace: \"xtns\", bucket-versioning: \"true\", retry: {attempts: 1}, }"
oci_config "$VER"
xt mb "ver:$C"
assert_rc 0

# versions KEY FILE: the server's ListObjectVersions of KEY (no character
# to escape in it), asked directly, into FILE (JSON, the provider's
# fields); KEY's items, one line each "VERSIONID true|false" (a delete
# marker or not), newest first, on stdout.
versions() {
  local url="$OCI_E/n/xtns/b/$C/objectversions?prefix=$1&fields=name,size,etag,md5,timeCreated,timeModified"
  oci_sign GET "$url"
  curl -sf "${SIGNED[@]}" -o "$2" "$url" || { echo "ListObjectVersions failed"; return; }
  python3 - "$2" "$1" <<'PY'
import json, sys
for it in json.load(open(sys.argv[1]))["items"]:
    if it["name"] == sys.argv[2]:
        print(it["versionId"], str(it["isDeleteMarker"]).lower())
PY
}

# three_versions KEY: v1, a snapshot of it (S1; its marked copy becomes
# current), then v2: three versions, no marker, in BEFORE (versions) and
# $T/before.json.
three_versions() {
  xt put --text v1 "ver:$C/$1"
  assert_rc 0
  xt snapshot "ver:$C/$1"
  assert_rc 0
  S1=$OUT
  xt put --text v2 "ver:$C/$1"
  assert_rc 0
  BEFORE=$(versions "$1" "$T/before.json")
  check
  [ "$(printf '%s\n' "$BEFORE" | grep -c ' false$')" = 3 ] &&
    [ "$(printf '%s\n' "$BEFORE" | grep -c ' true$')" = 0 ] ||
    fail "not three versions and no marker before the delete: $BEFORE"
}
three_versions "$K"

# The proxy answers the provider's version listing with those versions as
# the server listed them: everything but the marker the DELETE adds.
python3 - "$T/before.json" "$C" > "$T/rules.json" <<'PY'
import json, sys
listing = json.load(open(sys.argv[1]))
print(json.dumps([{
    "match": {"method": "GET", "path": "^/n/xtns/b/%s/objectversions$" % sys.argv[2]},
    "status": 200, "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"items": listing["items"], "prefixes": []})}]))
PY
proxy_start "$T/proxy" "$OCI_DIR"
trap '"$FAULTPROXY_SH" stop "$T/proxy"; oci_cleanup' EXIT
oci_config "$VER
  ocip: {type: \"storage\", provider: \"oci\", endpoint: \"$(cat "$T/proxy/endpoint")\", config-file: \"$OCI_DIR/config\", namespace: \"xtns\", retry: {attempts: 1}, }"

# STORE_E_INTERNAL: exit 1, one line.
xt rm --with-snapshots "ocip:$C/$K"
assert_rc 1
assert_error rm
AFTER=$(versions "$K" "$T/after.json")
MARKER=$(printf '%s\n' "$AFTER" | awk '$2 == "true" {print $1}')
check
[ "$(printf '%s\n' "$AFTER" | head -n 1)" = "$MARKER true" ] && [ -n "$MARKER" ] ||
  fail "the DELETE left no one delete marker on top: $AFTER"
assert_err_has "object '$C/$K': the delete marker '$MARKER' it left is not in the version listing: no version deleted (they stay, as snapshots: delete them by id)"
check
[ "$(grep -c "^GET /n/xtns/b/$C/objectversions rule=0 status 200" "$T/proxy/log")" = 1 ] ||
  fail "the canned listing was not served once: $(cat "$T/proxy/log")"
# Every version is still there, behind the marker; the snapshot reads.
check
[ "$(printf '%s\n' "$AFTER" | grep ' false$')" = "$BEFORE" ] ||
  fail "versions were deleted: before
$BEFORE
after
$AFTER"
xt cat --snapshot "$S1" "ver:$C/$K"
assert_rc 0
assert_out "v1"

# A DELETE answered "a delete marker" with no version id for it: nothing
# tells which versions are ours either, so none goes (the canned answer
# stands for the DELETE: the server keeps the three versions, no marker).
three_versions nm.txt
proxy_rules '[{"match": {"method": "DELETE", "path": "^/n/xtns/b/'"$C"'/o/nm.txt$"}, "status": 204, "headers": {"is-delete-marker": "true"}}]'
xt rm --with-snapshots "ocip:$C/nm.txt"
assert_rc 1
assert_error rm
assert_err_has "object '$C/nm.txt': the service named no version id for the delete marker it left: no version deleted"
check
[ "$(versions nm.txt "$T/nm.json")" = "$BEFORE" ] ||
  fail "versions changed: $(versions nm.txt "$T/nm.json")"
check
[ "$(grep -c "^DELETE /n/xtns/b/$C/o/nm.txt rule=0 status 204" "$T/proxy/log")" = 1 ] ||
  fail "the canned DELETE was not served once: $(cat "$T/proxy/log")"
check
[ "$(grep -c "^GET /n/xtns/b/$C/objectversions" "$T/proxy/log")" = 1 ] ||
  fail "the versions were listed after a DELETE that named no marker: $(cat "$T/proxy/log")"

# Without the rule the same command purges a key: no version, no marker.
proxy_rules '[]'
three_versions ok.txt
xt rm --with-snapshots "ocip:$C/ok.txt"
assert_rc 0
check
[ -z "$(versions ok.txt "$T/gone.json")" ] ||
  fail "versions left after the delete: $(versions ok.txt "$T/gone.json")"
check
[ "$(grep -c "^GET /n/xtns/b/$C/objectversions pass" "$T/proxy/log")" = 1 ] ||
  fail "the second listing was not passed through: $(cat "$T/proxy/log")"

finish
