#!/usr/bin/env bash
# Resume across runs on Azure (docs/engine.md, "Resume across runs"): a
# multipart upload killed with kill -9 is resumed by the same command in a
# new process, which sends only the blocks its journal lacks (Put Blocks
# counted in faultproxy.py's request log) and commits the upload the first
# run began; the blob reads back byte-identical. An upload whose blocks the
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
  rm -rf "$T"' EXIT
az_config "  azp: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", $MP}
  azm: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", $MP}"

# Parts recorded in the journals.
jparts() {
  cat "$J"/*.journal 2> /dev/null | grep -c '^P ' || true
}
# The upload id a journal records (the last field of its first line).
jid() {
  head -n 1 "$J"/*.journal 2> /dev/null | awk '{print $NF}'
}
# Put Block and Put Block List requests to blob $1 the service answered.
puts() {
  grep -c "^PUT $P/$1 pass 201" "$T/proxy/log" || true
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
    fail "no journal of 3 parts while '$2' went up (killed: $killed; journal: $(jparts) parts; $(cat "$T/.k.err"))"
}

xt mb "az:$C"
assert_rc 0
head -c $((120 << 20)) /dev/urandom > big.bin        # 24 parts

kill_mid big.bin "azp:$C/big.bin"
K=$(jparts)
ID=$(jid)
R1=$(puts big.bin)
check
[ $((R1 - K)) -le 2 ] || fail "run 1 stored $R1 blocks, journaled $K"

xt -v put big.bin "azp:$C/big.bin"
assert_rc 0
assert_err_has "resuming upload '$ID': $K of 24 parts on record"
assert_err_lacks "gone from the service"
# Run 2's Put Blocks and its one Put Block List. The proxy logs a request
# when it ends: blocks the killed run had in flight (concurrency 2) may be
# logged only now, so they count here too.
R2=$(($(puts big.bin) - R1 - 1))
check
[ "$R2" -ge $((24 - K)) ] && [ "$R2" -le $((24 - K + 2)) ] ||
  fail "run 2 sent $R2 blocks, not the $((24 - K)) missing (+ at most the 2 the killed run had in flight)"
check
[ -z "$(ls "$J")" ] || fail "a completed upload left its journal: $(ls "$J")"
xt get "az:$C/big.bin" got.bin
assert_rc 0
assert_same big.bin got.bin
rm -f got.bin
# The az CLI reads the same bytes.
if command -v az > /dev/null; then
  az storage blob download --connection-string "$AZ_CONN" -c "$C" \
    -n big.bin -f az.bin --no-progress > /dev/null 2>&1
  RC=$?
  LAST_CMD="az storage blob download $C/big.bin"
  assert_rc 0
  assert_same big.bin az.bin
  rm -f az.bin
fi

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
