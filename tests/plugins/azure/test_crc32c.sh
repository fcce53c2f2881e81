#!/usr/bin/env bash
# The CRC-32C xtstore records with a block blob (metadata xtstore_crc32c,
# plugins/azure/README.md "Integrity"): set by a multipart upload's commit
# and by Put Blobs, shown by stat and listings (never as metadata), a get
# checked by it (a wrong record fails the get naming both values, leaving
# no file); gone when another tool rewrites the blob or on append blobs;
# kept by `meta --set`; the name refused as user metadata. Writes blobs
# with `az` (skipped, exit 77, without it).
. "$(dirname "$0")/azlib.sh" "$@"

need_az_cli
C=$AZ_C
az_config "  azm: {type: \"storage\", provider: \"azure\", account: \"devstoreaccount1\", key: \"\$env:AZ_KEY\", endpoint: \"$AZ_E\", retry: {attempts: 1}, multipart: {threshold: 5M, part-size: 5M, concurrency: 2}}"

az_blob() {
  run az storage blob "$@" --connection-string "$AZ_CONN" --only-show-errors
}
# crc FILE: its CRC-32C (Castagnoli) as 8 hex digits, computed here.
crc() {
  python3 - "$1" <<'PY'
import sys
t = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    t.append(c)
c = 0xFFFFFFFF
with open(sys.argv[1], "rb") as f:
    for b in f.read():
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
print("%08x" % (c ^ 0xFFFFFFFF))
PY
}
# stat_is BLOB JSON: stat --json's [crc32c (null: none), metadata] is JSON.
stat_is() {
  xt stat --json "$1"
  assert_rc 0
  assert_json_eq '[j["crc32c"], j["metadata"]]' "$2"
}

xt mb "azm:$C"
assert_rc 0

# --- a multipart upload records the whole blob's CRC-32C ---------------------
head -c $((11 * 1048576 + 7)) /dev/urandom > "$T/big.bin"
BIG=$(crc "$T/big.bin")
xt put "$T/big.bin" "azm:$C/big.bin" --meta owner=ana
assert_rc 0
stat_is "azm:$C/big.bin" "[\"$BIG\", {\"owner\": \"ana\"}]"
# The record is there for other tools too, under its documented name.
az_blob metadata show --container-name "$C" --name big.bin -o json
assert_rc 0
assert_json_eq 'sorted((k.lower(), v) for k, v in j.items())' \
  "[[\"owner\", \"ana\"], [\"xtstore_crc32c\", \"$BIG\"]]"
# Listings carry it (List Blobs already asks for metadata): no extra cost.
xt ls -l --json "azm:$C"
assert_rc 0
assert_json_eq '[(e["name"], e["crc32c"]) for e in j]' "[[\"big.bin\", \"$BIG\"]]"
xt meta "azm:$C/big.bin"
assert_rc 0
assert_out "owner=ana"
xt get "azm:$C/big.bin" "$T/big.out"
assert_rc 0
assert_same "$T/big.bin" "$T/big.out"

# A Put Blob of a file records it too (the host passes the file's), and a
# pipe's (the body is in memory).
printf 'hello crc\n' > "$T/small.txt"
SMALL=$(crc "$T/small.txt")
xt put "$T/small.txt" "azm:$C/small.txt"
assert_rc 0
stat_is "azm:$C/small.txt" "[\"$SMALL\", {}]"
xt_pipe "cat $T/small.txt" put - "azm:$C/pipe.txt"
assert_rc 0
stat_is "azm:$C/pipe.txt" "[\"$SMALL\", {}]"
# A pipe past the threshold goes up in parts.
xt_pipe "cat $T/big.bin" put - "azm:$C/bigpipe.bin"
assert_rc 0
stat_is "azm:$C/bigpipe.bin" "[\"$BIG\", {}]"

# --- a wrong record fails the get, naming both values, and leaves no file ----
az_blob upload --container-name "$C" --name bad.txt --file "$T/small.txt" \
  --metadata xtstore_crc32c=0badc0de --overwrite --no-progress -o none
assert_rc 0
stat_is "azm:$C/bad.txt" '["0badc0de", {}]'
xt get "azm:$C/bad.txt" "$T/bad.out"
assert_rc 1
assert_error get
assert_err_has "$SMALL"
assert_err_has "0badc0de"
assert_file_absent "$T/bad.out"
# The same for a multipart blob whose record was rewritten behind its back.
az_blob metadata update --container-name "$C" --name big.bin \
  --metadata owner=ana xtstore_crc32c=12345678 -o none
assert_rc 0
xt get "azm:$C/big.bin" "$T/big.bad"
assert_rc 1
assert_err_has "$BIG"
assert_err_has "12345678"
assert_file_absent "$T/big.bad"

# --- another tool's overwrite drops it: checked by size (and MD5) only -----
xt put "$T/big.bin" "azm:$C/over.bin"
assert_rc 0
printf 'other bytes\n' > "$T/other.txt"
az_blob upload --container-name "$C" --name over.bin --file "$T/other.txt" \
  --overwrite --no-progress -o none
assert_rc 0
stat_is "azm:$C/over.bin" '[null, {}]'
xt get "azm:$C/over.bin" "$T/over.out"
assert_rc 0
assert_same "$T/other.txt" "$T/over.out"

# --- meta --set keeps it (the content did not change) ----------------------
xt put "$T/big.bin" "azm:$C/keep.bin" --meta a=1
assert_rc 0
xt meta --set b=2 "azm:$C/keep.bin"
assert_rc 0
stat_is "azm:$C/keep.bin" "[\"$BIG\", {\"b\": \"2\"}]"
xt meta --clear "azm:$C/keep.bin"
assert_rc 0
stat_is "azm:$C/keep.bin" "[\"$BIG\", {}]"
xt get "azm:$C/keep.bin" "$T/keep.out"
assert_rc 0
assert_same "$T/big.bin" "$T/keep.out"

# --- append blobs never have one -------------------------------------------
xt append "$T/small.txt" "azm:$C/log.txt"
assert_rc 0
stat_is "azm:$C/log.txt" '[null, {}]'
# One made by another tool with a record: ignored (and hidden), before and
# after an append changes the content under it.
az_blob upload --container-name "$C" --name alog.txt --type append \
  --file "$T/small.txt" --metadata "xtstore_crc32c=$SMALL" --no-progress \
  -o none
assert_rc 0
stat_is "azm:$C/alog.txt" '[null, {}]'
xt append "$T/small.txt" "azm:$C/alog.txt"
assert_rc 0
stat_is "azm:$C/alog.txt" '[null, {}]'
xt cat "azm:$C/alog.txt"
assert_rc 0
assert_out "$(printf 'hello crc\nhello crc')"

# --- the name is reserved ----------------------------------------------------
for name in xtstore_crc32c XTStore_CRC32C; do
  xt put "$T/small.txt" "azm:$C/r.txt" --meta "$name=00000000"
  assert_rc 2
  assert_error put
  assert_err_has "metadata name '$name' is reserved"
  xt meta --set "$name=00000000" "azm:$C/small.txt"
  assert_rc 2
  assert_err_has "metadata name '$name' is reserved"
done
xt stat "azm:$C/r.txt"
assert_rc 4
stat_is "azm:$C/small.txt" "[\"$SMALL\", {}]"
# Containers have no record: the name is theirs to use.
xt meta --set xtstore_crc32c=1 "azm:$C"
assert_rc 0

finish
