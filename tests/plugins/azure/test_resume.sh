#!/usr/bin/env bash
# Resume across runs on Azure (docs/engine.md, "Resume across runs"): a
# 300 MiB multipart upload at the default multipart settings, killed with
# kill -9 half-way, is resumed by the same command in a new process, which
# sends only the blocks its journal lacks (Put Block bytes counted by
# faultproxy.py, one proxy per run: no more than the blocks not on record,
# and no byte twice beyond the blocks in flight at the kill) and commits
# the upload the first run began; the blob reads back byte-identical (by
# the az CLI where installed, else by xtstore). An upload whose blocks the
# service no longer has (here: its container was removed and made again)
# is started over. The ops across handles: test_azure_resume.c.
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
P=/devstoreaccount1/$C
MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'

echo '[]' > "$T/rules.json"
proxy_start "$T/proxy" "$AZ_DIR"
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "az:$AZ_C" \
  "az:$AZ_C-2" >/dev/null 2>&1; "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; \
  "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy2" > /dev/null 2>&1; rm -rf "$T"' EXIT
# azd_config ENDPOINT: azm direct, azd (default multipart settings) there.
azd_config() {
  az_config "  azm: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\",
        key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", $MP}
  azd: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\",
        key: \"\$env:AZ_KEY\", endpoint: \"$1\"}"
}
azd_config "$(cat "$T/proxy/endpoint")"

# block_bytes BLOB PROXY_DIR: body bytes of the Put Blocks of BLOB there.
block_bytes() {
  proxy_put_bytes "$2" "$P/$1" '(^|&)comp=block(&|$)'
}

# 300 MiB at the default multipart settings (38 blocks of 8 MiB, 4 in
# flight), killed with kill -9 once half its bytes went up; the re-run,
# through a proxy of its own (tests/host/cli/lib.sh, kill_halfway and
# resumed_counted), sends the blocks not on record, nothing more.
xt mb "az:$C"
assert_rc 0
TOTAL=$((300 << 20))
PS=$((8 << 20))
head -c "$TOTAL" /dev/urandom > big.bin
kill_halfway "$T/proxy" "block_bytes big.bin" put big.bin "azd:$C/big.bin"
proxy_start "$T/proxy2" "$AZ_DIR"
azd_config "$(cat "$T/proxy2/endpoint")"
resumed_counted "$T/proxy2" "block_bytes big.bin" put big.bin "azd:$C/big.bin"
assert_err_lacks "gone from the service"
# Read back by the az CLI where it is installed (else by xtstore).
if command -v az > /dev/null; then
  az storage blob download --connection-string "$AZ_CONN" -c "$C" \
    -n big.bin -f got.bin --no-progress > /dev/null 2>&1
  RC=$?
  LAST_CMD="az storage blob download $C/big.bin"
else
  xt get "az:$C/big.bin" got.bin
fi
assert_rc 0
assert_same big.bin got.bin
rm -f got.bin big.bin

# Blocks the service no longer has (Azure drops uncommitted blocks after a
# week; Azurite with the container): the commit is refused as
# InvalidBlockList, the upload is gone, and the run starts over.
head -c $((40 << 20)) /dev/urandom > mid.bin         # 8 parts
xt mb "az:$C-2"
assert_rc 0
kill_at_parts 3 -v put mid.bin "azm:$C-2/mid.bin"
ID=$(jid)
xt rb -f "az:$C-2"
assert_rc 0
xt mb "az:$C-2"
assert_rc 0
xt -v put mid.bin "azm:$C-2/mid.bin"
assert_rc 0
assert_err_has "resuming upload '$ID'"
assert_err_has "upload '$ID' is gone from the service: starting over"
xt get "az:$C-2/mid.bin" got.bin
assert_rc 0
assert_same mid.bin got.bin
rm -f got.bin
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
finish
