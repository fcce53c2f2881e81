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
J="$HOME/.local/state/xtstore/uploads"
MP='multipart: {threshold: 5M, part-size: 5M, concurrency: 2}'

echo '[]' > "$T/rules.json"
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$AZ_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
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
azd_config "$PROXY"

# Parts recorded in the journals.
jparts() {
  cat "$J"/*.journal 2> /dev/null | grep -c '^P ' || true
}
# The upload id a journal records (the last field of its first line).
jid() {
  head -n 1 "$J"/*.journal 2> /dev/null | awk '{print $NF}'
}
# Body bytes of the Put Blocks of blob $1 proxy $2 received (a killed
# run's in-flight blocks too: logged as they are cut, or answered).
block_bytes() {
  awk -v p="$P/$1" '$1 == "PUT" && $2 == p && $4 ~ /(^|&)comp=block(&|$)/ {n += $3}
    END {print n + 0}' "$2/bytes"
}
# Bytes of the parts the journal records.
jbytes() {
  cat "$J"/*.journal 2> /dev/null | awk '$1 == "P" {n += $3} END {print n + 0}'
}

# kill_mid FILE TARGET: `xtstore -v put FILE TARGET` killed with kill -9
# once its journal records 3 parts.
kill_mid() {
  local pid i killed=0
  "$XT_BIN" --config "$CONFIG" -v put "$1" "$2" > "$T/.k.out" 2> "$T/.k.err" &
  pid=$!
  for i in $(seq 1 3000); do
    [ "$(jparts)" -ge 3 ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.01
  done
  kill -9 "$pid" 2> /dev/null && killed=1
  wait "$pid" 2> /dev/null
  check
  [ "$killed" -eq 1 ] && [ "$(jparts)" -ge 3 ] ||
    fail "no journal of 3 parts while '$2' went up (killed: $killed;\
 journal: $(jparts) parts; $(cat "$T/.k.err"))"
}

xt mb "az:$C"
assert_rc 0
TOTAL=$((300 << 20))
PS=$((8 << 20))
head -c "$TOTAL" /dev/urandom > big.bin
"$XT_BIN" --config "$CONFIG" -v put big.bin "azd:$C/big.bin" > "$T/.k.out" 2> "$T/.k.err" &
PID=$!
for i in $(seq 1 6000); do
  [ "$(block_bytes big.bin "$T/proxy")" -ge $((TOTAL / 2)) ] && break
  kill -0 "$PID" 2> /dev/null || break
  sleep 0.02
done
KILLED=0
kill -9 "$PID" 2> /dev/null && KILLED=1
wait "$PID" 2> /dev/null
check
proxy_settled "$T/proxy"
K=$(jparts)
ID=$(jid)
REC=$(jbytes)
B1=$(block_bytes big.bin "$T/proxy")
# The re-run through a proxy of its own: no line of the killed run's in
# its count, however late.
PROXY2=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy2" "$AZ_DIR" "$T/rules.json") || {
  echo "FAIL: the second fault proxy did not start"; exit 1; }
azd_config "$PROXY2"
check
grep -q "multipart upload, 38 parts of $PS bytes, 4 at a time" "$T/.k.err" ||
  fail "not the default multipart settings: $(grep multipart "$T/.k.err")"
check
[ "$KILLED" -eq 1 ] && [ "$K" -ge 1 ] && [ "$B1" -lt "$TOTAL" ] ||
  fail "not killed half-way (killed: $KILLED; journal: $K parts; $B1 bytes sent;\
 $(cat "$T/.k.err"))"

xt -v put big.bin "azd:$C/big.bin"
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 38 parts on record"
assert_err_lacks "gone from the service"
proxy_settled "$T/proxy2"
B2=$(block_bytes big.bin "$T/proxy2")
echo "azurite: killed after $B1 of $TOTAL bytes ($K blocks, $REC bytes on record);\
 the re-run sent $B2; sent twice: $((B1 + B2 - TOTAL))"
check
[ "$B2" -le $((TOTAL - REC)) ] ||
  fail "run 2 sent $B2 bytes; the blocks not on record are $((TOTAL - REC))"
check
[ $((B1 + B2 - TOTAL)) -le $((4 * PS)) ] ||
  fail "$((B1 + B2 - TOTAL)) bytes sent twice: more than the 4 blocks of $PS in flight"
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
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
kill_mid mid.bin "azm:$C-2/mid.bin"
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
