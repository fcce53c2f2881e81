#!/usr/bin/env bash
# test_copy_verify.sh -- a copy within one service is the provider's
# server-side copy, whose bytes never pass the host: the host checks the
# target's head against the source's (size, then CRC-32C where both report
# one) before it reports the copy, and a wrong copy is removed and fails
# naming both objects and both values. The provider is the shim
# (shim_plugin.c, -DSHIM_COPY) over the local provider, told to copy
# another key than asked (`copy-from`); `cp`, `cp -r` and `migrate` (whose
# run log records the CRC-32C a good copy was checked with) are checked.
#   test_copy_verify.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

LOCAL_SO="$BIN_DIR/plugins/store-local.so"
run ${CC:-cc} -DSHIM_COPY -shared -fPIC -I "$SRC_DIR/plugin-api" \
  -o "$T/store-shimcopy.so" "$SRC_DIR/tests/host/cli/shim_plugin.c" -ldl
assert_rc 0
# All three share one directory: "good" copies right; "samesize" copies
# box/decoy (as long as box/src/a, other bytes); "longer" copies box/long.
cat > "$CONFIG" <<EOF
providers:
  storage:
    shimcopy: "$T/store-shimcopy.so"
external-services:
  good: {type: "storage", provider: "shimcopy", inner: "$LOCAL_SO", path: "$T/data", calls: "$T/calls"}
  samesize: {type: "storage", provider: "shimcopy", inner: "$LOCAL_SO", path: "$T/data", copy-from: "decoy"}
  longer: {type: "storage", provider: "shimcopy", inner: "$LOCAL_SO", path: "$T/data", copy-from: "long"}
xt-services:
  storage: "good"
EOF
xt mb good:box
assert_rc 0
printf '123456789' > a
printf '987654321' > decoy
printf '1234567890' > long
xt put a good:box/src/a
assert_rc 0
xt put decoy good:box/decoy
assert_rc 0
xt put long good:box/long
assert_rc 0
xt --json stat good:box/decoy
assert_rc 0
DECOY_CRC=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["crc32c"])' "$T/.out")

# A right copy is reported, as before: one server-side copy.
xt cp good:box/src/a good:box/a2
assert_rc 0
assert_out "copy: good:box/src/a -> good:box/a2 (9 bytes)"
check
grep -q '^blob_copy box src/a$' "$T/calls" ||
  fail "no server-side copy: $(cat "$T/calls")"
xt cat good:box/a2
assert_out "123456789"

# The same size, other bytes: the CRC-32Cs differ (e3069283 is
# "123456789"'s), the copy is removed, nothing is reported copied.
xt cp good:box/a2 good:box/keep
assert_rc 0
xt cp samesize:box/src/a samesize:box/keep
check
[ "$RC" -ne 0 ] || fail "a wrong server-side copy was reported copied"
assert_err_has "service 'samesize': blob 'box/keep': the server-side copy of \
blob 'box/src/a' is wrong: it has CRC-32C $DECOY_CRC, the source e3069283; \
the object was removed"
assert_out_lacks "copy: samesize"
xt stat good:box/keep
check
[ "$RC" -eq 4 ] || fail "the wrong copy stayed at the target (exit $RC)"

# Another size: said with both sizes.
xt cp longer:box/src/a longer:box/b
check
[ "$RC" -ne 0 ] || fail "a server-side copy of another size was reported copied"
assert_err_has "service 'longer': blob 'box/b': the server-side copy of blob \
'box/src/a' is wrong: it has 10 bytes, the source 9; the object was removed"
xt stat good:box/b
check
[ "$RC" -eq 4 ] || fail "the wrong copy stayed at the target (exit $RC)"

# Trees: cp -r and migrate fail the object, keep nothing of it; migrate's
# run log records the CRC-32C a right copy was checked with.
xt cp -r samesize:box/src samesize:box/tree
check
[ "$RC" -ne 0 ] || fail "cp -r with a wrong server-side copy succeeded"
assert_err_has "is wrong: it has CRC-32C"
xt ls -r good:box/tree/
assert_out ""
xt migrate samesize:box/src samesize:box/m --log bad.jsonl
check
[ "$RC" -ne 0 ] || fail "migrate with a wrong server-side copy succeeded"
xt migrate good:box/src good:box/m --log good.jsonl
assert_rc 0
check
python3 - bad.jsonl good.jsonl <<'EOF' || fail "the run logs are wrong"
import json, sys
bad = [json.loads(l) for l in open(sys.argv[1])]
good = [json.loads(l) for l in open(sys.argv[2])]
assert [r["status"] for r in bad] == ["failed"], bad
assert "the server-side copy of blob 'box/src/a' is wrong" in \
    bad[0]["error"], bad
assert bad[0]["target_crc32c"] is None, bad
assert [(r["status"], r["target_crc32c"]) for r in good] == \
    [("new", "e3069283")], good
EOF
finish
