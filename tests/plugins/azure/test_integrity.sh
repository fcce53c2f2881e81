#!/usr/bin/env bash
# Uploads checked end to end (plugins/azure/azure_check.c), through
# faultproxy.py in front of Azurite inverting byte 100000 of a request body:
#   blocks streamed from a file (a put past 64 MiB) are compared with the
#     x-ms-content-crc64 the service answers: a damaged one fails the
#     attempt, a retry stores the right bytes, and when every attempt is
#     damaged the put fails naming the blob and CRC64 and nothing is there;
#   the multipart engine's parts (cp from local) the same way;
#   bodies in memory (a pipe, an append) carry Content-MD5: the service
#     refuses a damaged one and the provider sends it again (3 times at
#     most), so a pipe, which cannot be read twice, still goes up right.
# (tests/host/cli/test_integrity.sh covers single Put Blobs and downloads.)
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
P=/devstoreaccount1/$C
xt mb "az:$C"
assert_rc 0
xt mb "scratch:$C"
assert_rc 0

F='"flip_request_body_byte": 100000'
cat > "$T/rules.json" <<JSON
[
  {"match": {"method": "PUT", "path": "^$P/blk-once\\\\.bin\$", "query": "comp=block&"}, "count": 1, $F},
  {"match": {"method": "PUT", "path": "^$P/blk-all\\\\.bin\$", "query": "comp=block&"}, $F},
  {"match": {"method": "PUT", "path": "^$P/mp-once\\\\.bin\$", "query": "comp=block&"}, "count": 1, $F},
  {"match": {"method": "PUT", "path": "^$P/pipe-once\\\\.bin\$", "query": "comp=block&"}, "count": 1, $F},
  {"match": {"method": "PUT", "path": "^$P/pipe-all\\\\.bin\$"}, $F},
  {"match": {"method": "PUT", "path": "^$P/app-once\\\\.bin\$", "query": "comp=appendblock"}, "count": 1, $F}
]
JSON
PROXY=$("$XTSTORE_FAULTPROXY_SH" start "$T/proxy" "$AZ_DIR" "$T/rules.json") || {
  echo "FAIL: the fault proxy did not start"; exit 1; }
trap 'XTSTORE_PLUGIN_PATH= "$XT_BIN" --config "$CONFIG" -q rb -f "az:$AZ_C" \
  >/dev/null 2>&1; "$XTSTORE_FAULTPROXY_SH" stop "$T/proxy"; rm -rf "$T"' EXIT
az_config "  azp: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$PROXY\", retry: {attempts: 3, base-ms: 10, max-ms: 50}, }"

# flips KEY: how many request bodies of KEY the proxy changed.
flips() {
  grep -c "^PUT $P/$1 rule=[0-9]* flip_request_body_byte" "$T/proxy/log" || true
}

# same_as KEY FILE: the blob reads back (directly from Azurite) as FILE.
same_as() {
  xt get "az:$C/$1" "$T/back.bin"
  assert_rc 0
  assert_same "$2" "$T/back.bin"
  rm -f "$T/back.bin"
}

head -c $((66 * 1048576)) /dev/urandom > "$T/big.bin"
head -c 20000000 /dev/urandom > "$T/mid.bin"
head -c 3145728 /dev/urandom > "$T/small.bin"

# A 66 MiB put: two streamed blocks, the first damaged once.
xt put "$T/big.bin" "azp:$C/blk-once.bin"
assert_rc 0
check
[ "$(flips blk-once.bin)" = 1 ] || fail "blk-once: no block was changed"
same_as blk-once.bin "$T/big.bin"

# Every block damaged: fails naming the blob and the CRC64s; not committed.
xt put "$T/big.bin" "azp:$C/blk-all.bin"
assert_rc 1
assert_err_has "blob '$C/blk-all.bin'"
assert_err_has "x-ms-content-crc64"
check
[ "$(flips blk-all.bin)" -ge 2 ] || fail "blk-all: not retried"

# The multipart engine's parts (cp from local, 8 MiB parts): one damaged,
# sent again, the blob right.
xt put "$T/big.bin" "scratch:$C/big.bin"
assert_rc 0
xt cp "scratch:$C/big.bin" "azp:$C/mp-once.bin"
assert_rc 0
check
[ "$(flips mp-once.bin)" = 1 ] || fail "mp-once: no part was changed"
same_as mp-once.bin "$T/big.bin"

# A pipe of 20 MB: 8 MiB blocks from memory; the damaged one is refused by
# the service and sent again by the provider.
xt_pipe "cat '$T/mid.bin'" put - "azp:$C/pipe-once.bin"
assert_rc 0
check
[ "$(flips pipe-once.bin)" = 1 ] || fail "pipe-once: no block was changed"
same_as pipe-once.bin "$T/mid.bin"

# A pipe of 3 MiB (below the multipart threshold: one Put Blob from the
# engine's buffer, which the host can send again), every send damaged:
# caught three times, nothing stored.
xt_pipe "cat '$T/small.bin'" put - "azp:$C/pipe-all.bin"
assert_rc 1
assert_err_has "blob '$C/pipe-all.bin'"
assert_err_has "other bytes arrived than were sent"
check
[ "$(flips pipe-all.bin)" = 3 ] || fail "pipe-all: $(flips pipe-all.bin) sends, not 3"

# An append whose Append Block is damaged once: sent again, appended once.
xt append "$T/small.bin" "azp:$C/app-once.bin"
assert_rc 0
check
[ "$(flips app-once.bin)" = 1 ] || fail "app-once: no block was changed"
same_as app-once.bin "$T/small.bin"

xt ls -r "az:$C"
assert_rc 0
assert_out "app-once.bin
blk-once.bin
mp-once.bin
pipe-once.bin"

finish
