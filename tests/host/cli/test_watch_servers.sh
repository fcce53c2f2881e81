#!/usr/bin/env bash
# sync --watch against the fixture servers (docs/replication.md): a local
# service -> s3rver and Azurite -> a local service. Objects written to the
# source while the watcher runs are copied by the poll after the one under
# way (the watcher's own line before that poll's) with the right bytes, read
# back by an independent client (/usr/bin/aws; the local files); a
# restarted watcher copies nothing it copied. The local pair, signals,
# --max-delete and the state file in detail: test_watch.sh.
#   test_watch_servers.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/watchlib.sh"

need_servers XTSTORE_S3RVER_DIR XTSTORE_AZURITE_DIR
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
  AWS_CA_BUNDLE AZURE_STORAGE_CONNECTION_STRING
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
export AZ_KEY
S3R_E=$(cat "$XTSTORE_S3RVER_DIR/endpoint")
AZ_E=$(cat "$XTSTORE_AZURITE_DIR/endpoint")
B="xtwatch-$$"
QUICK='retry: {attempts: 2, base-ms: 10, max-ms: 50}'
# s3rver keeps an aws-chunked body as sent: unsigned payloads for it.
cat > "$CONFIG" <<EOF
providers:
  storage:
    s3: "store-s3"
    azure: "store-azure"
external-services:
  s3r: {type: "storage", provider: "s3", endpoint: "$S3R_E", access-key: "S3RVER", secret-key: "S3RVER", addressing: "path", payload-signing: "unsigned", $QUICK}
  az: {type: "storage", provider: "azure", account: "devstoreaccount1", key: "\$env:AZ_KEY", endpoint: "$AZ_E", $QUICK}
  scratch: {type: "storage", provider: "local", path: "$T/data"}
xt-services:
  storage: "scratch"
EOF
trap 'watch_kill; for s in s3r az; do "$XT_BIN" --config "$CONFIG" -q rb -f "$s:$B" > /dev/null 2>&1; done; rm -rf "$T"' EXIT
xt mb scratch:box
assert_rc 0
xt mb "s3r:$B"
assert_rc 0
xt mb "az:$B"
assert_rc 0

# s3_same FILE KEY: /usr/bin/aws reads KEY of the s3rver bucket as FILE.
s3_same() {
  check
  rm -f "$T/back"
  AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER /usr/bin/aws \
    --endpoint-url "$S3R_E" s3api get-object --bucket "$B" --key "$2" \
    "$T/back" > "$T/.aws" 2>&1 || {
    fail "aws cannot read s3r:$B/$2: $(cat "$T/.aws")"
    return
  }
  cmp -s "$1" "$T/back" || fail "s3r:$B/$2 differs from $1"
}

# Flat names: s3rver lists in its directory walk's order, which for names
# in one directory level is not promised to be byte order (the workflows
# refuse an unordered listing rather than copy wrongly; see
# tests/plugins/s3/test_workflows.sh).
for i in 1 2; do
  head -c $((i * 4000)) /dev/urandom > "$T/a$i"
  xt put "$T/a$i" "scratch:box/up/a$i"
done
head -c 50000 /dev/urandom > "$T/az1"
xt put "$T/az1" "az:$B/down/az1"

# --- local -> s3rver ---------------------------------------------------------
watch_start up --interval 1s scratch:box/up/ "s3r:$B/up/"
check
wait_for "$T/up.out" '^poll 1: ' 15 || fail "no first poll: $(cat "$T/up.err")"
head -c 9000 /dev/urandom > "$T/a3"
K=$(($(polls_done "$T/up.out" "$T/up.err") + 2))
xt put "$T/a3" scratch:box/up/a3
by_poll "$T/up.out" "$K" "new: scratch:box/up/a3 -> s3r:$B/up/a3 (9000 bytes)"
head -c 9100 /dev/urandom > "$T/a1b"
K=$(($(polls_done "$T/up.out" "$T/up.err") + 2))
xt put "$T/a1b" scratch:box/up/a1
by_poll "$T/up.out" "$K" "update: scratch:box/up/a1 -> s3r:$B/up/a1 (9100 bytes)"
watch_end up TERM
assert_rc 0
assert_err_empty
s3_same "$T/a1b" up/a1
s3_same "$T/a2" up/a2
s3_same "$T/a3" up/a3
check
[ "$(grep -c '^new: \|^update: ' <<< "$OUT")" -eq 4 ] ||
  fail "objects copied more than once per change"
# A restart copies nothing again.
run "$XT_BIN" --config "$CONFIG" sync --watch --max-polls 1 scratch:box/up/ \
  "s3r:$B/up/"
assert_rc 0
assert_out_lacks "new: "
assert_out_lacks "update: "
assert_out_has ": 3 objects: 3 equal, 0 failed; 0 B copied"

# --- Azurite -> local --------------------------------------------------------
watch_start down --interval 1s "az:$B/down/" scratch:box/down/
check
wait_for "$T/down.out" '^poll 1: ' 15 ||
  fail "no first poll: $(cat "$T/down.err")"
assert_same "$T/az1" "$T/data/box/down/az1"
head -c 70000 /dev/urandom > "$T/az2"
K=$(($(polls_done "$T/down.out" "$T/down.err") + 2))
xt put "$T/az2" "az:$B/down/sub/az2"
by_poll "$T/down.out" "$K" "new: az:$B/down/sub/az2 -> scratch:box/down/sub/az2 (70000 bytes)"
assert_same "$T/az2" "$T/data/box/down/sub/az2"
watch_end down INT
assert_rc 0
assert_err_empty
run "$XT_BIN" --config "$CONFIG" sync --watch --max-polls 1 "az:$B/down/" \
  scratch:box/down/
assert_rc 0
assert_out_lacks "new: "
assert_out_has ": 2 objects: 2 equal, 0 failed; 0 B copied"

finish
