#!/usr/bin/env bash
# get writes where a user expects and destroys nothing else: a symlink is
# followed (the link stays), a FIFO or device is written in place (never
# replaced by a regular file), an existing file keeps its permissions, and a
# failed get leaves the old file as it was.
. "$(dirname "$0")/lib.sh" "$@"

xt mb scratch:box
assert_rc 0
printf 'hello\n' > "$T/hello.txt"
xt put "$T/hello.txt" scratch:box/hello.txt
assert_rc 0

# A symlink: its target gets the content, the link itself stays a link.
printf 'old\n' > "$T/target.txt"
ln -s "$T/target.txt" "$T/link.txt"
xt get scratch:box/hello.txt "$T/link.txt"
assert_rc 0
check
[ -L "$T/link.txt" ] || fail "get replaced the symlink with a regular file"
cmp -s "$T/hello.txt" "$T/target.txt" || fail "the symlink's target was not written"

# A FIFO: read by a reader, still a FIFO afterwards.
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/from-fifo" &
reader=$!
xt get scratch:box/hello.txt "$T/fifo"
assert_rc 0
wait "$reader"
check
[ -p "$T/fifo" ] || fail "get replaced the FIFO with a regular file"
cmp -s "$T/hello.txt" "$T/from-fifo" || fail "the FIFO's reader did not get the content"

# A character device stays a device. A private copy of /dev/null's node, so
# a regression cannot destroy the machine's own (needs root to mknod).
if mknod "$T/null" c 1 3 2>/dev/null; then
  xt get scratch:box/hello.txt "$T/null"
  assert_rc 0
  check
  [ -c "$T/null" ] || fail "get replaced a character device with a regular file"
else
  echo "note: not root, the character-device case is not run"
fi

# An existing file keeps its permission bits.
printf 'secret\n' > "$T/private.txt"
chmod 600 "$T/private.txt"
xt get scratch:box/hello.txt "$T/private.txt"
assert_rc 0
check
[ "$(stat -c %a "$T/private.txt")" = 600 ] ||
  fail "get changed an existing file's mode to $(stat -c %a "$T/private.txt")"
cmp -s "$T/hello.txt" "$T/private.txt" || fail "existing file not replaced"

# A failed get (missing key) leaves the existing file and no temp file.
xt get scratch:box/missing.txt "$T/private.txt"
assert_rc 4
check
[ "$(cat "$T/private.txt")" = hello ] || fail "a failed get changed the file"
leftovers=$(find "$T" -maxdepth 1 -name '.xtstore-get-*')
[ -z "$leftovers" ] || fail "a failed get left temp files: $leftovers"

# A dangling symlink is an error naming the path, and stays as it was.
ln -s "$T/nowhere/x" "$T/dangling"
xt get scratch:box/hello.txt "$T/dangling"
check
[ "$RC" -ne 0 ] || fail "get through a dangling symlink succeeded"
assert_err_has "$T/dangling"
[ -L "$T/dangling" ] || fail "the dangling symlink was replaced"

finish
