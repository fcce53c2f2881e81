#!/usr/bin/env bash
# Bytes changed between a local store and xtstore are detected (issue 9):
# the local provider has no wire for faultproxy.py to change a body on
# (test_integrity.sh), so the test shim (shim_plugin.c) wrapping it breaks
# the bytes instead.
#   corrupt-get: flip -- every get of the wrapped provider delivers its
#     first byte with a bit flipped, while the entry reports the true size
#     and CRC-32C (the local provider keeps it in an xattr). `xtstore get`
#     fails naming the object, the CRC-32C received and the blob's, and
#     leaves neither the file nor a temporary file (.xtstore-get-*): a
#     small object in one get, and a large one in parallel ranges (each
#     range's first byte flipped: the CRC is summed over the ranges).
#   corrupt-put: flip -- a put stores its body with the first bit flipped:
#     from a file (or a small pipe), whose CRC-32C xtstore sends along, the
#     local provider refuses it; from a large pipe, streamed, the CRC-32C
#     the provider reports for what it stored is not the one xtstore summed. Either way the put fails naming
#     both values and no object is left.
#   test_integrity_local.sh XTSTORE_BIN PROJECT_SOURCE_DIR BINARY_DIR
. "$(dirname "$0")/lib.sh" "$@"

LOCAL_SO="$BIN_DIR/plugins/store-local.so"
build_shim "$T/store-shim.so"
RANGED='multipart: {threshold: 1M, part-size: 256K, concurrency: 3}'
cat > "$CONFIG" <<EOF
providers:
  storage:
    shim: "$T/store-shim.so"
external-services:
  scratch: {type: "storage", provider: "local", path: "$T/data", $RANGED}
  flipget: {type: "storage", provider: "shim", inner: "$LOCAL_SO",
            path: "$T/data", corrupt-get: "flip", $RANGED}
  flipput: {type: "storage", provider: "shim", inner: "$LOCAL_SO",
            path: "$T/data", corrupt-put: "flip"}
xt-services:
  storage: "scratch"
EOF
xt mb scratch:c
assert_rc 0

# crc KEY: the CRC-32C `stat` shows for scratch:c/KEY ("" when none).
crc() {
  "$XT_BIN" --config "$CONFIG" stat --json "scratch:c/$1" 2> /dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin).get("crc32c", ""))'
}

# flipped IN OUT STEP: OUT is IN with the first bit of the byte at every
# STEP bytes (0: only the first byte) inverted, as the shim delivers it.
flipped() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
step = int(sys.argv[3]) or len(b)
for i in range(0, len(b), step):
    b[i] ^= 1
open(sys.argv[2], "wb").write(b)
PY
}

# no_file PATH: neither PATH nor a temporary file of a get is left.
no_file() {
  assert_file_absent "$1"
  check
  ! ls -A "$(dirname "$1")" | grep -q '^\.xtstore-get-' ||
    fail "a temporary file was left beside '$1'"
}

head -c 100000 /dev/urandom > small.bin
head -c 3000001 /dev/urandom > big.bin
for f in small big; do
  xt put $f.bin scratch:c/$f.bin
  assert_rc 0
  # What the shim delivers, put aside to learn its CRC-32C.
  flipped $f.bin $f.flip $([ $f = big ] && echo 262144 || echo 0)
  xt put $f.flip scratch:c/$f.flip
  assert_rc 0
done
WANT_SMALL=$(crc small.bin)
WANT_BIG=$(crc big.bin)
GOT_SMALL=$(crc small.flip)
GOT_BIG=$(crc big.flip)
check
[ -n "$WANT_SMALL" ] && [ -n "$WANT_BIG" ] && [ -n "$GOT_SMALL" ] &&
  [ -n "$GOT_BIG" ] ||
  fail "the local provider reports no CRC-32C (user xattrs under $T?): the case proves nothing"

# --- a get whose bytes were changed -----------------------------------------
xt get flipget:c/small.bin "$T/work/small.got"
assert_rc 1
assert_error get
assert_err_has "blob 'c/small.bin': the bytes received differ from the blob (CRC-32C $GOT_SMALL, the blob's $WANT_SMALL)"
no_file "$T/work/small.got"

xt -v get flipget:c/big.bin "$T/work/big.got"
assert_rc 1
assert_err_has "blob 'c/big.bin': 3000001 bytes in 12 ranges of 262144, 3 at a time"
assert_err_has "blob 'c/big.bin': the bytes received differ from the blob (CRC-32C $GOT_BIG, the blob's $WANT_BIG)"
no_file "$T/work/big.got"

# An existing file is left as it was.
echo "keep me" > "$T/work/kept"
cp "$T/work/kept" kept.ref
xt get flipget:c/big.bin "$T/work/kept"
assert_rc 1
check
cmp -s kept.ref "$T/work/kept" || fail "a failed download changed the existing file"

# The same through the unbroken provider: the bytes are right.
xt get scratch:c/big.bin "$T/work/big.got"
assert_rc 0
assert_same big.bin "$T/work/big.got"

# --- a put whose stored bytes were changed ----------------------------------
# A file's CRC-32C is read ahead and sent with the body: the local
# provider refuses what does not match it.
xt put small.bin flipput:c/put.bin
assert_rc 1
assert_error put
assert_err_has "blob 'c/put.bin': put: the body's CRC-32C is $GOT_SMALL, not the $WANT_SMALL given with it: not stored"
assert_file_absent "$T/data/c/put.bin"
# A large pipe's is summed while it streams: xtstore compares it with the
# one the provider reports for what it stored, and removes the object.
head -c 20000000 /dev/urandom > pipe.bin
flipped pipe.bin pipe.flip 0
for f in pipe.bin pipe.flip; do
  xt put $f scratch:c/ref-$f
  assert_rc 0
done
xt_pipe "cat pipe.bin" put - flipput:c/pipe.bin
assert_rc 1
assert_error put
assert_err_has "blob 'c/pipe.bin': the store reports CRC-32C $(crc ref-pipe.flip) for the bytes stored, the bytes sent have $(crc ref-pipe.bin); the object was removed"
assert_file_absent "$T/data/c/pipe.bin"

finish
