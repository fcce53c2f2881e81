#!/usr/bin/env bash
# rb --force on OCI, which has no batch delete: every object version goes,
# several DELETEs at once (the server's max_in_flight counter), over
# listing pages of 50; a versioned bucket's old versions too; one
# DeleteObject per version, and the bucket is gone.
. "$(dirname "$0")/ocilib.sh" "$@"

C=$OCI_C
oci_config "  ver: {type: \"storage\", provider: \"oci\", endpoint: \"$OCI_E\", config-file: \"$OCI_DIR/config\", bucket-versioning: \"true\", retry: {attempts: 1}, }"

# counter BUCKET NAME: one of the server's counters for the bucket (0 if none).
counter() {
  curl -sf "$OCI_E/_test/counters?bucket=$1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$2"
}

mkdir -p "$T/tree"
for i in $(seq 1 200); do echo "object $i" > "$T/tree/f$i.txt"; done

# --- 200 objects, unversioned ---------------------------------------------
xt mb "oci:$C"
assert_rc 0
xt cp -r --transfers 8 "$T/tree" "oci:$C/t"
assert_rc 0
oci_hook PUT "/_test/config?bucket=$C" '{"page_size": 50}'
oci_hook DELETE "/_test/counters?bucket=$C"
xt rb -f "oci:$C"
assert_rc 0
D=$(counter "$C" DeleteObject)
M=$(counter "$C" max_in_flight)
check
[ "$D" -eq 200 ] || fail "rb -f sent $D DeleteObjects, not 200"
[ "$M" -ge 2 ] || fail "rb -f never had two requests in flight (max $M)"
[ "$M" -le 9 ] || fail "rb -f had $M requests in flight: more than 8 deletes and a listing"
xt ls "oci:$C"
assert_rc 4

# --- a versioned bucket: old versions and delete markers go too -----------
V=$C-2
xt mb "ver:$V"
assert_rc 0
xt cp -r --transfers 8 "$T/tree" "ver:$V/t"
assert_rc 0
for i in $(seq 1 30); do echo "again $i" > "$T/tree/f$i.txt"; done
for i in $(seq 1 30); do rm "$T/tree/f$((i + 100)).txt"; done
xt cp -r --transfers 8 "$T/tree" "ver:$V/t2"
assert_rc 0
for i in $(seq 1 30); do
  xt put "$T/tree/f$i.txt" "ver:$V/t/f$i.txt"
  assert_rc 0
done
for i in $(seq 31 50); do
  xt rm "ver:$V/t/f$i.txt"
  assert_rc 0
done
# t: 200 + 30 second versions, less the 20 removed (rm takes every
# version of an object, the delete marker too); t2: 170.
oci_hook PUT "/_test/config?bucket=$V" '{"page_size": 50}'
oci_hook DELETE "/_test/counters?bucket=$V"
xt rb -f "ver:$V"
assert_rc 0
D=$(counter "$V" DeleteObject)
check
[ "$D" -eq 380 ] || fail "rb -f of the versioned bucket sent $D DeleteObjects, not 380"
xt ls "ver:$V"
assert_rc 4
finish
