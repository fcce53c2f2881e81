#!/usr/bin/env bash
# Interop with Microsoft's own client: a blob written by `xtstore put` (with
# metadata and a content type, once small and once in blocks) is read back
# by `az storage blob download` byte-identical and by `az storage blob show`
# with the same metadata (plus the CRC-32C record xtstore keeps) and content
# type; one uploaded by az is read by `xtstore get` byte-identical and
# `xtstore stat --json` shows its metadata and content type. Skipped (exit
# 77) only when az is not installed.
. "$(dirname "$0")/azlib.sh" "$@"

need_az_cli
C=$AZ_C

# az_blob ARGS...: az storage blob ... against the fixture.
az_blob() {
  run az storage blob "$@" --connection-string "$AZ_CONN" --only-show-errors
}
# json_get FILE EXPR: evaluate a Python expression on the JSON in FILE (j).
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

xt mb "az:$C"
assert_rc 0

# xtstore -> az: one Put Blob, and one blob of two blocks (> 64 MiB).
head -c 300000 /dev/urandom > "$T/small.bin"
head -c $((64 * 1048576 + 4097)) /dev/urandom > "$T/big.bin"
for f in small big; do
  xt put "$T/$f.bin" "az:$C/from-xt/$f.bin" --meta owner=xtstore \
    --meta Kind="$f file" --content-type application/x-xt-test
  assert_rc 0
  az_blob download --container-name "$C" --name "from-xt/$f.bin" \
    --file "$T/$f.az" --no-progress -o none
  assert_rc 0
  assert_same "$T/$f.bin" "$T/$f.az"
  az_blob show --container-name "$C" --name "from-xt/$f.bin" -o json
  assert_rc 0
  printf '%s' "$OUT" > "$T/show.json"
  check
  got=$(json_get "$T/show.json" 'j["properties"]["contentSettings"]["contentType"]')
  [ "$got" = application/x-xt-test ] || fail "az show: content type '$got'"
  check
  # Besides the user's: the CRC-32C xtstore records, as stat shows it.
  xt stat --json "az:$C/from-xt/$f.bin"
  assert_rc 0
  crc=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["crc32c"])' <<< "$OUT")
  check
  [[ "$crc" =~ ^[0-9a-f]{8}$ ]] || fail "stat: crc32c '$crc'"
  got=$(json_get "$T/show.json" 'sorted((k.lower(), v) for k, v in j["metadata"].items())')
  [ "$got" = "[('kind', '$f file'), ('owner', 'xtstore'), ('xtstore_crc32c', '$crc')]" ] ||
    fail "az show: metadata $got"
  check
  got=$(json_get "$T/show.json" 'j["properties"]["contentLength"]')
  [ "$got" = "$(stat -c %s "$T/$f.bin")" ] || fail "az show: length $got"
done

# az -> xtstore.
head -c 1000001 /dev/urandom > "$T/az.bin"
az_blob upload --container-name "$C" --name "from-az/data.bin" \
  --file "$T/az.bin" --metadata origin=azcli note=interop \
  --content-type text/x-from-az --overwrite --no-progress -o none
assert_rc 0
xt get "az:$C/from-az/data.bin" "$T/az.xt"
assert_rc 0
assert_same "$T/az.bin" "$T/az.xt"
xt stat --json "az:$C/from-az/data.bin"
assert_rc 0
printf '%s' "$OUT" > "$T/stat.json"
check
got=$(json_get "$T/stat.json" 'sorted(j["metadata"].items())')
[ "$got" = "[('note', 'interop'), ('origin', 'azcli')]" ] ||
  fail "xtstore stat: metadata $got"
check
got=$(json_get "$T/stat.json" '(j["content_type"], j["size"])')
[ "$got" = "('text/x-from-az', 1000001)" ] || fail "xtstore stat: $got"
# az computes an MD5 on upload: stat reports it, and it is the file's.
check
got=$(json_get "$T/stat.json" 'j["content_md5"]')
[ "$got" = "$(md5sum < "$T/az.bin" | cut -d' ' -f1)" ] ||
  fail "xtstore stat: content_md5 $got"
# And the listing of both clients agrees.
xt ls -r "az:$C"
assert_rc 0
assert_out "from-az/data.bin
from-xt/big.bin
from-xt/small.bin"

finish
