#!/usr/bin/env bash
# A large object copied across providers (local -> Azure -> local, streamed,
# through the host's multipart engine and ranged gets): every byte arrives
# and the CLI's peak memory stays under 64 MiB -- the body is never held
# whole. (The bound is not checked under ASan.)
. "$(dirname "$0")/azlib.sh" "$@"

C=$AZ_C
xt mb "az:$C"
assert_rc 0
xt mb "scratch:$C"
assert_rc 0
python3 -c '
import os, sys
chunk = os.urandom(1 << 20)
out = sys.stdout.buffer
for i in range(192):
    out.write(chunk[i:] + chunk[:i])' > big.bin
check
[ "$(stat -c %s big.bin)" -eq $((192 << 20)) ] || fail "no 192 MiB file"
xt put big.bin "scratch:$C/big.bin"
assert_rc 0

peak_rss cp "scratch:$C/big.bin" "az:$C/big.bin"
assert_rc 0
assert_bounded
peak_rss cp "az:$C/big.bin" "scratch:$C/back.bin"
assert_rc 0
assert_bounded
xt get "scratch:$C/back.bin" back.bin
assert_rc 0
check
cmp -s big.bin back.bin || fail "local -> Azure -> local changed the bytes"

finish
