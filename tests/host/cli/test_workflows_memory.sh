#!/usr/bin/env bash
# A 512 MiB object copied between two services (streamed, not
# server-side), as one cp, inside a cp -r and to two services at once:
# every byte arrives, and the CLI's peak memory stays under 64 MiB -- the
# body is never held whole. (The bound is not checked under ASan, whose
# shadow memory and quarantine are no measure of ours.)
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
xt mb other:box
mkdir -p tree
python3 -c '
import os, sys
chunk = os.urandom(1 << 20)
out = sys.stdout.buffer
for i in range(512):
    out.write(chunk[i:] + chunk[:i])' > tree/big.bin
check
[ "$(stat -c %s tree/big.bin)" -eq $((512 << 20)) ] || fail "no 512 MiB file"

peak_rss put tree/big.bin scratch:box/big.bin
assert_rc 0
assert_bounded

# One streamed copy between two services.
peak_rss cp scratch:box/big.bin other:box/big.bin
assert_rc 0
assert_bounded
xt get other:box/big.bin got.bin
assert_rc 0
assert_same tree/big.bin got.bin
rm -f got.bin "$T/data2/box/big.bin"

# The same object in a tree, with the most transfers.
peak_rss cp -r --transfers 16 scratch:box other:box/tree
assert_rc 0
assert_bounded
xt get other:box/tree/big.bin got.bin
assert_same tree/big.bin got.bin
rm -f got.bin "$T/data2/box/tree/big.bin"

# Down into a local tree.
peak_rss cp -r scratch:box down
assert_rc 0
assert_bounded
assert_same tree/big.bin down/big.bin
rm -rf down

# Fan-out: one read of the file, two uploads.
peak_rss put --to scratch,other tree/big.bin box/fan.bin
assert_rc 0
assert_bounded
for s in scratch other; do
  xt get $s:box/fan.bin got.bin
  assert_same tree/big.bin got.bin
  rm -f got.bin
done

finish
